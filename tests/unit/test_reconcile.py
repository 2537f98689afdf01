"""Bank results are applied idempotently; unknown rows, other amounts and contradictions are refused and recorded."""

from __future__ import annotations

import polars as pl
import pytest

from tests.unit._workflow_fakes import BANK, MAKER, World, make_roster, snapshot
from yikatong.catalog import Catalog
from yikatong.errors import IllegalTransition, ReconciliationError
from yikatong.workflow import Actor


def results(*rows: tuple[int, str, int]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "row_id": [r[0] for r in rows],
            "outcome": [r[1] for r in rows],
            "amount_fen": [r[2] for r in rows],
            "reason_code": [None if r[1] == "paid" else "ACCOUNT_FROZEN" for r in rows],
            "reason": ["" if r[1] == "paid" else "账户冻结" for r in rows],
        },
        schema_overrides={"row_id": pl.Int64, "amount_fen": pl.Int64, "reason_code": pl.String},
    )


@pytest.fixture
def world(catalog: Catalog) -> World:
    return World(catalog)


def test_partial_results_are_applied_and_the_batch_keeps_disbursing(world: World) -> None:
    batch_id = world.to("disbursing")
    outcome = world.service.record_results(batch_id, results((1, "paid", 10_000), (2, "failed", 10_000)), actor=BANK)
    assert (outcome.applied, outcome.settled) == (2, False)
    statuses = dict(world.store.rows(batch_id).select("row_id", "status").iter_rows())
    assert statuses == {1: "paid", 2: "failed", 3: "sent", 4: "sent", 5: "sent"}


def test_the_batch_settles_when_every_sent_row_has_a_result(world: World) -> None:
    batch_id = world.to("disbursing")
    world.service.record_results(batch_id, results((1, "paid", 10_000), (2, "failed", 10_000)), actor=BANK)
    outcome = world.service.record_results(
        batch_id, results((3, "paid", 10_000), (4, "paid", 10_000), (5, "paid", 10_000)), actor=BANK
    )
    assert outcome.settled
    ledger = world.store.ledger().filter(pl.col("batch_id") == batch_id)
    sent = int(ledger["amount_fen"].sum())
    paid = int(ledger.filter(pl.col("status") == "paid")["amount_fen"].sum())
    failed = int(ledger.filter(pl.col("status") == "failed")["amount_fen"].sum())
    assert paid + failed == sent == world.store.batch(batch_id).funded_fen


def test_the_same_results_delivered_twice_change_nothing(world: World) -> None:
    batch_id = world.to("disbursing")
    delivery = results((1, "paid", 10_000), (2, "failed", 10_000))
    world.service.record_results(batch_id, delivery, actor=BANK)
    before = snapshot(world, batch_id)
    outcome = world.service.record_results(batch_id, delivery, actor=BANK)
    assert (outcome.applied, outcome.duplicates, outcome.exceptions.height) == (0, 2, 0)
    assert snapshot(world, batch_id) == before


def test_results_in_any_order_reach_the_same_end(world: World, catalog: Catalog) -> None:
    deliveries = [results((5, "paid", 10_000), (1, "failed", 10_000)), results((2, "paid", 10_000))]
    deliveries.append(results((3, "paid", 10_000), (4, "paid", 10_000)))
    ends = []
    for order in (deliveries, deliveries[::-1]):
        w = World(catalog)
        batch_id = w.to("disbursing")
        for delivery in order:
            w.service.record_results(batch_id, delivery, actor=BANK)
        ends.append((w.store.batch(batch_id).state, w.store.rows(batch_id).select("row_id", "status").rows()))
    assert ends[0] == ends[1]
    assert ends[0][0] == "settled"


def test_a_result_for_a_row_never_sent_is_refused_as_an_exception(world: World) -> None:
    batch_id = world.to("disbursing")
    outcome = world.service.record_results(batch_id, results((99, "paid", 10_000)), actor=BANK)
    assert outcome.applied == 0
    assert outcome.exceptions.select("row_id", "kind").rows() == [(99, "unknown_row")]
    assert world.store.exceptions(batch_id).height == 1
    assert set(world.store.rows(batch_id)["status"]) == {"sent"}


def test_a_result_with_a_different_amount_is_refused_as_an_exception(world: World) -> None:
    batch_id = world.to("disbursing")
    outcome = world.service.record_results(batch_id, results((1, "paid", 9_999)), actor=BANK)
    assert outcome.exceptions.select("kind", "amount_fen", "expected_fen").rows() == [
        ("amount_mismatch", 9_999, 10_000)
    ]
    assert world.store.rows(batch_id).filter(pl.col("row_id") == 1)["status"].item() == "sent"


