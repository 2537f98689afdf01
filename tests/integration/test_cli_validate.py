from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest

from yikatong.cli import main

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "src" / "yikatong" / "data" / "catalog.toml"

HEADER = "姓名,身份证号,性别,一卡通账号,补贴金额(元)\n"
ROSTER = (
    HEADER
    + "张三,11010519491231002X,女,6217000000000000012,100.00\n"  # 76 years old; same person as row 5
    + "李四,440524188001010014,男,6217000000000000020,100.00\n"  # passes
    + "王五,500241194101010018,男,6217000000000000038,100\n"  # check character should be 9
    + "赵六,500241410101002,女,6217000000000000046,100.00\n"  # 15-digit ID: review
    + "钱七,11010519491231002X,女,6217000000000000012,1.234\n"  # three decimals
)


def _write(tmp_path: Path, text: str = ROSTER, encoding: str = "utf-8") -> Path:
    path = tmp_path / "roster.csv"
    path.write_bytes(text.encode(encoding))
    return path


def _run(*args: str | Path) -> int:
    return main([str(a) for a in args])


def _validate(roster: Path, *extra: str | Path) -> int:
    return _run("validate", roster, "--catalog", CATALOG, "--item", "GLJT", "--period", "2026-11", *extra)


def test_validate_prints_verdicts_and_findings_in_chinese_with_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _validate(_write(tmp_path, encoding="gb18030"))
    out = capsys.readouterr().out
    assert code == 0
    assert "roster.csv — 5 行 rows" in out
    assert "高龄津贴" in out
    assert "通过 pass 1  待复核 review 1  拦截 block 3" in out
    assert re.search(r"2\s+DUP_IN_BATCH\s+block\s+拦截\s+同一人员", out)
    assert re.search(r"2\s+AGE_NOT_ELIGIBLE\s+block", out)
    assert re.search(r"1\s+AMOUNT_INVALID\s+block", out)
    assert re.search(r"1\s+ID_CHECKSUM\s+block", out)
    assert re.search(r"1\s+ID_15_DIGIT\s+review", out)
    assert "未运行的规则 rules skipped" in out
    assert re.search(r"BATCH_TOTAL_MISMATCH\s+未提供 declared / not supplied: declared", out)


