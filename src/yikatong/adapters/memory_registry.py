"""An in-memory [`AccountRegistry`][yikatong.ports.AccountRegistry]: the rules of [`yikatong.registry`][] over plain
lists.

For tests, demos and small hosts. Records are kept per person, oldest first; events are appended, never edited.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import polars as pl

from yikatong.adapters._registry_flow import SNAPSHOT_SCHEMA, RegistryFlow
from yikatong.ports import Clock
from yikatong.registry import Account, AccountEvent

__all__ = ["SNAPSHOT_SCHEMA", "MemoryRegistry"]

_T = TypeVar("_T")


class MemoryRegistry(RegistryFlow[None]):
    """Account registry held in memory.

    The operations are the shared flow's (`yikatong/adapters/_registry_flow.py`); this class keeps the lists.

    Args:
        clock: The time source recorded in every event.
    """

    def __init__(self, *, clock: Clock) -> None:
        self._clock = clock
        self._by_person: dict[str, list[Account]] = {}
        self._events: dict[str, list[AccountEvent]] = {}

    def _transaction(self, work: Callable[[None], _T]) -> _T:
        return work(None)  # the rules refuse before anything is changed: nothing to roll back

    def _records(self, tx: None, id_number: str) -> list[Account]:
        return list(self._by_person.get(id_number, []))

    def _open_elsewhere(self, tx: None, id_number: str, account: str) -> list[Account]:
        return [
            r
            for person, records in self._by_person.items()
            if person != id_number
            for r in records
            if r.account == account and r.status in ("pending", "active", "frozen")
        ]

    def _insert(self, tx: None, record: Account) -> None:
        self._by_person.setdefault(record.id_number, []).append(record)

    def _replace(self, tx: None, record: Account) -> None:
        records = self._by_person[record.id_number]
        records[next(i for i, r in enumerate(records) if r.seq == record.seq)] = record

    def _append(self, tx: None, events: Sequence[AccountEvent]) -> None:
        for event in events:
            self._events.setdefault(event.id_number, []).append(event)

    def snapshot(self) -> pl.LazyFrame:
        """Current accounts, one row per account (the latest record of each person and account number)."""
        latest: dict[tuple[str, str], Account] = {}
        for records in self._by_person.values():
            for r in records:
                if r.status != "rejected":
                    latest[(r.id_number, r.account)] = r
        rows = [
            {
                "id_number": r.id_number,
                "account": r.account,
                "account_kind": r.kind,
                "bank": r.bank,
                "holder_name": r.holder_name,
                "status": r.status,
                "town": r.town,
                "declared_at": r.declared_at,
            }
            for r in latest.values()
        ]
        return pl.DataFrame(rows, schema=SNAPSHOT_SCHEMA).lazy()

    def history(self, id_number: str) -> tuple[AccountEvent, ...]:
        """Every event about the person's accounts, oldest first."""
        return tuple(self._events.get(id_number, ()))

    def records(self, id_number: str) -> tuple[Account, ...]:
        """Every declaration record of the person, oldest first (for inspection and tests)."""
        return tuple(self._by_person.get(id_number, ()))
