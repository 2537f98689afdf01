"""An in-memory [`AccountRegistry`][yikatong.ports.AccountRegistry]: the rules of [`yikatong.registry`][] over plain
lists.

For tests, demos and small hosts. Records are kept per person, oldest first; events are appended, never edited.
"""

from __future__ import annotations

import polars as pl

from yikatong.ports import Clock
from yikatong.registry import Account, AccountEvent, AccountKind, Actor
from yikatong.registry import operations as rules

__all__ = ["SNAPSHOT_SCHEMA", "MemoryRegistry"]

SNAPSHOT_SCHEMA: dict[str, pl.DataType] = {
    "id_number": pl.String(),
    "account": pl.String(),
    "account_kind": pl.String(),
    "bank": pl.String(),
    "holder_name": pl.String(),
    "status": pl.String(),
    "town": pl.String(),
    "declared_at": pl.Datetime("us", "UTC"),
}


class MemoryRegistry:
    """Account registry held in memory.

    Args:
        clock: The time source recorded in every event.
    """

    def __init__(self, *, clock: Clock) -> None:
        self._clock = clock
        self._records: dict[str, list[Account]] = {}
        self._events: dict[str, list[AccountEvent]] = {}

    def _open_elsewhere(self, id_number: str, account: str) -> list[Account]:
        return [
            r
            for person, records in self._records.items()
            if person != id_number
            for r in records
            if r.account == account and r.status in ("pending", "active", "frozen")
        ]

    def _append(self, record: Account, event: AccountEvent) -> Account:
        self._records.setdefault(record.id_number, []).append(record)
        self._events.setdefault(record.id_number, []).append(event)
        return record

    def _known(self, id_number: str) -> list[Account]:
        records = self._records.get(id_number, [])
        rules.require_declared(records)
        return records

    def declare(
        self,
        actor: Actor,
        *,
        id_number: str,
        account: str,
        kind: AccountKind,
        bank: str,
        holder_name: str,
        town: str,
    ) -> Account:
        """Enter a first declaration (see [`yikatong.ports.AccountRegistry.declare`][])."""
        records = self._records.get(id_number, [])
        rules.require_first_declaration(records)
        record, event = rules.declare(
            records,
            self._open_elsewhere(id_number, account),
            actor=actor,
            id_number=id_number,
            account=account,
            kind=kind,
            bank=bank,
            holder_name=holder_name,
            town=town,
            at=self._clock.now(),
        )
        return self._append(record, event)

    def change(
        self,
        actor: Actor,
        *,
        id_number: str,
        account: str,
        kind: AccountKind,
        bank: str,
        holder_name: str,
    ) -> Account:
        """Declare a replacement account (see [`yikatong.ports.AccountRegistry.change`][])."""
        records = self._known(id_number)
        rules.require_changeable(records)
        record, event = rules.declare(
            records,
            self._open_elsewhere(id_number, account),
            actor=actor,
            id_number=id_number,
            account=account,
            kind=kind,
            bank=bank,
            holder_name=holder_name,
            town=records[-1].town,
            at=self._clock.now(),
        )
        return self._append(record, event)

    def review(self, actor: Actor, *, id_number: str, account: str, approve: bool, note: str = "") -> Account:
        """Approve or reject a pending declaration (see [`yikatong.ports.AccountRegistry.review`][])."""
        records = self._known(id_number)
        changes, events = rules.review(
            records, actor=actor, account=account, approve=approve, at=self._clock.now(), note=note
        )
        for index, record in changes.items():
            records[index] = record
        self._events[id_number].extend(events)
        return next(r for r in changes.values() if r.account == account and r.status in ("active", "rejected"))

    def _apply(self, id_number: str, result: tuple[int, Account, AccountEvent]) -> Account:
        index, record, event = result
        self._records[id_number][index] = record
        self._events[id_number].append(event)
        return record

    def close(self, actor: Actor, *, id_number: str, account: str, note: str) -> Account:
        """Close an account with a reason."""
        records = self._known(id_number)
        return self._apply(
            id_number, rules.close(records, actor=actor, account=account, at=self._clock.now(), note=note)
        )

    def freeze(self, actor: Actor, *, id_number: str, account: str, note: str) -> Account:
        """Freeze an active account."""
        records = self._known(id_number)
        return self._apply(
            id_number, rules.freeze(records, actor=actor, account=account, at=self._clock.now(), note=note)
        )

    def unfreeze(self, actor: Actor, *, id_number: str, account: str, note: str) -> Account:
        """Lift a freeze."""
        records = self._known(id_number)
        return self._apply(
            id_number, rules.unfreeze(records, actor=actor, account=account, at=self._clock.now(), note=note)
        )

    def snapshot(self) -> pl.LazyFrame:
        """Current accounts, one row per account (the latest record of each person and account number)."""
        latest: dict[tuple[str, str], Account] = {}
        for records in self._records.values():
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
        return tuple(self._records.get(id_number, ()))
