"""Reading a roster and the whole ``yikatong validate`` job, beside Polars' own CSV reader and a bare scan, and beside
a baseline revision of the library, all measured in the same run.

Run from a checkout (the baseline is taken from its git history)::

    python -m benchmarks.bench_read [--rows 1000000] [--roster FILE] [--baseline REV] [--repeat 1] [--skip-baseline]
        [--skip-phases] [--baseline-phases] [--only-read] [--json FILE]

Without ``--roster``, ``yikatong synth --rows N --encoding utf-8`` makes one (about 5% defective rows, ragged lines
among them, every ID distinct). Every figure comes from a fresh child process, once with this checkout's ``src``
and once with ``src`` as it was at ``--baseline`` (``git archive``), alternating so both meet the same load:

* ``validate``: ``python -m yikatong validate ROSTER --item GLJT --period P --out DIR``, the whole job (read, every
  rule the roster alone allows, DUP_NEAR included, the report files written);
* ``phases`` (this checkout; the baseline's too with ``--baseline-phases``): the same job in one child, timing
  ``read_form``, ``validate`` with every rule, ``validate`` without DUP_NEAR, and ``write_validation_report`` (its
  XLSX, HTML and Parquet parts);
* ``read_roster`` alone;
* Polars' ``read_csv`` of the same file with every column as text, and a bare scan (``scan_csv``: hash the ID
  column, sum the byte lengths of every column), the floors the library is compared with.

It prints wall and CPU seconds (user + system of the child, ``getrusage(RUSAGE_CHILDREN)``; on a shared machine CPU
time is the steadier figure) and the load average at the start, and writes the figures as JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks._baseline import baseline_src, imported_from
from benchmarks.bench_simulate import timed

__all__ = ["main"]

_ROOT = Path(__file__).resolve().parent.parent
_BARE_SCAN = """
import sys, polars as pl
lf = pl.scan_csv(sys.argv[1], infer_schema=False, truncate_ragged_lines=True)
cols = lf.collect_schema().names()
ids = [c for c in cols if "身份证" in c][0]
lf.select(pl.col(ids).hash().sum().alias("_h"), *(pl.col(c).str.len_bytes().sum() for c in cols)).collect()
"""
_POLARS_READ = """
import sys, polars as pl
pl.read_csv(sys.argv[1], infer_schema=False, truncate_ragged_lines=True)
"""
_READ_ROSTER = """
import sys
from yikatong import read_roster
read_roster(sys.argv[1])
"""
_PHASES = """
import json, resource, sys, time
from pathlib import Path
from yikatong import read_form, validate
from yikatong.adapters.validation_report import write_validation_report
from yikatong.adapters.validation_report._tables import line_table, rule_table, town_table, control_table
from yikatong.adapters.validation_report._xlsx import xlsx_bytes
from yikatong.adapters.validation_report._html import html_page
from yikatong.catalog import Catalog
from yikatong.rules import RULES
from yikatong.cli._catalog import load_catalog

def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

out = {}
def phase(name, fn):
    w, c = time.perf_counter(), cpu()
    value = fn()
    out[name] = {"wall": time.perf_counter() - w, "cpu": cpu() - c}
    return value

