from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from tests.idnumbers import with_check as _id
from yikatong.adapters.clock import FixedClock
from yikatong.adapters.memory_registry import MemoryRegistry
from yikatong.errors import IllegalTransition, PermissionDenied
from yikatong.ports import AccountRegistry
from yikatong.registry import Actor

PERSON = "50024119500315123"
CARD_OLD = "6217995550012345678"
CARD_NEW = "6230520460001234567"
ZHONGHE = Actor(user="clerk-zh-1", role="town", town="中和街道")
ZHONGHE_CHECKER = Actor(user="clerk-zh-2", role="town", town="中和街道")
QINGXI = Actor(user="clerk-qx-1", role="town", town="清溪场镇")


ID = _id(PERSON)
OTHER_ID = _id("50024119620708462")


@pytest.fixture
def registry() -> MemoryRegistry:
    return MemoryRegistry(clock=FixedClock(dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC), step=dt.timedelta(hours=1)))


def _declare(registry: MemoryRegistry, account: str = CARD_OLD, person: str = ID) -> None:
    registry.declare(
        ZHONGHE, id_number=person, account=account, kind="card", bank="重庆农商行", holder_name="张伟", town="中和街道"
    )


def _active(registry: MemoryRegistry) -> None:
    _declare(registry)
    registry.review(ZHONGHE_CHECKER, id_number=ID, account=CARD_OLD, approve=True)


def test_the_memory_registry_satisfies_the_port(registry: MemoryRegistry) -> None:
    assert isinstance(registry, AccountRegistry)


def test_a_declaration_is_pending_until_the_town_reviews_it(registry: MemoryRegistry) -> None:
    _declare(registry)
    assert registry.snapshot().collect()["status"].to_list() == ["pending"]
    account = registry.review(ZHONGHE_CHECKER, id_number=ID, account=CARD_OLD, approve=True)
    assert account.status == "active"
    snap = registry.snapshot().collect()
    assert snap.select("id_number", "account", "account_kind", "bank", "holder_name", "status").row(0) == (
        ID,
        CARD_OLD,
        "card",
        "重庆农商行",
        "张伟",
        "active",
    )


def test_every_operation_records_who_did_it_and_when(registry: MemoryRegistry) -> None:
    _active(registry)
    events = registry.history(ID)
    assert [(e.action, e.user, e.role, e.town) for e in events] == [
        ("declare", "clerk-zh-1", "town", "中和街道"),
        ("approve", "clerk-zh-2", "town", "中和街道"),
    ]
    assert events[0].at == dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
    assert events[1].at == dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC)


def test_a_town_cannot_declare_for_a_resident_of_another_town(registry: MemoryRegistry) -> None:
    with pytest.raises(PermissionDenied, match="辖区外"):
        registry.declare(
            QINGXI, id_number=ID, account=CARD_OLD, kind="card", bank="农行", holder_name="张伟", town="中和街道"
        )


def test_a_town_cannot_review_change_or_close_outside_its_jurisdiction(registry: MemoryRegistry) -> None:
    _active(registry)
    with pytest.raises(PermissionDenied):
        registry.change(QINGXI, id_number=ID, account=CARD_NEW, kind="card", bank="邮储", holder_name="张伟")
    with pytest.raises(PermissionDenied):
        registry.close(QINGXI, id_number=ID, account=CARD_OLD, note="迁出")
    registry.change(ZHONGHE, id_number=ID, account=CARD_NEW, kind="card", bank="邮储", holder_name="张伟")
    with pytest.raises(PermissionDenied):
        registry.review(QINGXI, id_number=ID, account=CARD_NEW, approve=True)
    assert [e.action for e in registry.history(ID)] == ["declare", "approve", "change"]


def test_only_towns_enter_accounts(registry: MemoryRegistry) -> None:
    finance = Actor(user="fin-1", role="finance")
    with pytest.raises(PermissionDenied, match="finance"):
        registry.declare(
            finance, id_number=ID, account=CARD_OLD, kind="card", bank="农行", holder_name="张伟", town="中和街道"
        )


def test_the_clerk_who_entered_a_declaration_cannot_approve_it(registry: MemoryRegistry) -> None:
    _declare(registry)
    with pytest.raises(PermissionDenied, match="review"):
        registry.review(ZHONGHE, id_number=ID, account=CARD_OLD, approve=True)


