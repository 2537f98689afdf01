"""Where the time goes: validate one data set with each rule family, chosen rules, or every rule, one at a time.

``python -m benchmarks.per_rule bench-output/final/data-1000000-s7 [all] [families] [CODE ...]`` prints wall and CPU
seconds per rule set. The data set is one written by ``benchmarks.run`` (roster and context as Parquet).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks._data import PERIOD, Dataset, context
from yikatong.rules import RULES, Rule, validate

__all__ = ["main", "measure"]


def measure(folder: Path, selections: Sequence[str]) -> list[tuple[str, float, float]]:
    """``(label, wall seconds, CPU seconds)`` for each selection: ``all``, ``families`` (one line per family) or a
    rule code."""
    data = Dataset(folder)
    ctx = context(data, lazy_files=False)
    assert ctx.catalog is not None
    item = ctx.catalog[data.manifest["item"]]
    roster = data.read("roster")
    plans: list[tuple[str, Sequence[Rule]]] = []
    for selection in selections:
        if selection == "all":
            plans.append(("every rule", RULES))
        elif selection == "families":
            plans += [
                (family, [r for r in RULES if r.family == family]) for family in sorted({r.family for r in RULES})
            ]
        else:
            plans.append((selection, [r for r in RULES if r.code == selection]))
    out = []
    for label, rules in plans:
        wall, cpu = time.perf_counter(), time.process_time()
        validate(roster, item=item, period=PERIOD, context=ctx, rules=rules)
        out.append((label, time.perf_counter() - wall, time.process_time() - cpu))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Print the seconds of each requested rule set."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path, help="a data set folder written by benchmarks.run")
    parser.add_argument("selections", nargs="*", default=["all", "families"])
    args = parser.parse_args(argv)
    for label, wall, cpu in measure(args.folder, args.selections):
        print(f"{label:<28} wall {wall:6.2f} s  cpu {cpu:6.2f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
