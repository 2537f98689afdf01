"""Contract test kits a host runs against its own adapters, with one pytest fixture each.

* :mod:`yikatong.testing.store_contract`: :class:`~yikatong.testing.store_contract.StoreContract` for
  :class:`yikatong.ports.Store` (fixture ``store``, optionally ``reopen``).
* :mod:`yikatong.testing.bank_contract`: :class:`~yikatong.testing.bank_contract.BankContract` and its
  :class:`~yikatong.testing.bank_contract.BankHarness` for :class:`yikatong.ports.Bank`.
* :mod:`yikatong.testing.treasury_contract`: :class:`~yikatong.testing.treasury_contract.TreasuryContract` and its
  :class:`~yikatong.testing.treasury_contract.TreasuryHarness` for :class:`yikatong.ports.Treasury`.

The kits need pytest (the ``[testing]`` extra: ``pip install "yikatong[testing]"``); importing this package alone
does not, and importing a kit without pytest says so.
"""

__all__: list[str] = []
