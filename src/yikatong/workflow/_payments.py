"""The money half of the life cycle: funding, disbursement, bank results, returned failures, publication."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import polars as pl
from attrs import frozen

from yikatong.errors import IllegalTransition, ReconciliationError
from yikatong.records import ROW_UPDATE_SCHEMA, BatchRecord, DisclosureNotice, FundingRequest, FundingRoute
from yikatong.workflow._core import ServiceCore
from yikatong.workflow._frames import ledger_entries
from yikatong.workflow.audit import scrub_expr
from yikatong.workflow.corrections import correction_deadline
from yikatong.workflow.disclosure import build_notice
from yikatong.workflow.machine import Step
from yikatong.workflow.reconcile import classify_results
from yikatong.workflow.roles import Actor
from yikatong.workflow.statuses import plan_moves

__all__ = ["PaymentSteps", "ResultsOutcome"]


@frozen
class ResultsOutcome:
    """What one delivery of bank results did.

    Attributes:
        record: The batch afterwards.
        applied: Results applied (rows moved from ``sent`` to ``paid``/``failed``).
        duplicates: Results that repeated a recorded one (nothing changed).
        exceptions: New reconciliation exceptions (refused, never applied), in
            :data:`~yikatong.ports.EXCEPTION_SCHEMA`.
        repeated_exceptions: Refused results already recorded earlier.
    """

    record: BatchRecord
    applied: int
    duplicates: int
    exceptions: pl.DataFrame
    repeated_exceptions: int

    @property
    def settled(self) -> bool:
        """True when the batch is settled (every sent row has a final result)."""
        return self.record.state in ("settled", "published")


class PaymentSteps(ServiceCore):
    """Steps from the funding request to publication."""

    def request_funding(self, batch_id: str, *, actor: Actor, route: FundingRoute = "treasury") -> BatchRecord:
        """File the payment request for the batch total with the treasury (department, or the batch's town).

        Raises:
            PermissionDenied: wrong role, another department's batch, a town outside its jurisdiction, or the
                maker of the batch (maker-checker).
            IllegalTransition: the batch is not dispatched.
            TimeoutError: the treasury did not answer; nothing changed, file again.
        """
        if route not in ("treasury", "zero_balance"):
            raise ValueError(f"unknown funding route {route!r}: use 'treasury' or 'zero_balance'")
        record = self.store.batch(batch_id)
        state = self._fire(record, "request_funding", Step(actor=actor))
        total = int(self._batch_ledger(record).filter(pl.col("status") == "sent")["amount_fen"].sum())
        filed_by: Literal["department", "town"] = "town" if actor.role == "town" else "department"
        self.treasury.request_funding(FundingRequest(batch_id, total, route, filed_by))
        return self._commit(
            record,
            state=state,
            at=self._now(),
            actor=actor,
            action="request_funding",
            details={"route": route, "amount_fen": total, "filed_by": filed_by},
            changes={"funding_route": route, "funding_filed_by": filed_by},
        )

    def fund(self, batch_id: str, *, actor: Actor, amount_fen: int) -> BatchRecord:
        """Record that the treasury funded the batch.

        Raises:
            ReconciliationError: the funded amount is not the sum of the rows sent (nothing changes).
            PermissionDenied, IllegalTransition: as for every trigger.
        """
        record = self.store.batch(batch_id)
        total = int(self._batch_ledger(record).filter(pl.col("status") == "sent")["amount_fen"].sum())

        def amount_matches() -> bool:
            if amount_fen != total:
                raise ReconciliationError(
                    f"batch {batch_id}: funded {amount_fen} fen but {total} fen were sent / 拨付金额与发放金额不符"
                )
            return True

        state = self._fire(record, "fund", Step(actor=actor, guards={"amount_matches": amount_matches}))
        return self._commit(
            record,
            state=state,
            at=self._now(),
            actor=actor,
            action="fund",
            details={"amount_fen": amount_fen},
            changes={"funded_fen": amount_fen},
        )

    def refuse_funding(self, batch_id: str, *, actor: Actor, reason: str) -> BatchRecord:
        """Record that the treasury rejected the request: back to ``dispatched`` (file again, or cancel)."""
        record = self.store.batch(batch_id)
        state = self._fire(record, "refuse_funding", Step(actor=actor, reason=reason))
        return self._commit(
            record,
            state=state,
            at=self._now(),
            actor=actor,
            action="refuse_funding",
            reason=reason,
            changes={"funding_route": None, "funding_filed_by": None, "reason": reason},
        )

    def poll_funding(self, batch_id: str) -> BatchRecord:
        """Ask the treasury where the request stands and record ``fund``/``refuse_funding`` when it decided.

        A request the treasury does not know (lost to a timeout) is filed again.

        Raises:
            TimeoutError: the treasury did not answer; nothing changed.
        """
        record = self.store.batch(batch_id)
        if record.state != "funding_requested":
            return record
        try:
            status = self.treasury.funding_status(batch_id)
        except KeyError:
            total = int(self._batch_ledger(record).filter(pl.col("status") == "sent")["amount_fen"].sum())
            route: FundingRoute = record.funding_route or "treasury"
            self.treasury.request_funding(
                FundingRequest(batch_id, total, route, record.funding_filed_by or "department")
            )
            return record
        if status.state == "funded":
            return self.fund(batch_id, actor=Actor.treasury(), amount_fen=status.amount_fen)
        if status.state == "rejected":
            return self.refuse_funding(batch_id, actor=Actor.treasury(), reason=status.reason or "rejected")
        return record

    def disburse(self, batch_id: str, *, actor: Actor) -> BatchRecord:
        """The bank starts paying the funded batch."""
        record = self.store.batch(batch_id)
        state = self._fire(record, "disburse", Step(actor=actor))
        return self._commit(record, state=state, at=self._now(), actor=actor, action="disburse")

    def record_results(self, batch_id: str, results: pl.DataFrame, *, actor: Actor) -> ResultsOutcome:
        """Apply a delivery of bank results (partial, repeated or out of order) idempotently.

        Results for rows still ``sent`` are applied; repeats change nothing; a result for an unknown row, with a
        different amount, or contradicting a final result is recorded as a reconciliation exception and never
        applied. When every sent row has a final result the batch is settled. A paid row of a correction batch
        marks the row it corrects ``reissued``.

        Raises:
            PermissionDenied: not the batch's bank.
            IllegalTransition: the batch is not disbursing (or settled/published).
            ValueError: the results lack ``row_id``, ``outcome`` or ``amount_fen``.
        """
        record = self.store.batch(batch_id)
        at = self._now()
        ledger = self._batch_ledger(record)
        plan = classify_results(results, ledger, self.store.exceptions(batch_id), batch_id=batch_id, at=at)
        outcome_of = dict(zip(plan.apply["row_id"].to_list(), plan.apply["outcome"].to_list(), strict=True))
        still_sent = ledger.filter((pl.col("status") == "sent") & ~pl.col("row_id").is_in(list(outcome_of)))

        state = self._fire(
            record, "record_results", Step(actor=actor, guards={"all_results_in": lambda: still_sent.is_empty()})
        )
        if not plan.changes_anything:
            return ResultsOutcome(record, 0, plan.duplicates, plan.exceptions, plan.repeated_exceptions)
        rows = self.store.rows(batch_id)
        moves = plan.apply.select(
            pl.lit(batch_id).alias("batch_id"),
            "row_id",
            pl.col("outcome").alias("to"),
            scrub_expr(pl.col("reason")).alias("note"),
            pl.col("reason_code"),
        )
        updates = plan_moves(rows, moves, at=at)
        applied_rows = rows.join(plan.apply.select("row_id", "outcome"), on="row_id", how="inner")
        entries = ledger_entries(applied_rows, item=record.item, period=record.period, status=pl.col("outcome"), at=at)
        reissue = self._reissue_chain(record, applied_rows, at=at)
        updates = pl.concat([updates, reissue])
        reissued = reissue.height
        kinds = plan.exceptions.group_by("kind").len().sort("kind").rows()
        new = self._commit(
            record,
            state=state,
            at=at,
            actor=actor,
            action="record_results",
            details={
                "applied": plan.apply.height,
                "paid": int((plan.apply["outcome"] == "paid").sum()),
                "failed": int((plan.apply["outcome"] == "failed").sum()),
                "duplicates": plan.duplicates,
                "exceptions": {str(k): int(n) for k, n in kinds},
                "reissued": reissued,
            },
            row_updates=updates,
            ledger=entries,
            exceptions=plan.exceptions,
        )
        return ResultsOutcome(new, plan.apply.height, plan.duplicates, plan.exceptions, plan.repeated_exceptions)

    def poll_results(self, batch_id: str, *, actor: Actor) -> ResultsOutcome:
        """Fetch the bank's results for the batch and :meth:`record_results` them.

        Raises:
            PermissionDenied, IllegalTransition: checked before the bank is asked.
            TimeoutError: the bank did not answer; nothing changed.
        """
        # Check the actor and the state before asking: results fetched for a refused caller would be lost to the
        # workflow while the bank counts them as delivered.
        self._fire(
            self.store.batch(batch_id), "record_results", Step(actor=actor, guards={"all_results_in": lambda: False})
        )
        return self.record_results(batch_id, self.bank.results(batch_id), actor=actor)

    def return_failures(self, batch_id: str, *, actor: Actor | None = None) -> BatchRecord:
        """Send failed rows (and rows still blocked) of a settled batch to the department's correction queue."""
        actor = actor or Actor.system()
        record = self.store.batch(batch_id)
        state = self._fire(record, "return_failures", Step(actor=actor))
        at = self._now()
        rows = self.store.rows(batch_id)
        back = rows.filter(pl.col("status").is_in(["failed", "blocked"]))
        deadline = correction_deadline(at, self._correction_days(record), zone=self.clock.zone)
        moves = back.select("batch_id", "row_id", pl.lit("returned").alias("to"), pl.lit(deadline).alias("deadline"))
        return self._commit(
            record,
            state=state,
            at=at,
            actor=actor,
            action="return_failures",
            details={"returned": back.height, "deadline": deadline.isoformat()},
            row_updates=plan_moves(rows, moves, at=at),
        )

    def publish(self, batch_id: str, *, actor: Actor, window_days: int | None = None) -> DisclosureNotice:
        """Publish the masked public list of a settled batch (after its failures were returned).

        Raises:
            IllegalTransition: failures not yet returned, or the batch not settled.
        """
        record = self.store.batch(batch_id)
        rows = self.store.rows(batch_id)

        def failures_returned() -> bool:
            left = rows.filter(pl.col("status").is_in(["failed", "blocked"])).height
            if left:
                raise IllegalTransition(f"batch {batch_id}: return the {left} failed rows before publishing")
            return True

        state = self._fire(record, "publish", Step(actor=actor, guards={"failures_returned": failures_returned}))
        at = self._now()
        notice = build_notice(
            record,
            self._item(record),
            rows,
            published_at=at,
            window_days=window_days or self.disclosure_window_days,
            zone=self.clock.zone,
        )
        self.disclosure.publish(notice)
        self._commit(
            record,
            state=state,
            at=at,
            actor=actor,
            action="publish",
            details={"listed": notice.rows.height, "window_days": notice.window_days},
        )
        return notice

    def _reissue_chain(self, record: BatchRecord, applied: pl.DataFrame, *, at: dt.datetime) -> pl.DataFrame:
        """Row updates marking ``reissued`` every returned row that a paid correction row replaces, up the chain
        of corrections (a correction of a correction reissues both earlier rows)."""
        paid = applied.filter((pl.col("outcome") == "paid") & pl.col("corrects_row_id").is_not_null())
        replaced = paid.select(pl.col("corrects_row_id").alias("row_id"), pl.col("row_id").alias("_by"))
        label = record.batch_id
        parts: list[pl.DataFrame] = []
        parent_id = record.corrects
        while parent_id is not None and replaced.height:
            parent_rows = self.store.rows(parent_id)
            moves = replaced.select(
                pl.lit(parent_id).alias("batch_id"),
                "row_id",
                pl.lit("reissued").alias("to"),
                pl.concat_str(pl.lit(f"reissued by {label} row "), pl.col("_by").cast(pl.String)).alias("note"),
            )
            parts.append(plan_moves(parent_rows, moves, at=at))
            replaced = (
                parent_rows.join(replaced, on="row_id", how="inner")
                .filter(pl.col("corrects_row_id").is_not_null())
                .select(pl.col("corrects_row_id").alias("row_id"), "_by")
            )
            parent_id = self.store.batch(parent_id).corrects
        return pl.concat(parts) if parts else pl.DataFrame(schema=ROW_UPDATE_SCHEMA)
