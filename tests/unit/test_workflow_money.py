"""Money after payment: reversals (退汇), withdrawal of unfunded orders, corrections drawing on held money, refunds."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from tests.unit._workflow_fakes import BANK, CHECKER, FINANCE, MAKER, START, World, snapshot
from yikatong.catalog import Catalog
from yikatong.errors import IllegalTransition, PermissionDenied, ReconciliationError, WithdrawalRefused
from yikatong.records import FundingStatus
from yikatong.workflow import Actor
from yikatong.workflow.funds import batch_money, money_totals, records_frame
from yikatong.workflow.invariants import check_invariants

LATE = START.date() + dt.timedelta(days=60)  # past every correction deadline


@pytest.fixture
def world(catalog: Catalog) -> World:
    return World(catalog)


def reversal(world: World, batch_id: str, row_ids: list[int], *, with_payment: bool = True) -> pl.DataFrame:
    """The bank's results with ``row_ids`` reversed (退汇), the earlier payments reported beside them."""
    paid = world.bank.pay_all(batch_id).filter(pl.col("row_id").is_in(row_ids))
    back = paid.with_columns(
        outcome=pl.lit("reversed"), reason_code=pl.lit("ACCOUNT_CLOSED"), reason=pl.lit("账户已销户，款项退回")
    )
    return pl.concat([paid, back]) if with_payment else back


def money(world: World) -> pl.DataFrame:
    return batch_money(records_frame(world.store.batches()), world.store.ledger())


def held(world: World, batch_id: str) -> int:
    return int(money(world).filter(pl.col("batch_id") == batch_id)["held_fen"][0])


def correct(world: World, batch_id: str, row_ids: list[int]) -> str:
    original = world.store.rows(batch_id).filter(pl.col("row_id").is_in(row_ids)).sort("row_id")
    roster = original.select(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("row_id"),
        "name",
        "id_number",
        "account",
        "amount_fen",
        "town",
        "village",
        pl.col("row_id").alias("corrects_row_id"),
    )
    fix = world.service.create_correction(batch_id, roster, actor=MAKER).batch_id
    world.service.submit(fix, actor=MAKER)
    world.service.validate(fix)
    world.service.dispatch(fix)
    return fix


# -- 退汇: a paid row reversed ------------------------------------------------------------------------------------


def test_a_reversal_moves_a_paid_row_to_reversed_and_frees_its_ledger_key(world: World) -> None:
    batch_id = world.to("settled")
    outcome = world.service.record_results(batch_id, reversal(world, batch_id, [3]), actor=BANK)
    assert outcome.applied == 1
    assert outcome.exceptions.is_empty()
    row = world.store.rows(batch_id).filter(pl.col("row_id") == 3).row(0, named=True)
    assert (row["status"], row["reason_code"]) == ("reversed", "ACCOUNT_CLOSED")
    assert world.store.ledger().filter(pl.col("row_id") == 3)["status"].item() == "reversed"
    audit = world.store.audit()[-1]
    assert audit.action == "record_results"
    assert '"reversed":1' in audit.details.replace(" ", "")
    assert check_invariants(world.store) == []


def test_a_reversed_row_goes_back_to_the_department_with_a_deadline(world: World) -> None:
    batch_id = world.to("settled")
    world.service.return_failures(batch_id)
    world.service.publish(batch_id, actor=CHECKER)
    world.service.record_results(batch_id, reversal(world, batch_id, [2]), actor=BANK)
    with pytest.raises(IllegalTransition):
        world.service.publish(batch_id, actor=CHECKER)  # already published: a reversal does not reopen it
    world.service.return_failures(batch_id)
    queue = world.service.correction_queue(actor=MAKER)
    assert queue.select("batch_id", "row_id", "reason_code").rows() == [(batch_id, 2, "ACCOUNT_CLOSED")]
    assert queue["deadline"].item() == START.date() + dt.timedelta(days=15)
    assert check_invariants(world.store, final=True) == []


def test_a_reversal_before_the_payment_was_recorded_moves_the_row_through_paid(world: World) -> None:
    batch_id = world.to("disbursing")
    results = pl.concat([world.bank.pay_all(batch_id).filter(pl.col("row_id") != 1), reversal(world, batch_id, [1])])
    outcome = world.service.record_results(batch_id, results, actor=BANK)
    assert outcome.settled
    assert world.store.rows(batch_id).sort("row_id")["status"].to_list() == ["reversed", *["paid"] * 4]


def test_the_same_reversal_delivered_again_changes_nothing(world: World) -> None:
    batch_id = world.to("settled")
    world.service.record_results(batch_id, reversal(world, batch_id, [3]), actor=BANK)
    before = snapshot(world, batch_id)
    again = world.service.record_results(batch_id, reversal(world, batch_id, [3], with_payment=False), actor=BANK)
    assert (again.applied, again.duplicates) == (0, 1)
    assert snapshot(world, batch_id) == before


