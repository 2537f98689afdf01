"""Reads by role: each reader sees its own batches and rows, masked unless it states a reason that is recorded."""

from __future__ import annotations

import json

import polars as pl
import pytest

from tests.unit._workflow_fakes import AUDITOR, BANK, FINANCE, MAKER, OTHER_DEPT, TOWN, World, make_roster
from yikatong.actors import Actor
from yikatong.catalog import Catalog
from yikatong.errors import PermissionDenied


@pytest.fixture
def world(catalog: Catalog) -> World:
    return World(catalog)


def _two_town_roster() -> pl.DataFrame:
    roster = make_roster(4)
    return roster.with_columns(pl.Series("town", ["中和街道", "中和街道", "龙沙镇", "龙沙镇"]))


def test_a_department_sees_its_own_batches_masked(world: World) -> None:
    batch_id = world.draft()
    rows = world.service.rows(batch_id, actor=MAKER)
    assert rows.height == 5
    assert all("*" in v for v in rows["id_number"])
    assert all(v.startswith("****") for v in rows["account"])
    assert world.service.batch(batch_id, actor=MAKER).batch_id == batch_id
    with pytest.raises(PermissionDenied):
        world.service.rows(batch_id, actor=OTHER_DEPT)
    with pytest.raises(PermissionDenied):
        world.service.batch(batch_id, actor=OTHER_DEPT)
    assert world.service.batches(actor=OTHER_DEPT) == ()


def test_a_town_sees_only_its_residents_rows(world: World) -> None:
    batch_id = world.draft(_two_town_roster())
    rows = world.service.rows(batch_id, actor=TOWN)
    assert set(rows["town"]) == {"中和街道"}
    assert rows.height == 2
    with pytest.raises(PermissionDenied):
        world.service.rows(batch_id, actor=Actor("town-9", "town", town="别的镇"))


def test_a_town_may_not_read_full_personal_data(world: World) -> None:
    batch_id = world.draft()
    with pytest.raises(PermissionDenied, match="full ID"):
        world.service.rows(batch_id, actor=TOWN, reason="核对")


def test_a_bank_sees_only_the_rows_of_its_orders(world: World) -> None:
    s = world.service
    batch_id = s.create_batch(make_roster(3, start=50), item="GLJT", period="2026-11", actor=MAKER, bank="RCC").batch_id
    assert s.rows(batch_id, actor=BANK).height == 0  # no order yet
    with pytest.raises(PermissionDenied):
        s.rows(batch_id, actor=Actor("bank-2", "bank", bank="ABC"))
    s.submit(batch_id, actor=MAKER)
    s.validate(batch_id)
    s.dispatch(batch_id)
    assert s.rows(batch_id, actor=BANK).height == 3
    assert [b.batch_id for b in s.batches(actor=BANK)] == [batch_id]
    full = s.rows(batch_id, actor=BANK, reason="代发对账")
    assert full["account"].to_list() == make_roster(3, start=50)["account"].to_list()


def test_finance_sees_every_batch_but_only_masked_rows(world: World) -> None:
    batch_id = world.draft()
    assert world.service.rows(batch_id, actor=FINANCE)["id_number"].str.contains(r"\*").all()
    with pytest.raises(PermissionDenied):
        world.service.rows(batch_id, actor=FINANCE, reason="抽查")


def test_a_full_read_with_a_reason_is_written_to_the_audit_log_first(world: World, make_id_of: list[str]) -> None:
    batch_id = world.draft()
    before = len(world.store.audit())
    rows = world.service.rows(batch_id, actor=AUDITOR, reason=f"专项检查 抽查 {make_id_of[0]}")
    assert rows["id_number"].to_list() == make_roster(5)["id_number"].to_list()
    log = world.store.audit()
    assert len(log) == before + 1
    entry = log[-1]
    assert entry.action == "read_personal_data"
    assert entry.actor == AUDITOR.user
    assert entry.from_state == entry.to_state == "draft"
    assert "专项检查" in entry.reason
    assert make_id_of[0] not in entry.reason  # a pasted ID is scrubbed from the recorded reason
    assert json.loads(entry.details)["rows"] == 5
    assert world.service.verify_audit().ok


def test_a_full_read_needs_a_non_empty_reason(world: World) -> None:
    batch_id = world.draft()
    with pytest.raises(ValueError, match="reason"):
        world.service.rows(batch_id, actor=MAKER, reason="  ")


@pytest.fixture
def make_id_of() -> list[str]:
    return make_roster(1)["id_number"].to_list()
