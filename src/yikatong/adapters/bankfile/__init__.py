"""Bank file exchange: 代发 order files out, result files back, through a folder the host names.

* [`layout`][yikatong.adapters.bankfile.layout] — a bank's file layout, loaded from TOML; two example layouts ship in
  the package (``layouts/``, loaded by [`builtin_layout`][yikatong.adapters.builtin_layout]).
* [`writer`][yikatong.adapters.bankfile.writer] — the outgoing order and verification request files.
* [`reader`][yikatong.adapters.bankfile.reader] — result and verification response files, refused whole when they do
  not add up.
* [`adapter`][yikatong.adapters.bankfile.adapter] — [`FileExchangeBank`][yikatong.adapters.FileExchangeBank], the
  [`yikatong.ports.Bank`][] over the folder.
* [`peer`][yikatong.adapters.bankfile.peer] — [`BankFilePeer`][yikatong.adapters.BankFilePeer], the bank's side of the
  exchange for tests and rehearsals.
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
