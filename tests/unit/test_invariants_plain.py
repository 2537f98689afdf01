"""The plain-Python invariant checks report exactly the violations the Polars checks report: on random snapshots, on
simulated stores after every step under every fault, and on simulated stores with each invariant broken in turn."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import attrs
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yikatong.adapters.faults import Faults
from yikatong.adapters.memory_store import MemoryStore
from yikatong.records import EXCEPTION_SCHEMA, LEDGER_SCHEMA
from yikatong.simulation._life import run_lifecycle
from yikatong.simulation._world import LogCapture, World
from yikatong.workflow import _violations
from yikatong.workflow.audit import chain
from yikatong.workflow.funds import BY_BANK
from yikatong.workflow.invariants import Snapshot, Violation, check_invariants
from yikatong.workflow.machine import STATES
from yikatong.workflow.statuses import ROW_STATUSES

AT = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
IDS = ["500241193407162256", "110105193809297088", "500243193505097315"]
BATCH_IDS = ["B1", "B2", "B3"]
FEN = st.sampled_from([0, 100, 200, 300])
BANKS = st.sampled_from(["CQRCB", "PSBC", "", None])
BREAKDOWNS = st.one_of(
    st.none(),
    st.lists(st.fixed_dictionaries({"bank": st.sampled_from(["CQRCB", "PSBC", ""]), "fen": FEN}), max_size=2),
)
Checked = dict[str, Any]


@contextmanager
def every_example() -> Iterator[None]:
    """Both engines report every violation, not a few examples per check, so the comparison is complete."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_violations, "EXAMPLES", 100_000)
        yield


def key(v: Violation) -> tuple[int, str, str]:
    return (v.invariant, v.batch_id, v.detail)


def both(snap: Snapshot, **kwargs: Any) -> tuple[list[Violation], list[Violation]]:
    full = check_invariants(snap, **kwargs)
    plain = check_invariants(snap, engine="python", **kwargs)
    return sorted(full, key=key), sorted(plain, key=key)


