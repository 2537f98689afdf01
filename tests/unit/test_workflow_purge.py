"""Retention: a finished batch past its item's retention loses its payee detail, keeps its totals and its audit."""

from __future__ import annotations

import datetime as dt
import json

import attrs
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit._workflow_fakes import BANK, FINANCE, MAKER, START, World, make_id, make_roster
from yikatong.adapters.keys import SecretKeys
from yikatong.catalog import Catalog
from yikatong.errors import IllegalTransition, PermissionDenied
from yikatong.records import PURGED_COLUMNS, PURGED_ID_PREFIX, Change
from yikatong.workflow._frames import ledger_entries
from yikatong.workflow.audit import make_entry
from yikatong.workflow.invariants import check_invariants
from yikatong.workflow.purge import PURGE_ACTION, purged_id, resolve_purged_ids
from yikatong.workflow.store_check import verify_store

KEYS = SecretKeys(b"county finance bureau retention secret")
LATER = START.replace(year=START.year + 6)  # past five years of retention of a 2026-11 batch


@pytest.fixture
def kept_five_years(catalog: Catalog) -> Catalog:
    """The example catalogue with GLJT's payee detail kept five years."""
    gljt = catalog["GLJT"].model_copy(update={"retention_years": 5})
    return catalog.model_copy(update={"items": {**catalog.items, "GLJT": gljt}})


@pytest.fixture
def world(kept_five_years: Catalog) -> World:
    return World(kept_five_years, keys=KEYS)


def _settled(world: World, start: int = 1) -> str:
    return world.to("settled", make_roster(4, start=start))


def _published(world: World, start: int = 1) -> str:
    batch_id = _settled(world, start)
    world.service.publish(batch_id, actor=MAKER)
    return batch_id


def test_a_published_batch_past_retention_loses_its_payee_detail_and_keeps_its_totals(world: World) -> None:
    batch_id = _published(world)
    before = world.store.rows(batch_id)
    ledger_before = world.store.ledger()
    world.clock.set(LATER)
    world.service.purge_batch(batch_id)
    after = world.store.rows(batch_id)
    for column in PURGED_COLUMNS:
        assert after[column].null_count() == after.height, column
    kept = [c for c in before.columns if c not in PURGED_COLUMNS and c not in ("updated_at",)]
    assert after.select(kept).equals(before.select(kept))
    assert after["amount_fen"].sum() == before["amount_fen"].sum() == 40_000
    ledger = world.store.ledger()
    assert ledger.drop("id_number").equals(ledger_before.drop("id_number"))
    expected = [purged_id(i, key=KEYS.audit_key()) for i in ledger_before["id_number"]]
    assert ledger["id_number"].to_list() == expected
    assert all(i.startswith(PURGED_ID_PREFIX) for i in ledger["id_number"])
    assert world.store.batch(batch_id).state == "published"


def test_the_purge_is_audited_and_the_store_still_verifies(world: World) -> None:
    batch_id = _published(world)
    world.clock.set(LATER)
    world.service.purge_batch(batch_id)
    entry = world.store.audit()[-1]
    assert (entry.action, entry.batch_id, entry.role) == (PURGE_ACTION, batch_id, "system")
    totals = json.loads(entry.details)["totals"]
    assert totals == {"rows": 4, "amount_fen": 40_000, "ledger_entries": 4, "ledger_fen": 40_000}
    result = verify_store(world.store, key=KEYS.audit_key())
    assert result.ok, result.problems


def test_tampering_with_a_purged_batch_totals_is_caught(world: World) -> None:
    batch_id = _published(world)
    world.clock.set(LATER)
    world.service.purge_batch(batch_id)
    rows = world.store._rows[batch_id]
    world.store._rows[batch_id] = rows.with_columns(pl.col("amount_fen") * 2)
    kinds = {p.kind for p in verify_store(world.store, key=KEYS.audit_key()).problems}
    assert {"rows", "totals"} <= kinds