def test_a_change_keeps_the_old_account_active_until_the_new_one_is_approved(registry: MemoryRegistry) -> None:
    _active(registry)
    registry.change(ZHONGHE, id_number=ID, account=CARD_NEW, kind="card", bank="邮储银行", holder_name="张伟")
    snap = registry.snapshot().collect().sort("account")
    assert dict(zip(snap["account"], snap["status"], strict=True)) == {CARD_OLD: "active", CARD_NEW: "pending"}
    registry.review(ZHONGHE_CHECKER, id_number=ID, account=CARD_NEW, approve=True)
    snap = registry.snapshot().collect()
    assert dict(zip(snap["account"], snap["status"], strict=True)) == {CARD_OLD: "closed", CARD_NEW: "active"}
    assert [e.action for e in registry.history(ID)] == ["declare", "approve", "change", "supersede", "approve"]
    old = registry.records(ID)[0]
    assert (old.account, old.bank, old.status) == (CARD_OLD, "重庆农商行", "closed")


def test_a_rejected_change_leaves_the_old_account_active(registry: MemoryRegistry) -> None:
    _active(registry)
    registry.change(ZHONGHE, id_number=ID, account=CARD_NEW, kind="card", bank="邮储银行", holder_name="张伟")
    with pytest.raises(ValueError, match="reason"):
        registry.review(ZHONGHE_CHECKER, id_number=ID, account=CARD_NEW, approve=False)
    registry.review(ZHONGHE_CHECKER, id_number=ID, account=CARD_NEW, approve=False, note="开户人非本人")
    snap = registry.snapshot().collect()
    assert snap.select("account", "status").rows() == [(CARD_OLD, "active")]
    assert registry.history(ID)[-1].note == "开户人非本人"


def test_a_first_declaration_cannot_be_made_twice_and_a_change_needs_an_account(registry: MemoryRegistry) -> None:
    with pytest.raises(IllegalTransition):
        registry.change(ZHONGHE, id_number=ID, account=CARD_NEW, kind="card", bank="邮储", holder_name="张伟")
    _active(registry)
    with pytest.raises(IllegalTransition, match="change"):
        _declare(registry, CARD_NEW)


def test_an_account_held_by_another_person_cannot_be_declared(registry: MemoryRegistry) -> None:
    _active(registry)
    with pytest.raises(IllegalTransition, match="another person") as info:
        _declare(registry, CARD_OLD, OTHER_ID)
    assert CARD_OLD not in str(info.value)


def test_malformed_ids_and_accounts_are_refused_without_echoing_them(registry: MemoryRegistry) -> None:
    with pytest.raises(ValueError, match="invalid ID") as info:
        _declare(registry, CARD_OLD, ID[:-1] + ("0" if ID[-1] != "0" else "1"))
    assert ID[6:14] not in str(info.value)
    with pytest.raises(ValueError, match="13-19"):
        _declare(registry, "62179955500")


def test_the_bank_may_freeze_and_unfreeze_but_not_declare(registry: MemoryRegistry) -> None:
    _active(registry)
    bank = Actor(user="ccb-ops", role="bank")
    registry.freeze(bank, id_number=ID, account=CARD_OLD, note="司法冻结")
    assert registry.snapshot().collect()["status"].to_list() == ["frozen"]
    registry.unfreeze(bank, id_number=ID, account=CARD_OLD, note="解除冻结")
    assert registry.snapshot().collect()["status"].to_list() == ["active"]
    with pytest.raises(PermissionDenied):
        registry.close(bank, id_number=ID, account=CARD_OLD, note="销户")


def test_closing_needs_a_reason_and_keeps_the_history(registry: MemoryRegistry) -> None:
    _active(registry)
    with pytest.raises(ValueError, match="reason"):
        registry.close(ZHONGHE, id_number=ID, account=CARD_OLD, note=" ")
    registry.close(ZHONGHE, id_number=ID, account=CARD_OLD, note="本人死亡")
    assert registry.snapshot().collect()["status"].to_list() == ["closed"]
    assert [e.action for e in registry.history(ID)] == ["declare", "approve", "close"]
    with pytest.raises(IllegalTransition):
        registry.close(ZHONGHE, id_number=ID, account=CARD_OLD, note="again")


def test_the_snapshot_of_an_empty_registry_has_the_documented_columns(registry: MemoryRegistry) -> None:
    snap = registry.snapshot().collect()
    assert snap.is_empty()
    assert snap.columns[:6] == ["id_number", "account", "account_kind", "bank", "holder_name", "status"]
    assert snap.schema["status"] == pl.String
    assert registry.history(ID) == ()
