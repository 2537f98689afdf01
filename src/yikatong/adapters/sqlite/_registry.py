"""The one-card account registry 一人一卡 in the embedded store's database file.

[`SqliteRegistry`][yikatong.adapters.SqliteRegistry] implements [`yikatong.ports.AccountRegistry`][] with the pure rules
of [`yikatong.registry`][]: each operation reads the person's records inside a ``BEGIN IMMEDIATE`` transaction, asks
the rules for the new records and events, and writes both before ``COMMIT``, so a refused or interrupted operation
leaves nothing behind. Records are replaced only in their status and review time, events only appended (a trigger
refuses UPDATE and DELETE on the history), and a partial UNIQUE index keeps one active account per person even
against a write that bypasses the rules.

Given [`Keys`][yikatong.ports.Keys], a new registry is sealed (ID numbers, accounts and holder names under
AES-256-GCM, looked up by keyed hash) and its events are chained with the audit key, each carrying the digest of the
records it left; ``check_registry`` finds an insider's edits (see
``yikatong/adapters/_registry_sealing.py``).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Final, TypeVar

import polars as pl

from yikatong.adapters._registry_flow import SNAPSHOT_SCHEMA, RegistryFlow
from yikatong.adapters._registry_sealing import CHAIN_START, RegistrySealing, event_link, records_digest
from yikatong.adapters.sqlite._schema import connect_store
from yikatong.errors import StoreError
from yikatong.ports import Clock, Keys
from yikatong.registry import Account, AccountEvent

__all__ = ["EVENT_STORED", "RECORD_STORED", "SNAPSHOT_SCHEMA", "SqliteRegistry"]

_RECORD_COLUMNS: Final = (
    "id_number",
    "seq",
    "account",
    "kind",
    "bank",
    "holder_name",
    "town",
    "status",
    "declared_at",
    "declared_by",
    "reviewed_at",
)
_EVENT_COLUMNS: Final = ("id_number", "account", "action", "status", "at", "user", "role", "town", "note")
EVENT_STORED: Final = ("seq", *_EVENT_COLUMNS, "sealed", "records_digest", "hash")
"""The stored columns of an event, as ``RegistrySealing.event_row`` gives them."""
RECORD_STORED: Final = (*_RECORD_COLUMNS, "sealed")
"""The stored columns of a record, as ``RegistrySealing.record_row`` gives them."""
_RECORD_SELECT: Final = f"SELECT {', '.join(_RECORD_COLUMNS)}, sealed FROM accounts"
_OPEN: Final = ("pending", "active", "frozen")
_T = TypeVar("_T")


class SqliteRegistry(RegistryFlow[sqlite3.Connection]):
    """A [`yikatong.ports.AccountRegistry`][] in a store file (the same file as

    The operations (declare, change, review, close, freeze, unfreeze) are the shared flow's
    (`yikatong/adapters/_registry_flow.py`); this class reads and writes the records and the keyed event chain.
    [`SqliteStore`][yikatong.adapters.SqliteStore] or another).

    Args:
        path: The store file; created when missing and ``create`` is True.
        clock: The time source recorded in every event.
        create: Create the store file when it does not exist.
        keys: The deployment's [`Keys`][yikatong.ports.Keys]. A registry started with keys is sealed and its event
            chain keyed; reading it needs the same keys.
        read_only: Open for reading only (for audits): nothing on disk is changed; operations are refused.

    Raises:
        StoreError: the file is not a yikatong store or comes from a newer yikatong; the key is not the
            registry's; keys are given to a registry that holds accounts written without them.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        /,
        *,
        clock: Clock,
        create: bool = True,
        keys: Keys | None = None,
        read_only: bool = False,
    ) -> None:
        self.path = Path(path)
        self._clock = clock
        self._conn: sqlite3.Connection | None = connect_store(self.path, create=create, read_only=read_only)
        try:
            meta = dict(
                self._conn.execute("SELECT key, value FROM meta WHERE key IN ('registry_cipher', 'registry_key_check')")
            )
            self.sealing = RegistrySealing(self.path.name, meta, keys, mark=self._mark_sealed, read_only=read_only)
        except BaseException:
            self.release()
            raise

    def _mark_sealed(self, entries: Sequence[tuple[str, str]]) -> bool:
        """Mark a registry without accounts sealed (False when it already holds accounts)."""
        conn = self.connection
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("SELECT 1 FROM accounts LIMIT 1").fetchone() is not None:
                conn.execute("ROLLBACK")
                return False
            conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", entries)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return True

    def stored_rows(self) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """Every stored event row (``EVENT_STORED``, by ``seq``) and record row (``RECORD_STORED``, by person and
        ``seq``), read in one transaction: what ``check_registry`` checks."""
        conn = self.connection
        conn.execute("BEGIN")
        try:
            events = conn.execute(f"SELECT {', '.join(EVENT_STORED)} FROM account_events ORDER BY seq").fetchall()
            records = conn.execute(
                f"SELECT {', '.join(RECORD_STORED)} FROM accounts ORDER BY id_number, seq"
            ).fetchall()
        finally:
            conn.execute("COMMIT")
        return events, records

    def holds_accounts(self) -> bool:
        """True when the registry has records or events (or is sealed): a store without one has nothing to check."""
        held = self.connection.execute(
            "SELECT EXISTS (SELECT 1 FROM account_events) OR EXISTS (SELECT 1 FROM accounts)"
        ).fetchone()
        return bool(held[0]) or self.sealing.sealed

    @property
    def connection(self) -> sqlite3.Connection:
        """The open connection.

        Raises:
            StoreError: when the registry was closed.
        """
        if self._conn is None:
            raise StoreError(f"{self.path.name}: the registry is closed / 账户库已关闭")
        return self._conn

    def release(self) -> None:
        """Close the database connection (``close`` is the port's operation that closes an account)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> SqliteRegistry:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    # -- the transaction around every operation ----------------------------------------------------------------

    def _transaction(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        conn = self.connection
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = work(conn)
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"{self.path.name}: registry write failed ({exc}) / 账户库写入失败") from exc
            raise
        return result

    def _records(self, conn: sqlite3.Connection, id_number: str) -> list[Account]:
        rows = conn.execute(f"{_RECORD_SELECT} WHERE id_number = ? ORDER BY seq", (self.sealing.key(id_number),))
        return [self.sealing.open_record(r) for r in rows]

    def _open_elsewhere(self, conn: sqlite3.Connection, id_number: str, account: str) -> list[Account]:
        rows = conn.execute(
            f"{_RECORD_SELECT} WHERE account = ? AND id_number <> ? AND status IN ('pending', 'active', 'frozen')",
            (self.sealing.key(account), self.sealing.key(id_number)),
        )
        return [self.sealing.open_record(r) for r in rows]

    def _insert(self, conn: sqlite3.Connection, record: Account) -> None:
        columns = (*_RECORD_COLUMNS, "sealed")
        conn.execute(
            f"INSERT INTO accounts ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            self.sealing.record_row(record),
        )

    def _replace(self, conn: sqlite3.Connection, record: Account) -> None:
        conn.execute(
            "UPDATE accounts SET status = ?, reviewed_at = ? WHERE id_number = ? AND seq = ?",
            (
                record.status,
                None if record.reviewed_at is None else record.reviewed_at.isoformat(),
                self.sealing.key(record.id_number),
                record.seq,
            ),
        )

    def _append(self, conn: sqlite3.Connection, events: Sequence[AccountEvent]) -> None:
        """Append events after the records they describe were written: each links to the last event and carries
        the digest of its person's records as they now are."""
        head = conn.execute("SELECT seq, hash FROM account_events ORDER BY seq DESC LIMIT 1").fetchone()
        seq, link = (0, CHAIN_START) if head is None else (int(head[0]), head[1] or CHAIN_START)
        key = self.sealing.chain_key
        rows = []
        for event in events:
            seq += 1
            digest = records_digest(self._records(conn, event.id_number), key=key)
            link = event_link(link, seq, event, digest, key=key)
            rows.append(self.sealing.event_row(seq, event, digest, link))
        conn.executemany(
            f"INSERT INTO account_events ({', '.join(EVENT_STORED)}) VALUES ({', '.join('?' * len(EVENT_STORED))})",
            rows,
        )

    # -- reading -----------------------------------------------------------------------------------------------

    def snapshot(self) -> pl.LazyFrame:
        """Current accounts, one row per (person, account number): its latest record that was not rejected."""
        columns = ", ".join(f"a.{c}" for c in (*_RECORD_COLUMNS, "sealed"))
        rows = self.connection.execute(
            f"SELECT {columns} FROM accounts a JOIN (SELECT id_number, account, MAX(seq) AS seq FROM accounts "
            "WHERE status <> 'rejected' GROUP BY id_number, account) latest USING (id_number, account, seq)"
        ).fetchall()
        records = sorted((self.sealing.open_record(r) for r in rows), key=lambda r: (r.id_number, r.seq))
        current = [
            (r.id_number, r.account, r.kind, r.bank, r.holder_name, r.status, r.town, r.declared_at.isoformat())
            for r in records
        ]
        raw = pl.DataFrame(current, schema={**SNAPSHOT_SCHEMA, "declared_at": pl.String()}, orient="row")
        return raw.lazy().with_columns(pl.col("declared_at").str.to_datetime(time_unit="us", time_zone="UTC"))

    def history(self, id_number: str) -> tuple[AccountEvent, ...]:
        """Every event about the person's accounts, oldest first."""
        rows = self.connection.execute(
            f"SELECT {', '.join(EVENT_STORED)} FROM account_events WHERE id_number = ? ORDER BY seq",
            (self.sealing.key(id_number),),
        )
        return tuple(self.sealing.open_event(r) for r in rows)

    def records(self, id_number: str) -> tuple[Account, ...]:
        """Every declaration record of the person, oldest first (for inspection and tests)."""
        return tuple(self._records(self.connection, id_number))