def test_out_writes_verdicts_issues_and_a_summary_without_full_ids(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "out"
    code = _validate(_write(tmp_path), "--out", out_dir, "--declared-count", "5", "--declared-total", "500.00")
    assert code == 0
    verdicts = pl.read_parquet(out_dir / "verdicts.parquet")
    issues = pl.read_parquet(out_dir / "issues.parquet")
    summary = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
    assert verdicts["row_id"].to_list() == [1, 2, 3, 4, 5]
    assert verdicts["verdict"].to_list() == ["block", "pass", "block", "review", "block"]
    assert summary["rows"] == 5
    assert summary["verdicts"] == {"pass": 1, "review": 1, "block": 3}
    assert summary["batch_issues"] == [
        {
            "code": "BATCH_TOTAL_MISMATCH",
            "severity": "block",
            "evidence": "declared 5 rows, 500.00 yuan; roster has 5 rows, 400.00 yuan",
        },
        {
            "code": "CONTROL_MISSING",
            "severity": "block",
            "evidence": "未提供必需的控制：一卡通账户登记库 registry、发放台账 ledger、死亡人员名单 deceased / "
            "mandatory control(s) not supplied: registry (one-card account registry), ledger (payment ledger), "
            "deceased (deceased list)",
        },
    ]
    assert summary["controls"]["missing"] == ["registry", "ledger", "deceased"]
    assert "批次 batch: BATCH_TOTAL_MISMATCH block" in capsys.readouterr().out
    for text in [*issues["evidence"].to_list(), json.dumps(summary, ensure_ascii=False)]:
        assert not re.search(r"\d{17}[\dX]", text)


def test_out_writes_the_clerks_report_beside_the_parquet_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "out"
    assert _validate(_write(tmp_path), "--out", out_dir) == 0
    written = capsys.readouterr().out
    for name in ("verdicts.parquet", "issues.parquet", "summary.json", "report.xlsx", "report.html"):
        assert (out_dir / name).is_file()
        assert name in written
    assert not (out_dir / "report-internal.xlsx").exists()
    issues = pl.read_parquet(out_dir / "issues.parquet")
    assert issues.columns[:2] == ["row_id", "source_line"]
    assert (issues["source_line"] == issues["row_id"] + 1).all()
    sheet = pl.read_excel(out_dir / "report.xlsx", sheet_name="问题清单")
    assert sheet["原行号"].to_list() == [2, 3, 4, 5, 6]
    assert sheet["结论"].to_list() == ["拦截", "通过", "拦截", "待复核", "拦截"]


def test_internal_report_adds_the_unmasked_copy_for_the_department(tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    assert _validate(_write(tmp_path), "--out", out_dir, "--internal-report") == 0
    internal = pl.read_excel(out_dir / "report-internal.xlsx", sheet_name="问题清单")
    masked = pl.read_excel(out_dir / "report.xlsx", sheet_name="问题清单")
    assert internal["身份证号"][0] == "11010519491231002X"
    assert masked["身份证号"][0] == "110105********002X"


def test_fail_on_block_exits_1_when_a_row_is_blocked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _validate(_write(tmp_path), "--fail-on", "block") == 1
    assert "--fail-on block met: 3 blocked, 1 for review" in capsys.readouterr().err


def test_fail_on_review_counts_rows_for_review_but_fail_on_block_does_not(tmp_path: Path) -> None:
    roster = _write(tmp_path, HEADER + "赵六,500241410101002,女,6217000000000000046,100.00\n")
    no_controls = tmp_path / "catalog.toml"  # the example catalogue without its mandatory controls
    no_controls.write_text(
        CATALOG.read_text(encoding="utf-8").replace('mandatory_controls = ["registry", "ledger", "deceased"]\n', ""),
        encoding="utf-8",
    )
    run = ("validate", roster, "--catalog", no_controls, "--item", "GLJT", "--period", "2026-11")
    assert _run(*run, "--fail-on", "block") == 0
    assert _run(*run, "--fail-on", "review") == 1
    assert _validate(roster, "--fail-on", "block") == 1  # with them, the missing controls block the batch


def test_the_streaming_engine_gives_the_same_verdicts(tmp_path: Path) -> None:
    assert _validate(_write(tmp_path), "--out", tmp_path / "s", "--engine", "streaming") == 0
    verdicts = pl.read_parquet(tmp_path / "s" / "verdicts.parquet")
    assert verdicts["verdict"].to_list() == ["block", "pass", "block", "review", "block"]


def test_partitions_give_the_same_verdicts_and_leave_no_working_files(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    roster = _write(tmp_path)
    assert _validate(roster, "--out", tmp_path / "p", "--partitions", "3", "--workdir", work) == 0
    verdicts = pl.read_parquet(tmp_path / "p" / "verdicts.parquet")
    assert verdicts["verdict"].to_list() == ["block", "pass", "block", "review", "block"]
    assert list(work.iterdir()) == []
    summary = json.loads((tmp_path / "p" / "summary.json").read_text(encoding="utf-8"))
    assert "DUP_NEAR" in summary["rules_run"]


def test_partitions_with_the_streaming_engine_is_refused_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _validate(_write(tmp_path), "--partitions", "2", "--engine", "streaming") == 2
    assert "choose one" in capsys.readouterr().err


def test_a_missing_working_folder_is_refused_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _validate(_write(tmp_path), "--partitions", "2", "--workdir", tmp_path / "nope") == 2
    assert "working folder not found" in capsys.readouterr().err


def test_a_missing_roster_is_a_clear_error_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _validate(tmp_path / "nope.csv") == 2
    err = capsys.readouterr().err
    assert "roster not found" in err
    assert "Traceback" not in err


def test_an_unknown_item_is_a_clear_error_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = _run("validate", _write(tmp_path), "--catalog", CATALOG, "--item", "NOPE", "--period", "2026-11")
    assert code == 2
    assert "NOPE" in capsys.readouterr().err


def test_a_roster_amount_with_a_space_inside_is_invalid_not_run_together(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = HEADER + "李四,440524188001010014,男,6217000000000000020,100 50\n"
    code = _validate(_write(tmp_path, roster), "--out", tmp_path / "out")
    assert code == 0
    assert re.search(r"1\s+AMOUNT_INVALID\s+block", capsys.readouterr().out)
    verdicts = pl.read_parquet(tmp_path / "out" / "verdicts.parquet")
    assert verdicts["verdict"].to_list() == ["block"]


@pytest.mark.parametrize(("item", "period"), [("GLJT", "2026-Q4"), ("GLJT", "2026"), ("GDLBZ", "2026-11")])
def test_a_period_of_another_kind_than_the_items_exits_2_with_a_bilingual_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], item: str, period: str
) -> None:
    code = _run("validate", _write(tmp_path), "--catalog", CATALOG, "--item", item, "--period", period)
    assert code == 2
    err = capsys.readouterr().err
    assert f"期间类型不符：项目 {item}" in err
    assert f"period kind mismatch: item {item}" in err


def test_validate_prints_first_which_controls_ran_and_which_mandatory_ones_are_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _validate(_write(tmp_path), "--ledger", ROOT / "examples" / "ledger.csv") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "控制 controls 已运行 ran: 发放台账 ledger"
    assert lines[1].startswith(
        "控制 controls 缺少（必需）MISSING (mandatory): 一卡通账户登记库 registry、死亡人员名单 deceased"
    )
    assert "registry (one-card account registry), deceased (deceased list)" in lines[1]
    assert any(re.match(r"批次 batch: CONTROL_MISSING block", line) for line in lines)


def test_validate_with_every_mandatory_control_names_them_as_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    examples = ROOT / "examples"
    code = _validate(
        _write(tmp_path),
        "--registry",
        examples / "registry.csv",
        "--ledger",
        examples / "ledger.csv",
        "--reference",
        f"deceased={examples / 'reference' / 'deceased.csv'}",
    )
    out = capsys.readouterr().out
    assert code == 0
    assert (
        out.splitlines()[0]
        == "控制 controls 已运行 ran: 一卡通账户登记库 registry、发放台账 ledger、死亡人员名单 deceased"
    )
    assert "MISSING (mandatory)" not in out
    assert "CONTROL_MISSING" not in out


def test_an_empty_roster_file_is_a_clear_error_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _validate(_write(tmp_path, "")) == 2
    assert (
        "yikatong: 错误 error: 无法读取名单 roster.csv / cannot read the roster roster.csv" in capsys.readouterr().err
    )


@pytest.mark.parametrize(
    "extra",
    [
        ["--period", "2026-13"],
        ["--declared-total", "1.234"],
        ["--declared-total", "1e3"],
        ["--declared-total", "1_000"],
        ["--declared-total", "100 50"],
        ["--declared-total", "92233720368547758.08"],
        ["--declared-count", "-1"],
        ["--engine", "gpu"],
        ["--partitions", "0"],
        ["--partitions", "many"],
    ],
)
def test_bad_options_are_usage_errors_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str]
) -> None:
    assert _validate(_write(tmp_path), *extra) == 2
    error = capsys.readouterr().err.splitlines()[-1]
    assert re.match(r"yikatong: 错误 error: 参数 --\S+：\S.* / argument --\S+: \S", error), error
