"""Contract test kits a host runs against its own adapters, with one pytest fixture each.

* [`yikatong.testing.store_contract`][]: [`StoreContract`][yikatong.testing.store_contract.StoreContract] for
  [`yikatong.ports.Store`][] (fixture ``store``, optionally ``reopen``).
* [`yikatong.testing.bank_contract`][]: [`BankContract`][yikatong.testing.bank_contract.BankContract] and its
  [`BankHarness`][yikatong.testing.bank_contract.BankHarness] for [`yikatong.ports.Bank`][].
* [`yikatong.testing.treasury_contract`][]: [`TreasuryContract`][yikatong.testing.treasury_contract.TreasuryContract]
  and its [`TreasuryHarness`][yikatong.testing.treasury_contract.TreasuryHarness] for [`yikatong.ports.Treasury`][].

The kits need pytest (the ``[testing]`` extra: ``pip install "yikatong[testing]"``); importing this package alone
does not, and importing a kit without pytest says so.
"""

__all__: list[str] = []
