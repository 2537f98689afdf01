"""Opening the store a command names (an SQLite file or a ``postgresql://`` URL), with the deployment's key.

The key comes from ``--key-file`` or the ``YIKATONG_AUDIT_KEY`` variable, as for ``yikatong audit verify``. A store
file written without keys stays clear when a command writes to it (the keys then serve the audit chain and keyed
hashes only). Every problem (a missing file, a file that is not a store, a bad key file, another store's key, a
server that cannot be reached) becomes one ``CliInputError`` line (exit code 2), never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from yikatong.adapters.keys import KEY_ENV, SecretKeys, keys_from_env, keys_from_file
from yikatong.adapters.sqlite import SqliteStore
from yikatong.adapters.store_location import DEFAULT_SCHEMA, ClosableStore, is_server_url, safe_location
from yikatong.adapters.store_location import open_store as open_location
from yikatong.cli._common import CliInputError
from yikatong.errors import StoreError

__all__ = ["add_store_options", "one_line", "open_store", "read_keys", "shown"]


def add_store_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--store``, ``--schema`` and ``--key-file``, as every command reading a store takes them."""
    parser.add_argument(
        "--store", required=True, help="the store: an SQLite file, or a postgresql:// URL of a server database"
    )
    parser.add_argument(
        "--schema",
        default=DEFAULT_SCHEMA,
        help=f"the PostgreSQL schema of the store when --store is a URL (default {DEFAULT_SCHEMA})",
    )
    parser.add_argument(
        "--key-file", type=Path, help=f"the file holding the store's secret (default: the {KEY_ENV} variable)"
    )


def one_line(exc: BaseException) -> str:
    """An exception's text on one line (its type when it has none)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def shown(location: str) -> str:
    """The store as a message names it: a file's name, a URL without its password."""
    return safe_location(location) if is_server_url(location) else Path(location).name


def read_keys(key_file: Path | None) -> SecretKeys | None:
    """The keys from ``key_file``, else from the environment, else None.

    Raises:
        CliInputError: the key file cannot be read or holds no usable secret.
    """
    try:
        return keys_from_file(key_file) if key_file is not None else keys_from_env()
    except (OSError, ValueError) as exc:
        raise CliInputError("无法读取密钥", "cannot read the key", [one_line(exc)]) from None


def _store_keys(path: Path, keys: SecretKeys | None, read_only: bool) -> SecretKeys | None:
    """The keys to open a store file with: none to write into a clear store (it stays clear)."""
    if keys is None or read_only:
        return keys
    with SqliteStore(path, create=False, read_only=True) as probe:
        return keys if probe.sealing.sealed else None


@contextlib.contextmanager
def open_store(
    location: str, keys: SecretKeys | None, *, schema: str = DEFAULT_SCHEMA, read_only: bool = True
) -> Iterator[ClosableStore]:
    """The store at ``location``, opened with ``keys`` (never created), closed when the block ends.

    Raises:
        CliInputError: the file is missing or is not a yikatong store, the key is not the store's, the server
            cannot be reached.
    """
    where = shown(location)
    try:
        if not is_server_url(location):
            path = Path(location)
            if not path.is_file():
                raise CliInputError(f"找不到数据库文件：{location}", f"no store file at {location}")
            keys = _store_keys(path, keys, read_only)
        store = open_location(location, keys=keys, schema=schema, create=False, read_only=read_only)
    except (StoreError, OSError, sqlite3.Error) as exc:
        raise CliInputError(f"无法打开数据库 {where}", f"cannot open the store {where}", [one_line(exc)]) from None
    try:
        yield store
    finally:
        store.close()
