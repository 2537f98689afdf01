"""The simulation run: [`simulate`][yikatong.simulation.simulate] drives many seeded life cycles and gathers the
violations they find."""

from __future__ import annotations

import logging
import multiprocessing
import random
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Final

from attrs import frozen

from yikatong.adapters.faults import Faults
from yikatong.simulation._life import run_lifecycle
from yikatong.simulation._world import LogCapture, World
from yikatong.workflow.funds import MONEY_TOTALS, batch_money, money_totals, records_frame

__all__ = ["SimulationReport", "simulate"]

_SHOWN: Final = 50
_DEFAULT_ROWS: Final = 30
"""Rows per roster unless told otherwise."""


@frozen
class SimulationReport:
    """What a simulation did and found.

    Attributes:
        seed: The seed; ``lifecycles`` how many original batches were run; ``rows`` rows per roster.
        faults: Whether the bank and the treasury injected faults.
        steps: Workflow steps run (each followed by a check of every invariant).
        violations: Each broken invariant: ``invariant``, ``step``, ``detail``, ``seed``, ``lifecycle`` and the
            ``replay`` command; empty when every invariant held.
        counts: Batches, rows paid and failed, corrections, refusals, reconciliation exceptions, injected faults,
            and ``money``: where every fen funded went, ``funded_fen`` = ``paid_fen`` − ``reversed_fen`` +
            ``held_fen`` + ``refunded_fen`` ([`yikatong.workflow.funds`][]).
    """

    seed: int
    lifecycles: int
    rows: int
    faults: bool
    steps: int
    violations: tuple[dict[str, Any], ...]
    counts: dict[str, Any]

    @property
    def ok(self) -> bool:
        """True when no invariant was broken."""
        return not self.violations

    def as_json(self) -> dict[str, Any]:
        """The report as one JSON object (``violations`` is 0 when all held, else the first 50 of them)."""
        return {
            "seed": self.seed,
            "lifecycles": self.lifecycles,
            "rows_per_batch": self.rows,
            "faults": self.faults,
            "steps": self.steps,
            "violations": list(self.violations[:_SHOWN]) if self.violations else 0,
            "violation_count": len(self.violations),
            **self.counts,
        }


def simulate(
    *,
    seed: int,
    lifecycles: int,
    rows: int = _DEFAULT_ROWS,
    faults: bool = False,
    lifecycles_per_world: int = 8,
    all_rules: bool = False,
    jobs: int = 1,
) -> SimulationReport:
    """Run ``lifecycles`` randomized batch life cycles (plus their correction batches) and check every invariant.

    Args:
        seed: Seed of every random choice; the same arguments give the same report.
        lifecycles: Number of original batches.
        rows: Rows per roster (before in-batch duplicates are injected).
        faults: Switch on every fault of the simulated bank and treasury
            ([`Faults.typical`][yikatong.adapters.Faults.typical]).
        lifecycles_per_world: Life cycles that share one county (store, people, bank, treasury), so later
            batches meet people already paid for the same item and period.
        all_rules: Validate by every rule of the library instead of the rules the simulated defects trip
            (``yikatong.simulation._world.SIM_RULE_CODES``); much slower, the same workflow.
        jobs: Processes that run counties at once (each county is seeded on its own, so the report is the same
            for any number of jobs); 1 runs them all in this process.

    Returns:
        A [`SimulationReport`][yikatong.simulation.SimulationReport].

    Raises:
        ValueError: when ``lifecycles`` is negative or ``rows``, ``lifecycles_per_world`` or ``jobs`` is below 1.
    """
    if lifecycles < 0 or rows < 1 or lifecycles_per_world < 1 or jobs < 1:
        raise ValueError("lifecycles must be ≥ 0, rows, lifecycles_per_world and jobs ≥ 1")
    plan = _Plan(seed, lifecycles, rows, faults, lifecycles_per_world, all_rules)
    worlds = list(range(len(range(0, lifecycles, lifecycles_per_world))))
    if jobs == 1 or len(worlds) < 2:
        results = _run_worlds(plan, worlds)
    else:
        # spawn, not fork: a forked child of a process whose Polars thread pool is running may hang
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(jobs, len(worlds)), mp_context=context) as pool:
            results = [r for part in pool.map(_run_worlds, [plan] * len(worlds), [[w] for w in worlds]) for r in part]
    violations: list[dict[str, Any]] = []
    counts: Counter[str] = Counter()
    injected: Counter[str] = Counter()
    steps = 0
    for result in results:
        violations += result.violations
        counts.update(result.counts)
        injected.update(result.injected)
        steps += result.steps
    return SimulationReport(
        seed=seed,
        lifecycles=lifecycles,
        rows=rows,
        faults=faults,
        steps=steps,
        violations=tuple(violations),
        counts=_summary(counts, injected),
    )


@frozen
class _Plan:
    """What every county of one simulation shares (sent to the worker processes)."""

    seed: int
    lifecycles: int
    rows: int
    faults: bool
    lifecycles_per_world: int
    all_rules: bool


@frozen
class _WorldResult:
    """What one county found and counted."""

    violations: list[dict[str, Any]]
    counts: Counter[str]
    injected: Counter[str]
    steps: int


def _run_worlds(plan: _Plan, worlds: list[int]) -> list[_WorldResult]:
    """Run the counties numbered ``worlds``, in order, capturing log lines to scan them for personal data."""
    logs = LogCapture()
    root, ours = logging.getLogger(), logging.getLogger("yikatong")
    level = ours.level
    root.addHandler(logs)
    ours.setLevel(logging.INFO)
    try:
        return [_run_world(plan, w_index, logs) for w_index in worlds]
    finally:
        root.removeHandler(logs)
        ours.setLevel(level)


