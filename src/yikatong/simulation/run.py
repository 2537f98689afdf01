"""The simulation run: [`simulate`][yikatong.simulation.simulate] drives many seeded life cycles and gathers the
violations they find."""

from __future__ import annotations

import logging
import random
from collections import Counter
from typing import Any, Final

from attrs import frozen

from yikatong.adapters.faults import Faults
from yikatong.simulation._life import run_lifecycle
from yikatong.simulation._world import LogCapture, World
from yikatong.workflow.funds import MONEY_TOTALS, batch_money, money_totals, records_frame

__all__ = ["SimulationReport", "simulate"]

_SHOWN: Final = 50


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
    rows: int = 30,
    faults: bool = False,
    lifecycles_per_world: int = 8,
    all_rules: bool = False,
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

    Returns:
        A [`SimulationReport`][yikatong.simulation.SimulationReport].

    Raises:
        ValueError: when ``lifecycles`` is negative or ``rows`` or ``lifecycles_per_world`` is below 1.
    """
    if lifecycles < 0 or rows < 1 or lifecycles_per_world < 1:
        raise ValueError("lifecycles must be ≥ 0, rows and lifecycles_per_world ≥ 1")
    logs = LogCapture()
    root, ours = logging.getLogger(), logging.getLogger("yikatong")
    level = ours.level
    root.addHandler(logs)
    ours.setLevel(logging.INFO)
    violations: list[dict[str, Any]] = []
    counts: Counter[str] = Counter()
    injected: Counter[str] = Counter()
    steps = 0
    try:
        for w_index, first in enumerate(range(0, lifecycles, lifecycles_per_world)):
            world = World(
                random.Random(f"{seed}:world:{w_index}").getrandbits(64),
                people=max(4 * rows * lifecycles_per_world // 3, 2 * rows),
                faults=Faults.typical() if faults else None,
                logs=logs,
                all_rules=all_rules,
            )
            for k in range(first, min(first + lifecycles_per_world, lifecycles)):
                seen = len(world.violations)
                run_lifecycle(world, random.Random(f"{seed}:lifecycle:{k}"), rows=rows)
                _collect(violations, world.violations[seen:], seed=seed, lifecycle=k, lifecycles=lifecycles)
            seen = len(world.violations)
            world.check("end", final=True)
            world.steps += 1
            _collect(violations, world.violations[seen:], seed=seed, lifecycle=None, lifecycles=lifecycles)
            steps += world.steps
            counts.update(world.counts)
            _tally(counts, injected, world)
    finally:
        root.removeHandler(logs)
        ours.setLevel(level)
    return SimulationReport(
        seed=seed,
        lifecycles=lifecycles,
        rows=rows,
        faults=faults,
        steps=steps,
        violations=tuple(violations),
        counts=_summary(counts, injected),
    )


def _collect(
    out: list[dict[str, Any]],
    found: list[tuple[str, str, str]],
    *,
    seed: int,
    lifecycle: int | None,
    lifecycles: int,
) -> None:
    for invariant, step, detail in found:
        out.append(
            {
                "invariant": invariant,
                "step": step,
                "detail": detail,
                "seed": seed,
                "lifecycle": lifecycle,
                "replay": f"yikatong simulate --seed {seed} --batches {lifecycles}",
            }
        )


def _tally(counts: Counter[str], injected: Counter[str], world: World) -> None:
    money = money_totals(batch_money(records_frame(world.store.batches()), world.store.ledger()))
    for name, fen in money.items():
        counts[f"money:{name}"] += fen
    counts["rows_reversed"] += int((world.store.ledger()["status"] == "reversed").sum())
    counts["orders_withdrawn"] += len(world.bank.withdrawn)
    counts["duplicate_refunds"] += world.treasury.duplicate_refunds
    exceptions = world.store.exceptions()
    for kind, n in exceptions.group_by("kind").len().iter_rows():
        counts[f"exception:{kind}"] += int(n)
    counts["exceptions_refused"] += exceptions.height
    counts["published_notices"] += len(world.sink.notices)
    counts["sms_sent"] += world.bank.sms.height
    counts["duplicate_submissions"] += world.bank.duplicate_submissions
    counts["duplicate_funding_requests"] += world.treasury.duplicate_requests
    injected.update({f"bank:{k}": v for k, v in world.bank.injected.items()})
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
        "faults_injected": dict(sorted(injected.items())),
    }
