"""Deadlines that bind: county dates, expiry of returned rows, extensions by finance, and each user's worklist."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from tests.unit._workflow_fakes import BANK, CHECKER, FINANCE, MAKER, START, TOWN, World, make_roster, snapshot
from yikatong.adapters.clock import FixedClock
from yikatong.catalog import Catalog
from yikatong.errors import IllegalTransition, PermissionDenied
from yikatong.localtime import local_date
from yikatong.workflow import Actor
from yikatong.workflow.invariants import check_invariants

SECOND_FINANCE = Actor("cz-2", "finance")
DEADLINE = dt.date(2026, 11, 27) + dt.timedelta(days=15)  # 高龄津贴: correction_days = 15


@pytest.fixture
def world(catalog: Catalog) -> World:
    return World(catalog)


def returned(world: World, failed: tuple[int, ...] = (2, 4), roster: pl.DataFrame | None = None) -> str:
    batch_id = world.to("settled", roster, failed=failed)
    world.service.return_failures(batch_id)
    return batch_id


def correction_of(world: World, batch_id: str, row_ids: list[int]) -> pl.DataFrame:
    chosen = world.store.rows(batch_id).filter(pl.col("row_id").is_in(row_ids)).sort("row_id")
    return chosen.select(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("row_id"),
        "name",
        "id_number",
        "account",
        "amount_fen",
        "town",
        "village",
        pl.col("row_id").alias("corrects_row_id"),
    )


def on_day(world: World, day: dt.date, hour: int = 10) -> None:
    """Set the clock to ``hour`` o'clock Beijing time on ``day``."""
    world.clock.set(dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC) - dt.timedelta(hours=8))


def expired(world: World, batch_id: str) -> list[int]:
    return world.store.rows(batch_id).filter(pl.col("status") == "expired")["row_id"].to_list()


# -- county dates -----------------------------------------------------------------------------------------------


def test_a_clock_carries_the_county_zone_and_refuses_an_unknown_one() -> None:
    assert FixedClock(START).zone == "Asia/Shanghai"
    with pytest.raises(ValueError, match="unknown time zone"):
        FixedClock(START, zone="Mars/Olympus_Mons")


def test_the_deadline_counts_from_the_county_date_not_the_utc_date(catalog: Catalog) -> None:
    world = World(catalog)
    world.clock.set(dt.datetime(2026, 11, 26, 23, 0, tzinfo=dt.UTC))  # 07:00 on 11-27 in Beijing
    batch_id = returned(world)
    deadlines = set(world.store.rows(batch_id).filter(pl.col("status") == "returned")["deadline"])
    assert deadlines == {dt.date(2026, 11, 27) + dt.timedelta(days=15)}


def test_a_row_paid_at_seven_in_beijing_is_published_with_that_days_date(catalog: Catalog) -> None:
    world = World(catalog)
    world.clock.set(dt.datetime(2026, 11, 26, 23, 0, tzinfo=dt.UTC))  # paid 07:00 Beijing time on 11-27
    batch_id = returned(world, failed=())
    notice = world.service.publish(batch_id, actor=CHECKER)
    assert set(notice.rows["pay_date"]) == {dt.date(2026, 11, 27)}


def test_local_date_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        local_date(dt.datetime(2026, 11, 27, 7))


# -- expiry -----------------------------------------------------------------------------------------------------


def test_returned_rows_expire_the_day_after_their_deadline_and_not_before(world: World) -> None:
    batch_id = returned(world)
    on_day(world, DEADLINE, hour=23)
    assert world.service.expire_overdue().is_empty()
    on_day(world, DEADLINE + dt.timedelta(days=1), hour=0)
    done = world.service.expire_overdue()
    assert done.select("batch_id", "row_id").rows() == [(batch_id, 2), (batch_id, 4)]
    assert expired(world, batch_id) == [2, 4]
    assert world.store.audit()[-1].action == "expire"
    assert world.service.expire_overdue().is_empty()  # idempotent
    assert world.service.verify_audit().ok


def test_only_the_system_expires_rows(world: World) -> None:
    returned(world)
    with pytest.raises(PermissionDenied):
        world.service.expire_overdue(actor=FINANCE)


def test_a_row_carried_by_a_live_correction_does_not_expire(world: World) -> None:
    batch_id = returned(world)
    world.service.create_correction(batch_id, correction_of(world, batch_id, [2]), actor=MAKER)
    on_day(world, DEADLINE + dt.timedelta(days=3))
    world.service.expire_overdue()
    assert expired(world, batch_id) == [4]


