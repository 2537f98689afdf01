"""The flow of every account registry operation, once for the memory, SQLite and PostgreSQL registries.

Each operation of [`AccountRegistry`][yikatong.ports.AccountRegistry] is the same five moves whatever holds the
records: open a transaction, read the person's records (and, for a declaration, the open records of the same account
number held by someone else), ask the pure rules of [`yikatong.registry.operations`][] for the new or changed
records and the events, write them, and return the record the caller asked about. `RegistryFlow` makes those moves;
a registry supplies only how it reads and writes (its transaction handle ``Tx``: a cursor, a connection, or nothing
in memory). A rule that refuses raises before anything is written, and a write that fails rolls the transaction
back.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Final, Generic, TypeVar

import polars as pl

from yikatong.ports import Clock
from yikatong.registry import Account, AccountEvent, AccountKind, Actor
from yikatong.registry import operations as rules

__all__ = ["SNAPSHOT_SCHEMA", "RegistryFlow"]

SNAPSHOT_SCHEMA: Final[dict[str, pl.DataType]] = {
    "id_number": pl.String(),
    "account": pl.String(),
    "account_kind": pl.String(),
    "bank": pl.String(),
    "holder_name": pl.String(),
    "status": pl.String(),
    "town": pl.String(),
    "declared_at": pl.Datetime("us", "UTC"),
}
"""Columns of every registry's ``snapshot()``: one row per (person, account number), its latest record."""

Tx = TypeVar("Tx")
_T = TypeVar("_T")


class RegistryFlow(abc.ABC, Generic[Tx]):
    """The account registry's operations over a registry's own reads and writes.

    Subclasses set ``_clock`` (the time recorded in every event) and implement the six primitives below; the
    operations (`declare`, `change`, `review`, `close`, `freeze`, `unfreeze`) are the port's.
    """

    _clock: Clock

    # -- what a registry supplies -------------------------------------------------------------------------------

    @abc.abstractmethod
    def _transaction(self, work: Callable[[Tx], _T]) -> _T:
        """Run ``work`` in one transaction: all its writes or none."""

    @abc.abstractmethod
    def _records(self, tx: Tx, id_number: str) -> list[Account]:
        """The person's declaration records, oldest first."""

    @abc.abstractmethod
    def _open_elsewhere(self, tx: Tx, id_number: str, account: str) -> list[Account]:
        """Pending, active or frozen records of ``account`` held by anyone but ``id_number``."""

    @abc.abstractmethod
    def _insert(self, tx: Tx, record: Account) -> None:
        """Add a new record."""

    @abc.abstractmethod
    def _replace(self, tx: Tx, record: Account) -> None:
        """Replace the stored record of the same person and ``seq`` (only its status and review time change)."""

    @abc.abstractmethod
    def _append(self, tx: Tx, events: Sequence[AccountEvent]) -> None:
        """Append events to the history, after the records they describe were written."""

    # -- the operations -----------------------------------------------------------------------------------------

    def _known(self, tx: Tx, id_number: str) -> list[Account]:
        records = self._records(tx, id_number)
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

        def work(tx: Tx) -> Account:
            records = self._records(tx, id_number)
            rules.require_first_declaration(records)
            record, event = rules.declare(
                records,
                self._open_elsewhere(tx, id_number, account),
                actor=actor,
                id_number=id_number,
                account=account,
                kind=kind,
                bank=bank,
                holder_name=holder_name,
                town=town,
                at=self._clock.now(),
            )
            self._insert(tx, record)
            self._append(tx, [event])
            return record

        return self._transaction(work)

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

        def work(tx: Tx) -> Account:
            records = self._known(tx, id_number)
            rules.require_changeable(records)
            record, event = rules.declare(
                records,
                self._open_elsewhere(tx, id_number, account),
                actor=actor,
                id_number=id_number,
                account=account,
                kind=kind,
                bank=bank,
                holder_name=holder_name,
                town=records[-1].town,
                at=self._clock.now(),
            )
            self._insert(tx, record)
            self._append(tx, [event])
            return record

        return self._transaction(work)

    def review(self, actor: Actor, *, id_number: str, account: str, approve: bool, note: str = "") -> Account:
        """Approve or reject a pending declaration (see [`yikatong.ports.AccountRegistry.review`][])."""

        def work(tx: Tx) -> Account:
            records = self._known(tx, id_number)
            changes, events = rules.review(
                records, actor=actor, account=account, approve=approve, at=self._clock.now(), note=note
            )
            for index in sorted(changes, key=lambda i: changes[i].status == "active"):  # release before taking
                self._replace(tx, changes[index])
            self._append(tx, events)
            return next(r for r in changes.values() if r.account == account and r.status in ("active", "rejected"))

        return self._transaction(work)

    def _single(
        self, id_number: str, step: Callable[[list[Account], dt.datetime], tuple[int, Account, AccountEvent]]
    ) -> Account:
        def work(tx: Tx) -> Account:
            _, record, event = step(self._known(tx, id_number), self._clock.now())
            self._replace(tx, record)
            self._append(tx, [event])
            return record

        return self._transaction(work)

    def close(self, actor: Actor, *, id_number: str, account: str, note: str) -> Account:
        """Close an active or frozen account, with a reason."""
        return self._single(
            id_number, lambda records, at: rules.close(records, actor=actor, account=account, at=at, note=note)
        )

    def freeze(self, actor: Actor, *, id_number: str, account: str, note: str) -> Account:
        """Freeze an active account."""
        return self._single(
            id_number, lambda records, at: rules.freeze(records, actor=actor, account=account, at=at, note=note)
        )

    def unfreeze(self, actor: Actor, *, id_number: str, account: str, note: str) -> Account:
        """Lift a freeze."""
        return self._single(
            id_number, lambda records, at: rules.unfreeze(records, actor=actor, account=account, at=at, note=note)
        )
