"""``yikatong simulate``: randomized batch life cycles through the in-memory adapters, every invariant checked."""

from __future__ import annotations

import argparse
import json

from yikatong.cli._common import at_least
from yikatong.simulation import simulate

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``simulate`` sub-command."""
    p = sub.add_parser(
        "simulate",
        help="run randomized batch life cycles and check every invariant after every step",
        description=(
            "Run N randomized batch life cycles (random rosters with defects, random decisions, corrections, actors "
            "who must be refused; with --faults a bank and treasury that misbehave) through the in-memory adapters, "
            "check every invariant after every step, and print one JSON object. Exit 0 when every invariant held, "
            "1 otherwise. The same arguments print the same JSON."
        ),
    )
    p.add_argument("--seed", type=at_least(0, "随机种子", "--seed"), required=True, help="seed of every random choice")
    p.add_argument(
        "--batches",
        type=at_least(0, "批次数", "--batches"),
        required=True,
        help="number of life cycles (original batches)",
    )
    p.add_argument("--rows", type=at_least(1, "行数", "--rows"), default=30, help="rows per roster (default 30)")
    p.add_argument("--faults", action="store_true", help="switch on every fault of the simulated bank and treasury")
    p.add_argument(
        "--all-rules", action="store_true", help="validate by every rule of the library (slower; same workflow)"
    )
    p.add_argument(
        "--jobs",
        type=at_least(1, "进程数", "--jobs"),
        default=1,
        help="processes running counties (8 life cycles each) at once; the same JSON for any number (default 1)",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the simulation and print its report as JSON; 1 when an invariant was broken."""
    report = simulate(
        seed=args.seed,
        lifecycles=args.batches,
        rows=args.rows,
        faults=args.faults,
        all_rules=args.all_rules,
        jobs=args.jobs,
    )
    print(json.dumps(report.as_json(), ensure_ascii=False, sort_keys=False))
    return 0 if report.ok else 1