def test_personal_detail_put_back_into_a_purged_batch_is_caught(world: World) -> None:
    batch_id = _published(world)
    original = world.store.rows(batch_id)
    world.clock.set(LATER)
    world.service.purge_batch(batch_id)
    world.store._rows[batch_id] = world.store._rows[batch_id].with_columns(original["id_number"])
    kinds = {p.kind for p in verify_store(world.store, key=KEYS.audit_key()).problems}
    assert "purge" in kinds


def test_an_unsettled_batch_is_not_purged(world: World) -> None:
    batch_id = world.to("dispatched", make_roster(3))
    world.clock.set(LATER)
    decision = world.service.purge_decision(batch_id)
    assert not decision.purgeable
    assert "dispatched" in decision.reason
    with pytest.raises(IllegalTransition, match="not over"):
        world.service.purge_batch(batch_id)
    assert world.store.rows(batch_id)["id_number"].null_count() == 0


def test_a_batch_inside_its_retention_is_not_purged(world: World) -> None:
    batch_id = _published(world)
    world.clock.set(START.replace(year=START.year + 4))
    decision = world.service.purge_decision(batch_id)
    assert decision.kept_until == dt.date(2031, 11, 30)
    with pytest.raises(IllegalTransition, match="kept until 2031-11-30"):
        world.service.purge_batch(batch_id)
    assert world.store.audit()[-1].action != PURGE_ACTION


def test_a_settled_batch_with_rows_waiting_for_correction_is_not_purged(world: World) -> None:
    batch_id = world.to("settled", make_roster(4), failed=(2,))
    world.service.return_failures(batch_id)
    world.clock.set(LATER)
    with pytest.raises(IllegalTransition, match="not final"):
        world.service.purge_batch(batch_id)


def test_an_item_without_retention_keeps_its_detail_for_ever(catalog: Catalog) -> None:
    world = World(catalog, keys=KEYS)
    batch_id = _published(world)
    world.clock.set(START.replace(year=START.year + 60))
    with pytest.raises(IllegalTransition, match="sets no retention"):
        world.service.purge_batch(batch_id)


def test_only_the_system_purges(world: World) -> None:
    batch_id = _published(world)
    world.clock.set(LATER)
    for actor in (FINANCE, MAKER, BANK):
        with pytest.raises(PermissionDenied):
            world.service.purge_batch(batch_id, actor=actor)


def test_without_keys_nothing_is_purged(kept_five_years: Catalog) -> None:
    world = World(kept_five_years)
    batch_id = _published(world)
    world.clock.set(LATER)
    with pytest.raises(IllegalTransition, match="keys"):
        world.service.purge_batch(batch_id)


def test_a_batch_edited_outside_the_workflow_is_not_purged(world: World) -> None:
    batch_id = _published(world)
    world.clock.set(LATER)
    rows = world.store._rows[batch_id]
    world.store._rows[batch_id] = rows.with_columns(pl.lit("6217000000000000999").alias("account"))
    with pytest.raises(IllegalTransition, match="differs from its audit record"):
        world.service.purge_batch(batch_id)
    assert world.store.rows(batch_id)["account"].null_count() == 0


def test_a_person_paid_in_a_purged_batch_is_still_already_paid(world: World) -> None:
    roster = make_roster(4)
    batch_id = world.to("settled", roster)
    world.service.publish(batch_id, actor=MAKER)
    world.clock.set(LATER)
    world.service.purge_batch(batch_id)
    again = world.draft(roster)
    world.service.submit(again, actor=MAKER)
    report = world.service.validate(again)
    flagged = report.issues.filter(pl.col("code") == "DUP_ALREADY_PAID")["row_id"].unique().sort().to_list()
    assert flagged == [1, 2, 3, 4]


