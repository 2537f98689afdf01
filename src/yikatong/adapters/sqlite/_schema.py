"""The embedded store's database file: identity, schema version, running the migrations, and safe opening.

A yikatong store is an SQLite database whose header carries [`APPLICATION_ID`][yikatong.adapters.sqlite.APPLICATION_ID]
(``PRAGMA application_id``) and whose ``PRAGMA user_version`` is the schema version. Opening a file checks both before
writing a single byte, so a file that is not a store (random bytes, an empty file, another program's SQLite database) or
that was written by a newer yikatong is refused with a [`StoreError`][yikatong.errors.StoreError] and left exactly as it
was.

Migrations are numbered steps, each a list of SQL statements (they live in ``_migrations.py``); an older store is
brought to [`SCHEMA_VERSION`][yikatong.adapters.sqlite.SCHEMA_VERSION] in one ``BEGIN IMMEDIATE`` transaction, so a
crash mid-migration leaves the old version.
A new store is built in a temporary file beside the target and then linked into place, so a crash while creating
never leaves a half-made store under the real name.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Final

from yikatong.adapters.sqlite._migrations import MIGRATIONS, SCHEMA_VERSION, Migration
from yikatong.errors import StoreError

__all__ = [
    "APPLICATION_ID",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Migration",
    "connect_store",
    "fsync_directory",
]

APPLICATION_ID: Final = 0x594B5447
"""``PRAGMA application_id`` of every yikatong store (the ASCII bytes ``YKTG``)."""

_SQLITE_MAGIC: Final = b"SQLite format 3\x00"
_BUSY_TIMEOUT_MS: Final = 30_000


def _refuse(path: Path, zh: str, en: str) -> StoreError:
    return StoreError(f"{path.name}: {zh} / {en}")


def fsync_directory(directory: Path) -> None:
    """Flush a directory entry to disk, so a rename or a new file inside survives a power cut."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _connect(target: str, *, uri: bool = False) -> sqlite3.Connection:
    # isolation_level=None: the store issues BEGIN IMMEDIATE / COMMIT itself, so a transaction is exactly one change.
    conn = sqlite3.connect(target, isolation_level=None, uri=uri, timeout=_BUSY_TIMEOUT_MS / 1000)
    conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
    return conn


def _configure(conn: sqlite3.Connection, *, read_only: bool) -> None:
    if not read_only:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(f"cannot switch the store to WAL mode (got {mode}) / 无法启用 WAL 日志模式")
    # FULL: a commit is on disk (WAL fsynced) before commit() returns, so a power cut cannot undo a payment record.
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA foreign_keys = ON")


def _check_identity(conn: sqlite3.Connection, path: Path) -> int:
    """Read the store's version without writing; raise StoreError when the file is not a store we can read."""
    try:
        app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        raise _refuse(path, "不是 yikatong 数据库（文件已损坏或不是 SQLite）", f"not a yikatong store ({exc})") from exc
    if app_id != APPLICATION_ID:
        raise _refuse(
            path,
            "是其他程序的 SQLite 数据库，不是 yikatong 数据库",
            f"an SQLite database of another application (application_id {app_id:#x}), not a yikatong store",
        )
    if version > SCHEMA_VERSION:
        raise _refuse(
            path,
            f"由较新版本的 yikatong 创建（结构版本 {version}，本版本最高支持 {SCHEMA_VERSION}），请升级 yikatong",
            f"written by a newer yikatong (schema version {version}; this version reads up to {SCHEMA_VERSION}); "
            "upgrade yikatong",
        )
    if version < 1:
        raise _refuse(path, "数据库结构版本无效", f"invalid schema version {version}")
    return version


def _apply_migrations(conn: sqlite3.Connection, path: Path, start: int, *, created: bool) -> None:
    """Bring the schema from ``start`` to [`SCHEMA_VERSION`][yikatong.adapters.sqlite.SCHEMA_VERSION] inside the
    caller's transaction."""
    for step in MIGRATIONS[start:]:
        for statement in step.statements:
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {step.version}")
    now = dt.datetime.now(dt.UTC).isoformat()
    meta = {"application": "yikatong", "schema_version": str(SCHEMA_VERSION), "migrated_at": now}
    if created:
        meta["created_at"] = now
    conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", sorted(meta.items()))


def _create(path: Path) -> None:
    """Build a new empty store in a temporary file, then link it to ``path`` unless someone was faster."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.creating")
    try:
        conn = _connect(str(tmp))
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            _apply_migrations(conn, path, 0, created=True)
            conn.execute("COMMIT")
            conn.execute("PRAGMA journal_mode = WAL")
        finally:
            conn.close()
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        with contextlib.suppress(FileExistsError):  # another process created it first: use theirs
            os.link(tmp, path)
        fsync_directory(path.parent)
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + "-wal"), tmp.with_name(tmp.name + "-shm")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def _looks_like_sqlite(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC


def connect_store(
    path: Path,
    *,
    create: bool,
    read_only: bool = False,
    on_open: Callable[[sqlite3.Connection], None] | None = None,
) -> sqlite3.Connection:
    """Open (or create) a store file and return a configured connection at
    [`SCHEMA_VERSION`][yikatong.adapters.sqlite.SCHEMA_VERSION].

    Args:
        path: The database file.
        create: Create a new store when ``path`` does not exist.
        read_only: Open without writing anything (no WAL switch, no migration); an older schema is then refused.
        on_open: Called with the connection once the schema is current (the store's housekeeping).

    Raises:
        StoreError: the file is missing (and ``create`` is False), is not a yikatong store, or has a newer schema.
            The file is not modified.
    """
    if not path.exists():
        if not create or read_only:
            raise _refuse(path, "数据库文件不存在", "no such store file")
        try:
            _create(path)
        except (OSError, sqlite3.Error) as exc:
            raise _refuse(path, f"无法创建数据库（{exc}）", f"cannot create the store ({exc})") from exc
    if path.is_dir():
        raise _refuse(path, "是目录，不是数据库文件", "is a directory, not a store file")
    # An empty file would silently become a new database: refuse it like any other file that is not a store.
    if path.stat().st_size == 0 or not _looks_like_sqlite(path):
        raise _refuse(path, "不是 yikatong 数据库（不是 SQLite 文件）", "not a yikatong store (not an SQLite file)")
    target = f"{path.resolve().as_uri()}?mode=ro" if read_only else str(path)
    conn = _connect(target, uri=read_only)
    try:
        version = _check_identity(conn, path)
        _configure(conn, read_only=read_only)
        if version < SCHEMA_VERSION:
            if read_only:
                raise _refuse(
                    path,
                    f"结构版本 {version} 需要升级，请以读写方式打开一次",
                    f"schema version {version} needs migrating; open it once read-write",
                )
            _migrate(conn, path)
        if on_open is not None:
            on_open(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])  # another process may have migrated
        if version < SCHEMA_VERSION:
            _apply_migrations(conn, path, version, created=False)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
