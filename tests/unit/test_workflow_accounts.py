"""The registered account is what gets paid: dispatch sends the account validation approved, and holds a row whose
registered account changed since."""

from __future__ import annotations

import json

import polars as pl
import pytest

from tests.idnumbers import with_check as _id
from tests.unit._workflow_fakes import FINANCE, MAKER, World, make_roster
from yikatong.actors import Actor
from yikatong.catalog import Catalog
from yikatong.errors import IllegalTransition, PermissionDenied
from yikatong.rules import paid_accounts

FINANCE_2 = Actor("cz-2", "finance")


def _registered(world: World, roster: pl.DataFrame) -> None:
    """Register the roster's accounts as they are, before any batch names them."""
    for id_number, account in roster.select("id_number", "account").iter_rows():
        world.registry.change(id_number, account)


def test_blank_roster_accounts_are_paid_into_the_registered_accounts(catalog: Catalog) -> None:
    world = World(catalog)
    registered = make_roster(3)
    _registered(world, registered)
    blank = registered.with_columns(pl.lit(None, pl.String).alias("account"))
    batch_id = world.to("dispatched", blank)
    order = world.bank.orders[batch_id]
    assert order.rows["account"].to_list() == registered["account"].to_list()
    assert order.rows["account_source"].to_list() == ["registry"] * 3
    rows = world.store.rows(batch_id)
    assert rows["pay_account"].to_list() == registered["account"].to_list()
    assert set(rows["account_source"]) == {"registry"}


def test_a_roster_account_other_than_the_registered_one_never_reaches_the_bank(catalog: Catalog) -> None:
    world = World(catalog)
    registered = make_roster(2)
    _registered(world, registered)
    stale = registered.with_columns(pl.lit("6217000000099999999").alias("account"))
    batch_id = world.to("dispatched", stale)  # the test rules leave out ACCOUNT_MISMATCH, so both rows pass
    assert world.bank.orders[batch_id].rows["account"].to_list() == registered["account"].to_list()


def test_a_registered_account_changed_after_validation_holds_the_row(catalog: Catalog) -> None:
    world = World(catalog)
    roster = make_roster(3)
    batch_id = world.to("validated", roster)
    world.registry.change(roster["id_number"][0], "6217000000077777777")  # a new declaration reviewed meanwhile
    world.registry.change(roster["id_number"][1], roster["account"][1], status="closed")
    outcome = world.service.dispatch(batch_id)
    assert outcome.order.rows["row_id"].to_list() == [3]
    assert outcome.held == 2
    rows = world.store.rows(batch_id).sort("row_id")
    assert rows["status"].to_list() == ["blocked", "blocked", "sent"]
    assert rows["reason_code"].to_list()[:2] == ["ACCOUNT_MISMATCH", "ACCOUNT_INACTIVE"]
    assert "registered account changed after validation" in rows["note"][0]
    assert rows["pay_account"].to_list()[:2] == roster["account"].to_list()[:2]  # what validation approved stays
    details = json.loads(world.store.audit()[-1].details)
    assert (details["held"], details["held_account"], details["account_sources"]) == (2, 2, {"registry": 1})
    assert "6217000000077777777" not in world.store.audit()[-1].details


def test_without_a_registry_the_batch_is_rejected_as_control_missing(catalog: Catalog) -> None:
    world = World(catalog, registry=False)
    batch_id = world.to("submitted")
    report = world.service.validate(batch_id)
    assert report.controls.missing == ("registry",)
    record = world.store.batch(batch_id)
    assert (record.state, record.reason) == ("rejected", "CONTROL_MISSING")
    details = json.loads(world.store.audit()[-1].details)
    assert details["controls"]["missing"] == ["registry"]