@pytest.mark.parametrize(
    ("first", "then"),
    [("failed", "reversed"), ("failed", "paid"), ("reversed", "failed")],
    ids=["failed-then-reversed", "failed-then-paid", "reversed-then-failed"],
)
def test_true_contradictions_stay_refused(world: World, first: str, then: str) -> None:
    batch_id = world.to("settled", failed=(2,) if first == "failed" else ())
    if first == "reversed":
        world.service.record_results(batch_id, reversal(world, batch_id, [2]), actor=BANK)
    late = world.bank.pay_all(batch_id).filter(pl.col("row_id") == 2).with_columns(outcome=pl.lit(then))
    outcome = world.service.record_results(batch_id, late, actor=BANK)
    assert outcome.exceptions["kind"].to_list() == ["contradicts_final"]
    assert world.store.rows(batch_id).filter(pl.col("row_id") == 2)["status"].item() == first


def test_a_reversal_of_another_amount_is_refused(world: World) -> None:
    batch_id = world.to("settled")
    wrong = reversal(world, batch_id, [3], with_payment=False).with_columns(amount_fen=pl.lit(1))
    outcome = world.service.record_results(batch_id, wrong, actor=BANK)
    assert outcome.exceptions["kind"].to_list() == ["amount_mismatch"]
    assert world.store.rows(batch_id).filter(pl.col("row_id") == 3)["status"].item() == "paid"


def test_a_reversed_person_can_be_paid_again_by_a_correction(world: World) -> None:
    batch_id = world.to("settled")
    world.service.record_results(batch_id, reversal(world, batch_id, [4]), actor=BANK)
    world.service.return_failures(batch_id)
    fix = correct(world, batch_id, [4])
    assert world.store.rows(fix)["status"].to_list() == ["sent"], "the reversed key is free again"


# -- withdrawal: 原渠道退回 after dispatch ----------------------------------------------------------------------


def test_sending_back_a_dispatched_batch_withdraws_its_order_from_the_bank(world: World) -> None:
    batch_id = world.to("funding_requested")
    world.service.send_back(batch_id, actor=FINANCE, reason="预算指标不足")
    assert world.bank.withdrawn == [batch_id]
    assert set(world.store.rows(batch_id)["status"]) == {"withdrawn"}
    assert '"order_withdrawn":true' in world.store.audit()[-1].details.replace(" ", "")


def test_cancelling_a_dispatched_batch_withdraws_its_order(world: World) -> None:
    batch_id = world.to("dispatched")
    world.service.cancel(batch_id, actor=MAKER, reason="名单有误")
    assert world.bank.withdrawn == [batch_id]


def test_a_batch_not_yet_dispatched_has_no_order_to_withdraw(world: World) -> None:
    batch_id = world.to("validated")
    world.service.cancel(batch_id, actor=MAKER, reason="名单有误")
    assert world.bank.withdrawn == []


def test_a_send_back_the_bank_refuses_because_the_money_arrived_changes_nothing(world: World) -> None:
    batch_id = world.to("funding_requested")
    world.bank.funded.add(batch_id)
    before = snapshot(world, batch_id)
    with pytest.raises(WithdrawalRefused):
        world.service.send_back(batch_id, actor=FINANCE, reason="预算指标不足")
    assert snapshot(world, batch_id) == before


# -- corrections draw on held money -----------------------------------------------------------------------------


def test_a_correction_covered_by_the_money_its_parent_holds_is_funded_without_the_treasury(world: World) -> None:
    batch_id = world.to("settled", failed=(2, 4))
    world.service.return_failures(batch_id)
    assert held(world, batch_id) == 20_000
    fix = correct(world, batch_id, [2])
    record = world.service.request_funding(fix, actor=CHECKER)
    assert (record.state, record.drawn_fen, record.funded_fen) == ("funded", 10_000, 0)
    assert fix not in world.treasury.requests
    assert held(world, batch_id) == 10_000
    assert check_invariants(world.store) == []


def test_a_correction_of_a_failed_correction_reuses_the_money_the_failed_one_holds(world: World) -> None:
    batch_id = world.to("settled", failed=(2, 4))
    world.service.return_failures(batch_id)
    first = correct(world, batch_id, [2])
    world.service.request_funding(first, actor=CHECKER)
    world.service.refund(batch_id, as_of=LATE)  # row 4's money goes back: its deadline passed
    assert held(world, batch_id) == 0
    world.service.disburse(first, actor=BANK)
    world.service.record_results(first, world.bank.pay_all(first, failed=(1,)), actor=BANK)
    world.service.return_failures(first)
    again = correct(world, first, [1])
    record = world.service.request_funding(again, actor=CHECKER)
    assert (record.state, record.drawn_fen) == ("funded", 10_000), "the failed correction's money is reused"
    assert check_invariants(world.store) == []


