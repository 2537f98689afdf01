"""The regression guard: one quick benchmark per test run, reported in the terminal summary, never failing on speed.

The quick run validates a synthetic roster of :data:`GUARD_ROWS` rows (``YIKATONG_GUARD_ROWS`` overrides it) with
every rule but ``DUP_NEAR`` and compares the time with ``benchmarks/recorded.json``. The test fails only when the
benchmark itself crashes; a slow run prints ``SLOWER THAN RECORDED`` instead.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from benchmarks.guard import SLOWER, GuardResult, compare, measure, record

from tests.benchmarks import GUARD_LINES

GUARD_ROWS = int(os.environ.get("YIKATONG_GUARD_ROWS", "1000000"))


def test_the_quick_benchmark_runs_and_its_comparison_is_printed(tmp_path: Path) -> None:
    result = measure(GUARD_ROWS, tmp_path)
    GUARD_LINES.append(result.line)
    assert result.line.startswith(f"benchmark guard: {GUARD_ROWS:,} rows in ")
    assert result.seconds > 0
    assert result.peak_rss_mb > 0


def test_a_run_within_the_tolerance_is_ok() -> None:
    result = compare(1_000_000, 2.1, 900.0, {"rows": 1_000_000, "seconds": 2.0, "date": "2026-11-27"})
    assert result.line.endswith("ratio 1.05) — ok")
    assert not result.slower


def test_a_run_more_than_one_and_a_half_times_slower_is_called_out() -> None:
    result = compare(1_000_000, 3.4, 900.0, {"rows": 1_000_000, "seconds": 2.0, "date": "2026-11-27"})
    assert "SLOWER THAN RECORDED ×1.7" in result.line
    assert result.slower
    assert SLOWER == 1.5


def test_a_row_count_without_a_recorded_figure_says_so() -> None:
    result = compare(5_000, 1.0, 100.0, None)
    assert result.ratio is None
    assert "no recorded figure for 5,000 rows" in result.line


def test_recording_replaces_the_figure_of_the_same_row_count_and_keeps_others(tmp_path: Path) -> None:
    path = tmp_path / "recorded.json"
    record(GuardResult(1000, 2.0, 100.0, None, ""), path=path)
    record(GuardResult(5000, 4.0, 200.0, None, ""), path=path)
    record(GuardResult(1000, 1.0, 90.0, None, ""), path=path)
    figures = json.loads(path.read_text(encoding="utf-8"))["figures"]
    assert [(f["rows"], f["seconds"]) for f in figures] == [(1000, 1.0), (5000, 4.0)]
    assert figures[0]["rows_per_s"] == 1000
    assert "cpus" in figures[0]["machine"]