def test_a_registry_waiver_needs_two_finance_users_and_then_pays_roster_accounts(catalog: Catalog) -> None:
    world = World(catalog, registry=False)
    roster = make_roster(3).with_columns(
        pl.when(pl.col("row_id") == 2).then(None).otherwise(pl.col("account")).alias("account")
    )
    batch_id = world.to("submitted", roster)
    reason = "登记库系统迁移，本批暂按名单账户发放（县财政局 2026-11-27 会议纪要）"
    with pytest.raises(PermissionDenied):
        world.service.waive_control(batch_id, "registry", actor=MAKER, reason=reason)
    with pytest.raises(PermissionDenied, match="reason"):
        world.service.waive_control(batch_id, "registry", actor=FINANCE, reason="  ")
    waiver = world.service.waive_control(batch_id, "registry", actor=FINANCE, reason=reason)
    assert not waiver.approved
    with pytest.raises(PermissionDenied, match="may not approve"):
        world.service.approve_waiver(batch_id, "registry", actor=FINANCE)
    assert world.service.approve_waiver(batch_id, "registry", actor=FINANCE_2).approved_by == "cz-2"
    report = world.service.validate(batch_id)
    assert report.controls.waived == {"registry": reason}
    assert world.store.batch(batch_id).state == "validated"
    assert json.loads(world.store.audit()[-1].details)["controls"]["waived"] == {"registry": reason}
    outcome = world.service.dispatch(batch_id)
    assert outcome.order.rows.select("row_id", "account_source").rows() == [(1, "roster"), (3, "roster")]
    blank = world.store.rows(batch_id).filter(pl.col("row_id") == 2)
    assert blank.select("status", "reason_code").row(0) == ("blocked", "ACCOUNT_FORMAT")


@pytest.mark.parametrize(
    ("control", "message"),
    [("bank_verification", "not a mandatory control"), ("registery", "unknown control"), ("ledger", "")],
)
def test_only_a_mandatory_control_can_be_waived(catalog: Catalog, control: str, message: str) -> None:
    world = World(catalog, registry=False)
    batch_id = world.to("submitted")
    if control == "ledger":  # mandatory, and it can be waived even though the service has it
        assert world.service.waive_control(batch_id, control, actor=FINANCE, reason="测试").control == "ledger"
        return
    with pytest.raises(IllegalTransition, match=message):
        world.service.waive_control(batch_id, control, actor=FINANCE, reason="测试")


def test_a_waiver_comes_before_validation_and_only_once(catalog: Catalog) -> None:
    world = World(catalog, registry=False)
    batch_id = world.to("submitted")
    with pytest.raises(IllegalTransition, match="awaits approval"):
        world.service.approve_waiver(batch_id, "registry", actor=FINANCE_2)
    world.service.waive_control(batch_id, "registry", actor=FINANCE, reason="迁移")
    with pytest.raises(IllegalTransition, match="already has a waiver"):
        world.service.waive_control(batch_id, "registry", actor=FINANCE_2, reason="迁移")
    world.service.validate(batch_id)  # not yet approved: rejected
    assert world.store.batch(batch_id).state == "rejected"
    with pytest.raises(IllegalTransition, match="before validation"):
        world.service.approve_waiver(batch_id, "registry", actor=FINANCE_2)


def test_an_item_that_does_not_require_a_registry_is_paid_into_roster_accounts(catalog: Catalog) -> None:
    items = dict(catalog.items)
    items["GLJT"] = items["GLJT"].model_copy(update={"mandatory_controls": ("ledger", "deceased")})
    world = World(Catalog(items=items), registry=False)
    roster = make_roster(2)
    batch_id = world.to("dispatched", roster)
    order = world.bank.orders[batch_id]
    assert order.rows.select("account", "account_source").rows() == [(a, "roster") for a in roster["account"]]


def test_paid_accounts_reads_the_household_heads_account_and_first_generation_ids(catalog: Catalog) -> None:
    head_18 = _id("50024119400101001")
    first_generation = "500241400101002"  # 15 digits; registered under its upgrade
    registry = pl.LazyFrame(
        {
            "id_number": [head_18, _id("50024119400101002")],
            "account": ["6217000000000000111", "6217000000000000222"],
            "account_kind": ["card", "card"],
            "bank": ["RCC", "RCC"],
            "holder_name": ["户主", "一代证"],
            "status": ["active", "active"],
        }
    )
    roster = pl.DataFrame(
        {
            "row_id": [1, 2, 3],
            "id_number": [_id("50024119900101001"), first_generation, _id("50024119990101001")],
            "household_head_id": [head_18, None, None],
            "account": ["6217000000000000999", None, None],
        }
    )
    household = catalog["DB"]
    got = paid_accounts(roster, item=household, period="2026-11", registry=registry)
    assert got.select("row_id", "pay_account", "account_source").rows() == [
        (1, "6217000000000000111", "registry"),  # the head's account, not the roster's
        (2, "6217000000000000222", "registry"),  # the first-generation ID found under its upgrade
        (3, None, "registry"),
    ]
    without = paid_accounts(roster, item=household, period="2026-11", registry=None)
    assert without.select("pay_account", "account_source").rows() == [
        ("6217000000000000999", "roster"),
        (None, "roster"),
        (None, "roster"),
    ]
