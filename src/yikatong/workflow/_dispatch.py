"""Dispatch and its undoing: the passing rows go to the bank as one pay order, and a batch ended early
(cancelled by the department, sent back by finance) withdraws that order and every open row.
"""

from __future__ import annotations

import polars as pl
from attrs import frozen

from yikatong.errors import IllegalTransition
from yikatong.records import LEDGER_ACTIVE, BatchRecord, DisbursementOrder
from yikatong.rules import paid_accounts
from yikatong.workflow._accounts import accounts_for_dispatch
from yikatong.workflow._banks import NO_BANK_CODE, by_bank, orders_by_bank
from yikatong.workflow._core import ServiceCore
from yikatong.workflow._frames import canonical_id_expr, ledger_entries, roster_of
from yikatong.workflow.audit import scrub
from yikatong.workflow.corrections import correction_deadline
from yikatong.workflow.machine import Step
from yikatong.workflow.purge import resolve_purged_ids
from yikatong.workflow.roles import Actor
from yikatong.workflow.statuses import plan_moves

__all__ = ["NO_BANK_NOTE", "DispatchOutcome", "DispatchSteps"]

NO_BANK_NOTE = "无代发银行持有该账户 / no paying bank of the service holds this account"


@frozen
class DispatchOutcome:
    """What dispatch did: the order sent to the bank and the rows returned to the department.

    Attributes:
        record: The batch afterwards.
        orders: One pay order per paying bank, sorted by bank code (each with its own ``count``/``total_fen``;
            together the batch's Σ sent); one order with one bank.
        returned: Rows sent back to the department's correction queue (blocked at validation or review).
        held: Rows blocked at dispatch: their (person, item, period) is already in the ledger or repeated, or their
            registered account changed after validation, or they have no account to pay into, or no bank of the
            service holds their account (``BANK_UNKNOWN``).
    """

    record: BatchRecord
    orders: tuple[DisbursementOrder, ...]
    returned: int
    held: int

    @property
    def order(self) -> DisbursementOrder:
        """The pay order, when the batch went to one bank.

        Raises:
            ValueError: the batch was split between several banks (read ``orders``).
        """
        if len(self.orders) != 1:
            raise ValueError(f"批次分属多家代发银行 / the batch went to {len(self.orders)} banks: read orders")
        return self.orders[0]