def test_a_partly_covered_correction_is_funded_for_the_difference(world: World) -> None:
    batch_id = world.to("settled", failed=(2, 4))
    world.service.return_failures(batch_id)
    world.service.refund(batch_id, as_of=LATE)
    assert held(world, batch_id) == 0
    fix = correct(world, batch_id, [2, 4])
    record = world.service.request_funding(fix, actor=CHECKER)
    assert (record.state, record.drawn_fen) == ("funding_requested", 0)
    assert world.treasury.requests[fix].amount_fen == 20_000
    with pytest.raises(ReconciliationError, match="requested"):
        world.service.fund(fix, actor=Actor.treasury(), amount_fen=10_000)
    world.treasury.status[fix] = FundingStatus("funded", 20_000)
    assert world.service.poll_funding(fix).funded_fen == 20_000


def test_a_refused_funding_releases_what_the_correction_drew(world: World) -> None:
    batch_id = world.to("settled", failed=(2, 4))
    world.service.return_failures(batch_id)
    world.service.refund(batch_id, as_of=LATE)
    fix = correct(world, batch_id, [2])
    world.service.request_funding(fix, actor=CHECKER)
    world.service.refuse_funding(fix, actor=Actor.treasury(), reason="预算指标不足")
    assert world.store.batch(fix).drawn_fen == 0
    assert check_invariants(world.store) == []


# -- refunds --------------------------------------------------------------------------------------------------


def test_money_no_correction_reused_by_the_deadline_is_refunded(world: World) -> None:
    batch_id = world.to("settled", failed=(2, 4))
    world.service.return_failures(batch_id)
    assert world.service.refundable_fen(batch_id) == 0, "both rows are still within their deadline"
    with pytest.raises(IllegalTransition, match="nothing to refund"):
        world.service.refund(batch_id)
    record = world.service.refund(batch_id, as_of=LATE)
    assert record.refunded_fen == 20_000
    (refund,) = world.treasury.refunds.values()
    assert (refund.batch_id, refund.amount_fen, refund.route) == (batch_id, 20_000, "treasury")
    assert held(world, batch_id) == 0
    assert money_totals(money(world)) == {
        "funded_fen": 50_000,
        "paid_fen": 30_000,
        "reversed_fen": 0,
        "held_fen": 0,
        "refunded_fen": 20_000,
    }
    refunds = pl.DataFrame({"batch_id": [batch_id], "amount_fen": [20_000]})
    assert check_invariants(world.store, treasury_refunds=refunds, final=True) == []


def test_rows_carried_by_a_correction_that_has_not_drawn_are_not_refunded(world: World) -> None:
    batch_id = world.to("settled", failed=(2, 4))
    world.service.return_failures(batch_id)
    correct(world, batch_id, [2])
    assert world.service.refundable_fen(batch_id, as_of=LATE) == 10_000


def test_only_the_system_or_finance_may_refund(world: World) -> None:
    batch_id = world.to("settled", failed=(2,))
    world.service.return_failures(batch_id)
    with pytest.raises(PermissionDenied):
        world.service.refund(batch_id, actor=CHECKER, as_of=LATE)
    assert world.service.refund(batch_id, actor=FINANCE, as_of=LATE).refunded_fen == 10_000


def test_the_money_identity_holds_through_a_reversal_a_correction_and_a_refund(world: World) -> None:
    batch_id = world.to("settled", failed=(2,))
    world.service.record_results(batch_id, reversal(world, batch_id, [5]), actor=BANK)
    world.service.return_failures(batch_id)
    fix = correct(world, batch_id, [5])
    world.service.request_funding(fix, actor=CHECKER)
    world.service.disburse(fix, actor=BANK)
    world.service.record_results(fix, world.bank.pay_all(fix), actor=BANK)
    world.service.refund(batch_id, as_of=LATE)
    totals = money_totals(money(world))
    assert totals == {
        "funded_fen": 50_000,
        "paid_fen": 50_000,
        "reversed_fen": 10_000,
        "held_fen": 0,
        "refunded_fen": 10_000,
    }
    assert totals["funded_fen"] == (
        totals["paid_fen"] - totals["reversed_fen"] + totals["held_fen"] + totals["refunded_fen"]
    )
    assert check_invariants(world.store, final=True) == []


def test_paying_a_correction_of_a_reversed_correction_row_leaves_the_first_reissue_as_it_is(world: World) -> None:
    s = world.service
    original = world.to("settled", failed=(2,))
    s.return_failures(original)
    first = correct(world, original, [2])
    assert s.request_funding(first, actor=CHECKER).state == "funded"  # the held money covers it
    s.disburse(first, actor=BANK)
    s.record_results(first, world.bank.pay_all(first), actor=BANK)
    assert world.store.rows(original).filter(pl.col("row_id") == 2)["status"].item() == "reissued"
    s.record_results(first, reversal(world, first, [1]), actor=BANK)  # the corrected payment came back (退汇)
    s.return_failures(first)
    second = correct(world, first, [1])
    assert s.request_funding(second, actor=CHECKER).state == "funded"
    s.disburse(second, actor=BANK)
    outcome = s.record_results(second, world.bank.pay_all(second), actor=BANK)
    assert outcome.settled
    assert world.store.rows(first)["status"].to_list() == ["reissued"]
    assert world.store.rows(original).filter(pl.col("row_id") == 2)["status"].item() == "reissued"
    assert check_invariants(world.store) == []
