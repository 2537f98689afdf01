"""The embedded store: [`yikatong.ports.Store`][] on one SQLite file (WAL) plus Parquet side files.

Each [`SqliteStore.commit`][yikatong.adapters.SqliteStore.commit] is one ``BEGIN IMMEDIATE`` … ``COMMIT`` transaction
with ``synchronous=FULL``: a process killed at any instant leaves the store as it was before the change or after it, and
the next open sees one of the two. The payment ledger's partial UNIQUE index on (``id_number``, ``item``, ``period``)
where the entry is ``sent`` or ``paid`` makes a second active payment for the same key impossible whatever the caller
does; the audit table refuses UPDATE and DELETE by trigger.

Row data: the columns of a batch row that never change are written once, as Parquet; small batches inline in the
database, larger ones (more than ``inline_rows_max`` rows) as a side file in ``<store>-rows/`` written atomically
(see ``yikatong.adapters.sqlite._files``). Row states, the ledger, the audit log and exceptions are tables.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Sequence
from hashlib import sha256
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import polars as pl

from yikatong.adapters._change import audit_rows
from yikatong.adapters._purge import check_ledger_ids, check_purge_change
from yikatong.adapters.sqlite._audit_log import append_audit_rows
from yikatong.adapters.sqlite._codec import (
    AUDIT_COLUMNS,
    BATCH_COLUMNS,
    EXCEPTION_SQL_COLUMNS,
    LEDGER_SQL_COLUMNS,
    STATE_SQL_COLUMNS,
    STATIC_COLUMNS,
    audit_from_row,
    batch_from_row,
    frame_from_sql,
)
from yikatong.adapters.sqlite._files import RowFiles
from yikatong.adapters.sqlite._prepare import Prepared, prepare
from yikatong.adapters.sqlite._purging import purge_batch_data, static_rows
from yikatong.adapters.sqlite._schema import connect_store
from yikatong.adapters.sqlite._sealing import open_sealing
from yikatong.errors import StoreError
from yikatong.ports import Keys
from yikatong.privacy import mask_id
from yikatong.records import EXCEPTION_SCHEMA, LEDGER_SCHEMA, ROW_SCHEMA, AuditEntry, BatchRecord, Change

__all__ = ["DEFAULT_INLINE_ROWS_MAX", "SqliteStore"]

DEFAULT_INLINE_ROWS_MAX: Final = 5_000
"""Batches with more rows than this keep their row data in a Parquet side file instead of inside the database."""

_BATCH_SELECT: Final = f"SELECT {', '.join(BATCH_COLUMNS)} FROM batches"
_LEDGER_STORED: Final = (*LEDGER_SQL_COLUMNS, "id_sealed")
_LEDGER_UPSERT: Final = (
    f"INSERT INTO ledger ({', '.join(_LEDGER_STORED)}) VALUES ({', '.join('?' * len(_LEDGER_STORED))}) "
    "ON CONFLICT (batch_id, row_id) DO UPDATE SET id_number = excluded.id_number, item = excluded.item, "
    "period = excluded.period, amount_fen = excluded.amount_fen, status = excluded.status, "
    "updated_at = excluded.updated_at, id_sealed = excluded.id_sealed"
)
_STATE_SET: Final = ", ".join(f"{c} = ?" for c in STATE_SQL_COLUMNS[1:])
_PAY_ACCOUNT: Final = STATE_SQL_COLUMNS.index("pay_account")  # sealed in a sealed store


class SqliteStore:
    """A [`yikatong.ports.Store`][] in one SQLite database file.

    Args:
        path: The database file. A missing file becomes a new store when ``create`` is True.
        create: Create the store when the file does not exist.
        read_only: Open for reading only: nothing on disk is changed (for audits and verification).
        inline_rows_max: Batches with more rows keep their row data in a Parquet side file.
        keys: The deployment's [`Keys`][yikatong.ports.Keys]. A store created with keys seals personal data at
            rest (AES-256-GCM under ``keys.data_key()``: every batch's row data, and the ledger's ID numbers, which
            it indexes by a keyed hash); reading it needs the same keys. See ``_sealing``.

    Raises:
        StoreError: the file is not a yikatong store, comes from a newer yikatong, or is missing with
            ``create=False``; the key is not the store's; keys are given to write into a store created without
            them that holds batches. The file is left untouched.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        /,
        *,
        create: bool = True,
        read_only: bool = False,
        inline_rows_max: int = DEFAULT_INLINE_ROWS_MAX,
        keys: Keys | None = None,
    ) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.inline_rows_max = inline_rows_max
        self.files = RowFiles(self.path.with_name(self.path.name + "-rows"))
        self._conn: sqlite3.Connection | None = None
        self._conn = connect_store(
            self.path, create=create, read_only=read_only, on_open=None if read_only else self._collect_garbage
        )
        try:
            self.sealing = open_sealing(self._conn, self.path, keys, read_only=read_only)
        except BaseException:
            self.close()
            raise

    # -- life of the connection ---------------------------------------------------------------------------------

    @property
    def connection(self) -> sqlite3.Connection:
        """The open connection (read it for ad-hoc queries; write only through
        [`commit`][yikatong.adapters.SqliteStore.commit]).

        Raises:
            StoreError: when the store was closed.
        """
        if self._conn is None:
            raise StoreError(f"{self.path.name}: the store is closed / 数据库已关闭")
        return self._conn

    def close(self) -> None:
        """Close the connection (a WAL checkpoint folds the log into the database file)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _collect_garbage(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")  # no other writer can be between writing a side file and committing it
        try:
            referenced = [r[0] for r in conn.execute("SELECT file FROM row_data WHERE file IS NOT NULL")]
            self.files.collect_garbage(referenced)
        finally:
            conn.execute("COMMIT")

    # -- writing ------------------------------------------------------------------------------------------------

    def commit(self, change: Change) -> None:
        """Apply a change in one transaction (see [`yikatong.ports.Change`][yikatong.records.Change] for the refusals).

        Raises:
            StoreError: the change is refused or cannot be written; nothing was applied.
        """
        prepared = prepare(change)
        self._write(lambda conn: self._apply(conn, prepared))

    def append_audit(self, entries: Sequence[AuditEntry]) -> None:
        """Append audit entries that change no batch (a resident's look-up), in one transaction.

        Raises:
            StoreError: the store is read-only, the entries do not continue the log's head as a chain (another
                writer came first: read the head again and retry), or they cannot be written; nothing was appended.
        """
        if entries:
            rows = audit_rows(tuple(entries))
            self._write(lambda conn: append_audit_rows(conn, (entries[0].seq, entries[0].prev_hash), rows))

    def _write(self, apply: Callable[[sqlite3.Connection], None]) -> None:
        """Run ``apply`` in one ``BEGIN IMMEDIATE`` transaction: committed whole, or rolled back whole."""
        if self.read_only:
            raise StoreError(f"{self.path.name}: opened read-only / 数据库以只读方式打开")
        conn = self.connection
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path.name}: cannot start a write ({exc}) / 无法开始写入") from exc
        try:
            apply(conn)
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"{self.path.name}: write failed ({exc}) / 写入失败，未做任何更改") from exc
            raise

    def purge(self, change: Change, *, ledger_ids: pl.DataFrame) -> None:
        """Empty the personal detail of one batch with ``change``, in one transaction (see
        [`yikatong.ports.Store.purge`][]).

        The batch's row data is rewritten without the personal columns (sealed again in a sealed store; a side file
        is replaced and the old one removed), the approved accounts and the ledger's ID numbers are replaced, all
        with ``PRAGMA secure_delete`` on so the freed pages are zeroed; the write-ahead log is then checkpointed and
        truncated, so the removed values are gone from the file, not only from the tables.

        Raises:
            StoreError: the purge is refused or cannot be written; nothing was changed.
        """
        if self.read_only:
            raise StoreError(f"{self.path.name}: opened read-only / 数据库以只读方式打开")
        ids = check_purge_change(change, ledger_ids)
        prepared = prepare(change)
        batch_id = change.batch.batch_id
        conn = self.connection
        conn.execute("PRAGMA secure_delete = ON")
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                stored = [r[0] for r in conn.execute("SELECT row_id FROM ledger WHERE batch_id = ?", (batch_id,))]
                check_ledger_ids(batch_id, pl.Series(stored, dtype=pl.Int64), ids)
                self._apply(conn, prepared)
                purge_batch_data(conn, self.files, self.sealing, batch_id, ids)
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(f"{self.path.name}: purge failed ({exc}) / 清除失败，未做任何更改") from exc
                raise
            self._collect_garbage(conn)  # the old side file, if the batch had one
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.execute("PRAGMA secure_delete = OFF")

    def _apply(self, conn: sqlite3.Connection, p: Prepared) -> None:
        row = conn.execute("SELECT version FROM batches WHERE batch_id = ?", (p.batch_id,)).fetchone()
        stored = None if row is None else int(row[0])
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
            marks = ", ".join("?" * len(BATCH_COLUMNS))
            conn.execute(f"INSERT INTO batches ({', '.join(BATCH_COLUMNS)}) VALUES ({marks})", p.batch_row)
        else:
            sets = ", ".join(f"{c} = ?" for c in BATCH_COLUMNS[1:])
            conn.execute(f"UPDATE batches SET {sets} WHERE batch_id = ?", (*p.batch_row[1:], p.batch_id))
        if p.rows_parquet is not None:
            self._insert_rows(conn, p)
        if p.row_updates:
            n = len(STATE_SQL_COLUMNS) - 1  # the update parameters are the states without row_id, then batch, row
            updates = self.sealing.seal_states(p.row_updates, at=_PAY_ACCOUNT - 1, batch_at=n, row_at=n + 1)
            cur = conn.executemany(f"UPDATE row_state SET {_STATE_SET} WHERE batch_id = ? AND row_id = ?", updates)
            if cur.rowcount != len(p.row_updates):
                missing = len(p.row_updates) - cur.rowcount
                raise StoreError(
                    f"change refused: {missing} row update(s) name rows that do not exist / 更新的行不存在"
                )
        self._append_audit(conn, p)
        self._write_ledger(conn, p)
        if p.exceptions:
            marks = ", ".join("?" * len(EXCEPTION_SQL_COLUMNS))
            conn.executemany(
                f"INSERT INTO recon_exceptions ({', '.join(EXCEPTION_SQL_COLUMNS)}) VALUES ({marks})", p.exceptions
            )

    def _insert_rows(self, conn: sqlite3.Connection, p: Prepared) -> None:
        assert p.rows_parquet is not None
        data = self.sealing.seal_rows(p.batch_id, p.rows_parquet)
        if p.n_rows > self.inline_rows_max:
            name, digest = self.files.write(data)
            params: tuple[Any, ...] = (p.batch_id, p.n_rows, digest, name, None)
        else:
            params = (p.batch_id, p.n_rows, sha256(data).hexdigest(), None, data)
        conn.execute("INSERT INTO row_data (batch_id, n_rows, sha256, file, inline) VALUES (?, ?, ?, ?, ?)", params)
        columns = ("batch_id", *STATE_SQL_COLUMNS)
        conn.executemany(
            f"INSERT INTO row_state ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            self.sealing.seal_states(p.row_states, at=_PAY_ACCOUNT + 1, batch_at=0, row_at=1),
        )

    def _append_audit(self, conn: sqlite3.Connection, p: Prepared) -> None:
        if p.first_audit is None:
            return
        append_audit_rows(conn, p.first_audit, p.audit)

    def _write_ledger(self, conn: sqlite3.Connection, p: Prepared) -> None:
        # Entries that give up their key first, so a change that moves a key between rows sees only its end state.
        if p.ledger_release:
            conn.executemany(_LEDGER_UPSERT, self.sealing.ledger_params(p.ledger_release))
        if not p.ledger_hold:
            return
        try:
            conn.executemany(_LEDGER_UPSERT, self.sealing.ledger_params(p.ledger_hold))
        except sqlite3.IntegrityError as exc:
            raise StoreError(self._double_payment_message(conn, p)) from exc

    def _double_payment_message(self, conn: sqlite3.Connection, p: Prepared) -> str:
        for entry in p.ledger_hold:
            batch_id, row_id, id_number, item, period = entry[:5]
            other = conn.execute(
                "SELECT batch_id, row_id FROM ledger WHERE id_number = ? AND item = ? AND period = ? "
                "AND status IN ('sent', 'paid') AND NOT (batch_id = ? AND row_id = ?)",
                (self.sealing.lookup(id_number), item, period, batch_id, row_id),
            ).fetchone()
            if other is not None:
                return (
                    f"change refused: {mask_id(id_number)}, {item}, {period} already has an active payment "
                    f"(batch {other[0]}, row {other[1]}) / 变更被拒绝：同一人员、项目、期间已有发放记录，不得重复发放"
                )
        return "change refused: a second active payment for one person, item and period / 变更被拒绝：不得重复发放"

    # -- reading ------------------------------------------------------------------------------------------------

    def batch(self, batch_id: str) -> BatchRecord:
        """The current header of a batch.

        Raises:
            KeyError: when there is no such batch.
        """
        row = self.connection.execute(f"{_BATCH_SELECT} WHERE batch_id = ?", (batch_id,)).fetchone()
        if row is None:
            raise KeyError(batch_id)
        return batch_from_row(row)

    def batches(self) -> tuple[BatchRecord, ...]:
        """Every batch header, in creation order."""
        return tuple(batch_from_row(r) for r in self.connection.execute(f"{_BATCH_SELECT} ORDER BY seq"))

    def rows(self, batch_id: str) -> pl.DataFrame:
        """The batch's rows in [`ROW_SCHEMA`][yikatong.records.ROW_SCHEMA], sorted by ``row_id`` (empty when unknown).

        Raises:
            StoreError: when the batch's row data is missing or damaged.
        """
        conn = self.connection
        conn.execute("BEGIN")  # one snapshot for the row data reference and the states
        try:
            ref = conn.execute(
                "SELECT n_rows, sha256, file, inline FROM row_data WHERE batch_id = ?", (batch_id,)
            ).fetchone()
            states = conn.execute(
                f"SELECT {', '.join(STATE_SQL_COLUMNS)} FROM row_state WHERE batch_id = ? ORDER BY row_id",
                (batch_id,),
            ).fetchall()
        finally:
            conn.execute("COMMIT")
        if ref is None:
            return pl.DataFrame(schema=ROW_SCHEMA)
        n_rows, digest, file, inline = ref
        what = f"batch {batch_id}"
        static = static_rows(self.files, self.sealing, batch_id, digest, file, inline)
        state = frame_from_sql(
            self.sealing.open_states(batch_id, states, at=_PAY_ACCOUNT), ROW_SCHEMA, STATE_SQL_COLUMNS
        )
        if static.height != n_rows or state.height != n_rows:
            raise StoreError(f"{what}: row data and row states disagree / 行数据与行状态不一致")
        joined = static.select(STATIC_COLUMNS).join(state, on="row_id", how="left", maintain_order="left")
        return joined.select(list(ROW_SCHEMA)).sort("row_id")

    def ledger(self, *, item: str | None = None, period: str | None = None) -> pl.DataFrame:
        """Ledger entries in [`LEDGER_SCHEMA`][yikatong.records.LEDGER_SCHEMA], optionally of one item and/or period."""
        rows = self.connection.execute(
            f"SELECT {', '.join(_LEDGER_STORED)} FROM ledger "
            "WHERE (?1 IS NULL OR item = ?1) AND (?2 IS NULL OR period = ?2) ORDER BY batch_id, row_id",
            (item, period),
        ).fetchall()
        return frame_from_sql(self.sealing.open_ledger(rows), LEDGER_SCHEMA, LEDGER_SQL_COLUMNS)

    def ledger_of(self, id_number: str) -> pl.DataFrame:
        """The ledger entries of one person (the 18-character ID), in [`LEDGER_SCHEMA`][yikatong.records.LEDGER_SCHEMA].

        A sealed store finds them by the ID's keyed look-up hash and opens only those entries.

        Raises:
            StoreError: a sealed store opened without its keys.
        """
        if self.sealing.sealed and self.sealing.cipher is None:
            raise StoreError(f"{self.path.name}: 台账已加密，需要密钥 / the ledger is encrypted: give the keys")
        rows = self.connection.execute(
            f"SELECT {', '.join(_LEDGER_STORED)} FROM ledger WHERE id_number = ? ORDER BY batch_id, row_id",
            (self.sealing.lookup(id_number),),
        ).fetchall()
        return frame_from_sql(self.sealing.open_ledger(rows), LEDGER_SCHEMA, LEDGER_SQL_COLUMNS)

    def exceptions(self, batch_id: str | None = None) -> pl.DataFrame:
        """Reconciliation exceptions in [`EXCEPTION_SCHEMA`][yikatong.records.EXCEPTION_SCHEMA], oldest first."""
        rows = self.connection.execute(
            f"SELECT {', '.join(EXCEPTION_SQL_COLUMNS)} FROM recon_exceptions "
            "WHERE ?1 IS NULL OR batch_id = ?1 ORDER BY seq",
            (batch_id,),
        ).fetchall()
        return frame_from_sql(rows, EXCEPTION_SCHEMA, EXCEPTION_SQL_COLUMNS)

    def audit(self, *, after_seq: int = 0) -> tuple[AuditEntry, ...]:
        """Audit entries with ``seq > after_seq``, in order."""
        rows = self.connection.execute(
            f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit WHERE seq > ? ORDER BY seq", (after_seq,)
        )
        return tuple(audit_from_row(r) for r in rows)

    def audit_head(self) -> AuditEntry | None:
        """The last audit entry (None on an empty log)."""
        row = self.connection.execute(f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit ORDER BY seq DESC LIMIT 1")
        found = row.fetchone()
        return None if found is None else audit_from_row(found)
