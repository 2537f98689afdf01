"""A simulated treasury 国库 with seeded fault injection.

It implements [`yikatong.ports.Treasury`][] for both funding routes of the seed, treasury centralised payment
国库集中支付 and a zero-balance account 零余额账户, and misbehaves on purpose: it rejects requests with a reason,
keeps a request pending for a few status polls, and times out. It never funds a batch twice nor counts a refund
twice, whatever the caller does, and it keeps what it funded
([`SimulatedTreasury.fundings`][yikatong.adapters.SimulatedTreasury.fundings]) and what came back
([`SimulatedTreasury.refunds`][yikatong.adapters.SimulatedTreasury.refunds]) so the workflow's books can be held against
it.
"""

from __future__ import annotations

import random
from collections import Counter

import polars as pl
from attrs import define

from yikatong.adapters.faults import Faults
from yikatong.records import FundingRequest, FundingState, FundingStatus, Refund

__all__ = ["REJECT_REASONS", "SimulatedTreasury"]

REJECT_REASONS: dict[str, tuple[str, ...]] = {
    "treasury": (
        "预算指标不足 / budget quota insufficient",
        "用款计划未批复 / spending plan not approved",
        "支付申请要素不全 / payment request incomplete",
    ),
    "zero_balance": (
        "零余额账户用款额度不足 / zero-balance account quota insufficient",
        "支付申请要素不全 / payment request incomplete",
    ),
}
"""Reasons a treasury gives for rejecting a funding request, per route."""

_FUNDING_SCHEMA: dict[str, pl.DataType] = {
    "batch_id": pl.String(),
    "amount_fen": pl.Int64(),
    "route": pl.String(),
    "filed_by": pl.String(),
}
_REFUND_SCHEMA: dict[str, pl.DataType] = {
    "refund_id": pl.String(),
    "batch_id": pl.String(),
    "amount_fen": pl.Int64(),
    "route": pl.String(),
}


@define
class _Request:
    request: FundingRequest
    state: FundingState
    polls_left: int = 0
    reason: str = ""


