"""The one-card account registry 一人一卡 in a PostgreSQL schema.

[`PostgresRegistry`][yikatong.adapters.postgres.PostgresRegistry] implements [`yikatong.ports.AccountRegistry`][] with
the pure rules of [`yikatong.registry`][], like the embedded registry: each operation runs in one transaction that first
takes the ``accounts`` table's SHARE ROW EXCLUSIVE lock (one registry writer at a time, so "this account number is
already someone else's" is decided on current data), reads the person's records, asks the rules for the new records and
events, and writes both before ``COMMIT``; a refused or interrupted operation leaves nothing behind. Records change
only in their status and review time, events are only appended (triggers refuse UPDATE, DELETE and TRUNCATE on the
history), and a partial UNIQUE index keeps one active account per person even against a write that bypasses the
rules.

Given [`Keys`][yikatong.ports.Keys], a new registry is sealed as the embedded one is (ID numbers, accounts and holder
names under AES-256-GCM, looked up by keyed hash) and its events are chained with the audit key, each carrying the
digest of the records it left (``yikatong/adapters/_registry_sealing.py``); ``check_registry`` finds an insider's
edits, and ``yikatong audit verify --store postgresql://…`` runs it on the registry in the store's schema.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Final, TypeVar

import polars as pl
import psycopg

from yikatong.adapters._registry_flow import SNAPSHOT_SCHEMA, RegistryFlow
from yikatong.adapters._registry_sealing import CHAIN_START, RegistrySealing, event_link, records_digest
from yikatong.adapters.postgres._frames import Connection, Session
from yikatong.adapters.postgres._schema import open_schema
from yikatong.adapters.postgres._store import DEFAULT_SCHEMA
from yikatong.ports import Clock, Keys
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
_EVENT_STORED: Final = ("seq", *_EVENT_COLUMNS, "sealed", "records_digest", "hash")
_RECORD_STORED: Final = (*_RECORD_COLUMNS, "sealed")
_T = TypeVar("_T")
_SELECT_RECORDS: Final = f"SELECT {', '.join(_RECORD_STORED)} FROM accounts"
_SELECT_EVENTS: Final = f"SELECT {', '.join(_EVENT_STORED)} FROM account_events"
_INSERT_RECORD: Final = (
    f"INSERT INTO accounts ({', '.join(_RECORD_STORED)}) VALUES ({', '.join(['%s'] * len(_RECORD_STORED))})"
)
_INSERT_EVENT: Final = (
    f"INSERT INTO account_events ({', '.join(_EVENT_STORED)}) VALUES ({', '.join(['%s'] * len(_EVENT_STORED))})"
)
_LATEST: Final = (
    f"SELECT {', '.join(f'a.{c}' for c in _RECORD_STORED)} FROM accounts a JOIN (SELECT id_number, account, "
    "MAX(seq) AS seq FROM accounts WHERE status <> 'rejected' GROUP BY id_number, account) latest "
    "USING (id_number, account, seq)"
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
        keys: The deployment's [`Keys`][yikatong.ports.Keys]. A registry started with keys is sealed and its event
            chain keyed; reading it needs the same keys.
        read_only: Open for reading only (for audits): every transaction is read-only; operations are refused.

    Raises:
        StoreError: the database cannot be reached, the schema is not a yikatong store or is newer than this library;
            the key is not the registry's; keys are given to a registry that holds accounts written without them.
    """

    def __init__(
        self,
        conninfo: str,
        /,
        *,
        clock: Clock,
        schema: str = DEFAULT_SCHEMA,
        create: bool = True,
        keys: Keys | None = None,
        read_only: bool = False,
    ) -> None:
        self.schema = schema
        self._clock = clock
        what = f"PostgreSQL registry {schema}"
        self._session = Session(conninfo, schema, read_only=read_only, what=what)
        try:
            open_schema(self._session.connection, schema, create=create and not read_only, read_only=read_only)
            with self._session.reading() as conn:
                rows = conn.execute(
                    "SELECT key, value FROM meta WHERE key IN ('registry_cipher', 'registry_key_check')"
                ).fetchall()
            meta = {str(k): str(v) for k, v in rows}
            self.sealing = RegistrySealing(what, meta, keys, mark=self._mark_sealed, read_only=read_only)
        except BaseException:
            self._session.close()
            raise

    def _mark_sealed(self, entries: Sequence[tuple[str, str]]) -> bool:
        """Mark a registry without accounts sealed (False when it already holds accounts)."""
        try:
            with self.connection.transaction(), self.connection.cursor() as cur:
                cur.execute("LOCK TABLE accounts IN SHARE ROW EXCLUSIVE MODE")  # no account is declared meanwhile
                if cur.execute("SELECT 1 FROM accounts LIMIT 1").fetchone() is not None:
                    return False
                cur.executemany(
                    "INSERT INTO meta (key, value) VALUES (%s, %s) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    list(entries),
                )
        except psycopg.Error as exc:
            raise self._session.failed(exc, "无法写入加密设置", "cannot write the seal mark") from exc
        return True

    def stored_rows(self) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """Every stored event row (by ``seq``) and record row (by person and ``seq``), read in one snapshot: what
        ``check_registry`` checks."""
        with self._session.reading() as conn, conn.transaction(), conn.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            events = cur.execute(f"{_SELECT_EVENTS} ORDER BY seq".encode()).fetchall()
            records = cur.execute(f"{_SELECT_RECORDS} ORDER BY id_number, seq".encode()).fetchall()
        return [_plain(r) for r in events], [_plain(r) for r in records]

    def holds_accounts(self) -> bool:
        """True when the registry has records or events (or is sealed): a store without one has nothing to check."""
        with self._session.reading() as conn:
            held = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM account_events) OR EXISTS (SELECT 1 FROM accounts)"
            ).fetchone()
        return bool(held and held[0]) or self.sealing.sealed

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

    def _records(self, cur: Cursor, id_number: str) -> list[Account]:
        rows = cur.execute(
            f"{_SELECT_RECORDS} WHERE id_number = %s ORDER BY seq".encode(), (self.sealing.key(id_number),)
        ).fetchall()
        return [self.sealing.open_record(_plain(r)) for r in rows]

    def _open_elsewhere(self, cur: Cursor, id_number: str, account: str) -> list[Account]:
        rows = cur.execute(
            f"{_SELECT_RECORDS} WHERE account = %s AND id_number <> %s "
            "AND status IN ('pending', 'active', 'frozen')".encode(),
            (self.sealing.key(account), self.sealing.key(id_number)),
        ).fetchall()
        return [self.sealing.open_record(_plain(r)) for r in rows]

    def _insert(self, cur: Cursor, record: Account) -> None:
        cur.execute(_INSERT_RECORD.encode(), self.sealing.record_row(record))

    def _replace(self, cur: Cursor, record: Account) -> None:
        cur.execute(
            "UPDATE accounts SET status = %s, reviewed_at = %s WHERE id_number = %s AND seq = %s",
            (
                record.status,
                None if record.reviewed_at is None else record.reviewed_at.isoformat(),
                self.sealing.key(record.id_number),
                record.seq,
            ),
        )

    def _append(self, cur: Cursor, events: Sequence[AccountEvent]) -> None:
        """Append events after the records they describe were written: each links to the last event and carries
        the digest of its person's records as they now are (the ``accounts`` lock keeps the head where it is)."""
        head = cur.execute("SELECT seq, hash FROM account_events ORDER BY seq DESC LIMIT 1").fetchone()
        seq, link = (0, CHAIN_START) if head is None else (int(str(head[0])), str(head[1] or CHAIN_START))
        key = self.sealing.chain_key
        rows = []
        for event in events:
            seq += 1
            digest = records_digest(self._records(cur, event.id_number), key=key)
            link = event_link(link, seq, event, digest, key=key)
            rows.append(self.sealing.event_row(seq, event, digest, link))
        cur.executemany(_INSERT_EVENT.encode(), rows)

    # -- reading -----------------------------------------------------------------------------------------------

    def snapshot(self) -> pl.LazyFrame:
        """Current accounts, one row per (person, account number): its latest record that was not rejected."""
        with self._session.reading() as conn:
            rows = conn.execute(_LATEST.encode()).fetchall()
        records = sorted((self.sealing.open_record(_plain(r)) for r in rows), key=lambda r: (r.id_number, r.seq))
        current = [
            (r.id_number, r.account, r.kind, r.bank, r.holder_name, r.status, r.town, r.declared_at.isoformat())
            for r in records
        ]
        raw = pl.DataFrame(current, schema={**SNAPSHOT_SCHEMA, "declared_at": pl.String()}, orient="row")
        return raw.lazy().with_columns(pl.col("declared_at").str.to_datetime(time_unit="us", time_zone="UTC"))

    def history(self, id_number: str) -> tuple[AccountEvent, ...]:
        """Every event about the person's accounts, oldest first."""
        with self._session.reading() as conn:
            rows = conn.execute(
                f"{_SELECT_EVENTS} WHERE id_number = %s ORDER BY seq".encode(), (self.sealing.key(id_number),)
            ).fetchall()
        return tuple(self.sealing.open_event(_plain(r)) for r in rows)

    def records(self, id_number: str) -> tuple[Account, ...]:
        """Every declaration record of the person, oldest first (for inspection and tests)."""
        with self._session.reading() as conn, conn.cursor() as cur:
            return tuple(self._records(cur, id_number))


def _plain(row: Sequence[object]) -> tuple[Any, ...]:
    """A stored row with ``bytea`` values as ``bytes`` (psycopg may give a memoryview)."""
    return tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
