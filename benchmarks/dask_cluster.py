"""``validate_distributed`` on a local Dask cluster, timed step by step, beside the single plan and the partitioned
runner on the same data set.

Run as a module::

    .venv/bin/python -m benchmarks.dask_cluster --rows 10000000 --workers 2 --out bench-output/dask

Each measured step runs in a fresh process (:mod:`benchmarks._harness`). The distributed step starts a
``LocalCluster`` of ``--workers`` worker processes (one thread each) in its process, reads the roster from Parquet
files of ``--piece-rows`` rows (written once beforehand, not timed) and the context from the data set's Parquet
files, and records how long each step of the run took (from the progress callback: shuffles, rules, the rest), the
peak RSS of each worker, and the report's counts, which must equal the other runners'.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from benchmarks._data import PERIOD, Dataset, prepare
from benchmarks._harness import Timer, machine_info, run_step
from benchmarks.full_rules import rule_set
from yikatong.catalog import Catalog

__all__ = ["distributed", "main"]


def _pieces(data: Dataset, rows: int) -> Path:
    folder = data.folder / f"pieces-{rows}"
    if not (folder / "done").is_file():
        folder.mkdir(exist_ok=True)
        for k, piece in enumerate(data.scan("roster").collect().iter_slices(rows)):
            piece.write_parquet(folder / f"part-{k:04d}.parquet", compression="lz4")
        (folder / "done").write_text("", encoding="utf-8")
    return folder


def _worker_peak_mb() -> float:
    from benchmarks._harness import peak_rss_mb

    return peak_rss_mb()


def distributed(
    folder: str, workers: int = 2, partitions: int | None = None, piece_rows: int = 1_000_000, rules: str = "no-near"
) -> dict[str, Any]:
    """Validate on a ``LocalCluster`` of ``workers`` processes; the time of each step and each worker's peak."""
    from distributed import Client, LocalCluster

    from yikatong.adapters.dask import validate_distributed
    from yikatong.rules import ValidationContext

    data = Dataset(Path(folder))
    pieces = _pieces(data, piece_rows)
    catalog = Catalog.example()
    item = catalog[data.manifest["item"]]
    paths: dict[str, list[str]] = {
        "registry": [str(p) for p in data.files("registry")],
        "ledger": [str(p) for p in data.files("ledger")],
    }
    for name in data.reference_names():
        paths[f"reference:{name}"] = [str(p) for p in data.files(f"reference-{name}")]
    context = ValidationContext(catalog=catalog, declared_total_fen=int(data.manifest["total_fen"]))
    steps: dict[str, list[float]] = {}

    def progress(step: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if done == 0:
            steps[step] = [now, now]
        elif step in steps:
            steps[step][1] = now

    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        client.wait_for_workers(workers)
        client.run(lambda: __import__("yikatong.adapters.dask"))  # imports are not the run's cost
        timer = Timer()
        with timer.measure():
            report = validate_distributed(
                str(pieces / "*.parquet"),
                item=item,
                period=PERIOD,
                client=client,
                context=context,
                context_paths=paths,
                rules=rule_set(rules),
                partitions=partitions,
                progress=progress,
            )
        peaks = client.run(_worker_peak_mb)
    durations = {step: round(end - start, 2) for step, (start, end) in steps.items()}
    shuffle = sum(v for k, v in durations.items() if k.startswith("shuffle"))
    rules_s = sum(v for k, v in durations.items() if k.startswith("rules"))
    counts = {code: n for code, _sev, _zh, _en, n in report.counts_by_code.iter_rows()}
    return {
        "rows": data.rows,
        "seconds": timer.seconds,
        "rows_per_s": data.rows / timer.seconds,
        "workers": workers,
        "partitions": partitions,
        "pieces": len(list(pieces.glob("*.parquet"))),
        "steps": durations,
        "shuffle_s": round(shuffle, 2),
        "rules_s": round(rules_s, 2),
        "other_s": round(timer.seconds - shuffle - rules_s, 2),
        "worker_peak_rss_mb": sorted(round(v) for v in peaks.values()),
        "findings": int(report.issues.height),
        "code_counts": counts,
        "verdicts": report.counts_by_verdict,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--partitions", type=int, default=None)
    parser.add_argument("--piece-rows", type=int, default=1_000_000)
    parser.add_argument("--rules", default="no-near", choices=("all", "no-near", "roster-only"))
    parser.add_argument("--steps", default="distributed,partitioned,in_memory")
    parser.add_argument("--step-timeout", type=float, default=3600.0)
    parser.add_argument("--out", type=Path, default=Path("bench-output/dask"))
    args = parser.parse_args()
    data = prepare(args.rows, args.out)
    results: dict[str, Any] = {"machine": machine_info(), "args": {k: str(v) for k, v in vars(args).items()}}
    for step in args.steps.split(","):
        started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        load = Path("/proc/loadavg").read_text(encoding="utf-8").split()[:3]
        if step == "distributed":
            kw: dict[str, Any] = {"folder": str(data.folder), "workers": args.workers, "rules": args.rules}
            kw.update({"partitions": args.partitions, "piece_rows": args.piece_rows})
            result = run_step("dask_cluster:distributed", kw, timeout=args.step_timeout)
        elif step == "partitioned":
            kw = {"folder": str(data.folder), "rules": args.rules, "partitions": args.partitions}
            result = run_step("full_rules:partitioned", kw, timeout=args.step_timeout)
        else:
            result = run_step("full_rules:in_memory", {"folder": str(data.folder), "rules": args.rules})
        result.update({"started": started, "load_at_start": load})
        results[step] = result
        print(step, json.dumps({k: v for k, v in result.items() if k != "code_counts"}), flush=True)
    (args.out / "distributed.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    counts = {step: results[step].get("code_counts") for step in args.steps.split(",")}
    same = len({json.dumps(c, sort_keys=True) for c in counts.values()}) == 1
    print("same findings per code in every step:", same)


if __name__ == "__main__":
    main()