def test_an_expired_row_cannot_be_corrected(world: World) -> None:
    batch_id = returned(world)
    on_day(world, DEADLINE + dt.timedelta(days=1))
    world.service.expire_overdue()
    before = snapshot(world, batch_id)
    with pytest.raises(IllegalTransition, match="past their correction deadline"):
        world.service.create_correction(batch_id, correction_of(world, batch_id, [2]), actor=MAKER)
    assert snapshot(world, batch_id) == before


def test_a_late_correction_is_refused_even_before_the_rows_expire(world: World) -> None:
    batch_id = returned(world)
    on_day(world, DEADLINE + dt.timedelta(days=90))  # three months late, no expiry run yet
    with pytest.raises(IllegalTransition, match="已过更正期限"):
        world.service.create_correction(batch_id, correction_of(world, batch_id, [4]), actor=MAKER)
    on_day(world, DEADLINE)
    assert world.service.create_correction(batch_id, correction_of(world, batch_id, [4]), actor=MAKER).corrects


# -- extensions -------------------------------------------------------------------------------------------------


def expired_world(world: World) -> str:
    batch_id = returned(world)
    on_day(world, DEADLINE + dt.timedelta(days=2))
    world.service.expire_overdue()
    return batch_id


def test_finance_extends_a_deadline_with_a_second_finance_user_and_the_row_can_be_corrected(world: World) -> None:
    batch_id = expired_world(world)
    until = DEADLINE + dt.timedelta(days=20)
    request = world.service.request_extension(
        batch_id, actor=FINANCE, until=until, reason="住院，本人无法办理", row_ids=[2]
    )
    assert (request.row_ids, request.requested_by) == ((2,), "cz-1")
    assert world.service.pending_extension(batch_id) == request
    back = world.service.grant_extension(batch_id, actor=SECOND_FINANCE)
    assert back.select("row_id", "deadline").rows() == [(2, until)]
    rows = world.store.rows(batch_id)
    assert dict(rows.select("row_id", "status").iter_rows())[2] == "returned"
    assert expired(world, batch_id) == [4]
    assert world.service.pending_extension(batch_id) is None
    actions = [e.action for e in world.store.audit()[-2:]]
    assert actions == ["request_extension", "grant_extension"]
    world.service.create_correction(batch_id, correction_of(world, batch_id, [2]), actor=MAKER)
    assert world.service.verify_audit().ok


def test_the_finance_user_who_asked_may_not_grant_the_extension(world: World) -> None:
    batch_id = expired_world(world)
    world.service.request_extension(batch_id, actor=FINANCE, until=DEADLINE + dt.timedelta(days=20), reason="补材料")
    before = snapshot(world, batch_id)
    with pytest.raises(PermissionDenied, match="maker-checker"):
        world.service.grant_extension(batch_id, actor=FINANCE)
    assert snapshot(world, batch_id) == before


@pytest.mark.parametrize("actor", [MAKER, CHECKER, TOWN, BANK, Actor("sj-1", "audit")])
def test_only_finance_requests_or_grants_extensions(world: World, actor: Actor) -> None:
    batch_id = expired_world(world)
    with pytest.raises(PermissionDenied):
        world.service.request_extension(batch_id, actor=actor, until=DEADLINE + dt.timedelta(days=20), reason="x")
    world.service.request_extension(batch_id, actor=FINANCE, until=DEADLINE + dt.timedelta(days=20), reason="补材料")
    with pytest.raises(PermissionDenied):
        world.service.grant_extension(batch_id, actor=actor)


def test_an_extension_needs_a_reason_a_later_deadline_and_expired_rows(world: World) -> None:
    batch_id = expired_world(world)
    later = DEADLINE + dt.timedelta(days=20)
    with pytest.raises(PermissionDenied, match="reason"):
        world.service.request_extension(batch_id, actor=FINANCE, until=later, reason="  ")
    with pytest.raises(IllegalTransition, match="not after today"):
        world.service.request_extension(batch_id, actor=FINANCE, until=DEADLINE, reason="补材料")
    with pytest.raises(IllegalTransition, match="not expired"):
        world.service.request_extension(batch_id, actor=FINANCE, until=later, reason="补材料", row_ids=[1])
    with pytest.raises(IllegalTransition, match="no extension awaits"):
        world.service.grant_extension(batch_id, actor=SECOND_FINANCE)
    world.service.request_extension(batch_id, actor=FINANCE, until=later, reason="补材料")
    with pytest.raises(IllegalTransition, match="already awaits"):
        world.service.request_extension(batch_id, actor=SECOND_FINANCE, until=later, reason="补材料")


