"""The money half of the life cycle: funding (drawing first on money a corrected batch holds), disbursement, bank
results (reversals 退汇 included), returned failures, refunds to the treasury, publication."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import polars as pl
from attrs import frozen

from yikatong.errors import IllegalTransition, ReconciliationError
from yikatong.records import ROW_UPDATE_SCHEMA, BatchRecord, DisclosureNotice, FundingRequest, FundingRoute
from yikatong.workflow._frames import ledger_entries
from yikatong.workflow._refunds import MoneySteps
from yikatong.workflow.audit import scrub_expr
from yikatong.workflow.corrections import correction_deadline
from yikatong.workflow.disclosure import build_notice
from yikatong.workflow.machine import Step
from yikatong.workflow.reconcile import classify_results
from yikatong.workflow.roles import Actor
from yikatong.workflow.statuses import apply_updates, plan_moves

__all__ = ["PaymentSteps", "ResultsOutcome"]

_TO_RETURN = ["failed", "reversed", "blocked"]


@frozen
class ResultsOutcome:
    """What one delivery of bank results did.

    Attributes:
        record: The batch afterwards.
        applied: Results applied (rows moved from ``sent`` to ``paid``/``failed``/``reversed``, or a paid row
            reversed).
        duplicates: Results that repeated a recorded one (nothing changed).
        exceptions: New reconciliation exceptions (refused, never applied), in
            [`EXCEPTION_SCHEMA`][yikatong.records.EXCEPTION_SCHEMA].
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


