"""Money a batch holds at the bank, and giving back what no correction can use (缴回国库).

See [`yikatong.workflow.funds`][] for the figures; this module adds the steps over the store and the treasury.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import polars as pl

from yikatong.errors import IllegalTransition
from yikatong.records import BatchRecord, Refund
from yikatong.workflow._banks import by_bank, merge_by_bank
from yikatong.workflow._core import ServiceCore
from yikatong.workflow.funds import bank_money_lazy, batch_money, records_frame
from yikatong.workflow.machine import Step
from yikatong.workflow.roles import Actor

__all__ = ["MoneySteps"]

_UNDRAWN: Final = ("draft", "submitted", "validated", "dispatched")
"""States of a correction batch that has not drawn on its corrected batch's money yet."""


class MoneySteps(ServiceCore):
    """Held money and refunds."""

    def held_fen(self, batch_id: str) -> int:
        """Money of the batch the bank holds: failed, reversed or unanswered rows, less what its corrections drew
        and what was refunded (see [`yikatong.workflow.funds`][])."""
        record = self.store.batch(batch_id)
        family = [record, *(b for b in self.store.batches() if b.corrects == batch_id)]
        money = batch_money(records_frame(family), self._batch_ledger(record))
        return int(money.filter(pl.col("batch_id") == batch_id)["held_fen"][0])

    def held_by_bank(self, batch_id: str) -> dict[str, int]:
        """What each paying bank holds of the batch's money, by bank code (``""`` for rows without a code): the
        money a correction may draw there (see ``bank_money_lazy``)."""
        record = self.store.batch(batch_id)
        family = [record, *(b for b in self.store.batches() if b.corrects == batch_id)]
        rows = pl.concat(
            [self.store.rows(b.batch_id).select("batch_id", "row_id", "bank") for b in family], how="vertical"
        )
        ledger = self.store.ledger(item=record.item, period=record.period)
        ledger = ledger.filter(pl.col("batch_id").is_in([b.batch_id for b in family]))
        money = bank_money_lazy(records_frame(family).lazy(), ledger.lazy(), rows.lazy()).collect()
        mine = money.filter(pl.col("batch_id") == batch_id).sort("bank")
        return {str(code): int(fen) for code, fen in mine.select("bank", "held_fen").iter_rows()}

    def refundable_fen(self, batch_id: str, *, as_of: dt.date | None = None) -> int:
        """Money of a settled batch no correction can still use: what the bank holds of it, less the money of rows
        still awaiting a correction within their deadline (or carried by a correction that has not drawn yet).

        Args:
            batch_id: The batch.
            as_of: The day deadlines are judged by (today on the county calendar when None).
        """
        return sum(self.refundable_by_bank(batch_id, as_of=as_of).values())

    def refundable_by_bank(self, batch_id: str, *, as_of: dt.date | None = None) -> dict[str, int]:
        """``refundable_fen`` per paying bank: what each bank holds of the batch less the money of its rows
        still reserved for a correction (a row whose correction went to another bank no longer reserves money
        here: that bank's holding of it comes back to the treasury)."""
        record = self.store.batch(batch_id)
        if record.state not in ("settled", "published"):
            return {}
        day = as_of or self._today()
        rows = self.store.rows(batch_id)
        carried: dict[int, bool] = {}  # corrected row id → a correction carrying it has not drawn yet
        for child in self.store.batches():
            if child.corrects != batch_id or child.state in ("cancelled", "rejected", "sent_back"):
                continue
            fixes = self.store.rows(child.batch_id).filter(pl.col("status") != "withdrawn")["corrects_row_id"]
            for row_id in fixes.drop_nulls().to_list():
                carried[row_id] = carried.get(row_id, False) or child.state in _UNDRAWN
        undrawn = pl.col("row_id").is_in([r for r, waiting in carried.items() if waiting])
        uncarried = ~pl.col("row_id").is_in(list(carried))
        in_time = (pl.col("deadline") >= pl.lit(day)).fill_null(True)
        reserved = pl.col("status").is_in(["failed", "reversed"]) | (
            (pl.col("status") == "returned") & (undrawn | (uncarried & in_time))
        )
        kept = by_bank(rows.filter(reserved))
        out = {code: max(fen - kept.get(code, 0), 0) for code, fen in self.held_by_bank(batch_id).items()}
        return {code: fen for code, fen in out.items() if fen > 0}

    def refund(self, batch_id: str, *, actor: Actor | None = None, as_of: dt.date | None = None) -> BatchRecord:
        """Give back to the treasury the batch's money no correction reused by the deadline (缴回国库).

        The amount is [`refundable_fen`][yikatong.workflow.Service.refundable_fen]; the refund is filed under an id
        derived from the batch's version, so filing again after a timeout is not counted twice.

        Raises:
            IllegalTransition: the batch is not settled or published, or nothing is refundable.
            PermissionDenied: not the system or finance.
            TimeoutError: the treasury did not answer; nothing changed, refund again.
        """
        actor = actor or Actor.system()
        record = self.store.batch(batch_id)
        per_bank = self.refundable_by_bank(batch_id, as_of=as_of)
        amount = sum(per_bank.values())

        def something_to_refund() -> bool:
            if amount <= 0:
                raise IllegalTransition(f"batch {batch_id}: nothing to refund / 无可缴回的资金")
            return True

        state = self._fire(record, "refund", Step(actor=actor, guards={"something_to_refund": something_to_refund}))
        banks = merge_by_bank(per_bank) if self.several_banks else ()
        refund = Refund(f"{batch_id}/R{record.version}", batch_id, amount, record.funding_route or "treasury", banks)
        self.treasury.refund(refund)
        return self._commit(
            record,
            state=state,
            at=self._now(),
            actor=actor,
            action="refund",
            details={
                "refund_id": refund.refund_id,
                "amount_fen": amount,
                "route": refund.route,
                **({"banks": dict(banks)} if banks else {}),
            },
            changes={
                "refunded_fen": record.refunded_fen + amount,
                "refunded_by_bank": merge_by_bank(self._refunded_by_bank(record), per_bank),
            },
        )

    @staticmethod
    def _refunded_by_bank(record: BatchRecord) -> tuple[tuple[str, int], ...]:
        """What was refunded per bank so far (a header without a breakdown: its whole refund under ``""``)."""
        if record.refunded_by_bank or not record.refunded_fen:
            return record.refunded_by_bank
        return (("", record.refunded_fen),)
