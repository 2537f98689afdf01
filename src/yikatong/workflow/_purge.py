"""Purging payee detail past its retention: [`Purger`][yikatong.workflow.Purger], and the service's steps that use it
(rules in [`yikatong.workflow.purge`][]).

Retention is a policy the catalogue sets per item (``retention_years``); applying it is mechanical, so the purge is
a step of the ``system`` actor, like expiring correction deadlines, run by a scheduled job or by ``yikatong
purge``. A batch is purged only when it is over ([`PURGE_STATES`][yikatong.workflow.purge.PURGE_STATES], every row in
[`PURGE_ROW_STATUSES`][yikatong.workflow.purge.PURGE_ROW_STATUSES], no money of it held at the bank, no correction of it
still running), its retention has passed, the service holds the keys (the ledger keeps keyed hashes, never plain ones),
and the store still holds exactly what the audit log last recorded of it: a purge never erases the traces of an
edit. The purge is one audited change; its entry records the batch's totals and the digests of what stays.

[`Purger`][yikatong.workflow.Purger] needs only the store, the catalogue, the clock and the keys, so a scheduled job (or
``yikatong purge``) runs it without a bank or a treasury; ``PurgeSteps`` gives the service the same methods.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import polars as pl
from attrs import evolve, frozen

from yikatong.catalog import Catalog
from yikatong.errors import IllegalTransition
from yikatong.localtime import local_date
from yikatong.period import Period
from yikatong.ports import Clock, Keys, Store
from yikatong.records import PURGED_COLUMNS, BatchRecord, Change
from yikatong.workflow._core import ServiceCore
from yikatong.workflow.audit import make_entry
from yikatong.workflow.digests import batch_digest, ledger_digest, rows_digest
from yikatong.workflow.funds import batch_money, records_frame
from yikatong.workflow.purge import (
    PURGE_ACTION,
    PURGE_ROW_STATUSES,
    PURGE_STATES,
    purge_entries,
    purge_totals,
    purged_id,
    purged_rows,
    retention_ends,
)
from yikatong.workflow.roles import Actor, require_role
from yikatong.workflow.store_check import batch_problems

__all__ = ["PURGE_PLAN_SCHEMA", "PurgeDecision", "PurgeSteps", "Purger"]

PURGE_PLAN_SCHEMA: Final[dict[str, pl.DataType]] = {
    "batch_id": pl.String(),
    "item": pl.String(),
    "period": pl.String(),
    "state": pl.String(),
    "action": pl.String(),  # purged, purgeable (a dry run), kept, already_purged
    "kept_until": pl.Date(),  # the last day of the retention (null when the item keeps its detail for ever)
    "reason": pl.String(),
}
"""Columns of [`PurgeSteps.purge`][yikatong.workflow.Service.purge]'s answer: one row per batch considered."""


@frozen
class PurgeDecision:
    """Whether one batch may be purged today.

    Attributes:
        batch_id: The batch.
        purgeable: True when every condition holds.
        already_purged: The audit log already records its purge.
        kept_until: The last day of its retention (None: the item sets no retention).
        reason: Why it may not be purged, Chinese then English ("" when it may).
    """

    batch_id: str
    purgeable: bool
    already_purged: bool
    kept_until: dt.date | None
    reason: str


def _no(batch_id: str, kept_until: dt.date | None, reason: str, *, purged: bool = False) -> PurgeDecision:
    return PurgeDecision(batch_id, False, purged, kept_until, reason)


