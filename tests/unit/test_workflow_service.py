"""The service: validation verdicts become row statuses, reviews are decided and audited, ports fail safely."""

from __future__ import annotations

import json
import re

import polars as pl
import pytest

from tests.unit._workflow_fakes import AUDITOR, BANK, CHECKER, FINANCE, MAKER, World, make_roster, snapshot
from yikatong.catalog import Catalog
from yikatong.errors import IllegalTransition, PeriodKindError, PermissionDenied, StoreError
from yikatong.ports import Store
from yikatong.workflow import Actor
from yikatong.workflow._core import ServiceCore

FIFTEEN_DIGIT_ID = "500241400101011"


@pytest.fixture
def world(catalog: Catalog) -> World:
    return World(catalog)


def review_roster() -> pl.DataFrame:
    roster = make_roster(4)
    return roster.with_columns(
        pl.when(pl.col("row_id") == 2).then(pl.lit(FIFTEEN_DIGIT_ID)).otherwise(pl.col("id_number")).alias("id_number"),
        pl.when(pl.col("row_id") == 3).then(pl.lit(20_000)).otherwise(pl.col("amount_fen")).alias("amount_fen"),
    )


def test_the_memory_store_satisfies_the_store_port(world: World) -> None:
    assert isinstance(world.store, Store)


def test_validation_verdicts_become_row_statuses(world: World) -> None:
    batch_id = world.to("submitted", review_roster())
    report = world.service.validate(batch_id)
    assert report.counts_by_verdict == {"pass": 2, "review": 1, "block": 1}
    rows = world.store.rows(batch_id).sort("row_id")
    assert rows["status"].to_list() == ["passed", "review", "blocked", "passed"]
    assert rows["verdict"].to_list() == ["pass", "review", "block", "pass"]
    assert rows["reason_code"].to_list()[1:3] == ["ID_15_DIGIT", "AMOUNT_STANDARD_MISMATCH"]
    assert world.store.batch(batch_id).state == "validated"


def test_a_batch_level_block_rejects_the_batch_and_withdraws_its_rows(world: World) -> None:
    batch_id = world.service.create_batch(
        make_roster(3), item="GLJT", period="2026-11", actor=MAKER, declared_total_fen=99_999
    ).batch_id
    world.service.submit(batch_id, actor=MAKER)
    report = world.service.validate(batch_id)
    assert report.batch_blocked
    record = world.store.batch(batch_id)
    assert (record.state, record.reason) == ("rejected", "BATCH_TOTAL_MISMATCH")
    assert set(world.store.rows(batch_id)["status"]) == {"withdrawn"}


def test_rows_awaiting_review_stop_dispatch(world: World) -> None:
    batch_id = world.to("validated", review_roster())
    before = snapshot(world, batch_id)
    with pytest.raises(IllegalTransition, match="1 rows still await review"):
        world.service.dispatch(batch_id)
    assert snapshot(world, batch_id) == before
    assert world.bank.orders == {}


def test_a_checker_confirms_or_rejects_review_rows_with_an_audited_reason(world: World) -> None:
    batch_id = world.to("validated", review_roster())
    decisions = pl.DataFrame({"row_id": [2], "decision": ["pass"], "reason": ["已核实户籍，一代证升位无误"]})
    world.service.confirm_reviews(batch_id, decisions, actor=CHECKER)
    row = world.store.rows(batch_id).filter(pl.col("row_id") == 2)
    assert row.select("status", "note").row(0) == ("passed", "已核实户籍，一代证升位无误")
    entry = world.store.audit()[-1]
    assert (entry.action, entry.actor, entry.role) == ("confirm_reviews", CHECKER.user, "department")
    assert json.loads(entry.details)["decisions"] == [
        {"row_id": 2, "to": "passed", "note": "已核实户籍，一代证升位无误"}
    ]
    outcome = world.service.dispatch(batch_id)
    assert (outcome.order.count, outcome.returned) == (3, 1)


def test_a_review_decision_needs_a_reason(world: World) -> None:
    batch_id = world.to("validated", review_roster())
    decisions = pl.DataFrame({"row_id": [2], "decision": ["pass"], "reason": [" "]})
    with pytest.raises(IllegalTransition, match="reason"):
        world.service.confirm_reviews(batch_id, decisions, actor=CHECKER)


def test_only_rows_in_review_can_be_decided(world: World) -> None:
    batch_id = world.to("validated", review_roster())
    before = snapshot(world, batch_id)
    decisions = pl.DataFrame({"row_id": [3], "decision": ["pass"], "reason": ["强行通过"]})
    with pytest.raises(IllegalTransition, match="not awaiting review"):
        world.service.confirm_reviews(batch_id, decisions, actor=CHECKER)
    assert snapshot(world, batch_id) == before


def test_a_rejected_review_row_is_returned_at_dispatch(world: World) -> None:
    batch_id = world.to("validated", review_roster())
    decisions = pl.DataFrame({"row_id": [2], "decision": ["block"], "reason": ["户籍核实不符"]})
    world.service.confirm_reviews(batch_id, decisions, actor=CHECKER)
    world.service.dispatch(batch_id)
    statuses = world.store.rows(batch_id).sort("row_id")["status"].to_list()
    assert statuses == ["sent", "returned", "returned", "sent"]


class TimingOutBank:
    """A bank that never answers."""

    def verify_accounts(self, rows: pl.DataFrame) -> pl.DataFrame:
        raise TimeoutError("bank did not answer")

    def submit(self, order: object) -> None:
        raise TimeoutError("bank did not answer")

    def withdraw(self, batch_id: str) -> None:
        raise TimeoutError("bank did not answer")

    def results(self, batch_id: str) -> pl.DataFrame:
        raise TimeoutError("bank did not answer")