class PaymentSteps(MoneySteps):
    """Steps from the funding request to publication."""

    def _sent_fen(self, record: BatchRecord) -> int:
        return int(self._batch_ledger(record).filter(pl.col("status") == "sent")["amount_fen"].sum())

    def request_funding(self, batch_id: str, *, actor: Actor, route: FundingRoute = "treasury") -> BatchRecord:
        """File the payment request for the batch total with the treasury (department, or the batch's town).

        A correction batch first draws on the money its corrected batch holds at the bank for failed and reversed
        rows (``drawn_fen``) and asks the treasury only for the difference; when the held money covers the whole
        batch, no request is filed and the batch is funded at once.

        Raises:
            PermissionDenied: wrong role, another department's batch, a town outside its jurisdiction, or the
                maker of the batch (maker-checker).
            IllegalTransition: the batch is not dispatched.
            TimeoutError: the treasury did not answer; nothing changed, file again.
        """
        if route not in ("treasury", "zero_balance"):
            raise ValueError(f"unknown funding route {route!r}: use 'treasury' or 'zero_balance'")
        record = self.store.batch(batch_id)
        total = self._sent_fen(record)
        drawn = min(max(self.held_fen(record.corrects), 0), total) if record.corrects is not None else 0
        state = self._fire(record, "request_funding", Step(actor=actor, guards={"covered": lambda: drawn == total}))
        filed_by: Literal["department", "town"] = "town" if actor.role == "town" else "department"
        if total > drawn:
            self.treasury.request_funding(FundingRequest(batch_id, total - drawn, route, filed_by))
        return self._commit(
            record,
            state=state,
            at=self._now(),
            actor=actor,
            action="request_funding",
            details={"route": route, "amount_fen": total - drawn, "drawn_fen": drawn, "filed_by": filed_by},
            changes={"funding_route": route, "funding_filed_by": filed_by, "drawn_fen": drawn},
        )

    def fund(self, batch_id: str, *, actor: Actor, amount_fen: int) -> BatchRecord:
        """Record that the treasury funded the batch (the sum of its rows sent, less what it drew).

        Raises:
            ReconciliationError: the funded amount is not what was requested (nothing changes).
            PermissionDenied, IllegalTransition: as for every trigger.
        """
        record = self.store.batch(batch_id)
        total = self._sent_fen(record) - record.drawn_fen

        def amount_matches() -> bool:
            if amount_fen != total:
                raise ReconciliationError(
                    f"batch {batch_id}: funded {amount_fen} fen but {total} fen were requested / 拨付金额与申请金额不符"
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
            changes={"funding_route": None, "funding_filed_by": None, "drawn_fen": 0, "reason": reason},
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
            total = self._sent_fen(record) - record.drawn_fen
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
        marks the row it corrects ``reissued``. A ``reversed`` result (退汇) moves a paid row to ``reversed``: its
        ledger entry no longer counts as paid, its money is held, and
        [`return_failures`][yikatong.workflow.Service.return_failures] returns it.

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
        updates = self._result_moves(batch_id, rows, plan.apply, at=at)
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
                "reversed": int((plan.apply["outcome"] == "reversed").sum()),
                "reversed_fen": int(applied_rows.filter(pl.col("outcome") == "reversed")["amount_fen"].sum()),
                "duplicates": plan.duplicates,
                "exceptions": {str(k): int(n) for k, n in kinds},
                "reissued": reissued,
            },
            row_updates=updates,
            ledger=entries,
            exceptions=plan.exceptions,
        )
        return ResultsOutcome(new, plan.apply.height, plan.duplicates, plan.exceptions, plan.repeated_exceptions)

    @staticmethod
    def _result_moves(batch_id: str, rows: pl.DataFrame, apply: pl.DataFrame, *, at: dt.datetime) -> pl.DataFrame:
        """Row updates for applied results; a row reversed while still ``sent`` moves sent → paid → reversed."""

        def moves(frame: pl.DataFrame, to: pl.Expr) -> pl.DataFrame:
            return frame.select(
                pl.lit(batch_id).alias("batch_id"),
                "row_id",
                to.alias("to"),
                scrub_expr(pl.col("reason")).alias("note"),
                pl.col("reason_code"),
            )

        reversal = pl.col("outcome") == "reversed"
        first = apply.filter(~reversal | (pl.col("from") == "sent"))
        to = pl.when(reversal).then(pl.lit("paid")).otherwise(pl.col("outcome"))
        step = plan_moves(rows, moves(first, to), at=at)
        back = apply.filter(reversal)
        if back.is_empty():
            return step
        second = plan_moves(apply_updates(rows, step), moves(back, pl.lit("reversed")), at=at)
        keys = ["batch_id", "row_id"]
        return pl.concat([step.join(second.select(keys), on=keys, how="anti"), second])

    def poll_results(self, batch_id: str, *, actor: Actor) -> ResultsOutcome:
        """Fetch the bank's results for the batch and [`record_results`][yikatong.workflow.Service.record_results] them.

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
        """Send failed and reversed rows (and rows still blocked) of a settled or published batch to the
        department's correction queue, with a deadline."""
        actor = actor or Actor.system()
        record = self.store.batch(batch_id)
        state = self._fire(record, "return_failures", Step(actor=actor))
        at = self._now()
        rows = self.store.rows(batch_id)
        back = rows.filter(pl.col("status").is_in(_TO_RETURN))
        deadline = correction_deadline(at, self._correction_days(record), zone=self.clock.zone)
        moves = back.select("batch_id", "row_id", pl.lit("returned").alias("to"), pl.lit(deadline).alias("deadline"))
        return self._commit(
            record,
            state=state,
            at=at,
            actor=actor,
            action="return_failures",
            details={
                "returned": back.height,
                "reversed": int((back["status"] == "reversed").sum()),
                "deadline": deadline.isoformat(),
            },
            row_updates=plan_moves(rows, moves, at=at),
        )

    def publish(self, batch_id: str, *, actor: Actor, window_days: int | None = None) -> DisclosureNotice:
        """Publish the masked public list of a settled batch (after its failures were returned).

        Raises:
            IllegalTransition: failures not yet returned, or the batch not settled.
        """
        record = self.store.batch(batch_id)
        self._refuse_purged(batch_id, "公示", "publish it")
        rows = self.store.rows(batch_id)

        def failures_returned() -> bool:
            left = rows.filter(pl.col("status").is_in(_TO_RETURN)).height
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
