"""Intake: the department submits its batch, the rules validate it, and a checker decides the review rows.

Validation runs every rule over the batch's rows with what the service holds (catalogue, registry snapshot,
reference lists, the ledger of other batches and the host's payment history, the bank's account verification); its
verdicts become row statuses and a batch-level block rejects the batch.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from attrs import evolve

from yikatong.errors import IllegalTransition
from yikatong.records import BatchRecord
from yikatong.rules import ValidationContext, ValidationReport, controls, paid_accounts, validate
from yikatong.workflow._controls import ControlSteps
from yikatong.workflow._frames import canonical_id_expr, roster_of
from yikatong.workflow.audit import scrub_expr
from yikatong.workflow.machine import Step
from yikatong.workflow.purge import resolve_purged_ids
from yikatong.workflow.roles import Actor
from yikatong.workflow.statuses import plan_moves

__all__ = ["IntakeSteps"]

_VERDICT_STATUS = {"pass": "passed", "review": "review", "block": "blocked"}


class IntakeSteps(ControlSteps):
    """Steps from submission to the checker's review decisions (validation reads the finance waivers)."""

    def submit(self, batch_id: str, *, actor: Actor) -> BatchRecord:
        """The department submits its draft batch for validation."""
        record = self.store.batch(batch_id)
        state = self._fire(record, "submit", Step(actor=actor))
        return self._commit(record, state=state, at=self._now(), actor=actor, action="submit")

    def validate(self, batch_id: str, *, actor: Actor | None = None) -> ValidationReport:
        """Validate a submitted batch by the rules; verdicts become row statuses; a batch-level block rejects it.

        Raises:
            TimeoutError: the bank's account verification did not answer; nothing changed.
        """
        actor = actor or Actor.system()
        record = self.store.batch(batch_id)
        rows = self.store.rows(batch_id)
        runs: list[tuple[ValidationReport, pl.DataFrame]] = []

        def batch_blocked() -> bool:
            runs.append(self._run_rules(record, rows))
            return runs[-1][0].batch_blocked

        state = self._fire(record, "validate", Step(actor=actor, guards={"batch_blocked": batch_blocked}))
        report, accounts = runs[0]
        at = self._now()
        codes = (
            report.issues.filter(pl.col("row_id").is_not_null() & (pl.col("severity") != "fix"))
            .group_by("row_id")
            .agg(pl.col("code").unique().sort().str.join(",").alias("reason_code"))
        )
        verdicts = report.verdicts.join(codes, on="row_id", how="left").join(accounts, on="row_id", how="left")
        to = pl.lit("withdrawn") if state == "rejected" else pl.col("verdict").replace_strict(_VERDICT_STATUS)
        moves = verdicts.select(
            pl.lit(batch_id).alias("batch_id"),
            "row_id",
            to.alias("to"),
            "verdict",
            "reason_code",
            "pay_account",
            "account_source",
        )
        batch_codes = ",".join(sorted(set(report.batch_issues.filter(pl.col("severity") == "block")["code"])))
        self._commit(
            record,
            state=state,
            at=at,
            actor=actor,
            action="validate",
            details={
                "verdicts": report.counts_by_verdict,
                "batch_blocked": report.batch_blocked,
                "controls": report.controls.summary,
                "account_sources": dict(accounts.group_by("account_source").len().sort("account_source").rows()),
            },
            row_updates=plan_moves(rows, moves, at=at),
            changes={"reason": batch_codes} if state == "rejected" else None,
        )
        return report

    def _run_rules(self, record: BatchRecord, rows: pl.DataFrame) -> tuple[ValidationReport, pl.DataFrame]:
        """Validate the batch's rows with every control the service has (and the finance waivers of the ones it
        lacks); return the report and the account validation approves for each row."""
        roster = roster_of(rows)
        item = self._item(record)
        verification = None
        if self.verify_accounts:
            checked = self._verify(record, roster.select("row_id", "id_number", "name", "account"))
            verification = checked.lazy()
        reference = {}
        if self.reference is not None:
            reference = {name: self.reference.frame(name) for name in sorted(self.reference.available())}
        registry = self.registry.snapshot() if self.registry is not None else None
        context = ValidationContext(
            catalog=self.catalog,
            registry=registry,
            reference=reference,
            ledger=self._ledger_for_rules(record, roster),
            bank_verification=verification,
            declared_count=record.declared_count,
            declared_total_fen=record.declared_total_fen,
        )
        absent = {str(c) for c in item.required_controls} - context.supplied_controls()
        context = evolve(context, waived_controls=self._approved_waivers(record, absent))
        rules = self.rules
        if rules is not None and not any(r.code == "CONTROL_MISSING" for r in rules):
            rules = (*rules, *controls.RULES)  # the money path never runs without its mandatory controls
        report = validate(roster, item=item, period=record.period, context=context, rules=rules)
        return report, paid_accounts(roster, item=item, period=record.period, registry=registry)

    def _verify(self, record: BatchRecord, rows: pl.DataFrame) -> pl.DataFrame:
        """联网核查 of the rows: by the one bank, or with several banks by each bank of the accounts it holds (a row
        no bank of the service holds is answered not verified)."""
        if self.bank is not None:
            return self.bank.verify_accounts(rows)
        banks = self._row_banks(record, rows)
        parts = [
            rows.join(banks.filter(pl.col("bank").is_null()), on="row_id", how="semi").select(
                "row_id",
                pl.lit(False).alias("verified"),
                pl.lit("no paying bank of the service holds this account / 无代发银行").alias("reason"),
            )
        ]
        for code in sorted(banks["bank"].drop_nulls().unique().to_list()):
            mine = rows.join(banks.filter(pl.col("bank") == code), on="row_id", how="semi")
            parts.append(self.banks[code].verify_accounts(mine).select("row_id", "verified", "reason"))
        return pl.concat(parts, how="vertical_relaxed")

    def _ledger_for_rules(self, record: BatchRecord, roster: pl.DataFrame) -> pl.LazyFrame:
        """The store's ledger of the other batches (purged entries of the roster's people given back their IDs),
        plus the payment history the host supplied."""
        columns = ("id_number", "item", "period", "amount_fen", "status")
        stored = self.store.ledger().filter(pl.col("batch_id") != record.batch_id).select(columns).lazy()
        ids = roster.select(canonical_id_expr(pl.col("id_number")))["id_number"]
        own = resolve_purged_ids(stored, ids, key=self.audit_key)
        if self.history is None:
            return own
        return pl.concat([own, self.history.select(columns).cast(own.collect_schema())], how="vertical")

    def confirm_reviews(self, batch_id: str, decisions: pl.DataFrame, *, actor: Actor) -> BatchRecord:
        """A department user (not the maker) passes or blocks review rows, each with a reason; audited.

        Args:
            batch_id: The validated batch.
            decisions: ``row_id``, ``decision`` (``pass`` or ``block``), ``reason`` (non-empty).
            actor: The checker.

        Raises:
            PermissionDenied: wrong role or department, or the maker (maker-checker).
            IllegalTransition: a row not in review, a decision other than pass/block, or an empty reason.
        """
        record = self.store.batch(batch_id)
        state = self._fire(record, "confirm_reviews", Step(actor=actor))
        missing = {"row_id", "decision", "reason"} - set(decisions.columns)
        if missing:
            raise ValueError(f"decisions lack column(s): {', '.join(sorted(missing))}")
        bad = decisions.filter(
            ~pl.col("decision").is_in(["pass", "block"]).fill_null(False)
            | pl.col("reason").is_null()
            | (pl.col("reason").str.strip_chars() == "")
        )
        if bad.height:
            raise IllegalTransition(
                f"{bad.height} decisions lack a pass/block decision or a reason, e.g. row {bad['row_id'][0]}"
            )
        decisions = decisions.with_columns(pl.col("row_id").cast(pl.Int64))
        rows = self.store.rows(batch_id)
        pending = rows.filter(pl.col("status") == "review").select("row_id")
        not_review = decisions.join(pending, on="row_id", how="anti")
        if not_review.height:
            raise IllegalTransition(
                f"{not_review.height} decisions name rows not awaiting review, e.g. row {not_review['row_id'][0]}"
            )
        at = self._now()
        moves = decisions.select(
            pl.lit(batch_id).alias("batch_id"),
            pl.col("row_id").cast(pl.Int64),
            pl.col("decision").replace_strict({"pass": "passed", "block": "blocked"}).alias("to"),
            scrub_expr(pl.col("reason")).alias("note"),
        )
        updates = plan_moves(rows, moves, at=at)
        logged: list[dict[str, Any]] = moves.select("row_id", "to", "note").sort("row_id").to_dicts()
        return self._commit(
            record,
            state=state,
            at=at,
            actor=actor,
            action="confirm_reviews",
            details={"decisions": logged, "left_in_review": pending.height - moves.height},
            row_updates=updates,
        )
