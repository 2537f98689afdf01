"""Timings of ``yikatong simulate --faults`` (life cycles per second, every invariant checked after every step) and of
``yikatong demo``, each beside a baseline revision of the library measured in the same run.

Run from a checkout (the baseline is taken from its git history)::

    python -m benchmarks.bench_simulate [--baseline REV] [--lifecycles 40] [--seed 1] [--repeat 1] [--skip-demo]
        [--jobs 2]

Every figure comes from a fresh child process running the CLI exactly as a user would
(``python -m yikatong simulate --seed S --batches N --faults``, ``python -m yikatong demo --out DIR``), once with this
checkout's ``src`` and once with ``src`` as it was at ``--baseline`` (``git archive``), alternating so both meet the
same load. It prints wall time and CPU time (user + system of the child, from ``getrusage(RUSAGE_CHILDREN)``):
on a shared machine CPU time is the steadier figure. Life cycles per second are given net of start-up (the same
command with ``--batches 0``), both per wall second and per CPU second, and the load average at the start. A third
run switches every invariant check off (``World.check`` replaced in the child) to show what the workflow alone
costs: the ceiling any faster check can reach. A fourth runs this checkout with ``--jobs N`` (counties in N
processes; its CPU time is that of every process).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._baseline import baseline_src, imported_from

__all__ = ["main", "timed"]

_ROOT = Path(__file__).resolve().parent.parent
_UNCHECKED = (
    "import sys\n"
    "from yikatong.simulation import _world\n"
    "_world.World.check = lambda self, label, final=False: []\n"
    "from yikatong.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)
"""The CLI with every invariant check switched off: what the workflow itself costs (the ceiling of any check)."""


def timed(command: list[str], *, src: Path, cwd: Path) -> dict[str, float]:
    """Run ``command`` in a child process with ``src`` first on the import path; its wall and CPU seconds."""
    env = {**os.environ, "PYTHONPATH": str(src), "POLARS_SKIP_CPU_CHECK": "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu}


def _best(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: min(r[k] for r in runs) for k in ("wall", "cpu")}


def main(argv: list[str] | None = None) -> None:
    """Run the timings and print them as Markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--baseline", default="HEAD~1", help="git revision to compare with")
    parser.add_argument("--lifecycles", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; the fastest is shown")
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--jobs", type=int, default=2, help="also time this checkout with --jobs N (1: not)")
    args = parser.parse_args(argv)
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        sources = {"baseline": baseline_src(args.baseline, work / "baseline"), "this": _ROOT / "src"}
        for name, src in sources.items():
            print(f"{name}: yikatong from {imported_from(src, work)}")
        simulate = [sys.executable, "-m", "yikatong", "simulate", "--seed", str(args.seed), "--faults", "--batches"]
        results: dict[str, dict[str, list[dict[str, float]]]] = {n: {} for n in sources}
        for _ in range(args.repeat):
            for name, src in sources.items():
                runs = results[name]
                runs.setdefault("start", []).append(timed([*simulate, "0"], src=src, cwd=work))
                runs.setdefault("simulate", []).append(timed([*simulate, str(args.lifecycles)], src=src, cwd=work))
                if name == "this":
                    unchecked = [sys.executable, "-c", _UNCHECKED, *simulate[3:], str(args.lifecycles)]
                    results.setdefault("this, no checks", {}).setdefault("simulate", []).append(
                        timed(unchecked, src=src, cwd=work)
                    )
                    results["this, no checks"]["start"] = runs["start"]
                    if args.jobs > 1:
                        parallel = [*simulate, str(args.lifecycles), "--jobs", str(args.jobs)]
                        results.setdefault(f"this, --jobs {args.jobs}", {}).setdefault("simulate", []).append(
                            timed(parallel, src=src, cwd=work)
                        )
                        results[f"this, --jobs {args.jobs}"]["start"] = runs["start"]
                if not args.skip_demo:
                    out = work / f"demo-{name}"
                    runs.setdefault("demo", []).append(
                        timed([sys.executable, "-m", "yikatong", "demo", "--out", str(out)], src=src, cwd=work)
                    )
        _print_simulate(results, args.lifecycles, args.seed)
        if not args.skip_demo:
            _print_demo(results)


def _print_simulate(results: dict[str, Any], lifecycles: int, seed: int) -> None:
    print(f"\n`yikatong simulate --seed {seed} --batches {lifecycles} --faults`\n")
    print("| library | wall s | CPU s | start-up wall / CPU s | life cycles / wall s | life cycles / CPU s |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, runs in results.items():
        run, start = _best(runs["simulate"]), _best(runs["start"])
        per_wall = lifecycles / max(run["wall"] - start["wall"], 1e-9)
        per_cpu = lifecycles / max(run["cpu"] - start["cpu"], 1e-9)
        print(
            f"| {name} | {run['wall']:.1f} | {run['cpu']:.1f} | {start['wall']:.1f} / {start['cpu']:.1f} "
            f"| {per_wall:.2f} | {per_cpu:.2f} |"
        )


def _print_demo(results: dict[str, Any]) -> None:
    print("\n`yikatong demo --out DIR`\n")
    print("| library | wall s | CPU s |")
    print("|---|---:|---:|")
    for name, runs in results.items():
        if "demo" not in runs:
            continue
        run = _best(runs["demo"])
        print(f"| {name} | {run['wall']:.1f} | {run['cpu']:.1f} |")


if __name__ == "__main__":
    main()