class DispatchSteps(ServiceCore):
    """Steps that send a batch's order to the bank or withdraw it: dispatch, cancel, send back."""

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
        ids = rows.select(canonical_id_expr(pl.col("id_number")))["id_number"]
        paid_before = self.store.ledger(item=record.item, period=record.period).lazy()
        active = (
            resolve_purged_ids(paid_before, ids, key=self.audit_key)
            .filter(pl.col("status").is_in(LEDGER_ACTIVE))
            .select("id_number")
            .unique()
            .collect()
        )
        passed = rows.filter(pl.col("status") == "passed")
        current = None
        if self.registry is not None:
            current = paid_accounts(
                roster_of(passed), item=self._item(record), period=record.period, registry=self.registry.snapshot()
            )
        passed = accounts_for_dispatch(passed, current)
        passed = passed.join(
            self._row_banks(record, passed, account="_pay").rename({"bank": "_bank"}), on="row_id", how="left"
        )
        if self.several_banks:  # a row no bank of the service holds cannot be paid: held like an account problem
            unbanked = pl.col("_hold_code").is_null() & pl.col("_bank").is_null()
            passed = passed.with_columns(
                pl.when(unbanked).then(pl.lit(NO_BANK_CODE)).otherwise(pl.col("_hold_code")).alias("_hold_code"),
                pl.when(unbanked).then(pl.lit(NO_BANK_NOTE)).otherwise(pl.col("_hold_note")).alias("_hold_note"),
            )
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
                    pl.col("_bank").alias("_row_bank"),
                ),
                held.select(
                    "batch_id",
                    "row_id",
                    pl.lit("blocked").alias("to"),
                    pl.lit("DUP_ALREADY_PAID").alias("code"),
                    no_text.alias("_note"),
                    no_text.alias("_account"),
                    no_text.alias("_account_source"),
                    no_text.alias("_row_bank"),
                ),
                held_accounts.select(
                    "batch_id",
                    "row_id",
                    pl.lit("blocked").alias("to"),
                    pl.col("_hold_code").alias("code"),
                    pl.col("_hold_note").alias("_note"),
                    no_text.alias("_account"),
                    no_text.alias("_account_source"),
                    no_text.alias("_row_bank"),
                ),
                rows.filter(pl.col("status") == "blocked").select(
                    "batch_id",
                    "row_id",
                    pl.lit("returned").alias("to"),
                    no_text.alias("code"),
                    no_text.alias("_note"),
                    no_text.alias("_account"),
                    no_text.alias("_account_source"),
                    no_text.alias("_row_bank"),
                ),
            ]
        )
        stored = rows.select("row_id", "reason_code", "note", "pay_account", "account_source", "bank")
        moves = moves.join(stored, on="row_id", how="left").select(
            "batch_id",
            "row_id",
            "to",
            pl.coalesce("code", "reason_code").alias("reason_code"),
            pl.coalesce("_note", "note").alias("note"),
            pl.when(pl.col("to") == "returned").then(pl.lit(deadline)).otherwise(None).alias("deadline"),
            pl.coalesce("_account", "pay_account").alias("pay_account"),
            pl.coalesce("_account_source", "account_source").alias("account_source"),
            pl.coalesce("_row_bank", "bank").alias("bank"),
        )
        updates = plan_moves(rows, moves, at=at)
        orders = orders_by_bank(
            to_send.select(
                "row_id",
                "id_number",
                "name",
                pl.col("_pay").alias("account"),
                "amount_fen",
                pl.col("_source").alias("account_source"),
                pl.col("_bank").alias("bank"),
            ),
            batch_id=batch_id,
            item=record.item,
            period=record.period,
            named=self.several_banks,
        )
        for order in orders:  # a timeout leaves nothing committed: dispatching again resubmits (banks dedupe)
            self._bank_port(order.bank).submit(order)
        returned = int((moves["to"] == "returned").sum())
        new = self._commit(
            record,
            state=state,
            at=at,
            actor=actor,
            action="dispatch",
            details={
                "sent": to_send.height,
                "total_fen": int(to_send["amount_fen"].sum()),
                "returned": returned,
                "held": held.height + held_accounts.height,
                "held_account": held_accounts.height,
                "account_sources": dict(to_send.group_by("_source").len().sort("_source").rows()),
                **(
                    {"orders": {o.bank: {"count": o.count, "total_fen": o.total_fen} for o in orders}}
                    if self.several_banks
                    else {}
                ),
            },
            row_updates=updates,
            ledger=ledger_entries(to_send, item=record.item, period=record.period, status="sent", at=at),
            order=pl.concat([o.rows for o in orders]),
        )
        return DispatchOutcome(new, orders, returned, held.height + held_accounts.height)

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

        A dispatched batch's order is withdrawn from the bank ([`withdraw`][yikatong.ports.Bank.withdraw]), and money a
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
            for code in self._withdrawal_order(record):
                self._bank_port(code).withdraw(batch_id)
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
            changes={"reason": scrub(reason), "drawn_fen": 0, "drawn_by_bank": ()},
            row_updates=plan_moves(rows, moves, at=at),
            ledger=ledger_entries(sent, item=record.item, period=record.period, status="withdrawn", at=at),
        )

    def _withdrawal_order(self, record: BatchRecord) -> list[str | None]:
        """The banks to withdraw a batch's orders from, those whose money may already be there first.

        A bank refuses to withdraw an order whose money has arrived. Before the treasury funds a batch, the only
        money at a bank is what the batch drew there from its corrected batch; a bank whose rows that draw covers
        whole is asked first, so a refusal comes before any other order was taken back, and the batch stands whole.
        """
        if not self.several_banks:
            return [None]
        sent = by_bank(self.store.rows(record.batch_id).filter(pl.col("status") == "sent"))
        drawn = dict(record.drawn_by_bank)
        codes: list[str] = sorted(self._paying_banks(record.batch_id))
        return [*sorted(codes, key=lambda c: (drawn.get(c, 0) < sent.get(c, 0), c))]
