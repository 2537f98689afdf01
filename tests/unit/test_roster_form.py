"""Form-style rosters: titles, header, 合计, blank, signature and note lines are never payees, and every line of
the file is accounted for."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.idnumbers import with_check
from yikatong import RosterFormatError, read_form, read_roster, validate
from yikatong.catalog import Catalog
from yikatong.cli import main
from yikatong.rules import ValidationContext

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "src" / "yikatong" / "data" / "catalog.toml"
IDS = [with_check(f"50024119400101{i:03d}") for i in range(40)]

FORM = [
    ("title", "某某镇2026年11月高龄津贴发放花名册"),
    ("title", "填报单位：某某镇人民政府,,,,单位：元"),
    ("header", "序号,姓名,身份证号,一卡通账号,补贴金额"),
    ("payee", f"1,张三,{IDS[0]},6217000000000000012,100.00"),
    ("payee", f"2,李四,{IDS[1]},6217000000000000020,150.00"),
    ("blank", ",,,,"),
    ("total", "合　计,2人,,,250.00"),
    ("blank", ""),
    ("note", "制表人：王五,,审核人：赵六,,填报日期：2026年11月30日"),
    ("note", "负责人：孙七"),
    ("note", "备注：本表一式三份，盖章后报送"),
]


def _text(lines: list[tuple[str, str]]) -> bytes:
    return ("\n".join(text for _, text in lines) + "\n").encode("utf-8")


def _kinds(lines: list[tuple[str, str]]) -> list[dict[str, object]]:
    return [{"source_line": i, "kind": kind} for i, (kind, _) in enumerate(lines, start=1) if kind != "payee"]


def test_a_printed_form_gives_only_its_payees_and_lists_every_other_line() -> None:
    form = read_form(_text(FORM))
    assert form.rows["source_line"].to_list() == [4, 5]
    assert form.rows["id_number"].to_list() == IDS[:2]
    assert form.non_payee_lines.to_dicts() == _kinds(FORM)
    assert (form.declared_total_fen, form.declared_count, form.declared_line) == (25000, 2, 7)
    assert read_roster(_text(FORM))["source_line"].to_list() == [4, 5]


def test_no_finding_is_made_on_the_form_lines_that_are_not_payees(catalog: Catalog) -> None:
    form = read_form(_text(FORM))
    report = validate(form.rows, item=catalog["GLJT"], period="2026-11", context=ValidationContext(form=form))
    assert report.rows == 2
    flagged = report.issues.filter(pl.col("code").is_in(["ID_MISSING", "NAME_INVALID", "ACCOUNT_FORMAT"]))
    assert flagged.is_empty()
    assert report.issues.filter(pl.col("code") == "AMOUNT_INVALID").is_empty()
    assert report.summary["non_payee_lines"] == _kinds(FORM)
    assert "BATCH_TOTAL_MISMATCH" not in report.issues["code"].to_list()
    assert report.declared == {
        "source": "form line 7",
        "count": 2,
        "total_fen": 25000,
        "roster_rows": 2,
        "roster_total_fen": 25000,
    }


def test_a_total_line_that_disagrees_with_the_payees_blocks_the_batch(catalog: Catalog) -> None:
    lines = [*FORM[:6], ("total", "合计,3人,,,350.00"), *FORM[7:]]
    form = read_form(_text(lines))
    report = validate(form.rows, item=catalog["GLJT"], period="2026-11", context=ValidationContext(form=form))
    assert report.batch_blocked
    totals = report.batch_issues.filter(pl.col("code") == "BATCH_TOTAL_MISMATCH")
    assert totals["evidence"].to_list() == [
        "declared 3 rows, 350.00 yuan (form line 7); roster has 2 rows, 250.00 yuan"
    ]


def test_a_declared_total_given_by_the_caller_wins_over_the_form(catalog: Catalog) -> None:
    form = read_form(_text(FORM))
    context = ValidationContext(form=form, declared_total_fen=25000, declared_count=2)
    report = validate(form.rows, item=catalog["GLJT"], period="2026-11", context=context)
    # The only batch finding is the mandatory controls this call left out; the totals agree.
    assert report.batch_issues["code"].to_list() == ["CONTROL_MISSING"]
    assert report.declared["source"] == "declared"


def test_subtotals_are_totals_but_only_the_grand_total_is_declared() -> None:
    lines = [
        ("header", "姓名,身份证号,补贴金额,村"),
        ("payee", f"张三,{IDS[0]},100,甲村"),
        ("total", "小计,,100,甲村"),
        ("payee", f"李四,{IDS[1]},50,乙村"),
        ("total", "本页小计,,50,乙村"),
        ("header", "姓名,身份证号码,补贴金额,村"),  # the header printed again on the next page
        ("payee", f"王五,{IDS[2]},25,乙村"),
        ("blank", ",,,"),
        ("total", "总计：3人,,175.00元,"),
    ]
    form = read_form(_text(lines))
    assert form.rows["name"].to_list() == ["张三", "李四", "王五"]
    assert form.non_payee_lines.to_dicts() == _kinds(lines)
    assert (form.declared_total_fen, form.declared_count, form.declared_line) == (17500, 3, 9)


def test_a_row_with_only_its_serial_number_is_blank_but_a_payee_missing_an_id_stays() -> None:
    lines = [
        ("header", "序号,姓名,身份证号,补贴金额"),
        ("payee", f"1,张三,{IDS[0]},100"),
        ("payee", "2,李四,,100"),
        ("blank", "3,,,"),
        ("blank", "4,,,"),
    ]
    form = read_form(_text(lines))
    assert form.rows["name"].to_list() == ["张三", "李四"]
    assert form.non_payee_lines.to_dicts() == _kinds(lines)
    assert form.declared_total_fen is None


def test_a_payee_with_an_id_is_never_dropped_whatever_the_line_says() -> None:
    lines = [("header", "姓名,身份证号,补贴金额"), ("payee", f"合计,{IDS[0]},100"), ("payee", f"备注,{IDS[1]},100")]
    form = read_form(_text(lines))
    assert form.rows["id_number"].to_list() == IDS[:2]
    assert form.non_payee_lines.to_dicts() == [{"source_line": 1, "kind": "header"}]


def test_a_form_with_no_payee_is_empty() -> None:
    with pytest.raises(RosterFormatError) as caught:
        read_form(_text([("header", "姓名,身份证号,补贴金额"), ("total", "合计,,0")]))
    assert caught.value.problem == "empty"


def _xlsx(lines: list[tuple[str, str]]) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("花名册")
    for r, (_, text) in enumerate(lines):
        for c, cell in enumerate(text.split(",") if text else []):
            if cell:
                sheet.write_string(r, c, cell)
    book.close()
    return buffer.getvalue()


def test_a_spreadsheet_form_is_read_the_same_way() -> None:
    form = read_form(_xlsx(FORM))
    assert form.rows["id_number"].to_list() == IDS[:2]
    assert form.non_payee_lines.to_dicts() == _kinds(FORM)
    assert (form.declared_total_fen, form.declared_count) == (25000, 2)


def test_the_cli_reports_the_form_lines_and_checks_the_form_total(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [*FORM[:6], ("total", "合计,2人,,,300.00"), *FORM[7:]]
    roster = tmp_path / "form.csv"
    roster.write_bytes(_text(lines))
    out = tmp_path / "out"
    options = ["--catalog", str(CATALOG), "--item", "GLJT", "--period", "2026-11", "--out", str(out)]
    code = main(["validate", str(roster), *options, "--fail-on", "block"])
    printed = capsys.readouterr().out
    assert code == 1
    assert "非发放对象行 lines not payees: 9" in printed
    assert "申报 declared (form line 7): 2 人 rows, 300.00 元 yuan；名单 roster: 2 人 rows, 250.00 元 yuan" in printed
    summary = (out / "summary.json").read_text(encoding="utf-8")
    assert '"kind": "note"' in summary
    assert "BATCH_TOTAL_MISMATCH" in summary


_NON_PAYEE = st.sampled_from(
    [
        ("total", "小计,,,"),
        ("note", "制表人：某某,,,"),
        ("note", "审核人：某某"),
        ("note", "说明：以上人员均已核实"),
        ("note", "盖章：某某镇人民政府"),
        ("blank", ""),
        ("blank", ",,,"),
        ("blank", " , ,　,"),
    ]
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.just(None), _NON_PAYEE), min_size=1, max_size=30), st.sampled_from(["\n", "\r\n", "\r"]))
def test_every_line_of_a_form_is_a_payee_or_a_listed_non_payee_line(
    body: list[tuple[str, str] | None], end: str
) -> None:
    lines: list[tuple[str, str]] = [("title", "某某村低保金发放表"), ("header", "序号,姓名,身份证号,补贴金额")]
    payees = 0
    for entry in body:
        if entry is None:
            lines.append(("payee", f"{payees + 1},张{payees},{IDS[payees]},10"))
            payees += 1
        else:
            lines.append(entry)
    lines.append(("payee", f"{payees + 1},李{payees},{IDS[payees]},10"))
    payees += 1
    form = read_form(end.join(text for _, text in lines).encode("utf-8"))
    assert form.rows.height == payees
    assert form.rows["id_number"].to_list() == IDS[:payees]
    accounted = sorted(form.rows["source_line"].to_list() + form.non_payee_lines["source_line"].to_list())
    assert accounted == list(range(1, len(lines) + 1))
    assert form.non_payee_lines.to_dicts() == _kinds(lines)
