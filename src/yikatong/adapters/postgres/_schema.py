"""The PostgreSQL store's tables: identity, schema versions, migrations, and safe opening.

A yikatong store on a server database lives in one PostgreSQL schema (``yikatong`` unless the host names another),
whose ``meta`` table says ``application = yikatong`` and carries the ``schema_version``. Opening checks both before
writing anything: a schema that holds other tables, another application's ``meta``, or a newer version is refused
with a [`StoreError`][yikatong.errors.StoreError] and left as it was.

Migrations are numbered steps of SQL statements. Creating a store and bringing an older one to
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
from attrs import frozen
from psycopg import sql

from yikatong.adapters.postgres._frames import server_message
from yikatong.errors import StoreError

__all__ = ["APPLICATION", "MIGRATIONS", "SCHEMA_VERSION", "Migration", "open_schema"]

APPLICATION: Final = "yikatong"
"""The ``application`` value in the ``meta`` table of every yikatong store."""

_ROW_STATUSES: Final = (
    "'pending', 'passed', 'review', 'blocked', 'sent', 'paid', 'failed', 'returned', 'reissued', 'withdrawn'"
)


@frozen
class Migration:
    """One schema step: from ``version - 1`` to ``version``.

    Attributes:
        version: The schema version after the step.
        title: What the step adds.
        statements: SQL statements run in order inside the migration transaction.
    """

    version: int
    title: str
    statements: tuple[str, ...]


def _append_only(table: str, zh: str, en: str) -> tuple[str, ...]:
    """A trigger function and the triggers refusing UPDATE, DELETE and TRUNCATE on ``table``."""
    return (
        f"""CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{en} / {zh}' USING ERRCODE = 'integrity_constraint_violation'; END $$""",
        f"""CREATE TRIGGER {table}_no_update_or_delete BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {table}_append_only()""",
        f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()""",
    )


_V1 = Migration(
    1,
    "batches, batch rows and their states, payment ledger, audit chain, reconciliation exceptions",
    (
        "CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL)",
        # Record times are ISO 8601 text: they keep the offset the clock gave, so records reload equal.
        """CREATE TABLE batches (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            batch_id text NOT NULL UNIQUE,
            item text NOT NULL,
            period text NOT NULL,
            department text NOT NULL,
            state text NOT NULL,
            prepared_by text NOT NULL,
            created_at text NOT NULL,
            updated_at text NOT NULL,
            version bigint NOT NULL CHECK (version >= 1),
            town text,
            bank text,
            corrects text,
            declared_count bigint,
            declared_total_fen bigint,
            funding_route text,
            funding_filed_by text,
            funded_fen bigint NOT NULL,
            reason text NOT NULL
        )""",
        # The columns of a batch row that never change after the batch is created.
        """CREATE TABLE batch_rows (
            batch_id text NOT NULL,
            row_id bigint NOT NULL,
            source_line bigint,
            name text,
            id_number text,
            sex text,
            account text,
            amount_fen bigint,
            amount_raw text,
            quantity numeric(38, 4),
            category text,
            town text,
            village text,
            household_head_id text,
            item text,
            flag_row_malformed boolean,
            flag_text_encoding boolean,
            flag_id_excel_mangled boolean,
            flag_id_normalised boolean,
            flag_name_normalised boolean,
            corrects_row_id bigint,
            PRIMARY KEY (batch_id, row_id)
        )""",
        f"""CREATE TABLE row_state (
            batch_id text NOT NULL,
            row_id bigint NOT NULL,
            status text NOT NULL CHECK (status IN ({_ROW_STATUSES})),
            verdict text,
            note text,
            reason_code text,
            deadline date,
            updated_at timestamptz,
            PRIMARY KEY (batch_id, row_id)
        )""",
        """CREATE TABLE ledger (
            batch_id text NOT NULL,
            row_id bigint NOT NULL,
            id_number text NOT NULL,
            item text NOT NULL,
            period text NOT NULL,
            amount_fen bigint NOT NULL,
            status text NOT NULL CHECK (status IN ('sent', 'paid', 'failed', 'withdrawn')),
            updated_at timestamptz,
            PRIMARY KEY (batch_id, row_id)
        )""",
        # The rule that makes paying a (person, item, period) twice impossible, whatever a client does.
        """CREATE UNIQUE INDEX ledger_one_active_payment ON ledger (id_number, item, period)
            WHERE status IN ('sent', 'paid')""",
        "CREATE INDEX ledger_item_period ON ledger (item, period)",
        """CREATE TABLE audit (
            seq bigint PRIMARY KEY CHECK (seq >= 1),
            at text NOT NULL,
            actor text NOT NULL,
            role text NOT NULL,
            action text NOT NULL,
            batch_id text NOT NULL,
            from_state text NOT NULL,
            to_state text NOT NULL,
            reason text NOT NULL,
            details text NOT NULL,
            prev_hash text NOT NULL,
            hash text NOT NULL
        )""",
        *_append_only("audit", "审计日志只能追加", "the audit log is append-only"),
        """CREATE TABLE recon_exceptions (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            batch_id text NOT NULL,
            row_id bigint,
            kind text NOT NULL,
            outcome text,
            amount_fen bigint,
            expected_fen bigint,
            detail text,
            at timestamptz
        )""",
        "CREATE INDEX recon_exceptions_batch ON recon_exceptions (batch_id, seq)",
    ),
)

_V2 = Migration(
    2,
    "one-card account registry: declarations and their event history",
    (
        """CREATE TABLE accounts (
            id_number text NOT NULL,
            seq bigint NOT NULL CHECK (seq >= 1),
            account text NOT NULL,
            kind text NOT NULL CHECK (kind IN ('card', 'passbook', 'social_security')),
            bank text NOT NULL,
            holder_name text NOT NULL,
            town text NOT NULL,
            status text NOT NULL CHECK (status IN ('pending', 'active', 'frozen', 'closed', 'rejected')),
            declared_at text NOT NULL,
            declared_by text NOT NULL,
            reviewed_at text,
            PRIMARY KEY (id_number, seq)
        )""",
        # One person, one active card.
        "CREATE UNIQUE INDEX accounts_one_active ON accounts (id_number) WHERE status IN ('active', 'frozen')",
        "CREATE INDEX accounts_by_number ON accounts (account, status)",
        """CREATE TABLE account_events (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            id_number text NOT NULL,
            account text NOT NULL,
            action text NOT NULL,
            status text NOT NULL,
            at text NOT NULL,
            "user" text NOT NULL,
            role text NOT NULL,
            town text,
            note text NOT NULL
        )""",
        "CREATE INDEX account_events_person ON account_events (id_number, seq)",
        *_append_only("account_events", "账户历史只能追加", "account history is append-only"),
    ),
)

_V3 = Migration(
    3,
    "row status expired: returned rows past their correction deadline",
    (
        "ALTER TABLE row_state DROP CONSTRAINT row_state_status_check",
        f"ALTER TABLE row_state ADD CONSTRAINT row_state_status_check CHECK (status IN ({_ROW_STATUSES}, 'expired'))",
    ),
)

_V4 = Migration(
    4,
    "reversed payments (退汇), money drawn by corrections and refunded to the treasury",
    (
        "ALTER TABLE batches ADD COLUMN drawn_fen bigint NOT NULL DEFAULT 0",
        "ALTER TABLE batches ADD COLUMN refunded_fen bigint NOT NULL DEFAULT 0",
        "ALTER TABLE row_state DROP CONSTRAINT row_state_status_check",
        f"""ALTER TABLE row_state ADD CONSTRAINT row_state_status_check
            CHECK (status IN ({_ROW_STATUSES}, 'expired', 'reversed'))""",
        "ALTER TABLE ledger DROP CONSTRAINT ledger_status_check",
        """ALTER TABLE ledger ADD CONSTRAINT ledger_status_check
            CHECK (status IN ('sent', 'paid', 'failed', 'reversed', 'withdrawn'))""",
    ),
)

_V5 = Migration(
    5,
    "the account validation approved for each row, and where it came from (registry or roster)",
    (
        "ALTER TABLE row_state ADD COLUMN pay_account text",
        "ALTER TABLE row_state ADD COLUMN account_source text CHECK (account_source IN ('registry', 'roster'))",
    ),
)

_V6 = Migration(
    6,
    "personal data at rest: sealed row data per batch, sealed approved accounts, the ledger's sealed ID",
    (
        # A sealed store keeps each batch's immutable columns here, as one sealed Parquet blob, not in batch_rows.
        """CREATE TABLE row_data (
            batch_id text PRIMARY KEY,
            n_rows bigint NOT NULL CHECK (n_rows >= 0),
            sha256 text NOT NULL,
            sealed bytea NOT NULL
        )""",
        "ALTER TABLE row_state ADD COLUMN pay_account_sealed bytea",
        "ALTER TABLE ledger ADD COLUMN id_sealed bytea",
    ),
)

_V7 = Migration(
    7,
    "the ledger indexed by person, so a resident's look-up reads only that person's entries",
    ("CREATE INDEX ledger_person ON ledger (id_number)",),
)

# Schema 8: the account registry at rest, as the embedded store's schema 7. A sealed registry keeps keyed look-up
# hashes in ``id_number`` and ``account`` and the values themselves (with the holder's name) in ``sealed``; every event
# carries the digest of the person's records after it and its link in the registry's own keyed hash chain. An event's
# ``seq`` is its place in that chain, given by the registry (under its lock), no longer by an identity column.
_V8 = Migration(
    8,
    "the account registry sealed at rest, its events chained and carrying the digest of the records they leave",
    (
        "ALTER TABLE accounts ADD COLUMN sealed bytea",
        "ALTER TABLE account_events ADD COLUMN sealed bytea",
        "ALTER TABLE account_events ADD COLUMN records_digest text",
        "ALTER TABLE account_events ADD COLUMN hash text",
        "ALTER TABLE account_events ALTER COLUMN seq DROP IDENTITY",
    ),
)

MIGRATIONS: Final[tuple[Migration, ...]] = (_V1, _V2, _V3, _V4, _V5, _V6, _V7, _V8)
"""Every schema step, oldest first; ``MIGRATIONS[i].version == i + 1``."""

SCHEMA_VERSION: Final = MIGRATIONS[-1].version
"""The schema version this library writes. Stores with a higher version are refused."""


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
