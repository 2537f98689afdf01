"""The one-card account registry 一人一卡 in a PostgreSQL schema.

[`PostgresRegistry`][yikatong.adapters.postgres.PostgresRegistry] implements [`yikatong.ports.AccountRegistry`][] with
the pure rules of [`yikatong.registry`][], like the embedded registry: each operation runs in one transaction that first
takes the ``accounts`` table's SHARE ROW EXCLUSIVE lock (one registry writer at a time, so "this account number is
already someone else's" is decided on current data), reads the person's records, asks the rules for the new records and
events, and writes both before ``COMMIT``; a refused or interrupted operation leaves nothing behind. Records change
only in their status and review time, events are only appended (triggers refuse UPDATE, DELETE and TRUNCATE on the
history), and a partial UNIQUE index keeps one active account per person even against a write that bypasses the
rules.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Final, TypeVar

import polars as pl
import psycopg
from psycopg import sql

from yikatong.adapters._registry_flow import SNAPSHOT_SCHEMA, RegistryFlow
from yikatong.adapters._registry_rows import account_from_row, event_from_row
from yikatong.adapters.postgres._frames import Connection, Session, copy_out
from yikatong.adapters.postgres._schema import open_schema
from yikatong.adapters.postgres._store import DEFAULT_SCHEMA
from yikatong.ports import Clock
from yikatong.registry import Account, AccountEvent

__all__ = ["PostgresRegistry"]

Cursor = psycopg.Cursor[tuple[object, ...]]

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
_EVENT_COLUMNS: Final = ("id_number", "account", "action", "status", "at", '"user"', "role", "town", "note")
_T = TypeVar("_T")
_SNAPSHOT_SOURCE: Final = sql.SQL(
    "(SELECT a.id_number, a.account, a.kind AS account_kind, a.bank, a.holder_name, a.status, a.town, a.declared_at, "
    "a.seq FROM accounts a JOIN (SELECT id_number, account, MAX(seq) AS seq FROM accounts "
    "WHERE status <> 'rejected' GROUP BY id_number, account) latest USING (id_number, account, seq)) AS snapshot "
    "ORDER BY id_number, seq"
)
_SELECT_RECORDS: Final = f"SELECT {', '.join(_RECORD_COLUMNS)} FROM accounts"
_INSERT_RECORD: Final = (
    f"INSERT INTO accounts ({', '.join(_RECORD_COLUMNS)}) VALUES ({', '.join(['%s'] * len(_RECORD_COLUMNS))})"
)
_INSERT_EVENT: Final = (
    f"INSERT INTO account_events ({', '.join(_EVENT_COLUMNS)}) VALUES ({', '.join(['%s'] * len(_EVENT_COLUMNS))})"
)


class PostgresRegistry(RegistryFlow[Cursor]):
    """A [`yikatong.ports.AccountRegistry`][] in a PostgreSQL schema (the store's schema or another).

    The operations (declare, change, review, close, freeze, unfreeze) are the shared flow's
    (`yikatong/adapters/_registry_flow.py`); this class reads and writes the tables under the ``accounts`` lock.

    Args:
        conninfo: A ``postgresql://`` URL or libpq connection string.
        clock: The time source recorded in every event.
        schema: The PostgreSQL schema; created when missing and ``create`` is True.
        create: Create the store's tables when the schema does not exist (or is empty).

    Raises:
        StoreError: the database cannot be reached, the schema is not a yikatong store or is newer than this library.
    """

    def __init__(self, conninfo: str, /, *, clock: Clock, schema: str = DEFAULT_SCHEMA, create: bool = True) -> None:
        self.schema = schema
        self._clock = clock
        self._session = Session(conninfo, schema, read_only=False, what=f"PostgreSQL registry {schema}")
        try:
            open_schema(self._session.connection, schema, create=create)
        except BaseException:
            self._session.close()
            raise

    @property
    def connection(self) -> Connection:
        """The open connection.

        Raises:
            StoreError: when the registry was closed.
        """
        return self._session.connection

    def release(self) -> None:
        """Close the database connection (``close`` is the port's operation that closes an account)."""
        self._session.close()

    def __enter__(self) -> PostgresRegistry:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    # -- the transaction around every operation ----------------------------------------------------------------

    def _transaction(self, work: Callable[[Cursor], _T]) -> _T:
        conn = self.connection
        try:
            with conn.transaction(), conn.cursor() as cur:
                cur.execute("LOCK TABLE accounts IN SHARE ROW EXCLUSIVE MODE")
                return work(cur)
        except psycopg.Error as exc:
            raise self._session.failed(exc, "账户库写入失败，未做任何更改", "registry write failed") from exc

    @staticmethod
    def _records(cur: Cursor, id_number: str) -> list[Account]:
        rows = cur.execute(f"{_SELECT_RECORDS} WHERE id_number = %s ORDER BY seq".encode(), (id_number,))
        return [account_from_row(r) for r in rows.fetchall()]

    @staticmethod
    def _open_elsewhere(cur: Cursor, id_number: str, account: str) -> list[Account]:
        rows = cur.execute(
            f"{_SELECT_RECORDS} WHERE account = %s AND id_number <> %s "
            "AND status IN ('pending', 'active', 'frozen')".encode(),
            (account, id_number),
        )
        return [account_from_row(r) for r in rows]

    @staticmethod
    def _insert(cur: Cursor, record: Account) -> None:
        cur.execute(
            _INSERT_RECORD.encode(),
            (
                record.id_number,
                record.seq,
                record.account,
                record.kind,
                record.bank,
                record.holder_name,
                record.town,
                record.status,
                record.declared_at.isoformat(),
                record.declared_by,
                None if record.reviewed_at is None else record.reviewed_at.isoformat(),
            ),
        )

    @staticmethod
    def _replace(cur: Cursor, record: Account) -> None:
        cur.execute(
            "UPDATE accounts SET status = %s, reviewed_at = %s WHERE id_number = %s AND seq = %s",
            (
                record.status,
                None if record.reviewed_at is None else record.reviewed_at.isoformat(),
                record.id_number,
                record.seq,
            ),
        )

    @staticmethod
    def _append(cur: Cursor, events: Sequence[AccountEvent]) -> None:
        cur.executemany(
            _INSERT_EVENT.encode(),
            [
                (e.id_number, e.account, e.action, e.status, e.at.isoformat(), e.user, e.role, e.town, e.note)
                for e in events
            ],
        )

    # -- reading -----------------------------------------------------------------------------------------------

    def snapshot(self) -> pl.LazyFrame:
        """Current accounts, one row per (person, account number): its latest record that was not rejected."""
        with self._session.reading() as conn, conn.cursor() as cur:
            raw = copy_out(cur, _SNAPSHOT_SOURCE, {**SNAPSHOT_SCHEMA, "declared_at": pl.String()})
        return raw.lazy().with_columns(pl.col("declared_at").str.to_datetime(time_unit="us", time_zone="UTC"))

    def history(self, id_number: str) -> tuple[AccountEvent, ...]:
        """Every event about the person's accounts, oldest first."""
        with self._session.reading() as conn:
            rows = conn.execute(
                f"SELECT {', '.join(_EVENT_COLUMNS)} FROM account_events WHERE id_number = %s ORDER BY seq".encode(),
                (id_number,),
            ).fetchall()
        return tuple(event_from_row(r) for r in rows)

    def records(self, id_number: str) -> tuple[Account, ...]:
        """Every declaration record of the person, oldest first (for inspection and tests)."""
        with self._session.reading() as conn, conn.cursor() as cur:
            return tuple(self._records(cur, id_number))
