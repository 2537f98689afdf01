"""Random life cycles over overlapping people: no key is ever paid twice and the money always adds up."""

from __future__ import annotations

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit._workflow_fakes import BANK, CHECKER, FINANCE, MAKER, World, make_roster
from yikatong.catalog import Catalog
from yikatong.errors import IllegalTransition
from yikatong.workflow import Actor
from yikatong.workflow.statuses import FINAL_STATUSES

batch_plans = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=6),  # first person
        st.integers(min_value=1, max_value=4),  # rows
        st.sampled_from(["publish", "cancel", "send_back", "settle"]),
        st.sets(st.integers(min_value=1, max_value=4), max_size=2),  # rows the bank fails
    ),
    min_size=1,
    max_size=4,
)


def check_invariants(world: World) -> None:
    ledger = world.store.ledger()
    active = ledger.filter(pl.col("status").is_in(["sent", "paid"]))
    assert not active.select("id_number", "item", "period").is_duplicated().any(), "a key is active twice"
    for record in world.store.batches():
        mine = ledger.filter(pl.col("batch_id") == record.batch_id)
        rows = world.store.rows(record.batch_id)
        if record.state in ("funded", "disbursing", "settled", "published"):
            assert record.funded_fen == int(mine["amount_fen"].sum())
        if record.state in ("settled", "published"):
            settled = mine.filter(pl.col("status").is_in(["paid", "failed"]))
            assert int(settled["amount_fen"].sum()) == int(mine["amount_fen"].sum())
        if record.state in ("published", "cancelled", "sent_back", "rejected"):
            assert set(rows["status"]) <= FINAL_STATUSES
    assert world.service.verify_audit().ok


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch_plans)
def test_random_life_cycles_keep_every_invariant(catalog: Catalog, plans: list[tuple[int, int, str, set[int]]]) -> None:
    world = World(catalog)
    s = world.service
    for first, n, ending, failed in plans:
        batch_id = world.draft(make_roster(n, start=first))
        s.submit(batch_id, actor=MAKER)
        s.validate(batch_id)
        check_invariants(world)
        if ending == "cancel":
            s.cancel(batch_id, actor=CHECKER, reason="撤回")
            check_invariants(world)
            continue
        if ending == "send_back":
            s.send_back(batch_id, actor=FINANCE, reason="退回")
            check_invariants(world)
            continue
        try:
            outcome = s.dispatch(batch_id)
        except IllegalTransition:  # every row already paid or in flight elsewhere
            s.cancel(batch_id, actor=CHECKER, reason="无可发放")
            check_invariants(world)
            continue
        check_invariants(world)
        s.request_funding(batch_id, actor=CHECKER)
        s.fund(batch_id, actor=Actor.treasury(), amount_fen=outcome.order.total_fen)
        s.disburse(batch_id, actor=BANK)
        results = world.bank.pay_all(batch_id, failed=tuple(failed))
        s.record_results(batch_id, results.head(1), actor=BANK)
        check_invariants(world)
        s.record_results(batch_id, results, actor=BANK)
        s.record_results(batch_id, results, actor=BANK)
        check_invariants(world)
        if ending == "publish":
            s.return_failures(batch_id)
            s.publish(batch_id, actor=CHECKER)
            check_invariants(world)