def test_a_bank_timeout_during_dispatch_changes_nothing_and_dispatch_can_be_retried(world: World) -> None:
    batch_id = world.to("validated")
    before = snapshot(world, batch_id)
    real = world.service.bank
    world.service.bank = TimingOutBank()
    with pytest.raises(TimeoutError):
        world.service.dispatch(batch_id)
    assert snapshot(world, batch_id) == before
    world.service.bank = real
    assert world.service.dispatch(batch_id).record.state == "dispatched"


def test_a_bank_timeout_during_validation_or_polling_changes_nothing(world: World) -> None:
    batch_id = world.to("submitted")
    world.service.bank = TimingOutBank()
    before = snapshot(world, batch_id)
    with pytest.raises(TimeoutError):
        world.service.validate(batch_id)
    assert snapshot(world, batch_id) == before


def test_poll_results_fetches_from_the_bank(world: World) -> None:
    batch_id = world.to("disbursing")
    world.bank.pending_results[batch_id] = world.bank.pay_all(batch_id, failed=(3,))
    outcome = world.service.poll_results(batch_id, actor=BANK)
    assert outcome.settled
    assert outcome.applied == 5


def test_a_store_conflict_refuses_a_step_computed_from_an_old_version(world: World) -> None:
    batch_id = world.to("draft")
    stale = world.store.batch(batch_id)
    world.service.submit(batch_id, actor=MAKER)
    with pytest.raises(StoreError, match="changed meanwhile"):
        ServiceCore._commit(
            world.service, stale, state="cancelled", at=world.clock.now(), actor=CHECKER, action="cancel"
        )


def test_no_full_id_or_account_leaves_the_workflow(world: World) -> None:
    roster = review_roster()
    ids = set(roster["id_number"]) | set(roster["account"])
    batch_id = world.to("validated", roster)
    decisions = pl.DataFrame({"row_id": [2], "decision": ["block"], "reason": [f"证号{FIFTEEN_DIGIT_ID}与户籍不符"]})
    world.service.confirm_reviews(batch_id, decisions, actor=CHECKER)
    world.service.dispatch(batch_id)
    world.service.request_funding(batch_id, actor=CHECKER)
    world.service.fund(batch_id, actor=Actor.treasury(), amount_fen=20_000)
    world.service.disburse(batch_id, actor=BANK)
    world.service.record_results(batch_id, world.bank.pay_all(batch_id, failed=(1,)), actor=BANK)
    world.service.record_results(
        batch_id, pl.DataFrame({"row_id": [77], "outcome": ["paid"], "amount_fen": [1]}), actor=BANK
    )
    world.service.return_failures(batch_id)
    notice = world.service.publish(batch_id, actor=CHECKER)
    messages: list[str] = []
    for attempt in (
        lambda: world.service.cancel(batch_id, actor=CHECKER, reason="x"),
        lambda: world.service.send_back(batch_id, actor=FINANCE, reason="x"),
        lambda: world.service.dispatch(batch_id),
    ):
        with pytest.raises((IllegalTransition, PermissionDenied)) as info:
            attempt()
        messages.append(str(info.value))
    produced = "\n".join(
        [
            *(json.dumps([e.reason, e.details], ensure_ascii=False) for e in world.store.audit()),
            world.store.exceptions().write_csv(),
            notice.rows.write_csv(),
            "" if notice.totals is None else notice.totals.write_csv(),
            world.service.correction_queue(actor=AUDITOR).write_csv(),
            *messages,
        ]
    )
    assert not any(value in produced for value in ids)
    assert not re.search(r"[0-9]{13,}", produced)


class CountingBank:
    """Counts how often results were asked for."""

    def __init__(self) -> None:
        self.asked = 0

    def verify_accounts(self, rows: pl.DataFrame) -> pl.DataFrame:
        return rows.select("row_id", pl.lit(True).alias("verified"))

    def submit(self, order: object) -> None:
        return None

    def withdraw(self, batch_id: str) -> None:
        return None

    def results(self, batch_id: str) -> pl.DataFrame:
        self.asked += 1
        return pl.DataFrame()


def test_results_are_not_fetched_for_a_caller_who_would_be_refused(world: World) -> None:
    batch_id = world.to("funded")
    counting = CountingBank()
    world.service.bank = counting
    with pytest.raises(IllegalTransition):
        world.service.poll_results(batch_id, actor=BANK)
    world.service.disburse(batch_id, actor=BANK)
    with pytest.raises(PermissionDenied):
        world.service.poll_results(batch_id, actor=FINANCE)
    assert counting.asked == 0
    world.service.poll_results(batch_id, actor=BANK)
    assert counting.asked == 1


def test_payments_made_before_the_store_existed_block_a_second_payment(catalog: Catalog) -> None:
    roster = make_roster(3)
    paid_before = roster.filter(pl.col("row_id") == 2).select(
        "id_number",
        pl.lit("GLJT").alias("item"),
        pl.lit("2026-11").alias("period"),
        "amount_fen",
        pl.lit("paid").alias("status"),
    )
    world = World(catalog, history=paid_before)
    batch_id = world.to("validated", roster)
    rows = world.store.rows(batch_id).sort("row_id")
    assert rows["status"].to_list() == ["passed", "blocked", "passed"]
    assert rows["reason_code"][1] == "DUP_ALREADY_PAID"


def test_a_batch_for_a_period_of_another_kind_than_the_items_is_refused(world: World) -> None:
    with pytest.raises(PeriodKindError, match=r"期间类型不符.*GLJT.*/ period kind mismatch"):
        world.service.create_batch(make_roster(2), item="GLJT", period="2026-Q4", actor=MAKER)
    assert world.store.batches() == ()
