"""Corrections: returned rows, deadlines, correction batches, reissue, and never paying a key twice."""

from __future__ import annotations

import datetime as dt

import attrs
import polars as pl
import pytest

from tests.unit._workflow_fakes import AUDITOR, BANK, CHECKER, MAKER, START, World, make_roster
from yikatong.catalog import Catalog
from yikatong.errors import IllegalTransition, PermissionDenied, StoreError
from yikatong.records import LEDGER_SCHEMA, AuditEntry, Change
from yikatong.workflow import Actor


@pytest.fixture
def world(catalog: Catalog) -> World:
    return World(catalog)


def returned_world(world: World, failed: tuple[int, ...] = (2, 4)) -> str:
    batch_id = world.to("settled", failed=failed)
    world.service.return_failures(batch_id)
    return batch_id


def correction_rows(original: pl.DataFrame, row_ids: list[int]) -> pl.DataFrame:
    chosen = original.filter(pl.col("row_id").is_in(row_ids)).sort("row_id")
    return chosen.select(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("row_id"),
        "name",
        "id_number",
        pl.concat_str(pl.lit("6228"), pl.col("account").str.slice(4)).alias("account"),
        "amount_fen",
        "town",
        "village",
        pl.col("row_id").alias("corrects_row_id"),
    )


def walk(world: World, batch_id: str) -> None:
    s = world.service
    s.submit(batch_id, actor=MAKER)
    s.validate(batch_id)
    s.dispatch(batch_id)
    s.request_funding(batch_id, actor=CHECKER)
    if (
        s.batch(batch_id, actor=CHECKER).state == "funding_requested"
    ):  # the corrected batch's held money did not cover it
        s.fund(batch_id, actor=Actor.treasury(), amount_fen=world.treasury.requests[batch_id].amount_fen)
    s.disburse(batch_id, actor=BANK)
    s.record_results(batch_id, world.bank.pay_all(batch_id), actor=BANK)


def test_failed_rows_go_to_the_correction_queue_with_the_items_deadline(world: World) -> None:
    returned_world(world)
    queue = world.service.correction_queue(actor=MAKER)
    assert queue["row_id"].to_list() == [2, 4]
    # 高龄津贴 names correction_days = 15 in the example catalogue
    assert set(queue["deadline"]) == {START.date() + dt.timedelta(days=15)}
    assert not queue["overdue"].any()
    assert "id_number" not in queue.columns
    assert queue["id_masked"][0].count("*") == 8


def test_overdue_corrections_are_reported(world: World) -> None:
    returned_world(world)
    late = world.service.overdue_corrections(actor=AUDITOR, as_of=START.date() + dt.timedelta(days=16))
    assert late["row_id"].to_list() == [2, 4]
    assert world.service.overdue_corrections(actor=AUDITOR, as_of=START.date()).is_empty()


def test_the_service_default_deadline_applies_when_the_item_names_none(catalog: Catalog) -> None:
    item = catalog["GLJT"].model_copy(update={"correction_days": None})
    world = World(catalog.model_copy(update={"items": {**catalog.items, "GLJT": item}}))
    returned_world(world)
    assert set(world.service.correction_queue(actor=AUDITOR)["deadline"]) == {START.date() + dt.timedelta(days=15)}


def test_blocked_rows_are_returned_to_the_department_at_dispatch(world: World) -> None:
    roster = make_roster(3).with_columns(pl.Series("amount_fen", [10_000, 20_000, 10_000]))
    batch_id = world.to("dispatched", roster)
    row = world.store.rows(batch_id).filter(pl.col("row_id") == 2)
    assert row.select("status", "reason_code").row(0) == ("returned", "AMOUNT_STANDARD_MISMATCH")
    assert world.service.correction_queue(actor=AUDITOR)["row_id"].to_list() == [2]


