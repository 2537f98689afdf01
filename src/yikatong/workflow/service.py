"""The workflow service: the one composition root, with one method per step of the life cycle.

Build it with :func:`build_service` (or :class:`Service`), passing every port as a keyword argument; nothing is
opened or read at import. Each method loads the batch, fires its trigger through the batch's state machine (which
checks the actor), computes the step's row moves, ledger entries and audit entry as frames, and commits them to the
:class:`~yikatong.ports.Store` as one change. A refusal raises before the commit, so it changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl
from attrs import evolve, frozen

from yikatong.catalog import Catalog
from yikatong.errors import IllegalTransition
from yikatong.ports import Bank, Clock, DisclosureSink, Keys, Store, Treasury
from yikatong.records import LEDGER_ACTIVE, BatchRecord, DisbursementOrder
from yikatong.rules import Rule, ValidationContext, ValidationReport, controls, paid_accounts, validate
from yikatong.workflow._accounts import accounts_for_dispatch
from yikatong.workflow._controls import ControlSteps, Waiver
from yikatong.workflow._core import DEFAULT_CORRECTION_DAYS, DEFAULT_WINDOW_DAYS, ReferenceSource, RegistrySource
from yikatong.workflow._creation import CreationSteps
from yikatong.workflow._deadlines import DeadlineSteps, Extension, Worklist
from yikatong.workflow._frames import canonical_id_expr, ledger_entries, roster_of
from yikatong.workflow._payments import PaymentSteps, ResultsOutcome
from yikatong.workflow._reads import ReadSteps
from yikatong.workflow.audit import AuditVerification, scrub, scrub_expr, verify
from yikatong.workflow.corrections import correction_deadline
from yikatong.workflow.machine import Step
from yikatong.workflow.roles import Actor
from yikatong.workflow.statuses import plan_moves

__all__ = ["DispatchOutcome", "Extension", "ResultsOutcome", "Service", "Waiver", "Worklist", "build_service"]

_VERDICT_STATUS = {"pass": "passed", "review": "review", "block": "blocked"}


@frozen
class DispatchOutcome:
    """What dispatch did: the order sent to the bank and the rows returned to the department.

    Attributes:
        record: The batch afterwards.
        order: The pay order the bank received (``count``/``total_fen`` are the batch's Σ sent).
        returned: Rows sent back to the department's correction queue (blocked at validation or review).
        held: Rows blocked at dispatch: their (person, item, period) is already in the ledger or repeated, or their
            registered account changed after validation, or they have no account to pay into.
    """

    record: BatchRecord
    order: DisbursementOrder
    returned: int
    held: int


class Service(CreationSteps, PaymentSteps, DeadlineSteps, ControlSteps, ReadSteps):
    """The disbursement workflow over the ports (see :func:`build_service` for the arguments)."""

    # -- intake -------------------------------------------------------------------------------------------------
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
            checked = self.bank.verify_accounts(roster.select("row_id", "id_number", "name", "account"))
            verification = checked.lazy()
        reference = {}
        if self.reference is not None:
            reference = {name: self.reference.frame(name) for name in sorted(self.reference.available())}
        registry = self.registry.snapshot() if self.registry is not None else None
        context = ValidationContext(
            catalog=self.catalog,
            registry=registry,
            reference=reference,
            ledger=self._ledger_for_rules(record),
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

    def _ledger_for_rules(self, record: BatchRecord) -> pl.LazyFrame:
        """The store's ledger of the other batches, plus the payment history the host supplied."""
        columns = ("id_number", "item", "period", "amount_fen", "status")
        own = self.store.ledger().filter(pl.col("batch_id") != record.batch_id).select(columns).lazy()
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

    def dispatch(self, batch_id: str, *, actor: Actor | None = None) -> DispatchOutcome:
        """Send the passing rows to the bank and return the blocked rows to the department.

        A passing row whose (person, item, period) already holds an active ledger entry, or appears twice in the
        batch, is blocked here instead of sent: a key is never paid twice. The order carries the account validation
        approved for each row (with a registry, the payee's active registered account, never the roster's) and its
        source; a row whose registered account changed since validation, or that has no account, is held too.

        Raises:
            IllegalTransition: rows still await review, or no row can be sent (cancel the batch instead).
            TimeoutError: the bank did not answer; nothing changed, dispatch again (the bank dedupes the order).
            StoreError: the stored rows differ from what the audit log recorded (changed outside the workflow).
        """
        actor = actor or Actor.system()
        record = self.store.batch(batch_id)
        rows = self.store.rows(batch_id)
        self._check_rows_recorded(batch_id, rows)

        def reviews_decided() -> bool:
            waiting = rows.filter(pl.col("status") == "review").height
            if waiting:
                raise IllegalTransition(f"batch {batch_id}: {waiting} rows still await review / 尚有待复核的行")
            return True

        state = self._fire(record, "dispatch", Step(actor=actor, guards={"reviews_decided": reviews_decided}))
        at = self._now()
        active = (
            self.store.ledger(item=record.item, period=record.period)
            .filter(pl.col("status").is_in(LEDGER_ACTIVE))
            .select("id_number")
            .unique()
        )
        passed = rows.filter(pl.col("status") == "passed")
        current = None
        if self.registry is not None:
            current = paid_accounts(
                roster_of(passed), item=self._item(record), period=record.period, registry=self.registry.snapshot()
            )
        passed = accounts_for_dispatch(passed, current)
        key = canonical_id_expr(pl.col("id_number"))
        clash = key.is_in(active["id_number"].implode()) | key.is_duplicated()
        passed = passed.with_columns(clash.alias("_clash"))
        to_send = passed.filter(~pl.col("_clash") & pl.col("_hold_code").is_null())
        held = passed.filter(pl.col("_clash"))
        held_accounts = passed.filter(~pl.col("_clash") & pl.col("_hold_code").is_not_null())
        if to_send.is_empty():
            raise IllegalTransition(f"batch {batch_id}: no row can be paid; cancel the batch / 无可发放的行")
        deadline = correction_deadline(at, self._correction_days(record), zone=self.clock.zone)
        no_text = pl.lit(None, pl.String)
        moves = pl.concat(
            [
                to_send.select(
                    "batch_id",
                    "row_id",
                    pl.lit("sent").alias("to"),
                    no_text.alias("code"),
                    no_text.alias("_note"),
                    pl.col("_pay").alias("_account"),
                    pl.col("_source").alias("_account_source"),
                ),
                held.select(
                    "batch_id",
                    "row_id",
                    pl.lit("blocked").alias("to"),
                    pl.lit("DUP_ALREADY_PAID").alias("code"),
                    no_text.alias("_note"),
                    no_text.alias("_account"),
                    no_text.alias("_account_source"),
                ),
                held_accounts.select(
                    "batch_id",
                    "row_id",
                    pl.lit("blocked").alias("to"),
                    pl.col("_hold_code").alias("code"),
                    pl.col("_hold_note").alias("_note"),
                    no_text.alias("_account"),
                    no_text.alias("_account_source"),
                ),
                rows.filter(pl.col("status") == "blocked").select(
                    "batch_id",
                    "row_id",
                    pl.lit("returned").alias("to"),
                    no_text.alias("code"),
                    no_text.alias("_note"),
                    no_text.alias("_account"),
                    no_text.alias("_account_source"),
                ),
            ]
        )
        stored = rows.select("row_id", "reason_code", "note", "pay_account", "account_source")
        moves = moves.join(stored, on="row_id", how="left").select(
            "batch_id",
            "row_id",
            "to",
            pl.coalesce("code", "reason_code").alias("reason_code"),
            pl.coalesce("_note", "note").alias("note"),
            pl.when(pl.col("to") == "returned").then(pl.lit(deadline)).otherwise(None).alias("deadline"),
            pl.coalesce("_account", "pay_account").alias("pay_account"),
            pl.coalesce("_account_source", "account_source").alias("account_source"),
        )
        updates = plan_moves(rows, moves, at=at)
        order = DisbursementOrder(
            batch_id=batch_id,
            item=record.item,
            period=record.period,
            rows=to_send.select(
                "row_id",
                "id_number",
                "name",
                pl.col("_pay").alias("account"),
                "amount_fen",
                pl.col("_source").alias("account_source"),
            ),
            count=to_send.height,
            total_fen=int(to_send["amount_fen"].sum()),
        )
        self.bank.submit(order)
        returned = int((moves["to"] == "returned").sum())
        new = self._commit(
            record,
            state=state,
            at=at,
            actor=actor,
            action="dispatch",
            details={
                "sent": order.count,
                "total_fen": order.total_fen,
                "returned": returned,
                "held": held.height + held_accounts.height,
                "held_account": held_accounts.height,
                "account_sources": dict(to_send.group_by("_source").len().sort("_source").rows()),
            },
            row_updates=updates,
            ledger=ledger_entries(to_send, item=record.item, period=record.period, status="sent", at=at),
            order=order.rows,
        )
        return DispatchOutcome(new, order, returned, held.height + held_accounts.height)

    # -- ending a batch early -----------------------------------------------------------------------------------
    def cancel(self, batch_id: str, *, actor: Actor, reason: str) -> BatchRecord:
        """The department cancels its batch before funding was requested; every open row is withdrawn, and a
        dispatched batch's order is withdrawn from the bank.

        Raises:
            WithdrawalRefused: the bank refused to withdraw the order (its money has arrived); nothing changed.
            TimeoutError: the bank did not answer the withdrawal; nothing changed, cancel again.
        """
        return self._withdraw(batch_id, "cancel", actor, reason)

    def send_back(self, batch_id: str, *, actor: Actor, reason: str) -> BatchRecord:
        """Finance sends a batch back through its original channel (原渠道退回) with a reason; it edits no data.

        A dispatched batch's order is withdrawn from the bank (:meth:`~yikatong.ports.Bank.withdraw`), and money a
        correction batch drew from its corrected batch is released to it.

        Raises:
            WithdrawalRefused: the bank refused to withdraw the order (the batch's money has arrived); nothing
                changed: record the funding instead.
            TimeoutError: the bank did not answer the withdrawal; nothing changed, send back again.
        """
        return self._withdraw(batch_id, "send_back", actor, reason)

    def _withdraw(self, batch_id: str, trigger: str, actor: Actor, reason: str) -> BatchRecord:
        record = self.store.batch(batch_id)
        state = self._fire(record, trigger, Step(actor=actor, reason=reason))
        ordered = record.state in ("dispatched", "funding_requested")
        if ordered:
            self.bank.withdraw(batch_id)
        at = self._now()
        rows = self.store.rows(batch_id)
        open_rows = rows.filter(pl.col("status").is_in(["pending", "passed", "review", "blocked", "sent"]))
        moves = open_rows.select("batch_id", "row_id", pl.lit("withdrawn").alias("to"))
        sent = open_rows.filter(pl.col("status") == "sent")
        return self._commit(
            record,
            state=state,
            at=at,
            actor=actor,
            action=trigger,
            reason=reason,
            details={
                "withdrawn": open_rows.height,
                "unsent_fen": int(sent["amount_fen"].sum()),
                "order_withdrawn": ordered,
                "released_fen": record.drawn_fen,
            },
            changes={"reason": scrub(reason), "drawn_fen": 0},
            row_updates=plan_moves(rows, moves, at=at),
            ledger=ledger_entries(sent, item=record.item, period=record.period, status="withdrawn", at=at),
        )

    # -- reading ------------------------------------------------------------------------------------------------
    def verify_audit(self, *, anchor: str | None = None) -> AuditVerification:
        """Verify the store's whole audit chain with the service's audit key (see :func:`~.audit.verify`)."""
        return verify(self.store.audit(), key=self.audit_key, anchor=anchor)


def build_service(
    *,
    store: Store,
    bank: Bank,
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
    keys: Keys | None = None,
) -> Service:
    """The composition root: a :class:`Service` over the given ports (every one a keyword argument).

    Args:
        store: A :class:`~yikatong.ports.Store`.
        bank: A :class:`~yikatong.ports.Bank`; ``treasury`` a :class:`~yikatong.ports.Treasury`.
        disclosure: A :class:`~yikatong.ports.DisclosureSink`; ``clock`` a :class:`~yikatong.ports.Clock`.
        catalog: The :class:`~yikatong.catalog.Catalog`.
        registry: Optional :class:`~yikatong.ports.AccountRegistry` (validation uses its snapshot).
        reference: Optional :class:`~yikatong.ports.ReferenceData` (every list it has is used).
        correction_days: Default correction deadline in days (an item's ``correction_days`` wins).
        disclosure_window_days: Default days a public notice stays up.
        verify_accounts: Ask the bank to verify accounts (联网核查) during validation (default True).
        rules: The rules validation runs (default: every rule of the library).
        history: Payments made outside this store (before it existed, or by another system), in the ledger
            shape ``id_number, item, period, amount_fen, status`` (:func:`yikatong.ingest.load_ledger` reads
            one from a file). Validation sees them with the store's own ledger, so ``DUP_ALREADY_PAID``,
            ``DUP_EXCLUSIVE_ITEMS`` and the yearly cap count them.
        keys: The deployment's :class:`~yikatong.ports.Keys`: the audit chain is then HMAC-SHA256 under
            ``keys.audit_key()``, so a rewrite of the store cannot be hidden by recomputing hashes. Without keys the
            chain is plain SHA-256 (it catches damage, not a deliberate rewrite). Give the store the same keys to
            encrypt personal data at rest.
    """
    return Service(
        store=store,
        bank=bank,
        treasury=treasury,
        disclosure=disclosure,
        clock=clock,
        catalog=catalog,
        registry=registry,
        reference=reference,
        correction_days=correction_days,
        disclosure_window_days=disclosure_window_days,
        verify_accounts=verify_accounts,
        rules=rules,
        history=history,
        keys=keys,
    )
