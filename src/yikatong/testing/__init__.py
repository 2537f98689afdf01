"""Contract test kits a host runs against its own adapters, with one pytest fixture each.

* :mod:`yikatong.testing.store_contract`: :class:`~yikatong.testing.store_contract.StoreContract` for
  :class:`yikatong.ports.Store`.

The kits need pytest (a development dependency); importing this package alone does not.
"""

__all__: list[str] = []
