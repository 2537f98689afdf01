"""Bank file exchange: 代发 order files out, result files back, through a folder the host names.

* :mod:`~yikatong.adapters.bankfile.layout` — a bank's file layout, loaded from TOML; two example layouts ship in
  the package (``layouts/``, loaded by :func:`builtin_layout`).
* :mod:`~yikatong.adapters.bankfile.writer` — the outgoing order and verification request files.
* :mod:`~yikatong.adapters.bankfile.reader` — result and verification response files, refused whole when they do
  not add up.
* :mod:`~yikatong.adapters.bankfile.adapter` — :class:`FileExchangeBank`, the :class:`yikatong.ports.Bank` over the
  folder.
* :mod:`~yikatong.adapters.bankfile.peer` — :class:`BankFilePeer`, the bank's side of the exchange for tests and
  rehearsals.
"""

from yikatong.adapters.bankfile.adapter import FileExchangeBank
from yikatong.adapters.bankfile.layout import BUILTIN_LAYOUTS, BankLayout, builtin_layout, load_layout
from yikatong.adapters.bankfile.peer import BankFilePeer
from yikatong.adapters.bankfile.reader import read_result

__all__ = [
    "BUILTIN_LAYOUTS",
    "BankFilePeer",
    "BankLayout",
    "FileExchangeBank",
    "builtin_layout",
    "load_layout",
    "read_result",
]
