"""Run every benchmark in one go and write the figures: ``python -m benchmarks.run``.

Options: ``--sizes 1000000,10000000`` (in-memory sizes), ``--streaming-rows N`` (streaming engine and the
partitioned runner from Parquet; 0 skips it), ``--partitions K`` (parts of the partitioned runner),
``--skip-single-plan-streaming`` (at that size, only the partitioned runner and the bare scan), ``--quality``
(precision and recall per rule at the smallest size), ``--baseline-rows`` (sample for the row-wise baseline),
``--step-timeout`` (seconds before a step is stopped and reported as not finished), ``--out bench-output/``.
Each measured step runs in a fresh process (see :mod:`benchmarks._harness`); the figures go to
``<out>/results.json`` and a Markdown table to ``<out>/results.md``.

Per size, all on the same rows: the full rule set with the roster in memory (every rule but ``DUP_NEAR``), a bare
Polars scan of the same columns (in memory, and from Parquet), and the row-wise baseline on a sample.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from benchmarks._harness import StepFailed, machine_info, run_step
from benchmarks.report import markdown

__all__ = ["main"]


def _step(
    results: list[dict[str, Any]], label: str, size: int, step: str, args: dict[str, Any], timeout: float
) -> dict[str, Any] | None:
    print(f"  {label} ({size:,} rows)…", flush=True)
    try:
        out = run_step(step, args, timeout=timeout)
    except StepFailed as exc:
        print(f"    FAILED: {exc}", flush=True)
        results.append({"label": label, "size": size, "error": str(exc).splitlines()[0]})
        return None
    out = {"label": label, "size": size, **out}
    results.append(out)
    if "seconds" in out:
        print(
            f"    {out['seconds']:.2f} s, {out['rows_per_s']:,.0f} rows/s, peak RSS {out['peak_rss_mb']:,.0f} MiB",
            flush=True,
        )
    return out


def _skipped(results: list[dict[str, Any]], label: str, size: int, limit: int) -> bool:
    """Skip the full rule set from Parquet above ``limit`` rows (recorded as not run, with the reason)."""
    if not (limit and size > limit and label.startswith("full rules") and "Parquet" in label):
        return False
    print(f"  {label} ({size:,} rows): not run (--full-parquet-max-rows {limit:,})", flush=True)
    results.append({"label": label, "size": size, "error": f"not run above {limit:,} rows (time budget)"})
    return True


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks named by the options and write the results."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--streaming-rows", type=int, default=0)
    parser.add_argument("--quality", action="store_true")
    parser.add_argument(
        "--full-parquet-max-rows",
        type=int,
        default=0,
        help="above this size, skip the full rule set from Parquet and streaming (0: never skip)",
    )
    parser.add_argument("--near-rows", type=int, default=0, help="also run every rule with DUP_NEAR at this size")
    parser.add_argument(
        "--partitions", type=int, default=None, help="parts of the partitioned runner (default: one per 2M rows)"
    )
    parser.add_argument(
        "--skip-single-plan-streaming",
        action="store_true",
        help="at --streaming-rows, run only the partitioned runner and the bare scan",
    )
    parser.add_argument("--baseline-rows", type=int, default=20_000)
    parser.add_argument("--step-timeout", type=float, default=1800.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("bench-output"))
    args = parser.parse_args(argv)
    sizes = sorted(int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip())
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    machine = machine_info()
    print(f"machine: {machine}", flush=True)
    results: list[dict[str, Any]] = []
    document: dict[str, Any] = {
        "machine": machine,
        "command": " ".join(["python -m benchmarks.run", *(sys.argv[1:] if argv is None else argv)]),
        "results": results,
        "quality": None,
    }
    t = args.step_timeout

    def save() -> None:
        (out / "results.json").write_text(json.dumps(document, indent=2), encoding="utf-8")

    def generate(size: int) -> dict[str, str] | None:
        data = _step(
            results, "generate", size, "_data:prepare_step", {"rows": size, "out_dir": str(out), "seed": args.seed}, t
        )
        return None if data is None else {"folder": data["folder"]}

    for index, size in enumerate(sizes):
        print(f"size {size:,}", flush=True)
        folder = generate(size)
        if folder is None:
            continue
        issues = str(out / f"issues-{size}.parquet")
        want_issues = args.quality and index == 0
        steps: list[tuple[str, str, dict[str, Any]]] = [
            (
                "full rules, in memory",
                "full_rules:in_memory",
                {"rules": "no-near", "issues_out": issues if want_issues else None},
            ),
            ("roster-only rules, in memory", "full_rules:in_memory", {"rules": "roster-only"}),
            ("bare scan, in memory", "bare_scan:in_memory", {}),
            ("full rules, from Parquet", "full_rules:from_parquet", {"rules": "no-near", "engine": "in-memory"}),
            ("bare scan, from Parquet", "bare_scan:from_parquet", {}),
            ("row-wise baseline (sample)", "baseline_full_rowwise:run", {"sample_rows": min(args.baseline_rows, size)}),
        ]
        for label, step, extra in steps:
            if _skipped(results, label, size, args.full_parquet_max_rows):
                continue
            result = _step(results, label, size, step, {**folder, **extra}, t)
            save()
            if label == "full rules, in memory" and want_issues and result is not None:
                try:
                    codes = result["rules_run"]
                    document["quality"] = run_step(
                        "quality:score", {**folder, "issues": issues, "codes": codes}, timeout=t
                    )
                except StepFailed as exc:
                    print(f"  quality FAILED: {exc}", flush=True)
    if args.near_rows:
        print(f"DUP_NEAR {args.near_rows:,}", flush=True)
        folder = generate(args.near_rows)
        near_issues = str(out / f"issues-near-{args.near_rows}.parquet")
        if folder is not None:
            result = _step(
                results,
                "all rules with DUP_NEAR, in memory",
                args.near_rows,
                "full_rules:in_memory",
                {**folder, "rules": "all", "issues_out": near_issues},
                t,
            )
            if result is not None:
                try:
                    document["quality_near"] = run_step(
                        "quality:score", {**folder, "issues": near_issues, "codes": ["DUP_NEAR"]}, timeout=t
                    )
                except StepFailed as exc:
                    print(f"  quality FAILED: {exc}", flush=True)
    if args.streaming_rows:
        size = args.streaming_rows
        print(f"streaming {size:,}", flush=True)
        folder = generate(size)
        if folder is not None:
            for label, step, extra in [
                (
                    "roster-only rules, streaming from Parquet",
                    "full_rules:from_parquet",
                    {"rules": "roster-only", "engine": "streaming"},
                ),
                (
                    "full rules, streaming from Parquet",
                    "full_rules:from_parquet",
                    {"rules": "no-near", "engine": "streaming"},
                ),
                (
                    "full rules, partitioned from Parquet",
                    "full_rules:partitioned",
                    {"rules": "no-near", "partitions": args.partitions},
                ),
                ("bare scan, streaming from Parquet", "bare_scan:from_parquet", {"engine": "streaming"}),
            ]:
                if args.skip_single_plan_streaming and "streaming from Parquet" in label and "rules" in label:
                    print(f"  {label} ({size:,} rows): not run (--skip-single-plan-streaming)", flush=True)
                    continue
                if not _skipped(results, label, size, args.full_parquet_max_rows):
                    _step(results, label, size, step, {**folder, **extra}, t)
                save()
    save()
    table = markdown(document)
    (out / "results.md").write_text(table, encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
