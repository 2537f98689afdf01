"""``yikatong validate --dask``: the same summary as on one machine, and clear refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from yikatong.cli import main

CATALOG = Path(__file__).resolve().parents[2] / "src" / "yikatong" / "data" / "catalog.toml"


def _validate(synth: Path, out: Path, *extra: str) -> int:
    references = [f"--reference={name.stem}={name}" for name in sorted((synth / "reference").glob("*.csv"))]
    args = ["validate", str(synth / "roster.csv"), "--catalog", str(CATALOG), "--item", "GLJT", "--period", "2026-11"]
    args += ["--registry", str(synth / "registry.csv"), "--ledger", str(synth / "ledger.csv"), *references]
    return main([*args, "--declared-count", "1", "--out", str(out), *extra])


def test_a_synth_roster_validated_on_a_local_cluster_gives_the_same_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    synth = tmp_path / "synth"
    made = ["synth", "--rows", "400", "--out", str(synth), "--seed", "4", "--period", "2026-11", "--defect-rate", "0.3"]
    assert main([*made, "--context-format", "csv"]) == 0
    assert _validate(synth, tmp_path / "one") == 0
    assert _validate(synth, tmp_path / "cluster", "--dask", "local:2", "--partitions", "3") == 0
    err = capsys.readouterr().err
    assert "集群 cluster: local:2, 2 workers" in err
    assert "shuffle by person 3/3" in err
    assert "rules by person 3/3" in err
    one = json.loads((tmp_path / "one" / "summary.json").read_text(encoding="utf-8"))
    cluster = json.loads((tmp_path / "cluster" / "summary.json").read_text(encoding="utf-8"))
    assert one["rows"] == cluster["rows"] == 400
    assert one["verdicts"] == cluster["verdicts"]
    assert one["codes"] == cluster["codes"]
    assert one["batch_issues"] == cluster["batch_issues"]
    assert "DUP_NEAR" in cluster["rules_run"]


def test_a_cluster_that_is_not_local_or_an_address_is_refused_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("姓名,身份证号,金额\n张三,500241194001011234,100.00\n", encoding="utf-8")
    args = ["validate", str(roster), "--catalog", str(CATALOG), "--item", "GLJT", "--period", "2026-11"]
    assert main([*args, "--dask", "galaxy"]) == 2
    assert "local[:N]" in capsys.readouterr().err
    assert main([*args, "--dask", "local:0"]) == 2
    assert "at least one worker" in capsys.readouterr().err
