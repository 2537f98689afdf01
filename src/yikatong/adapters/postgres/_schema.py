"""The PostgreSQL store's tables: identity, schema versions, migrations, and safe opening.

A yikatong store on a server database lives in one PostgreSQL schema (``yikatong`` unless the host names another),
whose ``meta`` table says ``application = yikatong`` and carries the ``schema_version``. Opening checks both before
writing anything: a schema that holds other tables, another application's ``meta``, or a newer version is refused
with a [`StoreError`][yikatong.errors.StoreError] and left as it was.

Migrations are numbered steps of SQL statements (``_migrations.py``). Creating a store and bringing an older one to
[`SCHEMA_VERSION`][yikatong.adapters.postgres.SCHEMA_VERSION] both run every pending step and the ``meta`` update in one
transaction (PostgreSQL's DDL is transactional), under an advisory lock on the schema's name, so a crash or a failing
step leaves the previous version and two processes opening a new store at once create it once.

The database enforces what the workflow relies on, whatever a client does: a partial UNIQUE index keeps one active
(``sent``/``paid``) ledger entry per person, item and period; triggers refuse UPDATE, DELETE and TRUNCATE on the audit
log and on the account history; a partial UNIQUE index keeps one active account per person (on the keyed look-up
hashes in a sealed registry, schema step 8).
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Sequence
from typing import Final

import psycopg
from psycopg import sql

from yikatong.adapters.postgres._frames import server_message
from yikatong.adapters.postgres._migrations import MIGRATIONS, SCHEMA_VERSION, Migration
from yikatong.errors import StoreError

__all__ = ["APPLICATION", "MIGRATIONS", "SCHEMA_VERSION", "Migration", "open_schema"]

APPLICATION: Final = "yikatong"
"""The ``application`` value in the ``meta`` table of every yikatong store."""


def _refuse(schema: str, zh: str, en: str) -> StoreError:
    return StoreError(f"PostgreSQL schema {schema}: {zh} / {en}")


def _lock_key(schema: str) -> int:
    """A 32-bit advisory lock key for migrating ``schema`` (the same in every process)."""
    return zlib.crc32(f"yikatong-migrate:{schema}".encode())


def _state(conn: psycopg.Connection[tuple[object, ...]], schema: str) -> tuple[bool, int | None]:
    """Whether the schema exists, and its store version (None when it has no yikatong ``meta``).

    Raises:
        StoreError: the schema holds tables that are not a yikatong store.
    """
    exists = conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone()
    if exists is None or exists[0] == 0:
        return False, None
    tables = {
        str(r[0]) for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)).fetchall()
    }
    if not tables:
        return True, None
    if "meta" not in tables:
        raise _refuse(schema, "含有其他表，不是 yikatong 数据库", "holds other tables, not a yikatong store")
    rows = conn.execute(sql.SQL("SELECT key, value FROM {}.meta").format(sql.Identifier(schema))).fetchall()
    meta = {str(key): str(value) for key, value in rows}
    if meta.get("application") != APPLICATION:
        raise _refuse(
            schema, "是其他程序的数据，不是 yikatong 数据库", "another application's tables, not a yikatong store"
        )
    try:
        return True, int(meta["schema_version"])
    except (KeyError, ValueError) as exc:
        raise _refuse(schema, "数据库结构版本无效", "invalid schema version") from exc


def _check_version(schema: str, version: int, latest: int) -> None:
    if version > latest:
        raise _refuse(
            schema,
            f"由较新版本的 yikatong 创建（结构版本 {version}，本版本最高支持 {latest}），请升级 yikatong",
            f"written by a newer yikatong (schema version {version}; this version reads up to {latest}); "
            "upgrade yikatong",
        )
    if version < 1:
        raise _refuse(schema, "数据库结构版本无效", f"invalid schema version {version}")


def _migrate(
    conn: psycopg.Connection[tuple[object, ...]], schema: str, *, create: bool, migrations: Sequence[Migration]
) -> None:
    """Create and/or migrate the schema in one transaction, under the schema's advisory lock."""
    latest = migrations[-1].version
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_key(schema),))
        exists, version = _state(conn, schema)  # again, under the lock: another process may have done it
        if version is not None:
            _check_version(schema, version, latest)
        elif not create:
            raise _refuse(schema, "数据库不存在", "no such store")
        if not exists:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        start = version or 0
        if start == latest:
            return
        conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(schema)))
        for step in migrations[start:]:
            for statement in step.statements:
                conn.execute(statement.encode())
        now = dt.datetime.now(dt.UTC).isoformat()
        meta = {"application": APPLICATION, "schema_version": str(latest), "migrated_at": now}
        if start == 0:
            meta["created_at"] = now
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                sorted(meta.items()),
            )


def open_schema(
    conn: psycopg.Connection[tuple[object, ...]],
    schema: str,
    *,
    create: bool,
    read_only: bool = False,
    migrations: Sequence[Migration] = MIGRATIONS,
) -> None:
    """Make sure ``schema`` holds a yikatong store at the latest version of ``migrations``.

    Args:
        conn: An open connection in autocommit mode (each check and the migration are their own transactions).
        schema: The PostgreSQL schema of the store.
        create: Create the store when the schema does not exist or is empty.
        read_only: Check only: a missing store or an older version is refused instead of written.
        migrations: The schema steps (the default is [`MIGRATIONS`][yikatong.adapters.postgres.MIGRATIONS]).

    Raises:
        StoreError: the schema is not a yikatong store, is newer than this library, is missing (and ``create`` is
            False), needs migrating while ``read_only``, or a migration step failed (the old version is kept).
    """
    latest = migrations[-1].version
    try:
        with conn.transaction():
            _, version = _state(conn, schema)
        if version is not None:
            _check_version(schema, version, latest)
            if version == latest:
                return
            if read_only:
                raise _refuse(
                    schema,
                    f"结构版本 {version} 需要升级，请以读写方式打开一次",
                    f"schema version {version} needs migrating; open it once read-write",
                )
        elif read_only or not create:
            raise _refuse(schema, "数据库不存在", "no such store")
        _migrate(conn, schema, create=create, migrations=migrations)
    except psycopg.Error as exc:
        raise _refuse(
            schema, "无法创建或升级数据库，未做任何更改", f"cannot create or migrate the store ({server_message(exc)})"
        ) from exc