@st.composite
def snapshots(draw: st.DrawFn) -> tuple[Snapshot, Checked]:
    """A small random snapshot (any states, statuses, amounts, corrections, results) and random outside books."""
    n = draw(st.integers(1, 3))
    ids = BATCH_IDS[:n]
    batches = pl.DataFrame(
        {
            "batch_id": ids,
            "item": [draw(st.sampled_from(["GLJT", "NJBT"])) for _ in ids],
            "period": ["2026-11"] * n,
            "state": [draw(st.sampled_from(STATES)) for _ in ids],
            "corrects": [draw(st.sampled_from([None, *BATCH_IDS])) for _ in ids],
            "funded_fen": [draw(FEN) for _ in ids],
            "drawn_fen": [draw(FEN) for _ in ids],
            "refunded_fen": [draw(FEN) for _ in ids],
            "drawn_by_bank": [draw(BREAKDOWNS) for _ in ids],
            "refunded_by_bank": [draw(BREAKDOWNS) for _ in ids],
        },
        schema={
            "batch_id": pl.String,
            "item": pl.String,
            "period": pl.String,
            "state": pl.String,
            "corrects": pl.String,
            "funded_fen": pl.Int64,
            "drawn_fen": pl.Int64,
            "refunded_fen": pl.Int64,
            "drawn_by_bank": BY_BANK,
            "refunded_by_bank": BY_BANK,
        },
    )
    rows: list[dict[str, Any]] = []
    for b in ids:
        for row_id in range(1, draw(st.integers(0, 4)) + 1):
            rows.append(
                {
                    "batch_id": b,
                    "row_id": row_id,
                    "id_number": draw(st.sampled_from([*IDS, None])),
                    "account": "6217009180627179034",
                    "amount_fen": draw(FEN),
                    "status": draw(st.sampled_from([*ROW_STATUSES, None])),
                    "deadline": draw(st.sampled_from([None, dt.date(2026, 12, 5)])),
                    "note": None,
                    "corrects_row_id": draw(st.sampled_from([None, 1, 2, 3])),
                    "bank": draw(BANKS),
                }
            )
    row_frame = pl.DataFrame(
        rows,
        schema={
            "batch_id": pl.String,
            "row_id": pl.Int64,
            "id_number": pl.String,
            "account": pl.String,
            "amount_fen": pl.Int64,
            "status": pl.String,
            "deadline": pl.Date,
            "note": pl.String,
            "corrects_row_id": pl.Int64,
            "bank": pl.String,
        },
        orient="row",
    )
    sent = [r for r in rows if draw(st.booleans())]
    ledger = pl.DataFrame(
        [
            {
                "batch_id": r["batch_id"],
                "row_id": r["row_id"],
                "id_number": draw(st.sampled_from([r["id_number"], IDS[0]])),
                "item": draw(st.sampled_from(["GLJT", "NJBT"])),
                "period": "2026-11",
                "amount_fen": draw(st.sampled_from([r["amount_fen"], 100])),
                "status": draw(st.sampled_from(["sent", "paid", "failed", "reversed", "withdrawn"])),
                "updated_at": AT,
            }
            for r in sent
        ],
        schema=LEDGER_SCHEMA,
        orient="row",
    )
    keys = st.tuples(st.sampled_from([*BATCH_IDS, None]), st.sampled_from([1, 2, 3, 4, None]))
    outcomes = st.sampled_from(["paid", "failed", "reversed", None])
    exceptions = pl.DataFrame(
        [
            {
                "batch_id": b,
                "row_id": r,
                "kind": draw(st.sampled_from(["unknown_row", "amount_mismatch", "contradicts_final", None])),
                "outcome": draw(outcomes),
                "amount_fen": draw(FEN),
                "expected_fen": None,
                "detail": "refused",
                "at": AT,
            }
            for b, r in draw(st.lists(keys, max_size=3))
        ],
        schema=EXCEPTION_SCHEMA,
        orient="row",
    )
    truth = pl.DataFrame(
        [
            {"batch_id": b, "row_id": r, "outcome": draw(outcomes), "amount_fen": draw(FEN), "delivered": True}
            for b, r in draw(st.lists(keys, max_size=6))
        ],
        schema={
            "batch_id": pl.String,
            "row_id": pl.Int64,
            "outcome": pl.String,
            "amount_fen": pl.Int64,
            "delivered": pl.Boolean,
        },
        orient="row",
    )
    books = st.lists(st.tuples(st.sampled_from([*BATCH_IDS, "B9"]), FEN), max_size=3)
    bank_books = st.lists(st.tuples(st.sampled_from([*BATCH_IDS, "B9", None]), FEN, BANKS), max_size=4)
    money = {"batch_id": pl.String, "amount_fen": pl.Int64}
    audit = chain(
        None,
        [
            {
                "at": AT,
                "actor": "u1",
                "role": "department",
                "action": "step",
                "batch_id": b,
                "from_state": "",
                "to_state": s,
            }
            for b, s in batches.select("batch_id", "state").iter_rows()
        ],
    )
    snap = Snapshot(batches=batches, rows=row_frame, ledger=ledger, exceptions=exceptions, audit=audit)
    outside: Checked = {
        "bank_truth": draw(st.sampled_from([None, truth])),
        "treasury_fundings": pl.DataFrame(draw(books), schema=money, orient="row") if draw(st.booleans()) else None,
        "treasury_refunds": pl.DataFrame(draw(books), schema=money, orient="row") if draw(st.booleans()) else None,
        "treasury_bank_fundings": (
            pl.DataFrame(draw(bank_books), schema={**money, "bank": pl.String}, orient="row")
            if draw(st.booleans())
            else None
        ),
        "final": draw(st.booleans()),
    }
    return snap, outside


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(snapshots())
def test_the_plain_checks_report_what_the_polars_checks_report_on_any_snapshot(
    drawn: tuple[Snapshot, Checked],
) -> None:
    snap, outside = drawn
    with every_example():
        full, plain = both(snap, **outside)
    assert plain == full


def books(world: World) -> Checked:
    """What the bank and the treasury really did, as the simulation checks against."""
    return {
        "bank_truth": pl.concat([bank.outcomes() for bank in world.banks.values()]),  # a faulty county has two
        "treasury_fundings": world.treasury.fundings.select("batch_id", "amount_fen"),
        "treasury_refunds": world.treasury.refunds.select("batch_id", "amount_fen"),
        "treasury_bank_fundings": world.treasury.bank_fundings,
    }


def simulated_world(seed: int, *, lifecycles: int = 4) -> World:
    """A faulty county after a few life cycles, with both engines compared after every step on the way."""
    mismatches: list[str] = []

    class Compared(World):
        def check(self, label: str, *, final: bool = False) -> list[Violation]:
            found = super().check(label, final=final)
            full, plain = both(Snapshot.of(self.store), **books(self), final=final)
            if full != plain:
                mismatches.append(f"{label}: {full} ≠ {plain}")
            return found

    world = Compared(seed, people=40, faults=Faults.typical(), logs=LogCapture())
    for k in range(lifecycles):
        run_lifecycle(world, random.Random(f"{seed}:{k}"), rows=10)
    assert mismatches == []
    assert world.steps > 0
    return world


@pytest.fixture(scope="module")
def world() -> World:
    return simulated_world(3)


def test_the_plain_checks_agree_after_every_step_of_faulty_life_cycles(world: World) -> None:
    full, plain = both(Snapshot.of(world.store), **books(world), final=True)
    assert plain == full


