"""The validation report a clerk opens: every roster line accounted for, masked, formula-safe, readable."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import polars as pl
import pytest

import yikatong
from yikatong.adapters.validation_report import (
    control_table,
    issues_with_lines,
    line_table,
    rule_table,
    town_table,
    write_validation_report,
)
from yikatong.rules.report import ValidationReport

ROOT = Path(__file__).resolve().parents[2]
CATALOG = yikatong.Catalog.example()

HEADER = "姓名,身份证号,性别,一卡通账号,补贴金额(元),乡镇(街道),村(社区)\n"
ROSTER = (
    HEADER
    + "张三,11010519491231002X,女,6217000000000000012,100.00,清溪场镇,大寨村\n"
    + "李四,440524188001010014,男,6217000000000000020,100.00,清溪场镇,大寨村\n"
    + "王五,500241194101010018,男,6217000000000000038,100,中和街道,凤凰社区\n"
    + '赵六,11010519491231002X,女,6217000000000000046,壹佰元,"=HYPERLINK(""http://x"",""y"")",@SUM(1+1)\n'
)
FULL_NUMBERS = ("11010519491231002X", "440524188001010014", "500241194101010018", "6217000000000000012")


@pytest.fixture
def roster(tmp_path: Path) -> pl.DataFrame:
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER, encoding="utf-8")
    return yikatong.read_roster(path)


@pytest.fixture
def report(roster: pl.DataFrame) -> ValidationReport:
    return yikatong.validate(roster, item=CATALOG["GLJT"], period="2026-11")


def test_every_issue_carries_the_line_of_the_office_file(report: ValidationReport, roster: pl.DataFrame) -> None:
    issues = issues_with_lines(report, roster)
    assert issues.height == report.issues.height
    row_level = issues.filter(pl.col("row_id").is_not_null())
    assert (row_level["source_line"] == row_level["row_id"] + 1).all()
    assert issues.filter(pl.col("row_id").is_null())["source_line"].null_count() == report.batch_issues.height


def test_the_line_table_has_every_roster_line_with_its_verdict_and_every_finding(
    report: ValidationReport, roster: pl.DataFrame
) -> None:
    lines = line_table(report, roster)
    assert lines.height == roster.height
    assert lines["原行号"].to_list() == [2, 3, 4, 5]
    assert set(lines["结论"]) <= {"通过", "待复核", "拦截"}
    dup_rows = report.issues.filter(pl.col("code") == "DUP_IN_BATCH")["row_id"].to_list()
    for row_id in dup_rows:
        assert "DUP_IN_BATCH" in lines["问题说明"][row_id - 1]
    passing = lines.filter(pl.col("结论") == "通过")
    assert passing.height > 0
    assert set(passing["问题说明"]) == {""}


def test_ids_and_accounts_are_masked_unless_the_internal_copy_is_asked_for(
    report: ValidationReport, roster: pl.DataFrame
) -> None:
    masked = line_table(report, roster).write_csv()
    assert not any(n in masked for n in FULL_NUMBERS)
    assert "110105********002X" in masked
    assert "****0012" in masked
    internal = line_table(report, roster, unmasked=True).write_csv()
    assert "11010519491231002X" in internal
    assert "6217000000000000012" in internal


def test_rule_counts_add_up_to_the_findings(report: ValidationReport) -> None:
    rules = rule_table(report)
    row_level = rules.filter(pl.col("范围") == "行")
    assert row_level["行数"].sum() == report.issues.filter(pl.col("row_id").is_not_null()).height
    assert rules.filter(pl.col("范围") == "批次").height == report.batch_issues.height


def test_town_counts_add_up_to_the_roster(report: ValidationReport, roster: pl.DataFrame) -> None:
    towns = town_table(report, roster)
    assert towns["行数"].sum() == roster.height
    assert (towns["通过"] + towns["待复核"] + towns["拦截"] == towns["行数"]).all()
    qingxi = towns.filter(pl.col("乡镇(街道)") == "清溪场镇", pl.col("村(社区)") == "大寨村")
    assert qingxi["行数"].item() == 2
    assert qingxi["金额(分)"].item() == 20000


def _sheet_xml(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as archive:
        return {
            name: archive.read(name).decode("utf-8")
            for name in archive.namelist()
            if name.startswith("xl/worksheets/") or name == "xl/sharedStrings.xml"
        }


def test_the_workbook_has_four_sheets_with_frozen_headers_filters_and_no_formula(
    report: ValidationReport, roster: pl.DataFrame, tmp_path: Path
) -> None:
    write_validation_report(report, roster, tmp_path / "out")
    book = tmp_path / "out" / "report.xlsx"
    sheets = pl.read_excel(book, sheet_id=0)
    assert list(sheets) == ["问题清单", "规则统计", "分乡镇", "控制项"]
    assert sheets["问题清单"].height == roster.height
    xml = _sheet_xml(book)
    worksheets = [text for name, text in xml.items() if name.startswith("xl/worksheets/sheet")]
    assert len(worksheets) == 4
    for text in worksheets:
        assert 'state="frozen"' in text
        assert "<autoFilter" in text
        assert "<f>" not in text  # no cell is a formula
    strings = "".join(xml.values())  # shared strings and the line sheet's in-line strings
    assert "'=HYPERLINK" in strings
    assert "'@SUM(1+1)" in strings
    assert not re.search(r"<t[^>]*>=", strings)
    assert not any(n in strings for n in FULL_NUMBERS)


def test_the_internal_copy_is_a_separate_file_and_only_on_request(
    report: ValidationReport, roster: pl.DataFrame, tmp_path: Path
) -> None:
    plain = write_validation_report(report, roster, tmp_path / "plain")
    assert [p.name for p in plain] == [
        "verdicts.parquet",
        "issues.parquet",
        "summary.json",
        "report.xlsx",
        "report.html",
    ]
    internal = write_validation_report(report, roster, tmp_path / "internal", internal_copy=True)
    assert internal[-1].name == "report-internal.xlsx"
    assert "11010519491231002X" in "".join(_sheet_xml(internal[-1]).values())


def test_the_page_is_self_contained_escaped_and_masked(
    report: ValidationReport, roster: pl.DataFrame, tmp_path: Path
) -> None:
    write_validation_report(report, roster, tmp_path / "out", title="<b>秀山</b> & 报告")
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page, re.IGNORECASE)
    assert "@import" not in page
    assert "url(" not in page
    assert "&lt;b&gt;秀山&lt;/b&gt; &amp; 报告" in page
    assert page.count("<svg") == 2
    assert "=HYPERLINK(&quot;http://x&quot;" in page  # the hostile town is shown as text, escaped
    assert not any(n in page for n in FULL_NUMBERS)
    assert "张三" not in page
    assert "张*" in page


def test_a_missing_control_shows_as_missing_in_the_workbook_and_on_the_page(
    report: ValidationReport, roster: pl.DataFrame, tmp_path: Path
) -> None:
    controls = control_table(report)
    missing = controls.filter(pl.col("状态") == "缺失 missing")["代码"].to_list()
    assert missing == list(report.controls.missing)
    assert missing  # GLJT makes the registry, the ledger and the deceased list mandatory; none was given
    write_validation_report(report, roster, tmp_path / "out")
    sheet = pl.read_excel(tmp_path / "out" / "report.xlsx", sheet_name="控制项")
    assert sheet["状态"].to_list().count("缺失 missing") == len(missing)
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "<h2>控制项 controls</h2>" in page
    assert "缺失 missing" in page


def test_a_waived_control_is_shown_with_its_reason_masked_in_the_workbook_and_on_the_page(
    roster: pl.DataFrame, tmp_path: Path
) -> None:
    reason = "名单未到，经局长批准（批文号 500241194101010018 附后）"
    context = yikatong.ValidationContext(waived_controls={"deceased": reason})
    report = yikatong.validate(roster, item=CATALOG["GLJT"], period="2026-11", context=context)
    assert report.controls.waived == {"deceased": reason}
    controls = control_table(report)
    (row,) = controls.filter(pl.col("代码") == "deceased").iter_rows(named=True)
    assert row["状态"] == "已豁免 waived"
    assert row["必需"] == "是"
    assert "经局长批准" in row["豁免理由"]
    assert "500241194101010018" not in row["豁免理由"]
    write_validation_report(report, roster, tmp_path / "out")
    sheet = pl.read_excel(tmp_path / "out" / "report.xlsx", sheet_name="控制项")
    assert "已豁免 waived" in sheet["状态"].to_list()
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "已豁免 waived" in page
    assert "经局长批准" in page
    assert "500241194101010018" not in page
