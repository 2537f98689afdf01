"""Contract tests for [`yikatong.ports.Treasury`][]: what every treasury adapter must do.

A host checks its own treasury adapter (the budget integration system 预算管理一体化, a zero-balance account
service…) by subclassing [`TreasuryContract`][yikatong.testing.treasury_contract.TreasuryContract] and overriding the
``treasury_harness`` fixture::

    # tests/test_my_treasury.py (in the host's code base)
    import pytest
    from yikatong.testing.treasury_contract import TreasuryContract, TreasuryHarness

    class TestMyTreasury(TreasuryContract):
        @pytest.fixture
        def treasury_harness(self):
            treasury = MyTreasuryAdapter(sandbox_url=...)      # a fresh treasury for every test
            return TreasuryHarness(
                treasury=treasury,
                settle=my_sandbox.approve_pending,   # optional: let pending requests be decided
                funded_fen=my_sandbox.money_put_up,  # optional: batch id -> money really funded
                refunded_fen=my_sandbox.money_back,  # optional: batch id -> money really refunded
            )

The kit files requests for batch numbers of its own (``CONTRACT-T-…``) with positive amounts, through both routes
and both filers, and polls [`funding_status`][yikatong.ports.Treasury.funding_status] with ``settle`` between polls (up
to ``max_rounds``), retrying a ``TimeoutError`` as the workflow does. The treasury under test must fund every such
request (a sandbox that rejects them cannot be checked).

What is checked: the port is satisfied; an unknown batch raises ``KeyError``; a request ends ``funded`` with
exactly the requested amount, by either route and either filer; a pending status carries no money; filing the same
request again never funds it twice; batches are funded independently; a request for no money is refused with
``ValueError``; a refund ([`refund`][yikatong.ports.Treasury.refund]) of a funded batch is counted once however
often it is filed, refunds of one batch add up, and a refund of no money or a different refund under a used
``refund_id`` is refused with ``ValueError``.

The kit needs pytest (the ``[testing]`` extra of yikatong).
"""

from __future__ import annotations

# Before pytest is imported: without it, an error naming the extra to install.
from yikatong.testing import _pytest  # noqa: F401

# isort: split
import itertools
from collections.abc import Callable

import pytest
from attrs import frozen

from yikatong.ports import Treasury
from yikatong.records import FundingRequest, FundingStatus, Refund

__all__ = ["TreasuryContract", "TreasuryHarness"]

_numbers = itertools.count(1)


def _nothing() -> None:
    return None


@frozen(kw_only=True)
class TreasuryHarness:
    """What the contract kit needs to drive a treasury adapter.

    Attributes:
        treasury: The adapter under test, fresh for every test.
        settle: Called between polls to let pending requests be decided; does nothing by default.
        max_rounds: How many polls before the kit gives up waiting for ``funded``.
        funded_fen: Batch id → money the treasury side really put up for it; optional.
        refunded_fen: Batch id → money the treasury side really took back from it; optional.
    """

    treasury: Treasury
    settle: Callable[[], None] = _nothing
    max_rounds: int = 8
    funded_fen: Callable[[str], int] | None = None
    refunded_fen: Callable[[str], int] | None = None

    def refund(self, refund: Refund) -> None:
        """File a refund, retrying on ``TimeoutError`` as the workflow does."""
        for _ in range(self.max_rounds):
            try:
                self.treasury.refund(refund)
            except TimeoutError:
                self.settle()
                continue
            return
        raise AssertionError(f"the treasury timed out {self.max_rounds} times in a row")

    def file(self, request: FundingRequest) -> None:
        """File a request, retrying on ``TimeoutError`` as the workflow does."""
        for _ in range(self.max_rounds):
            try:
                self.treasury.request_funding(request)
            except TimeoutError:
                self.settle()
                continue
            return
        raise AssertionError(f"the treasury timed out {self.max_rounds} times in a row")

    def funded(self, batch_id: str, *, seen: list[FundingStatus] | None = None) -> FundingStatus:
        """Poll until the batch is funded; every status seen is appended to ``seen``.

        Raises:
            AssertionError: when the request was rejected or still pending after ``max_rounds`` polls.
        """
        status = FundingStatus(state="pending")
        for _ in range(self.max_rounds):
            status = self.treasury.funding_status(batch_id)
            if seen is not None:
                seen.append(status)
            if status.state != "pending":
                break
            self.settle()
        assert status.state == "funded", f"batch {batch_id} ended {status.state} ({status.reason})"
        return status


def _request(amount_fen: int = 1_234_567, *, route: str = "treasury", filed_by: str = "department") -> FundingRequest:
    return FundingRequest(
        batch_id=f"CONTRACT-T-{next(_numbers):05d}",
        amount_fen=amount_fen,
        route=route,  # type: ignore[arg-type]
        filed_by=filed_by,  # type: ignore[arg-type]
    )


