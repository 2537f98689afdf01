"""Every role against every trigger: the allowed roles succeed, every other role is refused and nothing changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import polars as pl
import pytest

from tests.unit._workflow_fakes import AUDITOR, BANK, CHECKER, FINANCE, TOWN, World, snapshot
from yikatong.catalog import Catalog
from yikatong.errors import PermissionDenied
from yikatong.workflow import ROLES, TRIGGERS, Actor, Role, allowed_roles

ACTORS: dict[Role, Actor] = {
    "finance": FINANCE,
    "department": CHECKER,
    "town": TOWN,
    "village": Actor("cun-1", "village", town="中和街道", village="村1"),
    "bank": BANK,
    "treasury": Actor.treasury(),
    "audit": AUDITOR,
    "system": Actor.system(),
}

LATE = dt.date(2027, 6, 30)  # after every correction deadline
NO_DECISIONS = pl.DataFrame(schema={"row_id": pl.Int64, "decision": pl.String, "reason": pl.String})

Fire = Callable[[World, str, Actor], object]

SETUP: dict[str, tuple[str, Fire]] = {
    "submit": ("draft", lambda w, b, a: w.service.submit(b, actor=a)),
    "validate": ("submitted", lambda w, b, a: w.service.validate(b, actor=a)),
    "confirm_reviews": ("validated", lambda w, b, a: w.service.confirm_reviews(b, NO_DECISIONS, actor=a)),
    "dispatch": ("validated", lambda w, b, a: w.service.dispatch(b, actor=a)),
    "request_funding": ("dispatched", lambda w, b, a: w.service.request_funding(b, actor=a)),
    "refuse_funding": ("funding_requested", lambda w, b, a: w.service.refuse_funding(b, actor=a, reason="预算不足")),
    "fund": ("funding_requested", lambda w, b, a: w.service.fund(b, actor=a, amount_fen=50_000)),
    "disburse": ("funded", lambda w, b, a: w.service.disburse(b, actor=a)),
    "record_results": ("disbursing", lambda w, b, a: w.service.record_results(b, w.bank.pay_all(b), actor=a)),
    "return_failures": ("settled", lambda w, b, a: w.service.return_failures(b, actor=a)),
    "publish": ("settled", lambda w, b, a: w.service.publish(b, actor=a)),
    "cancel": ("draft", lambda w, b, a: w.service.cancel(b, actor=a, reason="名单有误")),
    "send_back": ("submitted", lambda w, b, a: w.service.send_back(b, actor=a, reason="资料不全")),
    "refund": ("settled", lambda w, b, a: w.service.refund(b, actor=a, as_of=LATE)),
}


def test_every_trigger_has_a_role_case() -> None:
    assert set(SETUP) == set(TRIGGERS)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("trigger", TRIGGERS)
def test_only_the_allowed_roles_may_fire_each_trigger(catalog: Catalog, trigger: str, role: Role) -> None:
    if role == "town":  # a town submits only items the catalogue marks town-filed (test_workflow_towns)
        town_item = catalog["GLJT"].model_copy(update={"filed_by": "town"})
        catalog = catalog.model_copy(update={"items": {**catalog.items, "GLJT": town_item}})
    world = World(catalog)
    state, fire = SETUP[trigger]
    batch_id = world.to(state, failed=(2,) if trigger == "refund" else ())
    if trigger in ("publish", "refund"):
        world.service.return_failures(batch_id)
    before = snapshot(world, batch_id)
    commits = world.store.commits
    if role in allowed_roles(trigger):
        fire(world, batch_id, ACTORS[role])
        assert world.store.commits == commits + 1
        assert world.store.audit()[-1].role == role
    else:
        with pytest.raises(PermissionDenied):
            fire(world, batch_id, ACTORS[role])
        assert snapshot(world, batch_id) == before


@pytest.mark.parametrize("role", [r for r in ROLES if r != "department"])
def test_only_a_department_user_may_create_a_batch_of_a_department_filed_item(catalog: Catalog, role: Role) -> None:
    world = World(catalog)
    with pytest.raises(PermissionDenied):
        world.service.create_batch(
            pl.DataFrame({"id_number": ["x"]}), item="GLJT", period="2026-11", actor=ACTORS[role]
        )
    assert world.store.batches() == ()
    assert world.store.audit() == ()


def test_a_department_may_not_create_a_batch_for_another_departments_item(catalog: Catalog) -> None:
    world = World(catalog)
    stranger = Actor("ny-clerk", "department", department="农业农村委")
    with pytest.raises(PermissionDenied, match="民政局"):
        world.service.create_batch(pl.DataFrame({"id_number": ["x"]}), item="GLJT", period="2026-11", actor=stranger)
    assert world.store.batches() == ()


def test_the_audit_role_can_fire_nothing() -> None:
    assert all("audit" not in allowed_roles(t) for t in TRIGGERS)
