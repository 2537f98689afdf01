"""The service's shared core: the ports, loading a batch into its machine, and committing a step."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import polars as pl
from attrs import evolve

from yikatong.catalog import Catalog, ReferenceListName, SubsidyItem
from yikatong.localtime import local_date
from yikatong.ports import Bank as BankPort
from yikatong.ports import Clock, DisclosureSink, Store, Treasury
from yikatong.records import EXCEPTION_SCHEMA, BatchRecord, BatchState, Change
from yikatong.rules import Rule
from yikatong.workflow.audit import make_entry
from yikatong.workflow.machine import BatchFlow, Step, build_machine
from yikatong.workflow.roles import Actor

__all__ = ["DEFAULT_CORRECTION_DAYS", "DEFAULT_WINDOW_DAYS", "ReferenceSource", "RegistrySource", "ServiceCore"]

DEFAULT_CORRECTION_DAYS = 15
"""Days a department has to correct a returned row when the item names no ``correction_days``."""
DEFAULT_WINDOW_DAYS = 7
"""Days a public notice stays up unless the publisher says otherwise."""


class RegistrySource(Protocol):
    """What validation needs of an :class:`~yikatong.ports.AccountRegistry`: its current snapshot."""

    def snapshot(self) -> pl.LazyFrame:
        """Accounts: ``id_number, account, account_kind, bank, holder_name, status``."""
        ...


class ReferenceSource(Protocol):
    """What validation needs of :class:`~yikatong.ports.ReferenceData`: the lists it has."""

    def available(self) -> frozenset[ReferenceListName]:
        """Names of the lists available."""
        ...

    def frame(self, name: ReferenceListName) -> pl.LazyFrame:
        """One list keyed by ``id_number``."""
        ...


class ServiceCore:
    """Holds the ports and the two primitives every step uses: :meth:`_fire` and :meth:`_commit`."""

    def __init__(
        self,
        *,
        store: Store,
        bank: BankPort,
        treasury: Treasury,
        disclosure: DisclosureSink,
        clock: Clock,
        catalog: Catalog,
        registry: RegistrySource | None = None,
        reference: ReferenceSource | None = None,
        correction_days: int = DEFAULT_CORRECTION_DAYS,
        disclosure_window_days: int = DEFAULT_WINDOW_DAYS,
        verify_accounts: bool = True,
        rules: Sequence[Rule] | None = None,
        history: pl.LazyFrame | pl.DataFrame | None = None,
    ) -> None:
        if correction_days < 1 or disclosure_window_days < 1:
            raise ValueError("correction_days and disclosure_window_days must be at least 1")
        self.store = store
        self.bank = bank
        self.treasury = treasury
        self.disclosure = disclosure
        self.clock = clock
        self.catalog = catalog
        self.registry = registry
        self.reference = reference
        self.correction_days = correction_days
        self.disclosure_window_days = disclosure_window_days
        self.verify_accounts = verify_accounts
        self.rules = tuple(rules) if rules is not None else None
        self.history = history.lazy() if history is not None else None

    def _now(self) -> dt.datetime:
        now = self.clock.now()
        if now.tzinfo is None:
            raise ValueError("the clock must return timezone-aware times")
        return now.astimezone(dt.UTC)

    def _today(self) -> dt.date:
        """Today on the county's calendar (the clock's zone)."""
        return local_date(self._now(), self.clock.zone)

    def _item(self, record: BatchRecord) -> SubsidyItem:
        return self.catalog[record.item]

    def _correction_days(self, record: BatchRecord) -> int:
        return self._item(record).correction_days or self.correction_days

    def _fire(self, record: BatchRecord, trigger: str, step: Step) -> BatchState:
        """Run ``trigger`` through the batch's machine: checks the actor and guards; returns the new state."""
        flow = BatchFlow(record, town_filed=self._item(record).filed_by == "town")
        build_machine(flow)
        return flow.fire(trigger, step)

    def _commit(
        self,
        record: BatchRecord,
        *,
        state: BatchState,
        at: dt.datetime,
        actor: Actor,
        action: str,
        reason: str = "",
        details: Mapping[str, Any] | None = None,
        changes: Mapping[str, Any] | None = None,
        new_rows: pl.DataFrame | None = None,
        row_updates: pl.DataFrame | None = None,
        ledger: pl.DataFrame | None = None,
        exceptions: pl.DataFrame | None = None,
        create: bool = False,
    ) -> BatchRecord:
        """Commit one step as one :class:`~yikatong.ports.Change` with its audit entry; return the new header."""
        new = evolve(
            record,
            state=state,
            updated_at=at,
            version=1 if create else record.version + 1,
            **dict(changes or {}),
        )
        entry = make_entry(
            previous=self.store.audit_head(),
            at=at,
            actor=actor.user,
            role=actor.role,
            action=action,
            batch_id=record.batch_id,
            from_state="" if create else record.state,
            to_state=state,
            reason=reason,
            details=details,
        )
        self.store.commit(
            Change(
                batch=new,
                expected_version=None if create else record.version,
                new_rows=new_rows,
                row_updates=row_updates,
                ledger=ledger,
                audit=(entry,),
                exceptions=exceptions if exceptions is not None and exceptions.height else None,
            )
        )
        return new

    def _batch_ledger(self, record: BatchRecord) -> pl.DataFrame:
        return self.store.ledger(item=record.item, period=record.period).filter(pl.col("batch_id") == record.batch_id)

    def _empty_exceptions(self) -> pl.DataFrame:
        return pl.DataFrame(schema=EXCEPTION_SCHEMA)