def test_a_refused_extension_leaves_the_rows_expired(world: World) -> None:
    batch_id = expired_world(world)
    world.service.request_extension(batch_id, actor=FINANCE, until=DEADLINE + dt.timedelta(days=20), reason="补材料")
    with pytest.raises(PermissionDenied, match="reason"):
        world.service.refuse_extension(batch_id, actor=SECOND_FINANCE, reason="")
    world.service.refuse_extension(batch_id, actor=SECOND_FINANCE, reason="理由不充分")
    assert expired(world, batch_id) == [2, 4]
    assert world.service.pending_extension(batch_id) is None


def test_an_extension_whose_new_deadline_passed_before_approval_is_refused(world: World) -> None:
    batch_id = expired_world(world)
    until = DEADLINE + dt.timedelta(days=5)
    world.service.request_extension(batch_id, actor=FINANCE, until=until, reason="补材料")
    on_day(world, until)
    with pytest.raises(IllegalTransition, match="has passed"):
        world.service.grant_extension(batch_id, actor=SECOND_FINANCE)


def test_an_extension_reason_never_keeps_a_full_id(world: World) -> None:
    batch_id = expired_world(world)
    full_id = world.store.rows(batch_id)["id_number"][1]
    world.service.request_extension(
        batch_id, actor=FINANCE, until=DEADLINE + dt.timedelta(days=20), reason=f"身份证 {full_id} 住院"
    )
    world.service.grant_extension(batch_id, actor=SECOND_FINANCE)
    texts = [e.reason + e.details for e in world.store.audit()] + world.store.rows(batch_id)[
        "note"
    ].drop_nulls().to_list()
    assert not [t for t in texts if full_id in t]


# -- worklists --------------------------------------------------------------------------------------------------


def test_each_department_and_town_lists_what_is_due_and_what_is_overdue(world: World) -> None:
    other_town = make_roster(3, start=50).with_columns(pl.lit("清溪场镇").alias("town"))
    first = returned(world, failed=(2,), roster=make_roster(3))
    on_day(world, dt.date(2026, 12, 20))
    second = returned(world, failed=(1, 3), roster=other_town)
    world.service.expire_overdue()
    today = dt.date(2026, 12, 20)

    department = world.service.worklist(CHECKER)
    assert department.as_of == today
    assert department.overdue.select("batch_id", "row_id", "status").rows() == [(first, 2, "expired")]
    assert department.due.select("batch_id", "row_id").rows() == [(second, 1), (second, 3)]
    assert department.due["deadline"].to_list() == [today + dt.timedelta(days=15)] * 2

    town = world.service.worklist(TOWN)  # 中和街道: only its residents' rows
    assert town.overdue["row_id"].to_list() == [2]
    assert town.due.is_empty()
    assert world.service.worklist(Actor("qxc-1", "town", town="清溪场镇")).due.height == 2
    assert world.service.worklist(OTHER_DEPARTMENT).due.is_empty()
    assert world.service.worklist(FINANCE).due.height == 2

    later = world.service.worklist(CHECKER, as_of=today + dt.timedelta(days=16))
    assert later.due.is_empty()
    assert later.overdue.height == 3


OTHER_DEPARTMENT = Actor("ny-clerk", "department", department="农业农村委")


@pytest.mark.parametrize("actor", [BANK, Actor.treasury(), Actor.system()])
def test_banks_the_treasury_and_the_system_have_no_worklist(world: World, actor: Actor) -> None:
    with pytest.raises(PermissionDenied):
        world.service.worklist(actor)


def test_rows_a_cancelled_correction_had_returned_may_expire_under_the_invariants(world: World) -> None:
    batch_id = returned(world)
    fix = correction_of(world, batch_id, [2, 4]).with_columns(
        pl.when(pl.col("corrects_row_id") == 2).then(5_000).otherwise(pl.col("amount_fen")).alias("amount_fen")
    )
    correction = world.service.create_correction(batch_id, fix, actor=MAKER).batch_id
    world.service.submit(correction, actor=MAKER)
    world.service.validate(correction)
    world.service.dispatch(correction)  # the lower amount is blocked and returned; the other row is sent
    world.service.cancel(correction, actor=MAKER, reason="重新核实")
    on_day(world, DEADLINE + dt.timedelta(days=1))
    world.service.expire_overdue()
    assert expired(world, batch_id) == [2, 4]
    assert check_invariants(world.store) == []
