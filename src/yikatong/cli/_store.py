"""Opening a store file for a command: read-only, with the deployment's key when the store is sealed.

The key comes from ``--key-file`` or the ``YIKATONG_AUDIT_KEY`` variable, as for ``yikatong audit verify``. Every
problem (a missing file, a file that is not a store, a bad key file, another store's key) becomes one
``CliInputError`` line (exit code 2), never a traceback.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from yikatong.adapters.keys import SecretKeys, keys_from_env, keys_from_file
from yikatong.adapters.sqlite import SqliteStore
from yikatong.cli._common import CliInputError
from yikatong.errors import StoreError

__all__ = ["one_line", "open_store", "read_keys"]


def one_line(exc: BaseException) -> str:
    """An exception's text on one line (its type when it has none)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def read_keys(key_file: Path | None) -> SecretKeys | None:
    """The keys from ``key_file``, else from the environment, else None.

    Raises:
        CliInputError: the key file cannot be read or holds no usable secret.
    """
    try:
        return keys_from_file(key_file) if key_file is not None else keys_from_env()
    except (OSError, ValueError) as exc:
        raise CliInputError("无法读取密钥", "cannot read the key", [one_line(exc)]) from None


def open_store(path: Path, keys: SecretKeys | None, *, read_only: bool = True) -> SqliteStore:
    """The store at ``path``, opened with ``keys`` (never created).

    Raises:
        CliInputError: the file is missing or is not a yikatong store, or the key is not the store's.
    """
    if not path.is_file():
        raise CliInputError(f"找不到数据库文件：{path}", f"no store file at {path}")
    try:
        return SqliteStore(path, create=False, read_only=read_only, keys=keys)
    except (StoreError, OSError, sqlite3.Error) as exc:
        details = [one_line(exc)]
        raise CliInputError(f"无法打开数据库 {path.name}", f"cannot open the store {path.name}", details) from None