def test_a_purged_batch_is_neither_published_nor_corrected(world: World) -> None:
    batch_id = _settled(world)
    world.clock.set(LATER)
    world.service.purge_batch(batch_id)
    with pytest.raises(IllegalTransition, match="purged"):
        world.service.publish(batch_id, actor=MAKER)
    correction = make_roster(1).with_columns(pl.lit(1, pl.Int64).alias("corrects_row_id"))
    with pytest.raises(IllegalTransition, match="purged"):
        world.service.create_correction(batch_id, correction, actor=MAKER)


def test_a_batch_is_purged_once(world: World) -> None:
    batch_id = _published(world)
    world.clock.set(LATER)
    world.service.purge_batch(batch_id)
    assert world.service.purge_decision(batch_id).already_purged
    with pytest.raises(IllegalTransition, match="already purged"):
        world.service.purge_batch(batch_id)


def test_the_sweep_purges_what_may_go_and_says_why_the_rest_stays(world: World) -> None:
    old = _published(world)
    waiting = world.to("dispatched", make_roster(2, start=50))
    world.clock.set(LATER)
    plan = world.service.purge(dry_run=True)
    assert dict(plan.select("batch_id", "action").iter_rows()) == {old: "purgeable", waiting: "kept"}
    assert world.store.rows(old)["id_number"].null_count() == 0
    done = world.service.purge()
    assert dict(done.select("batch_id", "action").iter_rows()) == {old: "purged", waiting: "kept"}
    again = world.service.purge()
    assert dict(again.select("batch_id", "action").iter_rows()) == {old: "already_purged", waiting: "kept"}
    assert world.service.purge(before="2026-11").height == 0
    assert verify_store(world.store, key=KEYS.audit_key()).ok


def test_a_second_payment_written_around_the_workflow_after_a_purge_breaks_invariant_one(world: World) -> None:
    roster = make_roster(2)
    batch_id = world.to("settled", roster)
    world.clock.set(LATER)
    world.service.purge_batch(batch_id)
    again = world.draft(roster)
    record = world.store.batch(again)
    at = world.clock.now()
    entries = ledger_entries(world.store.rows(again), item=record.item, period=record.period, status="paid", at=at)
    entry = make_entry(
        previous=world.store.audit_head(),
        at=at,
        actor="x",
        role="system",
        action="edit",
        batch_id=again,
        from_state=record.state,
        to_state=record.state,
        key=KEYS.audit_key(),
    )
    change = Change(batch=attrs.evolve(record, version=record.version + 1), expected_version=record.version)
    world.store.commit(attrs.evolve(change, ledger=entries, audit=(entry,)))  # the store cannot see the hashed key
    found = {v.invariant for v in check_invariants(world.store, audit_key=KEYS.audit_key())}
    assert 1 in found


ids = st.integers(min_value=1, max_value=40).map(lambda k: make_id("19400101", k))


@given(
    paid=st.lists(ids, max_size=12, unique=True), purged=st.sets(st.integers(0, 11)), roster=st.lists(ids, max_size=12)
)
def test_resolving_purged_ids_finds_exactly_the_roster_people_the_ledger_held(
    paid: list[str], purged: set[int], roster: list[str]
) -> None:
    key = KEYS.audit_key()
    ledger = pl.DataFrame(
        {"id_number": paid, "n": list(range(len(paid)))}, schema={"id_number": pl.String, "n": pl.Int64}
    )
    hashed = ledger.with_columns(
        pl.Series("id_number", [purged_id(i, key=key) if n in purged else i for n, i in enumerate(paid)], pl.String)
    )
    resolved = resolve_purged_ids(hashed.lazy(), roster, key=key).collect()
    on_roster = set(roster)
    expected = {i for i in paid if i in on_roster}
    assert {i for i in resolved["id_number"] if i in on_roster} == expected
    assert resolved["n"].to_list() == ledger["n"].to_list()
    for n, value in zip(resolved["n"], resolved["id_number"], strict=True):
        if paid[n] not in on_roster and n in purged:
            assert value.startswith(PURGED_ID_PREFIX)  # people not on the roster stay hashed