class Purger:
    """Decides and carries out purges of payee detail past retention.

    Args:
        store: The store.
        catalog: The catalogue whose items set ``retention_years``.
        clock: Today's date comes from it (the county's calendar).
        keys: The deployment's keys: the audit chain's key, under which purged ledger IDs are hashed. Without them
            nothing is purged.
    """

    def __init__(self, *, store: Store, catalog: Catalog, clock: Clock, keys: Keys | None) -> None:
        self.store = store
        self.catalog = catalog
        self.clock = clock
        self.audit_key: bytes | None = keys.audit_key() if keys is not None else None

    def _now(self) -> dt.datetime:
        now = self.clock.now()
        if now.tzinfo is None:
            raise ValueError("the clock must return timezone-aware times")
        return now.astimezone(dt.UTC)

    def _today(self) -> dt.date:
        return local_date(self._now(), self.clock.zone)

    def purge_decision(self, batch_id: str) -> PurgeDecision:
        """Whether ``batch_id`` may be purged today, and if not why (see the module text for the conditions).

        Raises:
            KeyError: no such batch.
        """
        record = self.store.batch(batch_id)
        if batch_id in purge_entries(self.store.audit()):
            return _no(batch_id, None, "已清除 / already purged", purged=True)
        item = self.catalog.items.get(record.item)
        if item is None:
            return _no(batch_id, None, f"项目 {record.item} 不在目录中 / item {record.item} is not in the catalogue")
        if item.retention_years is None:
            return _no(
                batch_id, None, f"项目 {record.item} 未设保存期限，永久保存 / item {record.item} sets no retention"
            )
        rows = self.store.rows(batch_id)
        last = record.updated_at
        moved = rows["updated_at"].drop_nulls()
        if moved.len():
            last = max(last, moved.max())  # type: ignore[type-var,assignment]
        anchor = max(local_date(last, self.clock.zone), Period.parse(record.period).end)
        until = retention_ends(anchor, item.retention_years)
        if record.state not in PURGE_STATES:
            return _no(batch_id, until, f"批次处于 {record.state}，尚未结束 / batch is {record.state}, not over")
        open_rows = rows.filter(~pl.col("status").is_in(PURGE_ROW_STATUSES))
        if open_rows.height:
            status = open_rows["status"][0]
            return _no(
                batch_id,
                until,
                f"{open_rows.height} 行尚未结清（如 {status}） / {open_rows.height} rows are not final (e.g. {status})",
            )
        live = [b.batch_id for b in self.store.batches() if b.corrects == batch_id and b.state not in PURGE_STATES]
        if live:
            return _no(batch_id, until, f"更正批次 {live[0]} 仍在办理 / correction batch {live[0]} is still running")
        records = self.store.batches()
        money = batch_money(records_frame(records), self.store.ledger()).filter(pl.col("batch_id") == batch_id)
        held = int(money["held_fen"][0]) if money.height else 0
        if held:
            return _no(batch_id, until, f"银行仍留存 {held} 分 / {held} fen of it is still held at the bank")
        if self._today() <= until:
            return _no(batch_id, until, f"保存期至 {until} / kept until {until} ({item.retention_years} years)")
        if self.audit_key is None:
            return _no(batch_id, until, "清除需要密钥 / purging needs the deployment's keys (hashed ledger IDs)")
        return PurgeDecision(batch_id, True, False, until, "")

    def purge_batch(self, batch_id: str, *, actor: Actor | None = None) -> BatchRecord:
        """Remove the payee detail of one batch past its retention; keep its totals, ledger amounts and audit log.

        Returns:
            The batch's header afterwards (one version on; its state unchanged).

        Raises:
            PermissionDenied: an actor other than the system.
            IllegalTransition: the batch may not be purged ([`purge_decision`][yikatong.workflow.Purger.purge_decision]
                says why), or its stored data differs from what the audit log last recorded (run ``yikatong audit
                verify``).
            StoreError: the store refused the purge; nothing changed.
        """
        actor = actor or Actor.system()
        require_role(actor, ("system",), "purge payee detail")
        decision = self.purge_decision(batch_id)
        if not decision.purgeable:
            raise IllegalTransition(f"batch {batch_id} cannot be purged / 批次不能清除: {decision.reason}")
        key = self.audit_key
        assert key is not None  # the decision refuses without keys
        record = self.store.batch(batch_id)
        problems = batch_problems(self.store, record, key=key)
        if problems:
            raise IllegalTransition(
                f"batch {batch_id} differs from its audit record; not purged / 批次与审计记录不符，不予清除: "
                f"{problems[0].message}"
            )
        rows = self.store.rows(batch_id)
        ledger = self.store.ledger(item=record.item, period=record.period).filter(pl.col("batch_id") == batch_id)
        kept_rows = purged_rows(rows)
        ledger_ids = ledger.select(
            "row_id", pl.col("id_number").map_elements(lambda i: purged_id(i, key=key), pl.String)
        )
        kept_ledger = ledger.drop("id_number").join(ledger_ids, on="row_id", how="left").select(ledger.columns)
        at = self._now()
        new = evolve(record, updated_at=at, version=record.version + 1)
        entry = make_entry(
            previous=self.store.audit_head(),
            at=at,
            actor=actor.user,
            role=actor.role,
            action=PURGE_ACTION,
            batch_id=batch_id,
            from_state=record.state,
            to_state=record.state,
            reason=f"保存期满 / retention ended {decision.kept_until}",
            details={
                "totals": purge_totals(rows, ledger),
                "columns": list(PURGED_COLUMNS),
                "kept_until": str(decision.kept_until),
                "as_of": self._today().isoformat(),
                "digests": {
                    "batch": batch_digest(new, key=key),
                    "rows": {batch_id: rows_digest(kept_rows, key=key)},
                    "ledger": {batch_id: ledger_digest(kept_ledger, key=key)},
                },
            },
            key=key,
        )
        self.store.purge(Change(batch=new, expected_version=record.version, audit=(entry,)), ledger_ids=ledger_ids)
        return new

    def purge(self, *, actor: Actor | None = None, before: str | None = None, dry_run: bool = False) -> pl.DataFrame:
        """Purge every batch past its retention (of a period ending before ``before``, when given).

        Args:
            actor: The system (the default).
            before: A period label (``2020``, ``2020-Q4``, ``2020-12``…): only batches whose period ends before it
                starts are considered.
            dry_run: Decide only; purge nothing.

        Returns:
            One row per batch considered (``PURGE_PLAN_SCHEMA``): ``purged`` (``purgeable`` in a dry run),
            ``kept`` with the reason, or ``already_purged``.

        Raises:
            PermissionDenied: an actor other than the system.
            ValueError: ``before`` is not a period.
        """
        actor = actor or Actor.system()
        require_role(actor, ("system",), "purge payee detail")
        limit = Period.parse(before).start if before is not None else None
        out: list[tuple[object, ...]] = []
        for record in self.store.batches():
            if limit is not None and Period.parse(record.period).end >= limit:
                continue
            decision = self.purge_decision(record.batch_id)
            if decision.already_purged:
                action = "already_purged"
            elif not decision.purgeable:
                action = "kept"
            elif dry_run:
                action = "purgeable"
            else:
                self.purge_batch(record.batch_id, actor=actor)
                action = "purged"
            out.append(
                (
                    record.batch_id,
                    record.item,
                    record.period,
                    record.state,
                    action,
                    decision.kept_until,
                    decision.reason,
                )
            )
        return pl.DataFrame(out, schema=PURGE_PLAN_SCHEMA, orient="row")


class PurgeSteps(ServiceCore):
    """The service's purge methods: [`Purger`][yikatong.workflow.Purger] over the service's store, catalogue, clock and
    keys."""

    def _purger(self) -> Purger:
        return Purger(store=self.store, catalog=self.catalog, clock=self.clock, keys=self.keys)

    def purge_decision(self, batch_id: str) -> PurgeDecision:
        """Whether ``batch_id`` may be purged today, and if not why
        ([`Purger.purge_decision`][yikatong.workflow.Purger.purge_decision])."""
        return self._purger().purge_decision(batch_id)

    def purge_batch(self, batch_id: str, *, actor: Actor | None = None) -> BatchRecord:
        """Remove the payee detail of one batch past its retention
        ([`Purger.purge_batch`][yikatong.workflow.Purger.purge_batch])."""
        return self._purger().purge_batch(batch_id, actor=actor)

    def purge(self, *, actor: Actor | None = None, before: str | None = None, dry_run: bool = False) -> pl.DataFrame:
        """Purge every batch past its retention ([`Purger.purge`][yikatong.workflow.Purger.purge])."""
        return self._purger().purge(actor=actor, before=before, dry_run=dry_run)
