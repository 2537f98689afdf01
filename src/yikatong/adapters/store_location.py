"""Opening the store a command names: the path of an SQLite store file, or a ``postgresql://`` URL.

The PostgreSQL adapter (and psycopg) is imported only when a URL is given, so everything that points at files works
without the ``[postgres]`` extra. Every refusal is a [`StoreError`][yikatong.errors.StoreError] with one line, Chinese
first: a URL libpq cannot parse, a server that cannot be reached, psycopg not installed. A URL is only ever shown
with its password replaced by ``***`` ([`safe_location`][yikatong.adapters.store_location.safe_location]).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final, Protocol

from yikatong.adapters.sqlite import SqliteStore
from yikatong.errors import StoreError
from yikatong.ports import Keys, Store

__all__ = [
    "DEFAULT_SCHEMA",
    "URL_PREFIXES",
    "ClosableStore",
    "hide_password",
    "is_server_url",
    "open_store",
    "safe_location",
]

URL_PREFIXES: Final = ("postgresql://", "postgres://")
"""How a PostgreSQL URL begins (libpq's two spellings)."""

DEFAULT_SCHEMA: Final = "yikatong"
"""The PostgreSQL schema of a store given by URL unless another is named (as the PostgreSQL adapter's)."""

_PASSWORD: Final = re.compile(r"(://[^:@/?#]*:)[^@/?#]*@")


class ClosableStore(Store, Protocol):
    """A [`Store`][yikatong.ports.Store] that holds a file or a connection open until it is closed."""

    def close(self) -> None:
        """Close the file or connection."""


def is_server_url(location: str) -> bool:
    """True when ``location`` names a PostgreSQL server (``postgresql://`` or ``postgres://``), not a file."""
    return location.startswith(URL_PREFIXES)


def hide_password(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``***``."""
    return _PASSWORD.sub(r"\1***@", text)


def safe_location(location: str) -> str:
    """``location`` as it may be shown: a URL's password replaced by ``***``, a file path as it is."""
    return hide_password(location) if is_server_url(location) else location


def _check_url(location: str) -> None:
    """Parse the URL as libpq does, before any connection is tried.

    Raises:
        StoreError: psycopg is missing, or the URL does not parse.
    """
    try:
        import psycopg  # only with the [postgres] extra
        from psycopg.conninfo import conninfo_to_dict
    except ImportError as exc:
        raise StoreError(
            "使用 PostgreSQL 数据库需要安装 psycopg：pip install 'yikatong[postgres]' / a PostgreSQL store needs "
            f"psycopg: pip install 'yikatong[postgres]' ({exc.name or 'psycopg'} is not installed)"
        ) from exc
    try:
        conninfo_to_dict(location)
    except psycopg.Error as exc:
        reason = hide_password(" ".join(str(exc).replace(location, safe_location(location)).split()))
        raise StoreError(f"数据库地址无效 / invalid PostgreSQL URL {safe_location(location)}: {reason}") from exc


def open_store(
    location: str,
    *,
    keys: Keys | None = None,
    schema: str = DEFAULT_SCHEMA,
    create: bool = True,
    read_only: bool = False,
) -> ClosableStore:
    """Open the store at ``location``: a PostgreSQL URL (its ``schema``), or the path of an SQLite store file.

    Args:
        location: A ``postgresql://`` URL (credentials as libpq takes them) or a file path.
        keys: The deployment's keys, for a store that seals personal data at rest.
        schema: The PostgreSQL schema of the store (ignored for a file).
        create: Create the store when it does not exist (never when ``read_only``).
        read_only: Open for reading only: nothing is written, not even a migration.

    Raises:
        StoreError: the store cannot be opened: see [`SqliteStore`][yikatong.adapters.SqliteStore] and
            [`PostgresStore`][yikatong.adapters.postgres.PostgresStore], plus a URL that does not parse and psycopg not
            installed.
    """
    if not is_server_url(location):
        return SqliteStore(Path(location), create=create and not read_only, read_only=read_only, keys=keys)
    _check_url(location)
    from yikatong.adapters.postgres import PostgresStore  # only with the [postgres] extra

    return PostgresStore(location, schema=schema, create=create and not read_only, read_only=read_only, keys=keys)
