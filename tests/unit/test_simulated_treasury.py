"""The simulated treasury: both routes, rejections, delays, timeouts, and never funding a batch twice."""

from __future__ import annotations

import pytest

from yikatong.adapters.simulated import REJECT_REASONS, Faults, SimulatedTreasury
from yikatong.ports import Treasury
from yikatong.records import FundingRequest, FundingRoute


def request(batch_id: str = "B1", amount_fen: int = 123_400, route: FundingRoute = "treasury") -> FundingRequest:
    return FundingRequest(batch_id=batch_id, amount_fen=amount_fen, route=route, filed_by="department")


def test_the_simulated_treasury_satisfies_the_treasury_port() -> None:
    assert isinstance(SimulatedTreasury(), Treasury)


@pytest.mark.parametrize("route", ["treasury", "zero_balance"])
def test_a_well_behaved_treasury_funds_the_requested_amount_on_either_route(route: FundingRoute) -> None:
    treasury = SimulatedTreasury()
    treasury.request_funding(request(route=route))
    status = treasury.funding_status("B1")
    assert status.state == "funded"
    assert status.amount_fen == 123_400
    assert treasury.fundings.get_column("route").to_list() == [route]
    assert treasury.funded_fen("B1") == 123_400


def test_a_town_may_file_the_request() -> None:
    treasury = SimulatedTreasury()
    treasury.request_funding(FundingRequest(batch_id="B1", amount_fen=100, route="treasury", filed_by="town"))
    assert treasury.fundings.get_column("filed_by").to_list() == ["town"]


def test_the_status_of_a_batch_never_requested_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="B9"):
        SimulatedTreasury().funding_status("B9")


@pytest.mark.parametrize("route", ["treasury", "zero_balance"])
def test_a_rejected_request_carries_a_reason_and_funds_nothing(route: FundingRoute) -> None:
    treasury = SimulatedTreasury(seed=1, faults=Faults(funding_reject=1.0))
    treasury.request_funding(request(route=route))
    status = treasury.funding_status("B1")
    assert status.state == "rejected"
    assert status.amount_fen == 0
    assert status.reason in REJECT_REASONS[route]
    assert treasury.fundings.height == 0


def test_a_request_filed_again_after_a_rejection_is_decided_afresh() -> None:
    treasury = SimulatedTreasury(seed=1, faults=Faults(funding_reject=1.0))
    treasury.request_funding(request())
    treasury.faults = Faults()
    treasury.request_funding(request())
    assert treasury.funding_status("B1").state == "funded"
    assert treasury.fundings.height == 1


def test_a_delayed_request_stays_pending_for_some_polls_then_funds() -> None:
    for seed in range(10):
        treasury = SimulatedTreasury(seed=seed, faults=Faults(funding_delay=1.0, max_delay_polls=3))
        treasury.request_funding(request())
        states = [treasury.funding_status("B1").state for _ in range(6)]
        pending = states.count("pending")
        assert 1 <= pending <= 3
        assert states == ["pending"] * pending + ["funded"] * (6 - pending)
        assert treasury.fundings.height == 1


def test_filing_the_same_batch_twice_never_funds_it_twice() -> None:
    treasury = SimulatedTreasury()
    treasury.request_funding(request())
    treasury.request_funding(request())
    treasury.request_funding(request(amount_fen=999_999))
    assert treasury.duplicate_requests == 2
    assert treasury.funded_fen("B1") == 123_400
    assert treasury.funding_status("B1").amount_fen == 123_400


def test_filing_again_while_pending_never_funds_twice() -> None:
    treasury = SimulatedTreasury(seed=3, faults=Faults(funding_delay=1.0))
    treasury.request_funding(request())
    treasury.request_funding(request())
    for _ in range(5):
        treasury.funding_status("B1")
    assert treasury.fundings.height == 1


def test_a_timeout_raises_timeout_error() -> None:
    treasury = SimulatedTreasury(faults=Faults(treasury_timeout=1.0))
    with pytest.raises(TimeoutError, match="treasury"):
        treasury.request_funding(request())


def test_retrying_a_timed_out_request_funds_the_batch_once() -> None:
    for seed in range(20):
        treasury = SimulatedTreasury(seed=seed, faults=Faults(treasury_timeout=0.6))
        for _ in range(100):
            try:
                treasury.request_funding(request())
                break
            except TimeoutError:
                continue
        assert treasury.funding_status("B1").state == "funded"
        assert treasury.fundings.height == 1


@pytest.mark.parametrize(
    "bad",
    [
        FundingRequest(batch_id="B1", amount_fen=0, route="treasury", filed_by="department"),
        FundingRequest(batch_id="B1", amount_fen=100, route="cash", filed_by="department"),  # type: ignore[arg-type]
        FundingRequest(batch_id="B1", amount_fen=100, route="treasury", filed_by="finance"),  # type: ignore[arg-type]
    ],
)
def test_a_malformed_request_is_refused(bad: FundingRequest) -> None:
    treasury = SimulatedTreasury()
    with pytest.raises(ValueError, match=r"funding|route|filed"):
        treasury.request_funding(bad)
    with pytest.raises(KeyError):
        treasury.funding_status("B1")


def test_the_same_seed_decides_the_same_way() -> None:
    def run(seed: int) -> list[str]:
        treasury = SimulatedTreasury(seed=seed, faults=Faults.typical())
        out = []
        for i in range(30):
            try:
                treasury.request_funding(request(batch_id=f"B{i}"))
            except TimeoutError:
                out.append("timeout")
                continue
            out.append(treasury.funding_status(f"B{i}").state)
        return out

    assert run(5) == run(5)
    assert run(5) != run(6)