def test_a_correction_batch_goes_through_the_flow_and_reissues_the_original_rows(world: World) -> None:
    original_id = returned_world(world)
    fix = correction_rows(world.store.rows(original_id), [2, 4])
    correction = world.service.create_correction(original_id, fix, actor=MAKER)
    assert correction.corrects == original_id
    assert (correction.item, correction.period) == ("GLJT", "2026-11")
    walk(world, correction.batch_id)
    statuses = dict(world.store.rows(original_id).select("row_id", "status").iter_rows())
    assert statuses == {1: "paid", 2: "reissued", 3: "paid", 4: "reissued", 5: "paid"}
    assert world.service.correction_queue(actor=AUDITOR).is_empty()
    assert world.service.verify_audit().ok


def test_a_correction_may_not_raise_the_amount(world: World) -> None:
    original_id = returned_world(world)
    fix = correction_rows(world.store.rows(original_id), [2]).with_columns(pl.lit(10_001).alias("amount_fen"))
    with pytest.raises(IllegalTransition, match="raise the amount"):
        world.service.create_correction(original_id, fix, actor=MAKER)
    assert len(world.store.batches()) == 1


def test_a_correction_may_not_change_the_person(world: World) -> None:
    original_id = returned_world(world)
    rows = world.store.rows(original_id)
    fix = correction_rows(rows, [2]).with_columns(pl.lit(rows["id_number"][0]).alias("id_number"))
    with pytest.raises(IllegalTransition, match="change the person"):
        world.service.create_correction(original_id, fix, actor=MAKER)


def test_a_correction_may_carry_only_returned_rows(world: World) -> None:
    original_id = returned_world(world)
    fix = correction_rows(world.store.rows(original_id), [1])
    with pytest.raises(IllegalTransition, match="not returned"):
        world.service.create_correction(original_id, fix, actor=MAKER)


def test_a_correction_must_name_the_rows_it_corrects(world: World) -> None:
    original_id = returned_world(world)
    fix = correction_rows(world.store.rows(original_id), [2]).drop("corrects_row_id")
    with pytest.raises(IllegalTransition, match="corrects_row_id"):
        world.service.create_correction(original_id, fix, actor=MAKER)


def test_a_returned_row_is_corrected_by_one_live_batch_at_a_time(world: World) -> None:
    original_id = returned_world(world)
    fix = correction_rows(world.store.rows(original_id), [2])
    first = world.service.create_correction(original_id, fix, actor=MAKER)
    with pytest.raises(IllegalTransition, match="another batch corrects"):
        world.service.create_correction(original_id, fix, actor=MAKER)
    world.service.cancel(first.batch_id, actor=MAKER, reason="重新整理")
    assert world.service.create_correction(original_id, fix, actor=MAKER).corrects == original_id


def test_another_department_may_not_correct_the_batch(world: World) -> None:
    original_id = returned_world(world)
    fix = correction_rows(world.store.rows(original_id), [2])
    with pytest.raises(PermissionDenied):
        world.service.create_correction(original_id, fix, actor=Actor("ny", "department", department="农业农村委"))


def test_a_person_already_in_flight_is_held_back_at_dispatch_not_paid_twice(world: World) -> None:
    first = world.to("dispatched")
    second = world.draft(make_roster(2))
    world.service.submit(second, actor=MAKER)
    # validated before the first batch's ledger entries existed would pass; simulate by validating now and
    # dispatching: DUP_ALREADY_PAID blocks at validation, and dispatch holds anything that slipped through.
    world.service.validate(second)
    rows = world.store.rows(second)
    assert set(rows["status"]) == {"blocked"}
    assert "DUP_ALREADY_PAID" in rows["reason_code"][0]
    active = world.store.ledger().filter(pl.col("status").is_in(["sent", "paid"]))
    assert active.select("id_number", "item", "period").is_duplicated().sum() == 0
    assert first != second


def test_dispatch_holds_a_row_whose_key_was_sent_after_validation(world: World) -> None:
    second = world.draft(make_roster(2))
    world.service.submit(second, actor=MAKER)
    world.service.validate(second)
    first = world.to("dispatched")
    with pytest.raises(IllegalTransition, match="no row can be paid"):
        world.service.dispatch(second)
    assert world.store.batch(second).state == "validated"
    assert world.store.batch(first).state == "dispatched"


