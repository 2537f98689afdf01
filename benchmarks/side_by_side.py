"""The rules of this checkout beside a baseline revision, on the same data set, in one run.

Run from a checkout (the baseline is taken from its git history)::

    python -m benchmarks.side_by_side bench-output/data-1000000-s7 --baseline e43ab1b \
        --rules registry-join,no-near [--repeat 1] [--only this]

For each rule set (see :func:`benchmarks.full_rules.rule_set`), each library validates the roster held in memory
in a fresh child process with its own ``src`` first on the import path (the baseline's unpacked by
``git archive``), baseline and this checkout alternating so both meet the same load. Each child reads the data set
first (not timed), then times :func:`yikatong.rules.validate`: wall seconds, CPU seconds of the process (every
thread), the RSS just before and the peak RSS (``VmHWM``) of the process. The parent prints them as a Markdown
table with the roster's size, the load average when each child started, and whether the two libraries' reports
are equal: the same findings (row, code, severity, evidence) and the same verdict for every row.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._baseline import baseline_src

__all__ = ["child", "main"]

_ROOT = Path(__file__).resolve().parent.parent


def child(folder: str, rules: str, out: str) -> None:
    """Validate ``folder``'s roster with ``rules``; write the figures to ``out``/figures.json and the report's
    findings and verdicts beside them (run in a child process, with the library under test first on the path)."""
    import polars as pl

    from benchmarks._data import PERIOD, Dataset, context
    from benchmarks._harness import peak_rss_mb, rss_mb
    from benchmarks.full_rules import rule_set
    from yikatong.rules import validate

    data = Dataset(Path(folder))
    ctx = context(data, lazy_files=False)
    assert ctx.catalog is not None
    item = ctx.catalog[data.manifest["item"]]
    roster = data.read("roster")
    chosen = rule_set(rules)
    before = rss_mb()
    wall, cpu = time.perf_counter(), time.process_time()
    report = validate(roster, item=item, period=PERIOD, context=ctx, rules=chosen)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = peak_rss_mb()
    target = Path(out)
    report.issues.select("row_id", "code", "severity", "evidence").write_parquet(target / "issues.parquet")
    report.verdicts.select("row_id", "verdict").write_parquet(target / "verdicts.parquet")
    figures = {
        "rows": data.rows,
        "wall": wall,
        "cpu": cpu,
        "rss_before_mb": before,
        "peak_rss_mb": peak,
        "roster_mb": roster.estimated_size("mb"),
        "findings": report.issues.height,
        "rules_run": len(report.rules_run),
        "polars": pl.__version__,
    }
    (target / "figures.json").write_text(json.dumps(figures), encoding="utf-8")


def _run_child(src: Path, folder: Path, rules: str, out: Path, timeout: float) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{_ROOT}"}
    code = f"from benchmarks.side_by_side import child; child({str(folder)!r}, {rules!r}, {str(out)!r})"
    load = os.getloadavg()[0]
    subprocess.run([sys.executable, "-c", code], cwd=_ROOT, env=env, check=True, timeout=timeout)
    figures: dict[str, Any] = json.loads((out / "figures.json").read_text(encoding="utf-8"))
    figures["load"] = load
    return figures


def _same_report(a: Path, b: Path) -> tuple[bool, str]:
    """Whether two children's reports are equal, and the findings per code of the first."""
    import polars as pl

    issues = [pl.read_parquet(p / "issues.parquet").sort("row_id", "code", "severity", "evidence") for p in (a, b)]
    verdicts = [pl.read_parquet(p / "verdicts.parquet").sort("row_id") for p in (a, b)]
    counts = issues[0].group_by("code").len().sort("code")
    per_code = ", ".join(f"{c} {n:,}" for c, n in counts.iter_rows())
    return issues[0].equals(issues[1]) and verdicts[0].equals(verdicts[1]), per_code


def main(argv: list[str] | None = None) -> int:
    """Run both libraries on every rule set and print the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("folder", type=Path, help="a data set folder written by benchmarks.run")
    parser.add_argument("--baseline", default="e43ab1b", help="git revision to compare with")
    parser.add_argument("--rules", default="registry-join,no-near", help="comma-separated rule sets")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--only", choices=["both", "this", "baseline"], default="both")
    parser.add_argument("--timeout", type=float, default=1800.0)
    args = parser.parse_args(argv)
    folder = args.folder.resolve()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    with tempfile.TemporaryDirectory(prefix="yikatong-side-") as tmp:
        work = Path(tmp)
        sources = {"baseline": baseline_src(args.baseline, work / "baseline"), "this": _ROOT / "src"}
        if args.only != "both":
            sources = {args.only: sources[args.only]}
        print(
            "| rules | library | rows | wall s | CPU s | RSS before MiB | peak RSS MiB | roster MiB "
            "| peak ÷ roster | (peak − before) ÷ roster | findings | load |"
        )
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        notes = []
        for rules in [r.strip() for r in args.rules.split(",") if r.strip()]:
            for attempt in range(args.repeat):
                outs = {}
                for name, src in sources.items():
                    out = work / f"{rules}-{name}-{attempt}"
                    f = _run_child(src, folder, rules, out, args.timeout)
                    outs[name] = out
                    print(
                        f"| {rules} | {name} | {f['rows']:,} | {f['wall']:.2f} | {f['cpu']:.2f} "
                        f"| {f['rss_before_mb']:,.0f} | {f['peak_rss_mb']:,.0f} | {f['roster_mb']:,.0f} "
                        f"| {f['peak_rss_mb'] / f['roster_mb']:.1f}× "
                        f"| {(f['peak_rss_mb'] - f['rss_before_mb']) / f['roster_mb']:.1f}× "
                        f"| {f['findings']:,} | {f['load']:.1f} |",
                        flush=True,
                    )
                if len(outs) == 2:
                    same, per_code = _same_report(outs["baseline"], outs["this"])
                    notes.append(f"{rules} (run {attempt + 1}): reports equal: {same}; findings per code: {per_code}")
        for note in notes:
            print(note)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
