"""Town-filed items: a town creates, submits and requests funding for batches of its own residents."""

from __future__ import annotations

import polars as pl
import pytest

from tests.unit._workflow_fakes import CHECKER, MAKER, TOWN, World, make_roster, snapshot
from yikatong.catalog import Catalog
from yikatong.errors import PermissionDenied
from yikatong.workflow import Actor
from yikatong.workflow.diagram import render_state_diagram

TOWN_CHECKER = Actor("town-2", "town", town="中和街道")
OTHER_TOWN = Actor("qxc-1", "town", town="清溪场镇")


def town_filed(catalog: Catalog) -> Catalog:
    item = catalog["GLJT"].model_copy(update={"filed_by": "town"})
    return catalog.model_copy(update={"items": {**catalog.items, "GLJT": item}})


@pytest.fixture
def world(catalog: Catalog) -> World:
    return World(town_filed(catalog))


def test_the_example_catalogue_marks_the_farmland_subsidy_town_filed(catalog: Catalog) -> None:
    assert catalog["GDLBZ"].filed_by == "town"
    assert catalog["GLJT"].filed_by == "department"


def test_a_town_creates_submits_and_files_funding_for_its_own_residents(world: World) -> None:
    s = world.service
    record = s.create_batch(make_roster(4), item="GLJT", period="2026-11", actor=TOWN)
    assert (record.town, record.prepared_by, record.department) == ("中和街道", "town-1", "民政局")
    s.submit(record.batch_id, actor=TOWN)
    s.validate(record.batch_id)
    s.dispatch(record.batch_id)
    filed = s.request_funding(record.batch_id, actor=TOWN_CHECKER)
    assert (filed.state, filed.funding_filed_by) == ("funding_requested", "town")
    assert world.treasury.requests[record.batch_id].filed_by == "town"
    actions = [(e.action, e.role) for e in world.store.audit()]
    assert actions[:2] == [("create", "town"), ("submit", "town")]


def test_the_town_clerk_who_made_the_batch_may_not_file_its_funding(world: World) -> None:
    s = world.service
    batch_id = s.create_batch(make_roster(2), item="GLJT", period="2026-11", actor=TOWN).batch_id
    s.submit(batch_id, actor=TOWN)
    s.validate(batch_id)
    s.dispatch(batch_id)
    with pytest.raises(PermissionDenied, match="maker-checker"):
        s.request_funding(batch_id, actor=TOWN)


def test_a_town_may_not_create_batches_of_an_item_its_department_files(catalog: Catalog) -> None:
    world = World(catalog)
    with pytest.raises(PermissionDenied, match="filed by its department"):
        world.service.create_batch(make_roster(2), item="GLJT", period="2026-11", actor=TOWN)
    assert world.store.batches() == ()


def test_a_town_may_not_submit_a_department_filed_batch_of_its_own_town(catalog: Catalog) -> None:
    world = World(catalog)
    batch_id = world.draft()
    before = snapshot(world, batch_id)
    with pytest.raises(PermissionDenied, match="filed by its department"):
        world.service.submit(batch_id, actor=TOWN)
    assert snapshot(world, batch_id) == before


@pytest.mark.parametrize(
    "roster",
    [
        make_roster(3).with_columns(pl.Series("town", ["中和街道", "清溪场镇", "中和街道"])),
        make_roster(3).with_columns(pl.lit(None, pl.String).alias("town")),
        make_roster(3).drop("town"),
    ],
    ids=["another-town", "no-town", "no-town-column"],
)
def test_a_town_files_only_for_rows_of_its_own_town(world: World, roster: pl.DataFrame) -> None:
    with pytest.raises(PermissionDenied, match="not in town-1's town"):
        world.service.create_batch(roster, item="GLJT", period="2026-11", actor=TOWN)
    assert world.store.batches() == ()


def test_another_town_may_not_submit_or_file_a_towns_batch(world: World) -> None:
    s = world.service
    batch_id = s.create_batch(make_roster(2), item="GLJT", period="2026-11", actor=TOWN).batch_id
    with pytest.raises(PermissionDenied, match="not within"):
        s.submit(batch_id, actor=OTHER_TOWN)
    s.submit(batch_id, actor=TOWN)
    s.validate(batch_id)
    s.dispatch(batch_id)
    with pytest.raises(PermissionDenied, match="not within"):
        s.request_funding(batch_id, actor=OTHER_TOWN)


def test_the_department_keeps_its_powers_over_a_town_filed_item(world: World) -> None:
    batch_id = world.to("funding_requested")
    record = world.store.batch(batch_id)
    assert (record.prepared_by, record.state, record.funding_filed_by) == (
        MAKER.user,
        "funding_requested",
        "department",
    )


def test_a_town_reviews_nothing_and_publishes_nothing(world: World) -> None:
    s = world.service
    batch_id = s.create_batch(make_roster(2), item="GLJT", period="2026-11", actor=TOWN).batch_id
    s.submit(batch_id, actor=TOWN)
    s.validate(batch_id)
    with pytest.raises(PermissionDenied, match="role 'town'"):
        s.confirm_reviews(batch_id, pl.DataFrame({"row_id": [1], "decision": ["pass"], "reason": ["ok"]}), actor=TOWN)
    s.confirm_reviews(
        batch_id, pl.DataFrame(schema={"row_id": pl.Int64, "decision": pl.String, "reason": pl.String}), actor=CHECKER
    )


def test_the_diagram_shows_that_towns_submit_only_town_filed_items() -> None:
    assert "submit (department | town) [town: town-filed items]" in render_state_diagram()