class SimulatedTreasury:
    """A treasury that implements [`yikatong.ports.Treasury`][] and injects faults on purpose.

    A request is decided when it is filed: rejected (``funding_reject``), or pending for 1..``max_delay_polls``
    status polls (``funding_delay``) and then funded, or funded at once. Filing again while a request is pending or
    funded changes nothing; filing again after a rejection files a new request.

    Args:
        seed: Seed of every draw.
        faults: Which faults to inject (none by default).

    Attributes:
        injected: How many times each fault was injected (``timeout``, ``reject``, ``delay``).
        duplicate_requests: Requests filed again for a batch already pending or funded (never funded twice).
    """

    def __init__(self, *, seed: int = 0, faults: Faults | None = None) -> None:
        self.faults = faults if faults is not None else Faults()
        self._rng = random.Random(seed)
        self._requests: dict[str, _Request] = {}
        self._funded: list[FundingRequest] = []
        self._refunds: dict[str, Refund] = {}
        self.injected: Counter[str] = Counter()
        self.duplicate_requests = 0
        self.duplicate_refunds = 0

    def request_funding(self, request: FundingRequest) -> None:
        """File a funding request for a batch.

        Raises:
            TimeoutError: when the ``treasury_timeout`` fault fires; half of the time the request was filed first.
            ValueError: when the amount is not positive, or the route or filer is not one the seed knows.
        """
        if request.amount_fen <= 0:
            raise ValueError(f"申请金额无效 / funding amount must be positive (batch {request.batch_id})")
        if request.route not in REJECT_REASONS:
            raise ValueError(f"未知支付方式 / unknown funding route {request.route!r}")
        if request.filed_by not in ("department", "town"):
            raise ValueError(
                f"申请单位无效 / a funding request is filed by department or town, not {request.filed_by!r}"
            )
        timed_out = self._rng.random() < self.faults.treasury_timeout
        if timed_out:
            self.injected["timeout"] += 1
            if self._rng.random() < 0.5:
                raise TimeoutError(f"国库未应答，申请未受理 / treasury did not answer (batch {request.batch_id})")
        known = self._requests.get(request.batch_id)
        if known is not None and known.state != "rejected":
            self.duplicate_requests += 1
        else:
            self._requests[request.batch_id] = self._decide(request)
            if self._requests[request.batch_id].state == "funded":
                self._funded.append(request)
        if timed_out:
            raise TimeoutError(f"国库应答超时 / treasury answer lost (batch {request.batch_id})")

    def _decide(self, request: FundingRequest) -> _Request:
        f = self.faults
        if self._rng.random() < f.funding_reject:
            self.injected["reject"] += 1
            reason = self._rng.choice(REJECT_REASONS[request.route])
            return _Request(request=request, state="rejected", reason=reason)
        if self._rng.random() < f.funding_delay:
            self.injected["delay"] += 1
            return _Request(request=request, state="pending", polls_left=self._rng.randint(1, f.max_delay_polls))
        return _Request(request=request, state="funded")

    def funding_status(self, batch_id: str) -> FundingStatus:
        """Where the batch's request stands; each poll of a delayed request brings it one poll closer to funding.

        Raises:
            KeyError: when no request was filed for the batch.
        """
        known = self._requests.get(batch_id)
        if known is None:
            raise KeyError(f"no funding request for batch {batch_id}")
        if known.state == "pending":
            known.polls_left -= 1
            if known.polls_left < 0:
                known.state = "funded"
                self._funded.append(known.request)
        if known.state == "funded":
            return FundingStatus(state="funded", amount_fen=known.request.amount_fen, banks=known.request.banks)
        return FundingStatus(state=known.state, reason=known.reason)

    def refund(self, refund: Refund) -> None:
        """Take back money of a batch (缴回国库); the same ``refund_id`` again is acknowledged and counts nothing.

        A refund may come from a correction batch the treasury never funded itself (its money was drawn from the
        corrected batch), so the treasury does not require a funding of its own for the batch.

        Raises:
            TimeoutError: when the ``treasury_timeout`` fault fires; half of the time the refund was taken first.
            ValueError: when the amount is not positive, the route is unknown, or a different refund was taken under
                the same ``refund_id``.
        """
        if refund.amount_fen <= 0:
            raise ValueError(f"缴回金额无效 / a refund must be positive (batch {refund.batch_id})")
        if refund.route not in REJECT_REASONS:
            raise ValueError(f"未知支付方式 / unknown funding route {refund.route!r}")
        timed_out = self._rng.random() < self.faults.treasury_timeout
        if timed_out:
            self.injected["timeout"] += 1
            if self._rng.random() < 0.5:
                raise TimeoutError(f"国库未应答，缴回未受理 / treasury did not answer (refund {refund.refund_id})")
        known = self._refunds.get(refund.refund_id)
        if known is not None and known != refund:
            raise ValueError(
                f"缴回编号 {refund.refund_id} 已用于另一笔缴回 / a different refund was filed under this id"
            )
        if known is not None:
            self.duplicate_refunds += 1
        else:
            self._refunds[refund.refund_id] = refund
        if timed_out:
            raise TimeoutError(f"国库应答超时 / treasury answer lost (refund {refund.refund_id})")

    @property
    def refunds(self) -> pl.DataFrame:
        """Every refund taken: ``refund_id``, ``batch_id``, ``amount_fen``, ``route``."""
        taken = list(self._refunds.values())
        return pl.DataFrame(
            {
                "refund_id": [r.refund_id for r in taken],
                "batch_id": [r.batch_id for r in taken],
                "amount_fen": [r.amount_fen for r in taken],
                "route": [r.route for r in taken],
            },
            schema=_REFUND_SCHEMA,
        )

    def refunded_fen(self, batch_id: str) -> int:
        """Money the treasury took back from a batch."""
        return sum(r.amount_fen for r in self._refunds.values() if r.batch_id == batch_id)

    @property
    def fundings(self) -> pl.DataFrame:
        """Every batch the treasury funded: ``batch_id``, ``amount_fen``, ``route``, ``filed_by``."""
        return pl.DataFrame(
            {
                "batch_id": [r.batch_id for r in self._funded],
                "amount_fen": [r.amount_fen for r in self._funded],
                "route": [r.route for r in self._funded],
                "filed_by": [r.filed_by for r in self._funded],
            },
            schema=_FUNDING_SCHEMA,
        )

    def funded_fen(self, batch_id: str) -> int:
        """Money the treasury put up for a batch (0 unless funded)."""
        return sum(r.amount_fen for r in self._funded if r.batch_id == batch_id)

    def funded_at(self, bank: str, batch_id: str) -> int:
        """Money the treasury put up for a batch at the paying bank ``bank`` (a request naming no banks: its whole
        amount, whichever bank asks)."""
        return sum(
            dict(r.banks).get(bank, 0) if r.banks else r.amount_fen for r in self._funded if r.batch_id == batch_id
        )

    @property
    def bank_fundings(self) -> pl.DataFrame:
        """What the treasury funded per paying bank: ``batch_id``, ``bank``, ``amount_fen`` (requests naming banks)."""
        pairs = [(r.batch_id, code, fen) for r in self._funded for code, fen in r.banks]
        return pl.DataFrame(
            pairs, schema={"batch_id": pl.String(), "bank": pl.String(), "amount_fen": pl.Int64()}, orient="row"
        )
