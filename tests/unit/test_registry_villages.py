"""Declarations that start at the village (村/社区) and are reviewed by the town, in memory and in SQLite."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.idnumbers import with_check as _id
from yikatong.actors import Actor
from yikatong.adapters.clock import FixedClock
from yikatong.adapters.memory_registry import MemoryRegistry
from yikatong.adapters.sqlite import SqliteRegistry
from yikatong.errors import PermissionDenied
from yikatong.ports import AccountRegistry

PERSON = _id("50024119500315123")
CARD = "6217995550012345678"
NEW_CARD = "6230520460001234567"
VILLAGE = Actor("cun-1", "village", town="中和街道", village="新华村")
OTHER_VILLAGE = Actor("cun-9", "village", town="清溪场镇", village="两河村")
TOWN = Actor("clerk-zh-1", "town", town="中和街道")


@pytest.fixture(params=["memory", "sqlite"])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AccountRegistry]:
    clock = FixedClock(dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC), step=dt.timedelta(hours=1))
    if request.param == "memory":
        yield MemoryRegistry(clock=clock)
        return
    with SqliteRegistry(tmp_path / "store.yikatong", clock=clock) as sqlite:
        yield sqlite


def declare(registry: AccountRegistry, actor: Actor, account: str = CARD) -> None:
    registry.declare(
        actor, id_number=PERSON, account=account, kind="card", bank="重庆农商行", holder_name="张伟", town="中和街道"
    )


def test_a_village_declares_and_the_town_reviews(registry: AccountRegistry) -> None:
    declare(registry, VILLAGE)
    assert registry.snapshot().collect()["status"].to_list() == ["pending"]
    assert registry.review(TOWN, id_number=PERSON, account=CARD, approve=True).status == "active"
    events = registry.history(PERSON)
    assert [(e.action, e.user, e.role) for e in events] == [
        ("declare", "cun-1", "village"),
        ("approve", "clerk-zh-1", "town"),
    ]
    assert "新华村" in events[0].note


def test_a_village_declares_a_change_that_the_town_approves(registry: AccountRegistry) -> None:
    declare(registry, VILLAGE)
    registry.review(TOWN, id_number=PERSON, account=CARD, approve=True)
    registry.change(VILLAGE, id_number=PERSON, account=NEW_CARD, kind="card", bank="邮储银行", holder_name="张伟")
    registry.review(TOWN, id_number=PERSON, account=NEW_CARD, approve=True)
    active = registry.snapshot().collect().filter(status="active")
    assert active["account"].to_list() == [NEW_CARD]


def test_a_village_may_not_review_close_or_freeze(registry: AccountRegistry) -> None:
    declare(registry, VILLAGE)
    with pytest.raises(PermissionDenied, match="只有乡镇"):
        registry.review(VILLAGE, id_number=PERSON, account=CARD, approve=True)
    registry.review(TOWN, id_number=PERSON, account=CARD, approve=True)
    with pytest.raises(PermissionDenied):
        registry.close(VILLAGE, id_number=PERSON, account=CARD, note="迁出")
    with pytest.raises(PermissionDenied):
        registry.freeze(VILLAGE, id_number=PERSON, account=CARD, note="冻结")


def test_a_village_of_another_town_may_not_declare(registry: AccountRegistry) -> None:
    with pytest.raises(PermissionDenied, match="辖区外"):
        declare(registry, OTHER_VILLAGE)
    assert registry.snapshot().collect().is_empty()


def test_the_town_clerk_who_entered_a_declaration_still_may_not_review_it(registry: AccountRegistry) -> None:
    declare(registry, TOWN)
    with pytest.raises(PermissionDenied, match="本人录入"):
        registry.review(TOWN, id_number=PERSON, account=CARD, approve=True)


@pytest.mark.parametrize(("town", "village"), [(None, "新华村"), ("中和街道", None), ("", "")])
def test_a_village_user_needs_its_town_and_its_village(town: str | None, village: str | None) -> None:
    with pytest.raises(ValueError, match="village user"):
        Actor("cun-1", "village", town=town, village=village)