def test_dispatch_sends_the_rest_and_holds_the_clashing_rows(world: World) -> None:
    second = world.draft(make_roster(3, start=4))
    world.service.submit(second, actor=MAKER)
    world.service.validate(second)
    world.to("dispatched", make_roster(1, start=4))
    outcome = world.service.dispatch(second)
    assert (outcome.order.count, outcome.held) == (2, 1)
    held = world.store.rows(second).filter(pl.col("row_id") == 1)
    assert held.select("status", "reason_code").row(0) == ("blocked", "DUP_ALREADY_PAID")


def test_the_store_refuses_a_second_active_ledger_entry_for_the_same_key(world: World) -> None:
    batch_id = world.to("dispatched")
    record = world.store.batch(batch_id)
    entry = world.store.ledger().head(1).with_columns(pl.lit(99, pl.Int64).alias("row_id"))
    head = world.store.audit_head()
    assert isinstance(head, AuditEntry)
    before = world.store.commits
    with pytest.raises(StoreError, match="twice"):
        world.store.commit(
            Change(
                batch=attrs.evolve(record, version=record.version + 1),
                expected_version=record.version,
                ledger=entry.cast(pl.Schema(LEDGER_SCHEMA)),
            )
        )
    assert world.store.commits == before
    assert world.store.ledger().height == 5


def test_one_person_under_a_15_and_an_18_digit_id_is_one_ledger_key(world: World) -> None:
    world.to("dispatched", make_roster(1, start=11))
    second = world.draft(make_roster(1, start=11).with_columns(pl.lit("500241400101011").alias("id_number")))
    world.service.submit(second, actor=MAKER)
    world.service.validate(second)
    world.service.confirm_reviews(
        second, pl.DataFrame({"row_id": [1], "decision": ["pass"], "reason": ["一代证已核实"]}), actor=CHECKER
    )
    with pytest.raises(IllegalTransition, match="no row can be paid"):
        world.service.dispatch(second)
    active = world.store.ledger().filter(pl.col("status") == "sent")
    assert active["id_number"].to_list() == ["500241194001010118"]


def test_a_correction_may_upgrade_a_15_digit_id_of_the_same_person(world: World) -> None:
    roster = make_roster(2).with_columns(
        pl.when(pl.col("row_id") == 2).then(pl.lit("500241400101011")).otherwise(pl.col("id_number")).alias("id_number")
    )
    batch_id = world.to("validated", roster)
    world.service.confirm_reviews(
        batch_id, pl.DataFrame({"row_id": [2], "decision": ["block"], "reason": ["请换发二代证号"]}), actor=CHECKER
    )
    world.service.dispatch(batch_id)
    fix = correction_rows(world.store.rows(batch_id), [2]).with_columns(pl.lit("500241194001010118").alias("id_number"))
    assert world.service.create_correction(batch_id, fix, actor=MAKER).corrects == batch_id


def test_a_correction_that_fails_again_is_corrected_in_turn_and_reissues_the_whole_chain(world: World) -> None:
    original_id = returned_world(world, failed=(2,))
    first = world.service.create_correction(
        original_id, correction_rows(world.store.rows(original_id), [2]), actor=MAKER
    ).batch_id
    s = world.service
    s.submit(first, actor=MAKER)
    s.validate(first)
    s.dispatch(first)
    assert s.request_funding(first, actor=CHECKER).state == "funded", "the original's failed row's money covers it"
    s.disburse(first, actor=BANK)
    s.record_results(first, world.bank.pay_all(first, failed=(1,)), actor=BANK)
    s.return_failures(first)
    queue = s.correction_queue(actor=AUDITOR)
    assert queue.select("batch_id", "row_id").rows() == [(first, 1)]
    with pytest.raises(IllegalTransition, match="another batch corrects"):
        s.create_correction(original_id, correction_rows(world.store.rows(original_id), [2]), actor=MAKER)
    second = s.create_correction(first, correction_rows(world.store.rows(first), [1]), actor=MAKER).batch_id
    assert s.correction_queue(actor=AUDITOR).is_empty()
    walk(world, second)
    assert world.store.rows(original_id).filter(pl.col("row_id") == 2)["status"].item() == "reissued"
    assert world.store.rows(first)["status"].to_list() == ["reissued"]
    assert s.correction_queue(actor=AUDITOR).is_empty()
