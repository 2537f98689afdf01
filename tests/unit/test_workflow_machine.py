"""The batch life cycle: who may move a batch where, and that every refusal changes nothing."""

from __future__ import annotations

import polars as pl
import pytest

from tests.unit._workflow_fakes import BANK, CHECKER, FINANCE, MAKER, TOWN, World, make_roster, snapshot
from yikatong.catalog import Catalog
from yikatong.errors import IllegalTransition, PermissionDenied
from yikatong.records import FundingStatus
from yikatong.workflow import STATES, TRANSITIONS, Actor

PATH = ["draft", "submitted", "validated", "dispatched", "funding_requested", "funded", "disbursing", "settled"]


def test_the_machine_declares_every_state_and_only_known_states() -> None:
    used = {s for t in TRANSITIONS for s in (*t.sources, t.dest)}
    assert used == set(STATES)


def test_a_batch_walks_the_whole_life_cycle_and_is_published(catalog: Catalog) -> None:
    world = World(catalog)
    batch_id = world.to("settled")
    world.service.return_failures(batch_id)
    notice = world.service.publish(batch_id, actor=CHECKER)
    assert world.store.batch(batch_id).state == "published"
    assert notice.rows.height == 5
    assert [e.action for e in world.store.audit()] == [
        "create",
        "submit",
        "validate",
        "dispatch",
        "request_funding",
        "fund",
        "disburse",
        "record_results",
        "return_failures",
        "publish",
    ]
    assert world.service.verify_audit().ok


@pytest.mark.parametrize("state", PATH)
def test_a_trigger_from_the_wrong_state_is_illegal_and_changes_nothing(catalog: Catalog, state: str) -> None:
    world = World(catalog)
    batch_id = world.to(state)
    before = snapshot(world, batch_id)

    def wrong() -> object:
        if state in ("funded", "disbursing"):
            return world.service.fund(batch_id, actor=Actor.treasury(), amount_fen=50_000)
        return world.service.disburse(batch_id, actor=BANK)

    with pytest.raises(IllegalTransition):
        wrong()
    assert snapshot(world, batch_id) == before


def test_the_maker_may_not_confirm_reviews_of_its_own_batch(catalog: Catalog) -> None:
    world = World(catalog)
    batch_id = world.to("validated")
    before = snapshot(world, batch_id)
    decisions = pl.DataFrame(schema={"row_id": pl.Int64, "decision": pl.String, "reason": pl.String})
    with pytest.raises(PermissionDenied, match="maker-checker"):
        world.service.confirm_reviews(batch_id, decisions, actor=MAKER)
    assert snapshot(world, batch_id) == before


def test_the_maker_may_not_request_funding_for_its_own_batch(catalog: Catalog) -> None:
    world = World(catalog)
    batch_id = world.to("dispatched")
    with pytest.raises(PermissionDenied, match="maker-checker"):
        world.service.request_funding(batch_id, actor=MAKER)
    assert world.treasury.requests == {}


def test_another_department_may_not_touch_the_batch(catalog: Catalog) -> None:
    world = World(catalog)
    batch_id = world.to("draft")
    stranger = Actor("ny-clerk", "department", department="农业农村委")
    with pytest.raises(PermissionDenied, match="belongs to 民政局"):
        world.service.submit(batch_id, actor=stranger)
    with pytest.raises(PermissionDenied):
        world.service.cancel(batch_id, actor=stranger, reason="x")
    assert world.store.batch(batch_id).state == "draft"


def test_a_town_files_the_funding_request_for_a_batch_of_its_own_town(catalog: Catalog) -> None:
    world = World(catalog)
    batch_id = world.to("dispatched")
    record = world.service.request_funding(batch_id, actor=TOWN, route="zero_balance")
    assert (record.state, record.funding_filed_by, record.funding_route) == (
        "funding_requested",
        "town",
        "zero_balance",
    )
    assert world.treasury.requests[batch_id].filed_by == "town"


def test_a_town_may_not_file_for_a_batch_outside_its_jurisdiction(catalog: Catalog) -> None:
    world = World(catalog)
    batch_id = world.to("dispatched")
    with pytest.raises(PermissionDenied, match="town"):
        world.service.request_funding(batch_id, actor=Actor("t2", "town", town="龙池镇"))


def test_a_batch_spanning_several_towns_has_no_town_to_file_for_it(catalog: Catalog) -> None:
    world = World(catalog)
    roster = make_roster(4).with_columns(pl.Series("town", ["中和街道", "中和街道", "龙池镇", "龙池镇"]))
    batch_id = world.to("dispatched", roster)
    assert world.store.batch(batch_id).town is None
    with pytest.raises(PermissionDenied):
        world.service.request_funding(batch_id, actor=TOWN)


def test_another_bank_may_not_report_on_the_batch(catalog: Catalog) -> None:
    world = World(catalog)
    batch_id = world.service.create_batch(
        make_roster(3), item="GLJT", period="2026-11", actor=MAKER, bank="RCC"
    ).batch_id
    world.service.submit(batch_id, actor=MAKER)
    world.service.validate(batch_id)
    world.service.dispatch(batch_id)
    world.service.request_funding(batch_id, actor=CHECKER)
    world.treasury.status[batch_id] = FundingStatus("funded", 30_000)
    world.service.poll_funding(batch_id)
    with pytest.raises(PermissionDenied, match="another bank"):
        world.service.disburse(batch_id, actor=Actor("b2", "bank", bank="ICBC"))
    assert world.service.disburse(batch_id, actor=BANK).state == "disbursing"


