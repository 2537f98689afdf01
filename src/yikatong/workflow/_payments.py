"""The money half of the life cycle after funding: disbursement, bank results (reversals 退汇 included), returned
failures, publication (funding is in ``yikatong.workflow._funding``, refunds in
``yikatong.workflow._refunds``)."""

from __future__ import annotations

import datetime as dt

import polars as pl
from attrs import frozen

from yikatong.errors import IllegalTransition
from yikatong.records import ROW_UPDATE_SCHEMA, BatchRecord, DisclosureNotice
from yikatong.workflow._frames import ledger_entries
from yikatong.workflow._funding import FundingSteps
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


class PaymentSteps(FundingSteps):
    """Steps from disbursement to publication (funding in ``FundingSteps``)."""

    def disburse(self, batch_id: str, *, actor: Actor) -> BatchRecord:
        """The bank starts paying the funded batch (with several banks: any bank some of its rows were sent to)."""
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

        With several banks, a bank's results are reconciled against the rows sent to that bank alone (a result for
        a row sent to another bank is refused as ``other_bank_row``); the batch settles when every bank has reported.

        Raises:
            PermissionDenied: not the batch's bank (with several banks: a bank none of its rows was sent to).
            IllegalTransition: the batch is not disbursing (or settled/published).
            ValueError: the results lack ``row_id``, ``outcome`` or ``amount_fen``.
        """
        record = self.store.batch(batch_id)
        at = self._now()
        ledger = self._batch_ledger(record)
        mine, elsewhere = ledger, None
        if self.several_banks and actor.role == "bank":  # a bank's results are held against the rows sent to it
            sent_to = self.store.rows(batch_id).select("row_id", "bank")
            mine = ledger.join(sent_to.filter(pl.col("bank") == actor.bank), on="row_id", how="semi")
            elsewhere = ledger.join(mine, on="row_id", how="anti")["row_id"]
        exceptions = self.store.exceptions(batch_id)
        plan = classify_results(results, mine, exceptions, batch_id=batch_id, at=at, elsewhere=elsewhere)
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
        """Fetch the bank's results for the batch and [`record_results`][yikatong.workflow.Service.record_results] them
        (with several banks, the acting bank's results).

        Raises:
            PermissionDenied, IllegalTransition: checked before the bank is asked.
            TimeoutError: the bank did not answer; nothing changed.
        """
        # Check the actor and the state before asking: results fetched for a refused caller would be lost to the
        # workflow while the bank counts them as delivered.
        self._fire(
            self.store.batch(batch_id), "record_results", Step(actor=actor, guards={"all_results_in": lambda: False})
        )
        port = self._bank_port(actor.bank if self.several_banks else None)
        return self.record_results(batch_id, port.results(batch_id), actor=actor)

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
        of corrections (a correction of a correction reissues both earlier rows). A row already ``reissued`` stays
        so, and the climb stops there: it was reissued by a correction row whose payment later came back (退汇),
        and that row is the one the new payment replaces."""
        paid = applied.filter((pl.col("outcome") == "paid") & pl.col("corrects_row_id").is_not_null())
        replaced = paid.select(pl.col("corrects_row_id").alias("row_id"), pl.col("row_id").alias("_by"))
        label = record.batch_id
        parts: list[pl.DataFrame] = []
        parent_id = record.corrects
        while parent_id is not None and replaced.height:
            parent_rows = self.store.rows(parent_id)
            done = parent_rows.filter(pl.col("status") == "reissued").select("row_id")
            replaced = replaced.join(done, on="row_id", how="anti")
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