def _run_world(plan: _Plan, w_index: int, logs: LogCapture) -> _WorldResult:
    seed, per_world = plan.seed, plan.lifecycles_per_world
    first = w_index * per_world
    violations: list[dict[str, Any]] = []
    counts: Counter[str] = Counter()
    injected: Counter[str] = Counter()
    world = World(
        random.Random(f"{seed}:world:{w_index}").getrandbits(64),
        people=max(4 * plan.rows * per_world // 3, 2 * plan.rows),
        faults=Faults.typical() if plan.faults else None,
        logs=logs,
        all_rules=plan.all_rules,
    )
    for k in range(first, min(first + per_world, plan.lifecycles)):
        seen = len(world.violations)
        run_lifecycle(world, random.Random(f"{seed}:lifecycle:{k}"), rows=plan.rows)
        _collect(violations, world.violations[seen:], plan, lifecycle=k)
    seen = len(world.violations)
    world.check("end", final=True)
    world.steps += 1
    _collect(violations, world.violations[seen:], plan, lifecycle=None)
    counts.update(world.counts)
    _tally(counts, injected, world)
    return _WorldResult(violations, counts, injected, world.steps)


def _replay(plan: _Plan) -> str:
    """The command that runs the same simulation again: every option that changes what happens."""
    words = ["yikatong simulate", f"--seed {plan.seed}", f"--batches {plan.lifecycles}"]
    if plan.rows != _DEFAULT_ROWS:
        words.append(f"--rows {plan.rows}")
    if plan.faults:
        words.append("--faults")
    if plan.all_rules:
        words.append("--all-rules")
    return " ".join(words)


def _collect(
    out: list[dict[str, Any]],
    found: list[tuple[str, str, str]],
    plan: _Plan,
    *,
    lifecycle: int | None,
) -> None:
    replay = _replay(plan)
    for invariant, step, detail in found:
        out.append(
            {
                "invariant": invariant,
                "step": step,
                "detail": detail,
                "seed": plan.seed,
                "lifecycle": lifecycle,
                "replay": replay,
            }
        )


def _tally(counts: Counter[str], injected: Counter[str], world: World) -> None:
    money = money_totals(batch_money(records_frame(world.store.batches()), world.store.ledger()))
    for name, fen in money.items():
        counts[f"money:{name}"] += fen
    counts["rows_reversed"] += int((world.store.ledger()["status"] == "reversed").sum())
    counts["orders_withdrawn"] += sum(len(bank.withdrawn) for bank in world.banks.values())
    counts["duplicate_refunds"] += world.treasury.duplicate_refunds
    exceptions = world.store.exceptions()
    for kind, n in exceptions.group_by("kind").len().iter_rows():
        counts[f"exception:{kind}"] += int(n)
    counts["exceptions_refused"] += exceptions.height
    counts["published_notices"] += len(world.sink.notices)
    for code, bank in world.banks.items():
        counts["sms_sent"] += bank.sms.height
        counts["duplicate_submissions"] += bank.duplicate_submissions
        injected.update({f"bank:{k}": v for k, v in bank.injected.items()})
        counts[f"bank_rows:{code}"] += bank.outcomes().height
    counts["duplicate_funding_requests"] += world.treasury.duplicate_requests
    injected.update({f"treasury:{k}": v for k, v in world.treasury.injected.items()})


def _summary(counts: Counter[str], injected: Counter[str]) -> dict[str, Any]:
    def group(prefix: str) -> dict[str, int]:
        return {k.split(":", 1)[1]: v for k, v in sorted(counts.items()) if k.startswith(prefix)}

    return {
        "batches": counts["batches"],
        "originals": counts["originals"],
        "corrections": counts["corrections"],
        "rows_paid": counts["rows_paid"],
        "rows_failed": counts["rows_failed"],
        "rows_reversed": counts["rows_reversed"],
        "fen_paid": counts["fen_paid"],
        "money": {name: counts[f"money:{name}"] for name in MONEY_TOTALS},
        "orders_withdrawn": counts["orders_withdrawn"],
        "withdrawals_refused": counts["withdrawals_refused"],
        "refunds": counts["refunds"],
        "rows_expired": counts["rows_expired"],
        "late_corrections_refused": counts["late_corrections_refused"],
        "extensions_granted": counts["extensions_granted"],
        "reviews_passed": counts["reviews_passed"],
        "reviews_blocked": counts["reviews_blocked"],
        "funding_refused": counts["funding_refused"],
        "exceptions_refused": counts["exceptions_refused"],
        "exceptions_by_kind": group("exception:"),
        "refusals": group("refused:"),
        "ended": group("ended:"),
        "funding_routes": group("route:"),
        "steps_by_kind": group("step:"),
        "published_notices": counts["published_notices"],
        "sms_sent": counts["sms_sent"],
        "duplicate_submissions": counts["duplicate_submissions"],
        "duplicate_funding_requests": counts["duplicate_funding_requests"],
        "duplicate_refunds": counts["duplicate_refunds"],
        "texts_scanned": counts["texts_scanned"],
        "bank_orders": group("bank_orders:"),
        "bank_rows": group("bank_rows:"),
        "accounts_moved_bank": counts["accounts_moved_bank"],
        "faults_injected": dict(sorted(injected.items())),
    }
