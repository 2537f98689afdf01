"""The server-database store: [`yikatong.ports.Store`][] on PostgreSQL (psycopg 3).

Each [`PostgresStore.commit`][yikatong.adapters.postgres.PostgresStore.commit] is one transaction. It first takes the
audit table's SHARE ROW EXCLUSIVE lock, which one writer holds at a time (the audit log is one hash chain across all
batches, so commits are a sequence anyway) while readers go on, then locks the batch's header row and compares versions.
Two processes firing the same step on one batch therefore queue: the first commits, the second then finds the batch one
version on and is refused with a [`StoreError`][yikatong.errors.StoreError], having written nothing. A connection that
dies mid-commit (a killed backend, a dropped network) is rolled back by the server: nothing partial is ever visible.

Bulk rows go in with ``COPY``; row-state moves and ledger entries are copied into temporary tables and applied with
one ``UPDATE … FROM`` or ``INSERT … ON CONFLICT`` each. The database enforces the ledger's one active entry per
(person, item, period) and the append-only audit log itself (see ``yikatong.adapters.postgres._schema``).

A store created with keys seals personal data at rest as the embedded store does (row data, approved accounts, the
ledger's ID numbers indexed by a keyed hash): see ``yikatong.adapters.postgres._sealed``.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Final

import polars as pl
import psycopg
from psycopg import sql

from yikatong.adapters._change import CheckedChange, audit_rows, check_change
from yikatong.adapters._purge import check_ledger_ids, check_purge_change
from yikatong.adapters.postgres._frames import Connection, Session, copy_in, copy_out
from yikatong.adapters.postgres._schema import open_schema
from yikatong.adapters.postgres._sealed import (
    SEALED_ACCOUNT,
    open_sealing,
    purge_batch_data,
    read_sealed_rows,
    write_sealed_rows,
)
from yikatong.adapters.sqlite._codec import (
    AUDIT_COLUMNS,
    BATCH_COLUMNS,
    LEDGER_SQL_COLUMNS,
    STATIC_COLUMNS,
    audit_from_row,
    batch_from_row,
)
from yikatong.adapters.store_location import DEFAULT_SCHEMA
from yikatong.errors import StoreError
from yikatong.ports import Keys
from yikatong.privacy import mask_id
from yikatong.records import (
    EXCEPTION_SCHEMA,
    LEDGER_SCHEMA,
    ROW_SCHEMA,
    ROW_STATE_SCHEMA,
    ROW_UPDATE_SCHEMA,
    AuditEntry,
    BatchRecord,
    Change,
)
from yikatong.workflow.audit import GENESIS_HASH

__all__ = ["DEFAULT_SCHEMA", "PostgresStore"]

_STATE: Final = tuple(ROW_STATE_SCHEMA)
_BATCH_SELECT: Final = f"SELECT {', '.join(BATCH_COLUMNS)} FROM batches"
_AUDIT_SELECT: Final = f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit"
_LEDGER_STORED: Final = (*LEDGER_SQL_COLUMNS, "id_sealed")
_LEDGER_ASSIGN: Final = ", ".join(f"{c} = excluded.{c}" for c in _LEDGER_STORED[2:])
_LEDGER_READ: Final = {**LEDGER_SCHEMA, "id_sealed": pl.Binary()}


class PostgresStore:
    """A [`yikatong.ports.Store`][] in a PostgreSQL schema.

    Args:
        conninfo: A ``postgresql://`` URL or libpq connection string (credentials as libpq takes them: in the URL,
            ``PGPASSWORD`` or ``~/.pgpass``).
        schema: The PostgreSQL schema holding the store's tables; created when missing and ``create`` is True.
        create: Create the store when the schema does not exist (or is empty).
        read_only: Every transaction is read-only (for audits and verification); nothing is migrated.
        keys: The deployment's [`Keys`][yikatong.ports.Keys]. A store created with keys seals personal data at
            rest (AES-256-GCM under ``keys.data_key()``: every batch's row data, the approved accounts, and the
            ledger's ID numbers, which it indexes by a keyed hash); reading it needs the same keys.

    Raises:
        StoreError: the database cannot be reached, the schema is not a yikatong store, is newer than this
            library, or is missing with ``create=False``; the key is not the store's; keys are given to write into
            a store created without them that holds batches. Nothing is changed.
    """

    def __init__(
        self,
        conninfo: str,
        /,
        *,
        schema: str = DEFAULT_SCHEMA,
        create: bool = True,
        read_only: bool = False,
        keys: Keys | None = None,
    ) -> None:
        self.schema = schema
        self.read_only = read_only
        self._session = Session(conninfo, schema, read_only=read_only, what=f"PostgreSQL store {schema}")
        try:
            open_schema(self._session.connection, schema, create=create and not read_only, read_only=read_only)
            self.sealing = open_sealing(self._session.connection, schema, keys, read_only=read_only)
        except BaseException:
            self._session.close()
            raise

    # -- life of the connection ---------------------------------------------------------------------------------

    @property
    def connection(self) -> Connection:
        """The open connection (read it for ad-hoc queries; write only through
        [`commit`][yikatong.adapters.postgres.PostgresStore.commit]).

        Raises:
            StoreError: when the store was closed.
        """
        return self._session.connection

    def close(self) -> None:
        """Close the connection."""
        self._session.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- writing ------------------------------------------------------------------------------------------------

    def commit(self, change: Change) -> None:
        """Apply a change in one transaction (see [`yikatong.ports.Change`][yikatong.records.Change] for the refusals).

        Raises:
            StoreError: the change is refused, loses a race with another writer, or cannot be written (the
                connection died); nothing was applied.
        """
        if self.read_only:
            raise StoreError(f"PostgreSQL store {self.schema}: opened read-only / 数据库以只读方式打开")
        prepared = check_change(change)
        conn = self.connection
        try:
            with conn.transaction(), conn.cursor() as cur:
                self._apply(cur, prepared)
        except psycopg.Error as exc:
            raise self._session.failed(exc, "写入失败，未做任何更改", "write failed, nothing was applied") from exc

    def append_audit(self, entries: Sequence[AuditEntry]) -> None:
        """Append audit entries that change no batch (a resident's look-up), in one transaction.

        Raises:
            StoreError: the store is read-only, the entries do not continue the log's head as a chain (another
                writer came first: read the head again and retry), or they cannot be written; nothing was appended.
        """
        if self.read_only:
            raise StoreError(f"PostgreSQL store {self.schema}: opened read-only / 数据库以只读方式打开")
        if not entries:
            return
        rows = audit_rows(tuple(entries))
        conn = self.connection
        try:
            with conn.transaction(), conn.cursor() as cur:
                cur.execute("LOCK TABLE audit IN SHARE ROW EXCLUSIVE MODE")  # one writer at a time: one audit chain
                self._append_audit_rows(cur, (entries[0].seq, entries[0].prev_hash), rows)
        except psycopg.Error as exc:
            raise self._session.failed(exc, "写入失败，未做任何更改", "write failed, nothing was applied") from exc

    def purge(self, change: Change, *, ledger_ids: pl.DataFrame) -> None:
        """Empty the personal detail of one batch with ``change``, in one transaction (see
        [`yikatong.ports.Store.purge`][]).

        The old row versions stay in the table files until PostgreSQL vacuums them: run ``VACUUM`` on
        ``batch_rows`` (or ``row_data``), ``row_state`` and ``ledger`` after a purge (autovacuum does so in time).

        Raises:
            StoreError: the purge is refused, loses a race, or cannot be written; nothing was changed.
        """
        if self.read_only:
            raise StoreError(f"PostgreSQL store {self.schema}: opened read-only / 数据库以只读方式打开")
        ids = check_purge_change(change, ledger_ids)
        prepared = check_change(change)
        batch_id = change.batch.batch_id
        conn = self.connection
        try:
            with conn.transaction(), conn.cursor() as cur:
                self._apply(cur, prepared)  # locks the audit table and the batch's header first
                stored = cur.execute("SELECT row_id FROM ledger WHERE batch_id = %s", (batch_id,)).fetchall()
                check_ledger_ids(batch_id, pl.Series([r[0] for r in stored], dtype=pl.Int64), ids)
                purge_batch_data(cur, self.sealing, batch_id, ids)
        except psycopg.Error as exc:
            raise self._session.failed(exc, "清除失败，未做任何更改", "purge failed, nothing was changed") from exc

    def _apply(self, cur: psycopg.Cursor[tuple[object, ...]], p: CheckedChange) -> None:
        cur.execute("LOCK TABLE audit IN SHARE ROW EXCLUSIVE MODE")  # one writer at a time: one audit chain
        found = cur.execute("SELECT version FROM batches WHERE batch_id = %s FOR UPDATE", (p.batch_id,)).fetchone()
        stored = None if found is None else int(str(found[0]))
        if p.expected_version is None and stored is not None:
            raise StoreError(f"change refused: batch {p.batch_id} already exists / 变更被拒绝：批次已存在")
        if p.expected_version is not None and stored is None:
            raise StoreError(f"change refused: batch {p.batch_id} does not exist / 变更被拒绝：批次不存在")
        if p.expected_version is not None and stored != p.expected_version:
            raise StoreError(
                f"change refused: batch {p.batch_id} is at version {stored}, the change was made from "
                f"{p.expected_version} / 变更被拒绝：批次已被他人修改"
            )
        if stored is None:
            marks = ", ".join(["%s"] * len(BATCH_COLUMNS))
            cur.execute(f"INSERT INTO batches ({', '.join(BATCH_COLUMNS)}) VALUES ({marks})".encode(), p.batch_row)
        else:
            sets = ", ".join(f"{c} = %s" for c in BATCH_COLUMNS[1:])
            cur.execute(f"UPDATE batches SET {sets} WHERE batch_id = %s".encode(), (*p.batch_row[1:], p.batch_id))
        if p.new_rows is not None:
            if self.sealing.sealed:
                write_sealed_rows(cur, self.sealing, p.new_rows)
            else:
                copy_in(cur, "batch_rows", p.new_rows.select(STATIC_COLUMNS))
            states = p.new_rows.select("batch_id", "row_id", *_STATE)
            copy_in(cur, "row_state", self.sealing.seal_account_column(states, "pay_account", SEALED_ACCOUNT))
        if p.row_updates is not None:
            self._update_states(cur, p.row_updates)
        self._append_audit(cur, p)
        if p.ledger_release is not None:  # entries that give up their key first: the change's end state counts
            self._stage_ledger(cur, p.ledger_release)
            self._upsert_ledger(cur)
        if p.ledger_hold is not None:
            self._hold_ledger(cur, p.ledger_hold)
        if p.exceptions is not None:
            copy_in(cur, "recon_exceptions", p.exceptions)

    def _update_states(self, cur: psycopg.Cursor[tuple[object, ...]], updates: pl.DataFrame) -> None:
        cur.execute("CREATE TEMPORARY TABLE state_update (LIKE row_state) ON COMMIT DROP")
        stored = self.sealing.seal_account_column(
            updates.select(list(ROW_UPDATE_SCHEMA)), "pay_account", SEALED_ACCOUNT
        )
        copy_in(cur, "state_update", stored)
        sets = ", ".join(f"{c} = u.{c}" for c in (*_STATE, SEALED_ACCOUNT))
        cur.execute(
            f"UPDATE row_state s SET {sets} FROM state_update u "
            "WHERE s.batch_id = u.batch_id AND s.row_id = u.row_id".encode()
        )
        if cur.rowcount != updates.height:
            missing = updates.height - cur.rowcount
            raise StoreError(f"change refused: {missing} row update(s) name rows that do not exist / 更新的行不存在")

    @classmethod
    def _append_audit(cls, cur: psycopg.Cursor[tuple[object, ...]], p: CheckedChange) -> None:
        if p.first_audit is None:
            return
        cls._append_audit_rows(cur, p.first_audit, p.audit)

    @staticmethod
    def _append_audit_rows(
        cur: psycopg.Cursor[tuple[object, ...]], first: tuple[int, str], audit: list[tuple[object, ...]]
    ) -> None:
        head = cur.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        head_seq, head_hash = (0, GENESIS_HASH) if head is None else (int(str(head[0])), str(head[1]))
        seq, prev_hash = first
        if seq != head_seq + 1 or prev_hash != head_hash:
            raise StoreError(
                f"change refused: audit entry {seq} does not follow the log's last entry {head_seq} "
                f"/ 变更被拒绝：审计条目未接续日志末尾"
            )
        marks = ", ".join(["%s"] * len(AUDIT_COLUMNS))
        cur.executemany(f"INSERT INTO audit ({', '.join(AUDIT_COLUMNS)}) VALUES ({marks})".encode(), audit)

    def _stage_ledger(self, cur: psycopg.Cursor[tuple[object, ...]], entries: pl.DataFrame) -> None:
        cur.execute("CREATE TEMPORARY TABLE IF NOT EXISTS ledger_entry (LIKE ledger) ON COMMIT DROP")
        cur.execute("TRUNCATE ledger_entry")
        copy_in(cur, "ledger_entry", self.sealing.seal_ledger_frame(entries.select(LEDGER_SQL_COLUMNS)))

    @staticmethod
    def _upsert_ledger(cur: psycopg.Cursor[tuple[object, ...]]) -> None:
        columns = ", ".join(_LEDGER_STORED)
        cur.execute(
            f"INSERT INTO ledger ({columns}) SELECT {columns} FROM ledger_entry "
            f"ON CONFLICT (batch_id, row_id) DO UPDATE SET {_LEDGER_ASSIGN}".encode()
        )

    def _hold_ledger(self, cur: psycopg.Cursor[tuple[object, ...]], entries: pl.DataFrame) -> None:
        self._stage_ledger(cur, entries)
        try:
            with cur.connection.transaction():  # a savepoint: after the index refuses, the holder can still be named
                self._upsert_ledger(cur)
        except psycopg.errors.UniqueViolation as exc:
            raise StoreError(self._double_payment_message(cur, entries)) from exc

    @staticmethod
    def _double_payment_message(cur: psycopg.Cursor[tuple[object, ...]], entries: pl.DataFrame) -> str:
        other = cur.execute(
            "SELECT n.batch_id, n.row_id, n.item, n.period, l.batch_id, l.row_id FROM ledger_entry n JOIN ledger l "
            "USING (id_number, item, period) WHERE n.status IN ('sent', 'paid') AND l.status IN ('sent', 'paid') "
            "AND NOT (l.batch_id = n.batch_id AND l.row_id = n.row_id) LIMIT 1"
        ).fetchone()
        if other is None:
            return "change refused: a second active payment for one person, item and period / 变更被拒绝：不得重复发放"
        mine = entries.filter((pl.col("batch_id") == other[0]) & (pl.col("row_id") == other[1]))
        who = mask_id(str(mine["id_number"][0])) if mine.height else "?"  # the clear ID, never the stored hash
        return (
            f"change refused: {who}, {other[2]}, {other[3]} already has an active payment "
            f"(batch {other[4]}, row {other[5]}) / 变更被拒绝：同一人员、项目、期间已有发放记录，不得重复发放"
        )

    # -- reading ------------------------------------------------------------------------------------------------

    def batch(self, batch_id: str) -> BatchRecord:
        """The current header of a batch.

        Raises:
            KeyError: when there is no such batch.
        """
        with self._session.reading() as conn:
            row = conn.execute(f"{_BATCH_SELECT} WHERE batch_id = %s".encode(), (batch_id,)).fetchone()
        if row is None:
            raise KeyError(batch_id)
        return batch_from_row(row)

    def batches(self) -> tuple[BatchRecord, ...]:
        """Every batch header, in creation order."""
        with self._session.reading() as conn:
            rows = conn.execute(f"{_BATCH_SELECT} ORDER BY seq".encode()).fetchall()
        return tuple(batch_from_row(r) for r in rows)

    def rows(self, batch_id: str) -> pl.DataFrame:
        """The batch's rows in [`ROW_SCHEMA`][yikatong.records.ROW_SCHEMA], sorted by ``row_id`` (empty when unknown).

        Raises:
            StoreError: a sealed batch's row data is missing, damaged or does not open (no key, another key).
        """
        if self.sealing.sealed:
            with self._session.reading() as conn:
                return read_sealed_rows(conn, self.sealing, batch_id)
        source = sql.SQL("batch_rows JOIN row_state USING (batch_id, row_id) WHERE batch_id = {} ORDER BY row_id")
        with self._session.reading() as conn, conn.cursor() as cur:
            return copy_out(cur, source.format(batch_id), ROW_SCHEMA)

    def ledger(self, *, item: str | None = None, period: str | None = None) -> pl.DataFrame:
        """Ledger entries in [`LEDGER_SCHEMA`][yikatong.records.LEDGER_SCHEMA], optionally of one item and/or period."""
        source = sql.SQL(
            "ledger WHERE ({0}::text IS NULL OR item = {0}) AND ({1}::text IS NULL OR period = {1}) "
            "ORDER BY batch_id, row_id"
        ).format(item, period)
        with self._session.reading() as conn, conn.cursor() as cur:
            stored = copy_out(cur, source, _LEDGER_READ)
        return self.sealing.open_ledger_frame(stored)

    def ledger_of(self, id_number: str) -> pl.DataFrame:
        """The ledger entries of one person (the 18-character ID), in [`LEDGER_SCHEMA`][yikatong.records.LEDGER_SCHEMA].

        A sealed store finds them by the ID's keyed look-up hash and opens only those entries.

        Raises:
            StoreError: a sealed store opened without its keys.
        """
        if self.sealing.sealed and self.sealing.cipher is None:
            raise StoreError(
                f"PostgreSQL store {self.schema}: 台账已加密，需要密钥 / the ledger is encrypted: give the keys"
            )
        key = self.sealing.lookup(id_number)
        source = sql.SQL("ledger WHERE id_number = {} ORDER BY batch_id, row_id").format(key)
        with self._session.reading() as conn, conn.cursor() as cur:
            stored = copy_out(cur, source, _LEDGER_READ)
        return self.sealing.open_ledger_frame(stored)

    def exceptions(self, batch_id: str | None = None) -> pl.DataFrame:
        """Reconciliation exceptions in [`EXCEPTION_SCHEMA`][yikatong.records.EXCEPTION_SCHEMA], oldest first."""
        source = sql.SQL("recon_exceptions WHERE {0}::text IS NULL OR batch_id = {0} ORDER BY seq").format(batch_id)
        with self._session.reading() as conn, conn.cursor() as cur:
            return copy_out(cur, source, EXCEPTION_SCHEMA)

    def audit(self, *, after_seq: int = 0) -> tuple[AuditEntry, ...]:
        """Audit entries with ``seq > after_seq``, in order."""
        with self._session.reading() as conn:
            rows = conn.execute(f"{_AUDIT_SELECT} WHERE seq > %s ORDER BY seq".encode(), (after_seq,)).fetchall()
        return tuple(audit_from_row(r) for r in rows)

    def audit_head(self) -> AuditEntry | None:
        """The last audit entry (None on an empty log)."""
        with self._session.reading() as conn:
            found = conn.execute(f"{_AUDIT_SELECT} ORDER BY seq DESC LIMIT 1".encode()).fetchone()
        return None if found is None else audit_from_row(found)
