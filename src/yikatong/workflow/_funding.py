"""Funding: the request to the treasury (drawing first on money a corrected batch holds at the same bank), the
treasury's answer, and its reconciliation per paying bank."""

from __future__ import annotations

from typing import Literal

import polars as pl

from yikatong.errors import ReconciliationError
from yikatong.records import BatchRecord, FundingRequest, FundingRoute
from yikatong.workflow._banks import by_bank, merge_by_bank
from yikatong.workflow._refunds import MoneySteps
from yikatong.workflow.machine import Step
from yikatong.workflow.roles import Actor

__all__ = ["FundingSteps"]


class FundingSteps(MoneySteps):
    """Steps from the funding request to the funded batch."""

    def _sent_fen(self, record: BatchRecord) -> int:
        return int(self._batch_ledger(record).filter(pl.col("status") == "sent")["amount_fen"].sum())

    def _sent_by_bank(self, record: BatchRecord) -> dict[str, int]:
        """Σ sent per bank key (``bank_key``)."""
        sent = self._batch_ledger(record).filter(pl.col("status") == "sent").select("row_id", "amount_fen")
        banks = self.store.rows(record.batch_id).select("row_id", "bank")
        return by_bank(sent.join(banks, on="row_id", how="left"))

    def _funding_banks(self, record: BatchRecord, drawn: dict[str, int]) -> tuple[tuple[str, int], ...]:
        """What each paying bank must receive from the treasury (several banks only; empty with one bank)."""
        if not self.several_banks:
            return ()
        sent = self._sent_by_bank(record)
        return merge_by_bank({code: fen - drawn.get(code, 0) for code, fen in sent.items()})

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
        sent = self._sent_by_bank(record)
        total = sum(sent.values())
        held = self.held_by_bank(record.corrects) if record.corrects is not None else {}
        # money sits at a bank: a correction draws at each bank only on what its corrected batch holds there
        drawn_at = {code: min(max(held.get(code, 0), 0), fen) for code, fen in sent.items()}
        drawn = sum(drawn_at.values())
        state = self._fire(record, "request_funding", Step(actor=actor, guards={"covered": lambda: drawn == total}))
        filed_by: Literal["department", "town"] = "town" if actor.role == "town" else "department"
        per_bank = self._funding_banks(record, drawn_at)
        if total > drawn:
            self.treasury.request_funding(FundingRequest(batch_id, total - drawn, route, filed_by, per_bank))
        details: dict[str, object] = {
            "route": route,
            "amount_fen": total - drawn,
            "drawn_fen": drawn,
            "filed_by": filed_by,
        }
        if self.several_banks:
            details |= {"banks": dict(per_bank), "drawn_by_bank": dict(merge_by_bank(drawn_at))}
        return self._commit(
            record,
            state=state,
            at=self._now(),
            actor=actor,
            action="request_funding",
            details=details,
            changes={
                "funding_route": route,
                "funding_filed_by": filed_by,
                "drawn_fen": drawn,
                "drawn_by_bank": merge_by_bank(drawn_at),
            },
        )

    def fund(
        self, batch_id: str, *, actor: Actor, amount_fen: int, banks: tuple[tuple[str, int], ...] = ()
    ) -> BatchRecord:
        """Record that the treasury funded the batch (the sum of its rows sent, less what it drew), and, when it
        reports so (``banks``), how much each paying bank got.

        Raises:
            ReconciliationError: the funded amount is not what was requested, or a bank's amount is not what the
                rows sent to it need (nothing changes).
            PermissionDenied, IllegalTransition: as for every trigger.
        """
        record = self.store.batch(batch_id)
        total = self._sent_fen(record) - record.drawn_fen
        expected = dict(self._funding_banks(record, dict(record.drawn_by_bank)))

        def amount_matches() -> bool:
            if amount_fen != total:
                raise ReconciliationError(
                    f"batch {batch_id}: funded {amount_fen} fen but {total} fen were requested / 拨付金额与申请金额不符"
                )
            got = dict(merge_by_bank(banks))
            if banks and self.several_banks and got != expected:
                code = sorted(set(got.items()) ^ set(expected.items()))[0][0]
                raise ReconciliationError(
                    f"batch {batch_id}: bank {code} funded {got.get(code, 0)} fen but {expected.get(code, 0)} fen "
                    "were requested for it / 代发银行拨付金额与申请金额不符"
                )
            return True

        state = self._fire(record, "fund", Step(actor=actor, guards={"amount_matches": amount_matches}))
        return self._commit(
            record,
            state=state,
            at=self._now(),
            actor=actor,
            action="fund",
            details={"amount_fen": amount_fen, **({"banks": dict(banks)} if banks and self.several_banks else {})},
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
            changes={
                "funding_route": None,
                "funding_filed_by": None,
                "drawn_fen": 0,
                "drawn_by_bank": (),
                "reason": reason,
            },
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
            per_bank = self._funding_banks(record, dict(record.drawn_by_bank))
            self.treasury.request_funding(
                FundingRequest(batch_id, total, route, record.funding_filed_by or "department", per_bank)
            )
            return record
        if status.state == "funded":
            return self.fund(batch_id, actor=Actor.treasury(), amount_fen=status.amount_fen, banks=status.banks)
        if status.state == "rejected":
            return self.refuse_funding(batch_id, actor=Actor.treasury(), reason=status.reason or "rejected")
        return record