@pytest.mark.parametrize("state", ["draft", "submitted", "validated", "dispatched"])
def test_the_department_may_cancel_before_funding(catalog: Catalog, state: str) -> None:
    world = World(catalog)
    batch_id = world.to(state)
    record = world.service.cancel(batch_id, actor=CHECKER, reason="重复申报")
    assert record.state == "cancelled"
    assert set(world.store.rows(batch_id)["status"]) == {"withdrawn"}
    assert world.store.ledger().filter(pl.col("status").is_in(["sent", "paid"])).is_empty()


@pytest.mark.parametrize("state", ["funding_requested", "funded", "disbursing", "settled"])
def test_cancellation_is_refused_once_funding_was_requested(catalog: Catalog, state: str) -> None:
    world = World(catalog)
    batch_id = world.to(state)
    before = snapshot(world, batch_id)
    with pytest.raises(IllegalTransition):
        world.service.cancel(batch_id, actor=CHECKER, reason="太晚了")
    assert snapshot(world, batch_id) == before


def test_cancellation_needs_a_reason(catalog: Catalog) -> None:
    world = World(catalog)
    batch_id = world.to("draft")
    with pytest.raises(PermissionDenied, match="reason"):
        world.service.cancel(batch_id, actor=CHECKER, reason="  ")


@pytest.mark.parametrize("state", ["submitted", "validated", "dispatched", "funding_requested"])
def test_finance_sends_a_batch_back_through_its_original_channel(catalog: Catalog, state: str) -> None:
    world = World(catalog)
    batch_id = world.to(state)
    data_before = world.store.rows(batch_id).drop("status", "note", "reason_code", "deadline", "updated_at", "verdict")
    record = world.service.send_back(batch_id, actor=FINANCE, reason="附件缺少审批表")
    assert (record.state, record.reason) == ("sent_back", "附件缺少审批表")
    rows = world.store.rows(batch_id)
    assert set(rows["status"]) == {"withdrawn"}
    assert rows.drop("status", "note", "reason_code", "deadline", "updated_at", "verdict").equals(data_before)
    entry = world.store.audit()[-1]
    assert (entry.action, entry.role, entry.reason) == ("send_back", "finance", "附件缺少审批表")


@pytest.mark.parametrize("state", ["draft", "funded", "disbursing", "settled"])
def test_finance_may_not_send_back_outside_submitted_to_funding_requested(catalog: Catalog, state: str) -> None:
    world = World(catalog)
    batch_id = world.to(state)
    with pytest.raises(IllegalTransition):
        world.service.send_back(batch_id, actor=FINANCE, reason="x")


def test_finance_cannot_edit_rows(catalog: Catalog) -> None:
    world = World(catalog)
    batch_id = world.to("validated")
    decisions = pl.DataFrame({"row_id": [1], "decision": ["block"], "reason": ["财政认为不符"]})
    with pytest.raises(PermissionDenied):
        world.service.confirm_reviews(batch_id, decisions, actor=FINANCE)
    with pytest.raises(PermissionDenied):
        world.service.create_batch(make_roster(1), item="GLJT", period="2026-11", actor=FINANCE)
    with pytest.raises(PermissionDenied):
        world.service.create_correction(batch_id, make_roster(1), actor=FINANCE)


def test_send_back_needs_a_reason(catalog: Catalog) -> None:
    world = World(catalog)
    batch_id = world.to("submitted")
    with pytest.raises(PermissionDenied, match="reason"):
        world.service.send_back(batch_id, actor=FINANCE, reason="")


def test_a_rejected_funding_request_returns_the_batch_to_dispatched(catalog: Catalog) -> None:
    world = World(catalog)
    batch_id = world.to("funding_requested")
    world.treasury.status[batch_id] = FundingStatus("rejected", reason="指标不足")
    record = world.service.poll_funding(batch_id)
    assert (record.state, record.reason) == ("dispatched", "指标不足")
    assert world.service.request_funding(batch_id, actor=CHECKER).state == "funding_requested"


def test_pending_funding_changes_nothing(catalog: Catalog) -> None:
    world = World(catalog)
    batch_id = world.to("funding_requested")
    before = snapshot(world, batch_id)
    assert world.service.poll_funding(batch_id).state == "funding_requested"
    assert snapshot(world, batch_id) == before


def test_a_funding_request_lost_by_the_treasury_is_filed_again(catalog: Catalog) -> None:
    world = World(catalog)
    batch_id = world.to("funding_requested")
    del world.treasury.status[batch_id]
    world.treasury.requests.clear()
    world.service.poll_funding(batch_id)
    assert world.treasury.requests[batch_id].amount_fen == 50_000


def test_a_publish_before_failures_are_returned_is_refused(catalog: Catalog) -> None:
    world = World(catalog)
    batch_id = world.to("settled", failed=(1,))
    with pytest.raises(IllegalTransition, match="return the 1 failed rows"):
        world.service.publish(batch_id, actor=CHECKER)
    assert world.sink.notices == []