class TreasuryContract:
    """The contract every [`yikatong.ports.Treasury`][] passes. Subclass it and override ``treasury_harness``."""

    @pytest.fixture
    def treasury_harness(self) -> TreasuryHarness:
        """Override in the subclass: a [`TreasuryHarness`][yikatong.testing.treasury_contract.TreasuryHarness] around a
        fresh adapter."""
        raise NotImplementedError("override the treasury_harness fixture in your TreasuryContract subclass")

    def test_treasury_satisfies_the_port(self, treasury_harness: TreasuryHarness) -> None:
        assert isinstance(treasury_harness.treasury, Treasury)

    def test_an_unknown_batch_raises_key_error(self, treasury_harness: TreasuryHarness) -> None:
        with pytest.raises(KeyError):
            treasury_harness.treasury.funding_status("CONTRACT-T-NEVER-FILED")

    @pytest.mark.parametrize(
        ("route", "filed_by"),
        [("treasury", "department"), ("treasury", "town"), ("zero_balance", "department"), ("zero_balance", "town")],
    )
    def test_a_request_is_funded_with_exactly_the_requested_amount(
        self, treasury_harness: TreasuryHarness, route: str, filed_by: str
    ) -> None:
        h = treasury_harness
        request = _request(route=route, filed_by=filed_by)
        h.file(request)
        status = h.funded(request.batch_id)
        assert status.amount_fen == request.amount_fen
        if h.funded_fen is not None:
            assert h.funded_fen(request.batch_id) == request.amount_fen

    def test_a_pending_request_carries_no_money(self, treasury_harness: TreasuryHarness) -> None:
        h = treasury_harness
        request = _request()
        h.file(request)
        seen: list[FundingStatus] = []
        h.funded(request.batch_id, seen=seen)
        assert all(s.amount_fen == 0 for s in seen if s.state == "pending")
        assert seen[-1].amount_fen == request.amount_fen

    def test_filing_the_same_request_again_never_funds_it_twice(self, treasury_harness: TreasuryHarness) -> None:
        h = treasury_harness
        request = _request(amount_fen=500_00)
        h.file(request)
        h.file(request)
        h.funded(request.batch_id)
        h.file(request)
        h.settle()
        status = h.funded(request.batch_id)
        assert status.amount_fen == request.amount_fen
        if h.funded_fen is not None:
            assert h.funded_fen(request.batch_id) == request.amount_fen, "the treasury funded a batch twice"

    def test_batches_are_funded_independently(self, treasury_harness: TreasuryHarness) -> None:
        h = treasury_harness
        first, second = _request(amount_fen=100), _request(amount_fen=9_999_999_99)
        h.file(first)
        h.file(second)
        assert h.funded(first.batch_id).amount_fen == 100
        assert h.funded(second.batch_id).amount_fen == 9_999_999_99

    def test_a_request_for_no_money_is_refused(self, treasury_harness: TreasuryHarness) -> None:
        h = treasury_harness
        with pytest.raises(ValueError):  # noqa: PT011 - any ValueError subclass the adapter chooses
            h.file(_request(amount_fen=0))

    def _funded_batch(self, h: TreasuryHarness, amount_fen: int = 800_00) -> FundingRequest:
        request = _request(amount_fen=amount_fen)
        h.file(request)
        h.funded(request.batch_id)
        return request

    def test_a_refund_filed_twice_is_counted_once(self, treasury_harness: TreasuryHarness) -> None:
        h = treasury_harness
        request = self._funded_batch(h)
        refund = Refund(f"{request.batch_id}-R1", request.batch_id, 120_00, request.route)
        h.refund(refund)
        h.refund(refund)
        h.settle()
        h.refund(refund)
        if h.refunded_fen is not None:
            assert h.refunded_fen(request.batch_id) == 120_00, "the treasury counted a refund twice"

    def test_refunds_of_one_batch_add_up(self, treasury_harness: TreasuryHarness) -> None:
        h = treasury_harness
        if h.refunded_fen is None:
            pytest.skip("the harness gives no refunded_fen to read the treasury side's books")
        request = self._funded_batch(h)
        h.refund(Refund(f"{request.batch_id}-R1", request.batch_id, 100_00, request.route))
        h.refund(Refund(f"{request.batch_id}-R2", request.batch_id, 50_01, request.route))
        assert h.refunded_fen(request.batch_id) == 150_01

    def test_a_refund_of_no_money_is_refused(self, treasury_harness: TreasuryHarness) -> None:
        h = treasury_harness
        request = self._funded_batch(h)
        for amount in (0, -100):
            with pytest.raises(ValueError):  # noqa: PT011 - any ValueError subclass the adapter chooses
                h.refund(Refund(f"{request.batch_id}-R{amount}", request.batch_id, amount, request.route))

    def test_another_refund_under_a_used_refund_id_is_refused(self, treasury_harness: TreasuryHarness) -> None:
        h = treasury_harness
        request = self._funded_batch(h)
        h.refund(Refund(f"{request.batch_id}-R1", request.batch_id, 100_00, request.route))
        with pytest.raises(ValueError):  # noqa: PT011 - any ValueError subclass the adapter chooses
            h.refund(Refund(f"{request.batch_id}-R1", request.batch_id, 200_00, request.route))
        if h.refunded_fen is not None:
            assert h.refunded_fen(request.batch_id) == 100_00
