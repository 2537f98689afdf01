"""The regression guard: rerun the quick benchmark and compare it with the recorded figure.

``python -m benchmarks.guard [--rows 1000000] [--record]`` generates a synthetic roster of ``--rows`` rows (with its
registry, reference lists and ledger), validates it with every rule but ``DUP_NEAR`` in a fresh process, and prints
one line comparing the wall time with the figure recorded for the same row count in ``benchmarks/recorded.json``::

    benchmark guard: 1,000,000 rows in 2.1 s (recorded 2.0 s, ratio 1.05) — ok

or, when the run is more than :data:`SLOWER` times the recorded time, a line that says ``SLOWER THAN RECORDED ×1.7``.
It never fails on speed: timings on a shared machine are noisy, so a slow run is reported, not fatal. ``--record``
writes the measured figure (with the machine and the date) into ``recorded.json``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any, Final

from attrs import frozen

from benchmarks._harness import machine_info, run_step

__all__ = ["RECORDED", "SLOWER", "GuardResult", "compare", "main", "measure", "record"]

RECORDED: Final = Path(__file__).resolve().parent / "recorded.json"
SLOWER: Final = 1.5
"""A run this many times slower than the recorded one is called out."""


@frozen
class GuardResult:
    """One guard run: the measured figure, the recorded one (if any) and the line to print."""

    rows: int
    seconds: float
    peak_rss_mb: float
    recorded_seconds: float | None
    line: str

    @property
    def ratio(self) -> float | None:
        """Measured ÷ recorded wall time, None without a recorded figure."""
        return None if self.recorded_seconds is None else self.seconds / self.recorded_seconds

    @property
    def slower(self) -> bool:
        """True when the run is more than :data:`SLOWER` times the recorded time."""
        return self.ratio is not None and self.ratio > SLOWER


def _recorded(rows: int, path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    figures: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8")).get("figures", [])
    return next((f for f in figures if f.get("rows") == rows), None)


def compare(rows: int, seconds: float, peak_rss_mb: float, recorded: dict[str, Any] | None) -> GuardResult:
    """The guard's verdict line for a measured run against ``recorded`` (a figure of ``recorded.json``)."""
    head = f"benchmark guard: {rows:,} rows in {seconds:.1f} s (peak RSS {peak_rss_mb:,.0f} MiB)"
    if recorded is None:
        return GuardResult(rows, seconds, peak_rss_mb, None, f"{head} — no recorded figure for {rows:,} rows")
    before = float(recorded["seconds"])
    ratio = seconds / before
    verdict = f"SLOWER THAN RECORDED ×{ratio:.1f}" if ratio > SLOWER else "ok"
    line = f"{head} (recorded {before:.1f} s on {recorded.get('date', '?')}, ratio {ratio:.2f}) — {verdict}"
    return GuardResult(rows, seconds, peak_rss_mb, before, line)


def measure(rows: int, out_dir: Path, *, path: Path = RECORDED, timeout: float = 1800.0) -> GuardResult:
    """Generate (or reuse) the data in ``out_dir``, validate it in a fresh process, compare with ``path``.

    Raises:
        benchmarks._harness.StepFailed: the data generation or the validation crashed.
    """
    data = run_step("_data:prepare_step", {"rows": rows, "out_dir": str(out_dir)}, timeout=timeout)
    run = run_step("full_rules:in_memory", {"folder": data["folder"], "rules": "no-near"}, timeout=timeout)
    return compare(rows, float(run["seconds"]), float(run["peak_rss_mb"]), _recorded(rows, path))


def record(result: GuardResult, *, path: Path = RECORDED) -> None:
    """Store ``result`` as the recorded figure for its row count (replacing an older one)."""
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    machine = machine_info()
    figure = {
        "rows": result.rows,
        "seconds": round(result.seconds, 3),
        "rows_per_s": round(result.rows / result.seconds),
        "peak_rss_mb": round(result.peak_rss_mb),
        "rules": "every rule but DUP_NEAR, registry, reference lists and ledger supplied",
        "date": machine.pop("date"),
        "machine": machine,
    }
    figures = [f for f in document.get("figures", []) if f.get("rows") != result.rows]
    document["figures"] = sorted([*figures, figure], key=lambda f: int(f["rows"]))
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Measure, print the comparison line, optionally record. Exit 0 unless the benchmark itself crashed."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--record", action="store_true", help="store the measured figure in recorded.json")
    parser.add_argument("--out", type=Path, default=None, help="data folder (default: a temporary one)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="yikatong-guard-") as tmp:
        result = measure(args.rows, args.out.resolve() if args.out else Path(tmp))
    print(result.line)
    if args.record:
        record(result)
        print(f"recorded in {RECORDED}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
