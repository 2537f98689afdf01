"""The life-cycle simulation: every invariant holds under every fault, runs are reproducible, breakage is caught."""

from __future__ import annotations

import json
from typing import Any

import attrs
import polars as pl
import pytest

from yikatong.adapters.memory_store import MemoryStore
from yikatong.adapters.simulated_bank import SimulatedBank
from yikatong.cli import main
from yikatong.records import Change
from yikatong.simulation import _world as _simworld
from yikatong.simulation import simulate


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["simulate", *args])
    return code, json.loads(capsys.readouterr().out)


def test_life_cycles_under_every_fault_keep_every_invariant() -> None:
    report = simulate(seed=11, lifecycles=30, rows=10, faults=True, lifecycles_per_world=6)
    assert report.violations == ()
    counts = report.counts
    assert counts["rows_paid"] > 0
    assert counts["rows_failed"] > 0
    assert counts["corrections"] > 0
    assert counts["exceptions_refused"] > 0
    assert counts["refusals"]["PermissionDenied"] > 0
    injected = counts["faults_injected"]
    for fault in ("bank:timeout", "bank:duplicate", "bank:phantom", "bank:partial", "bank:out_of_order"):
        assert injected.get(fault, 0) > 0, fault
    assert report.steps > 30 * 10
    money = counts["money"]
    assert set(money) == {"funded_fen", "paid_fen", "reversed_fen", "held_fen", "refunded_fen"}
    assert money["funded_fen"] == money["paid_fen"] - money["reversed_fen"] + money["held_fen"] + money["refunded_fen"]
    assert money["reversed_fen"] > 0
    assert money["refunded_fen"] > 0
    assert counts["rows_reversed"] > 0
    assert counts["orders_withdrawn"] > 0
    assert counts["refunds"] > 0
    assert injected.get("bank:reversal", 0) > 0
    assert injected.get("bank:withdrawn", 0) > 0
    shown = report.as_json()
    assert shown["rows_expired"] > 0
    assert shown["late_corrections_refused"] > 0
    assert shown["rows_expired"] == counts["rows_expired"]


def test_a_well_behaved_outside_world_pays_and_publishes_without_reconciliation_exceptions() -> None:
    report = simulate(seed=5, lifecycles=6, rows=10)
    assert report.ok
    assert report.counts["exceptions_refused"] == 0
    assert report.counts["ended"]["published"] >= 1
    assert report.counts["faults_injected"] == {}


def test_the_same_seed_prints_the_same_json(capsys: pytest.CaptureFixture[str]) -> None:
    first = run_cli(capsys, "--seed", "3", "--batches", "4", "--rows", "8", "--faults")
    again = run_cli(capsys, "--seed", "3", "--batches", "4", "--rows", "8", "--faults")
    other = run_cli(capsys, "--seed", "4", "--batches", "4", "--rows", "8", "--faults")
    assert first == again
    assert first[0] == 0
    assert first[1]["violations"] == 0
    assert {"lifecycles", "steps", "violations", "rows_paid", "rows_failed", "exceptions_refused"} <= set(first[1])
    assert other[1] != first[1]


def test_the_jobs_option_prints_the_same_json(capsys: pytest.CaptureFixture[str]) -> None:
    args = ("--seed", "3", "--batches", "5", "--rows", "6", "--faults")
    alone = run_cli(capsys, *args)
    two = run_cli(capsys, *args, "--jobs", "2")
    assert two == alone
    assert alone[1]["lifecycles"] == 5
    assert alone[1]["steps"] > 0


def test_a_simulation_spread_over_processes_counts_every_county() -> None:
    one = simulate(seed=2, lifecycles=3, rows=5, lifecycles_per_world=1)
    spread = simulate(seed=2, lifecycles=3, rows=5, lifecycles_per_world=1, jobs=3)
    assert spread == one
    assert spread.counts["originals"] == 3


class TornStore(MemoryStore):
    """A store that loses the ledger part of every change recording bank results (a torn transaction)."""

    def commit(self, change: Change) -> None:
        if change.audit and change.audit[0].action == "record_results":
            change = attrs.evolve(change, ledger=None)
        super().commit(change)


def test_a_store_that_tears_a_transaction_is_caught_and_the_run_exits_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_simworld, "MemoryStore", TornStore)
    code, report = run_cli(capsys, "--seed", "2", "--batches", "2", "--rows", "8", "--faults")
    assert code == 1
    assert report["violation_count"] > 0
    assert {v["invariant"] for v in report["violations"]} >= {"2_money"}
    first = report["violations"][0]
    assert first["seed"] == 2
    assert first["lifecycle"] == 0
    assert first["replay"] == "yikatong simulate --seed 2 --batches 2 --rows 8 --faults"


def test_a_bank_that_reports_failed_rows_as_paid_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    real = SimulatedBank.results

    def lying(self: SimulatedBank, batch_id: str) -> pl.DataFrame:
        return real(self, batch_id).with_columns(outcome=pl.lit("paid"), reason_code=pl.lit(None, pl.String))

    monkeypatch.setattr(SimulatedBank, "results", lying)
    report = simulate(seed=4, lifecycles=4, rows=20, faults=True)
    assert "4_refused_results" in {v["invariant"] for v in report.violations}


def test_bad_arguments_are_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--seed", "1", "--batches", "-1"]) == 2
    assert "batches" in capsys.readouterr().err
    assert main(["simulate", "--seed", "1", "--batches", "1", "--jobs", "0"]) == 2
    assert "jobs" in capsys.readouterr().err
