"""The simulated treasury passes the Treasury contract kit, with and without delays and timeouts; treasuries that
break the contract fail it."""

from __future__ import annotations

import pytest

from yikatong.adapters.faults import Faults
from yikatong.adapters.simulated_treasury import SimulatedTreasury
from yikatong.records import FundingRequest, FundingStatus, Refund
from yikatong.testing.treasury_contract import TreasuryContract, TreasuryHarness


def _harness(treasury: SimulatedTreasury) -> TreasuryHarness:
    return TreasuryHarness(treasury=treasury, funded_fen=treasury.funded_fen, refunded_fen=treasury.refunded_fen)


class TestSimulatedTreasury(TreasuryContract):
    @pytest.fixture
    def treasury_harness(self) -> TreasuryHarness:
        return _harness(SimulatedTreasury())


class TestSimulatedTreasuryThatDelaysAndTimesOut(TreasuryContract):
    @pytest.fixture
    def treasury_harness(self) -> TreasuryHarness:
        faults = Faults(funding_delay=1.0, max_delay_polls=3, treasury_timeout=0.3)
        treasury = SimulatedTreasury(seed=7, faults=faults)
        return TreasuryHarness(treasury=treasury, max_rounds=12, refunded_fen=treasury.refunded_fen)


class _PlainTreasury:
    """A minimal honest treasury the broken ones below start from: funds a request on the second status poll."""

    def __init__(self) -> None:
        self.requests: dict[str, FundingRequest] = {}
        self.polls: dict[str, int] = {}
        self.funded: dict[str, int] = {}
        self.refunds: dict[str, Refund] = {}

    def request_funding(self, request: FundingRequest) -> None:
        if request.amount_fen <= 0:
            raise ValueError("amount must be positive")
        self.requests.setdefault(request.batch_id, request)

    def funding_status(self, batch_id: str) -> FundingStatus:
        request = self.requests[batch_id]
        self.polls[batch_id] = self.polls.get(batch_id, 0) + 1
        if self.polls[batch_id] < 2:
            return FundingStatus(state="pending")
        self.funded.setdefault(batch_id, request.amount_fen)
        return FundingStatus(state="funded", amount_fen=self.funded[batch_id])

    def funded_fen(self, batch_id: str) -> int:
        return self.funded.get(batch_id, 0)

    def refund(self, refund: Refund) -> None:
        if refund.amount_fen <= 0:
            raise ValueError("a refund must be positive")
        if self.refunds.setdefault(refund.refund_id, refund) != refund:
            raise ValueError("another refund under this id")

    def refunded_fen(self, batch_id: str) -> int:
        return sum(r.amount_fen for r in self.refunds.values() if r.batch_id == batch_id)


class _DoubleFundingTreasury(_PlainTreasury):
    """Funds a batch again when it is filed again."""

    def request_funding(self, request: FundingRequest) -> None:
        if request.batch_id in self.funded:
            self.funded[request.batch_id] += request.amount_fen
        super().request_funding(request)


class _OptimisticTreasury(_PlainTreasury):
    """Reports the requested money even while a request is pending."""

    def funding_status(self, batch_id: str) -> FundingStatus:
        status = super().funding_status(batch_id)
        return FundingStatus(state=status.state, amount_fen=self.requests[batch_id].amount_fen)


class _ForgetfulTreasury(_PlainTreasury):
    """Says pending for a batch it never heard of."""

    def funding_status(self, batch_id: str) -> FundingStatus:
        if batch_id not in self.requests:
            return FundingStatus(state="pending")
        return super().funding_status(batch_id)


class _GreedyTreasury(_PlainTreasury):
    """Counts a refund again each time it is filed."""

    def refund(self, refund: Refund) -> None:
        super().refund(refund)
        self.refunds[f"{refund.refund_id}#{len(self.refunds)}"] = refund


def _plain_harness(treasury: _PlainTreasury) -> TreasuryHarness:
    return TreasuryHarness(treasury=treasury, funded_fen=treasury.funded_fen, refunded_fen=treasury.refunded_fen)


class TestPlainTreasury(TreasuryContract):
    """The starting point of the broken treasuries passes, so each failure below is its one defect."""

    @pytest.fixture
    def treasury_harness(self) -> TreasuryHarness:
        return _plain_harness(_PlainTreasury())


def test_the_kit_fails_a_treasury_that_funds_twice() -> None:
    treasury = _DoubleFundingTreasury()
    with pytest.raises(AssertionError):
        TreasuryContract().test_filing_the_same_request_again_never_funds_it_twice(_plain_harness(treasury))


def test_the_kit_fails_a_treasury_that_reports_money_it_has_not_put_up() -> None:
    with pytest.raises(AssertionError):
        TreasuryContract().test_a_pending_request_carries_no_money(_plain_harness(_OptimisticTreasury()))


def test_the_kit_fails_a_treasury_that_does_not_raise_key_error_for_an_unknown_batch() -> None:
    with pytest.raises(pytest.fail.Exception):
        TreasuryContract().test_an_unknown_batch_raises_key_error(_plain_harness(_ForgetfulTreasury()))


def test_the_kit_fails_a_treasury_that_counts_a_refund_twice() -> None:
    with pytest.raises(AssertionError):
        TreasuryContract().test_a_refund_filed_twice_is_counted_once(_plain_harness(_GreedyTreasury()))
