"""The ``DUP_NEAR`` benchmark's roster and its child-process step, on a small roster."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from benchmarks.bench_near import detect, make_roster


def test_realistic_names_recur_far_more_often_than_names_built_character_by_character() -> None:
    realistic, _ = make_roster(20_000, 20, seed=3, names="realistic")
    characters, _ = make_roster(20_000, 20, seed=3, names="characters")
    top = realistic.group_by("name").len().sort("len", descending=True)
    assert "王秀英" in top["name"].head(3).to_list()
    assert top["len"][0] >= 0.003 * realistic.height
    assert realistic["name"].n_unique() < 0.8 * characters["name"].n_unique()


def test_the_detection_step_finds_every_injected_pair_and_writes_them(tmp_path: Path) -> None:
    roster, truth = make_roster(20_000, 60, seed=5)
    roster.write_parquet(tmp_path / "roster.parquet")
    figures = detect(tmp_path / "roster.parquet", tmp_path / "pairs.parquet")
    found = set(pl.read_parquet(tmp_path / "pairs.parquet").select("row_id", "other_row_id").iter_rows())
    assert truth
    assert truth <= found
    assert figures["rule_rows"] >= 2 * len(truth)
    assert figures["cpu"] > 0