def test_a_result_contradicting_an_earlier_final_result_is_refused(world: World) -> None:
    batch_id = world.to("disbursing")
    world.service.record_results(batch_id, results((1, "paid", 10_000)), actor=BANK)
    outcome = world.service.record_results(batch_id, results((1, "failed", 10_000)), actor=BANK)
    assert outcome.exceptions["kind"].to_list() == ["contradicts_final"]
    assert world.store.rows(batch_id).filter(pl.col("row_id") == 1)["status"].item() == "paid"
    assert world.store.ledger().filter(pl.col("row_id") == 1)["status"].item() == "paid"


def test_two_different_results_for_one_row_in_one_delivery_are_refused(world: World) -> None:
    batch_id = world.to("disbursing")
    outcome = world.service.record_results(batch_id, results((1, "paid", 10_000), (1, "failed", 10_000)), actor=BANK)
    assert set(outcome.exceptions["kind"]) == {"conflicting_delivery"}
    assert world.store.rows(batch_id).filter(pl.col("row_id") == 1)["status"].item() == "sent"


def test_a_refused_result_delivered_again_is_recorded_once(world: World) -> None:
    batch_id = world.to("disbursing")
    world.service.record_results(batch_id, results((99, "paid", 10_000)), actor=BANK)
    before = snapshot(world, batch_id)
    outcome = world.service.record_results(batch_id, results((99, "paid", 10_000)), actor=BANK)
    assert (outcome.exceptions.height, outcome.repeated_exceptions) == (0, 1)
    assert snapshot(world, batch_id) == before


def test_late_contradictions_after_settlement_are_still_recorded(world: World) -> None:
    batch_id = world.to("settled")
    outcome = world.service.record_results(batch_id, results((2, "failed", 10_000)), actor=BANK)
    assert outcome.exceptions["kind"].to_list() == ["contradicts_final"]
    assert world.store.batch(batch_id).state == "settled"


def test_results_before_the_bank_started_paying_are_illegal(world: World) -> None:
    batch_id = world.to("funded")
    with pytest.raises(IllegalTransition):
        world.service.record_results(batch_id, results((1, "paid", 10_000)), actor=BANK)


def test_results_without_the_required_columns_are_bad_input(world: World) -> None:
    batch_id = world.to("disbursing")
    with pytest.raises(ValueError, match="amount_fen"):
        world.service.record_results(batch_id, pl.DataFrame({"row_id": [1], "outcome": ["paid"]}), actor=BANK)


def test_funding_a_different_amount_than_was_sent_is_refused(world: World) -> None:
    batch_id = world.to("funding_requested")
    before = snapshot(world, batch_id)
    with pytest.raises(ReconciliationError, match="funded 40000 fen but 50000"):
        world.service.fund(batch_id, actor=Actor.treasury(), amount_fen=40_000)
    assert snapshot(world, batch_id) == before


def test_funded_equals_the_sum_of_the_rows_sent(world: World) -> None:
    roster = make_roster(4).with_columns(pl.Series("amount_fen", [10_000, 10_000, 5_000, 10_000]))
    batch_id = world.to("funded", roster)
    sent = world.store.rows(batch_id).filter(pl.col("status") == "sent")
    assert world.store.batch(batch_id).funded_fen == int(sent["amount_fen"].sum()) == 30_000
    assert world.bank.orders[batch_id].total_fen == 30_000
    assert MAKER.user == world.store.batch(batch_id).prepared_by


def test_an_empty_delivery_changes_nothing(world: World) -> None:
    batch_id = world.to("disbursing")
    before = snapshot(world, batch_id)
    outcome = world.service.record_results(batch_id, pl.DataFrame(), actor=BANK)
    assert (outcome.applied, outcome.duplicates, outcome.exceptions.height) == (0, 0, 0)
    assert snapshot(world, batch_id) == before


def test_an_account_number_in_the_banks_reason_is_masked_before_it_is_stored(world: World) -> None:
    batch_id = world.to("disbursing")
    delivery = results((1, "failed", 10_000)).with_columns(pl.lit("账户6217000012345678901已销户").alias("reason"))
    world.service.record_results(batch_id, delivery, actor=BANK)
    note = world.store.rows(batch_id).filter(pl.col("row_id") == 1)["note"].item()
    assert note == "账户****8901已销户"  # an account keeps at most its last four digits