def _one_where(frame: pl.DataFrame, condition: pl.Expr, **values: Any) -> pl.DataFrame:
    """``frame`` with ``values`` set on the first row meeting ``condition``."""
    index = frame.with_row_index("i").filter(condition).get_column("i")
    assert index.len() > 0, "the simulated store lacks a row to corrupt"
    first = pl.col("i") == index[0]
    return (
        frame.with_row_index("i")
        .with_columns(
            **{c: pl.when(first).then(pl.lit(v, frame.schema[c])).otherwise(pl.col(c)) for c, v in values.items()}
        )
        .drop("i")
    )


def _paid_twice(s: Snapshot) -> Snapshot:
    paid = s.ledger.filter(pl.col("status") == "paid")
    twin = paid.head(1).with_columns(batch_id=pl.lit("B-TWIN"), row_id=pl.lit(1, pl.Int64))
    return attrs.evolve(s, ledger=pl.concat([s.ledger, twin]))


def _amount_differs(s: Snapshot) -> Snapshot:
    return attrs.evolve(s, ledger=_one_where(s.ledger, pl.col("status") == "paid", amount_fen=1))


def _row_left_sent(s: Snapshot) -> Snapshot:
    over = s.batches.filter(pl.col("state").is_in(["settled", "published"])).get_column("batch_id")
    return attrs.evolve(s, rows=_one_where(s.rows, pl.col("batch_id").is_in(over.implode()), status="sent"))


def _phantom_for(s: Snapshot, rows: pl.DataFrame) -> Snapshot:
    """``s`` with an ``unknown_row`` exception for the first of ``rows`` (``batch_id``, ``row_id``)."""
    assert rows.height > 0, "the simulated store lacks a row to name"
    batch_id, row_id = rows.row(0)[:2]
    phantom = pl.DataFrame(
        [
            {
                "batch_id": batch_id,
                "row_id": row_id,
                "kind": "unknown_row",
                "outcome": "paid",
                "amount_fen": 100,
                "expected_fen": None,
                "detail": "unknown_row: bank reported paid 100 fen; ledger none - fen",
                "at": AT,
            }
        ],
        schema=EXCEPTION_SCHEMA,
    )
    return attrs.evolve(s, exceptions=pl.concat([s.exceptions, phantom]))


def _refused_applied(s: Snapshot) -> Snapshot:
    return _phantom_for(s, s.ledger.filter(pl.col("status") == "paid").select("batch_id", "row_id"))


def _state_unrecorded(s: Snapshot) -> Snapshot:
    return attrs.evolve(s, batches=_one_where(s.batches, pl.lit(True), state="rejected"))


def _leaked(s: Snapshot) -> Snapshot:
    id_number = s.rows.get_column("id_number").drop_nulls()[0]
    return attrs.evolve(s, rows=_one_where(s.rows, pl.lit(True), note=f"查询 {id_number}"))


def _over_refunded(s: Snapshot) -> Snapshot:
    return attrs.evolve(s, batches=_one_where(s.batches, pl.lit(True), refunded_fen=10**9))


CORRUPTIONS: dict[int, Callable[[Snapshot], Snapshot]] = {
    1: _paid_twice,
    2: _amount_differs,
    3: _row_left_sent,
    4: _refused_applied,
    5: _state_unrecorded,
    6: _leaked,
    7: _over_refunded,
}


@pytest.mark.parametrize("invariant", sorted(CORRUPTIONS))
def test_the_plain_checks_find_each_broken_invariant_the_polars_checks_find(world: World, invariant: int) -> None:
    broken = CORRUPTIONS[invariant](Snapshot.of(world.store))
    outside = books(world)
    full, plain = both(broken, **outside, final=True)
    assert invariant in {v.invariant for v in full}
    assert plain == full
    with every_example():
        assert both(broken, **outside, final=True)[1] == both(broken, **outside, final=True)[0]


def _never_sent(s: Snapshot) -> pl.DataFrame:
    return s.rows.select("batch_id", "row_id").join(s.ledger, on=["batch_id", "row_id"], how="anti")


def _withdrawn(s: Snapshot) -> pl.DataFrame:
    return s.ledger.filter(pl.col("status") == "withdrawn").select("batch_id", "row_id")


@pytest.fixture(scope="module")
def withdrawing_world() -> World:
    """A county where an order was withdrawn from the bank (原渠道退回)."""
    return simulated_world(1)


@pytest.mark.parametrize(
    ("county", "rows"),
    [("world", _never_sent), ("withdrawing_world", _withdrawn)],
    ids=["blocked before the order", "withdrawn"],
)
def test_a_result_refused_for_a_row_of_the_batch_the_bank_never_had_breaks_no_invariant(
    request: pytest.FixtureRequest, county: str, rows: Callable[[Snapshot], pl.DataFrame]
) -> None:
    world: World = request.getfixturevalue(county)
    snap = Snapshot.of(world.store)
    named = _phantom_for(snap, rows(snap))
    full, plain = both(named, **books(world), final=True)
    assert 4 not in {v.invariant for v in full}
    assert plain == full


def test_an_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown engine"):
        check_invariants(Snapshot.of(MemoryStore()), engine="numpy")  # type: ignore[arg-type]