roster_path, period, folder = sys.argv[1], sys.argv[2], Path(sys.argv[3])
item = load_catalog(None)["GLJT"]
form = phase("read_form", lambda: read_form(roster_path))
roster = form.rows
report = phase("validate (every rule)", lambda: validate(roster, item=item, period=period))
without = [r for r in RULES if getattr(r, "code", None) != "DUP_NEAR"]
phase("validate (every rule but DUP_NEAR)", lambda: validate(roster, item=item, period=period, rules=without))
phase("write_validation_report", lambda: write_validation_report(report, roster, folder))
rules, towns, controls = rule_table(report), town_table(report, roster), control_table(report)
lines = phase("  of which line table", lambda: line_table(report, roster))
phase("  of which report.xlsx", lambda: xlsx_bytes(lines, rules, towns, controls))
phase("  of which report.html", lambda: html_page(report, rules, towns, controls, title="t"))
phase("  of which Parquet", lambda: report.write_parquet(folder))
print(json.dumps(out))
"""


def _load() -> str:
    with open("/proc/loadavg", encoding="ascii") as f:
        return " ".join(f.read().split()[:3])


def _phases(src: Path, roster: Path, period: str, work: Path) -> dict[str, dict[str, float]]:
    env = {**os.environ, "PYTHONPATH": str(src), "POLARS_SKIP_CPU_CHECK": "1"}
    done = subprocess.run(
        [sys.executable, "-c", _PHASES, str(roster), period, str(work)],
        cwd=work,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, dict[str, float]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _best(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: min(r[k] for r in runs) for k in ("wall", "cpu")}


def main(argv: list[str] | None = None) -> None:
    """Time the runs and print the table (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_read")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--roster", type=Path, default=None, help="a UTF-8 GLJT roster (default: synthesised)")
    parser.add_argument("--period", default="2026-11")
    parser.add_argument("--baseline", default="e43ab1b")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--skip-phases", action="store_true")
    parser.add_argument("--only-read", action="store_true", help="time reading only (no validate runs)")
    parser.add_argument("--baseline-phases", action="store_true", help="also time the baseline's phases (slow)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    here = _ROOT / "src"
    results: dict[str, Any] = {"load_at_start": _load()}
    with tempfile.TemporaryDirectory(prefix="bench-read-") as tmp:
        work = Path(tmp)
        roster = args.roster
        if roster is None:
            timed(
                [
                    sys.executable,
                    "-m",
                    "yikatong",
                    "synth",
                    "--rows",
                    str(args.rows),
                    "--out",
                    str(work / "data"),
                    "--encoding",
                    "utf-8",
                    "--period",
                    args.period,
                ],
                src=here,
                cwd=work,
            )
            roster = work / "data" / "roster.csv"
        results["roster"] = {"path": str(roster), "bytes": roster.stat().st_size}
        sources = {"this checkout": here}
        if not args.skip_baseline:
            sources[f"baseline {args.baseline}"] = baseline_src(args.baseline, work / "baseline")
        for label, src in sources.items():
            results.setdefault("imports", {})[label] = imported_from(src, work)
        runs: dict[str, list[dict[str, float]]] = {}

        def run(name: str, command: list[str], src: Path) -> None:
            runs.setdefault(name, []).append(timed(command, src=src, cwd=work))

        for _ in range(args.repeat):
            run(
                "bare scan (Polars scan_csv, hash IDs, sum lengths)",
                [sys.executable, "-c", _BARE_SCAN, str(roster)],
                here,
            )
            run("Polars read_csv, every column as text", [sys.executable, "-c", _POLARS_READ, str(roster)], here)
            for label, src in sources.items():
                run(f"read_roster [{label}]", [sys.executable, "-c", _READ_ROSTER, str(roster)], src)
                if args.only_read:
                    continue
                out = work / f"out-{len(runs)}"
                run(
                    f"yikatong validate --out [{label}]",
                    [
                        sys.executable,
                        "-m",
                        "yikatong",
                        "validate",
                        str(roster),
                        "--item",
                        "GLJT",
                        "--period",
                        args.period,
                        "--out",
                        str(out),
                    ],
                    src,
                )
        results["runs"] = {name: _best(values) for name, values in runs.items()}
        if not args.skip_phases:
            for label, src in sources.items():
                if label != "this checkout" and not args.baseline_phases:
                    continue
                phase_dir = work / f"phases-{label.split()[0]}"
                phase_dir.mkdir()
                results.setdefault("phases", {})[label] = _phases(src, roster, args.period, phase_dir)
    print(f"load average at start: {results['load_at_start']}; roster {results['roster']['bytes']:,} bytes")
    for name, figures in results["runs"].items():
        print(f"{name:62s} wall {figures['wall']:7.2f} s  cpu {figures['cpu']:7.2f} s")
    for label, phases in results.get("phases", {}).items():
        print(f"phases [{label}]")
        for name, figures in phases.items():
            print(f"  {name:60s} wall {figures['wall']:7.2f} s  cpu {figures['cpu']:7.2f} s")
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
