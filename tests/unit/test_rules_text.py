"""Free text and names that would misbehave in a spreadsheet or a bank file: TEXT_INVALID and NAME_INVALID."""

from __future__ import annotations

import polars as pl
import pytest

from tests.unit.bankfile_support import DATE, layout, make_order, sample_rows
from yikatong.adapters.bankfile.writer import render_order
from yikatong.catalog import Catalog
from yikatong.errors import BankFileError
from yikatong.rules import validate
from yikatong.rules.registry import rules_by_code

ID = "11010519491231002X"


def _evidence(code: str, frame: pl.DataFrame, catalog: Catalog) -> dict[int, str]:
    report = validate(frame, item=catalog["GLJT"], period="2026-11", rules=[rules_by_code()[code]])
    found = report.issues.filter(pl.col("code") == code)
    assert set(found["severity"].to_list()) <= {"review" if code == "TEXT_INVALID" else "block"}
    return dict(zip(found["row_id"].to_list(), found["evidence"].to_list(), strict=True))


@pytest.mark.parametrize(
    "village",
    ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-1+1", "\t=1", "凤鸣\x00村", "凤鸣\u2028村"],
)
def test_a_village_with_a_formula_or_control_character_is_reviewed(village: str, catalog: Catalog) -> None:
    frame = pl.DataFrame({"id_number": [ID, ID], "village": [village, "凤鸣村"], "town": ["镇", "镇"]})
    evidence = _evidence("TEXT_INVALID", frame, catalog)
    assert list(evidence) == [1]
    assert evidence[1].startswith("village ")
    assert village not in evidence[1]


def test_text_invalid_names_each_column_and_problem(catalog: Catalog) -> None:
    frame = pl.DataFrame({"id_number": [ID], "town": ["=镇"], "category": ["一\x85档"], "village": [None]})
    assert _evidence("TEXT_INVALID", frame, catalog) == {
        1: "town begins with a formula character (= + - @); category contains a control character"
    }


def test_text_invalid_is_skipped_for_a_roster_without_free_text(catalog: Catalog) -> None:
    report = validate(pl.DataFrame({"id_number": [ID]}), item=catalog["GLJT"], period="2026-11")
    assert "TEXT_INVALID" in report.skipped


@pytest.mark.parametrize(
    ("name", "evidence"),
    [
        ("张\x00三", "name contains a control character"),
        ("张\u2028三", "name contains a control character"),
        ("张\x85三", "name contains a control character"),
        ("张\u202e三", "name contains a control character"),
        ("=张三", "name begins with a formula character (= + - @)"),
    ],
)
def test_a_name_with_a_control_or_leading_formula_character_is_invalid(
    name: str, evidence: str, catalog: Catalog
) -> None:
    frame = pl.DataFrame({"id_number": [ID, ID], "name": [name, "张三"]})
    assert _evidence("NAME_INVALID", frame, catalog) == {1: evidence}


@pytest.mark.parametrize("layout_name", ["fixed-width-gb18030", "delimited-gb18030"])
@pytest.mark.parametrize("bad", ["\x00", "\u2028", "\x85", "\r"])
def test_a_name_with_a_control_character_never_reaches_a_bank_order_file(layout_name: str, bad: str) -> None:
    rows = sample_rows().with_columns(
        name=pl.when(pl.col("row_id") == 3).then(pl.lit(f"欧阳{bad}娜娜")).otherwise("name")
    )
    with pytest.raises(BankFileError, match=r"line 3: field 'name' contains a line break or another control"):
        render_order(make_order(rows), layout(layout_name), date=DATE)
