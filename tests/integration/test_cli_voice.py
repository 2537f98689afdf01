"""The command line speaks with one voice: Chinese first then English, every problem at once, quiet on a closed pipe."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from yikatong.cli import main
from yikatong.errors import ReferenceDataError
from yikatong.ingest import find_context_files

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
CJK = re.compile(r"[\u4e00-\u9fff]")
BAD_CATALOG = """
[[item]]
code = "GLJT"
name = "高龄津贴"
department = ""
period = "weekly"
[item.standard]
kind = "fixed"
amount = "-5"

[[item]]
code = "DB"
name = "最低生活保障"
department = "民政局"
exclusive_with = ["NOPE"]
[item.standard]
kind = "fixed"
amount = "600.00"

[[item]]
code = "TKGY"
name = "特困人员救助供养"
department = "民政局"
[item.standard]
kind = "ratex"
"""


def _error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("yikatong:")]


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "missing.csv", "--item", "GLJT", "--period", "2026-11"],
        ["validate", str(EXAMPLES / "roster.csv"), "--item", "NOPE", "--period", "2026-11"],
        ["validate", str(EXAMPLES / "roster.csv"), "--item", "GLJT", "--period", "2026-13"],
        ["validate", str(EXAMPLES / "roster.csv"), "--item", "GLJT", "--period", "2026-11", "--context", "nowhere"],
        ["validate", str(EXAMPLES / "roster.csv"), "--item", "GLJT", "--period", "2026-11", "--reference", "x"],
        ["synth", "--rows", "0", "--out", "x"],
        ["synth", "--rows", "5", "--out", "x", "--format", "pdf"],
        ["synth", "--rows", "5", "--out", "x", "--defect-rate", "0.9"],
        ["demo", "--rows", "-3"],
        ["simulate", "--seed", "1", "--batches", "-1"],
        ["audit", "verify", "--store", "missing.db"],
        ["catalog", "check", "missing.toml"],
        ["nonsense"],
    ],
)
def test_every_error_is_chinese_first_then_english_with_exit_2(
    args: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    (line,) = _error_lines(capsys.readouterr().err)
    message = line.removeprefix("yikatong: 错误 error: ")
    assert message != line
    chinese, _, english = message.partition(" / ")
    assert CJK.search(chinese), line
    assert english, line
    assert english[0].isascii(), line


def test_a_bad_catalogue_is_listed_whole_in_its_own_words(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "catalog.toml"
    path.write_text(BAD_CATALOG, encoding="utf-8")
    assert main(["catalog", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"补贴清单 {path} 有 5 处错误 / the catalogue {path} has 5 problem(s)" in err
    for where in (
        'item GLJT, field department, value ""',
        'item GLJT, field period, value "weekly"',
        'item GLJT, field standard.amount, value "-5": must be at least 0',
        'item TKGY, field standard.kind, value "ratex"',
        'item DB, field exclusive_with, value "NOPE"',
    ):
        assert where in err
    assert "Input should" not in err
    assert "validation error" not in err


def test_the_same_catalogue_problems_stop_validate_before_it_reads_the_roster(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "catalog.toml"
    path.write_text(BAD_CATALOG, encoding="utf-8")
    args = ["validate", str(EXAMPLES / "roster.csv"), "--catalog", str(path), "--item", "GLJT", "--period", "2026-11"]
    assert main(args) == 2
    assert len([line for line in capsys.readouterr().err.splitlines() if line.startswith("  项目 ")]) == 5


def test_catalog_example_prints_a_catalogue_that_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "example"]) == 0
    (tmp_path / "mine.toml").write_text(capsys.readouterr().out, encoding="utf-8")
    assert main(["catalog", "check", str(tmp_path / "mine.toml")]) == 0
    assert "补贴清单有效：6 个项目 / the catalogue is valid: 6 item(s)" in capsys.readouterr().out


def test_a_context_folder_gives_the_report_its_files_give_one_by_one(tmp_path: Path) -> None:
    base = ["validate", str(EXAMPLES / "roster.csv"), "--item", "GLJT", "--period", "2026-11"]
    lists = sorted((EXAMPLES / "reference").glob("*.csv"))
    flags = [a for p in lists for a in ("--reference", f"{p.stem}={p}")]
    one_by_one = [*base, "--registry", str(EXAMPLES / "registry.csv"), "--ledger", str(EXAMPLES / "ledger.csv"), *flags]
    assert main([*one_by_one, "--out", str(tmp_path / "a")]) == 0
    assert main([*base, "--context", str(EXAMPLES), "--out", str(tmp_path / "b")]) == 0
    a, b = (json.loads((tmp_path / d / "summary.json").read_text(encoding="utf-8")) for d in ("a", "b"))
    assert a == b
    assert a["skipped"] == {} or all("reference" not in reason for reason in a["skipped"].values())


def test_an_option_wins_over_the_context_folders_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty_ledger = tmp_path / "ledger.csv"
    empty_ledger.write_text("id_number,item,period,amount,status\n", encoding="utf-8")
    base = [
        "validate",
        str(EXAMPLES / "roster.csv"),
        "--item",
        "GLJT",
        "--period",
        "2026-11",
        "--context",
        str(EXAMPLES),
    ]
    assert main(base) == 0
    assert "DUP_ALREADY_PAID" in capsys.readouterr().out
    assert main([*base, "--ledger", str(empty_ledger)]) == 0
    assert "DUP_ALREADY_PAID" not in capsys.readouterr().out


def test_a_context_folder_refuses_an_unknown_list_and_an_input_in_two_formats(tmp_path: Path) -> None:
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / "deceased.csv").write_text("id_number,death_date\n", encoding="utf-8")
    assert set(find_context_files(tmp_path).reference) == {"deceased"}
    (tmp_path / "reference" / "pensioners.csv").write_text("id_number\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match=r"unknown reference list.*pensioners"):
        find_context_files(tmp_path)
    (tmp_path / "reference" / "pensioners.csv").unlink()
    (tmp_path / "registry.csv").write_text("x\n", encoding="utf-8")
    (tmp_path / "registry.parquet").write_bytes(b"")
    with pytest.raises(ReferenceDataError, match="holds registry twice"):
        find_context_files(tmp_path)


def test_a_closed_pipe_ends_the_command_quietly_and_its_files_are_still_written(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line, as after `| head -0`
    args = [
        "validate",
        str(EXAMPLES / "roster.csv"),
        "--item",
        "GLJT",
        "--period",
        "2026-11",
        "--context",
        str(EXAMPLES),
    ]
    try:
        done = subprocess.run(
            [sys.executable, "-m", "yikatong", *args, "--out", str(tmp_path / "out")],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
            timeout=300,
        )
    finally:
        os.close(write_end)
    assert done.stderr == ""
    assert done.returncode == 0
    assert (tmp_path / "out" / "summary.json").is_file()


def test_verbose_logs_the_librarys_steps_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["validate", str(EXAMPLES / "roster.csv"), "--item", "GLJT", "--period", "2026-11", "--partitions", "2"]
    assert main([*args, "--workdir", str(tmp_path)]) == 0
    assert "yikatong.rules" not in capsys.readouterr().err
    assert main([*args, "--workdir", str(tmp_path), "--verbose"]) == 0
    assert re.search(r"yikatong\.rules\.\w+ INFO ", capsys.readouterr().err)
