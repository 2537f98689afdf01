"""Disclosure files under hostile place names: no live formula, no file overwriting another, no bare OSError."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import polars as pl
import pytest

from yikatong.adapters._disclosure_names import NAME_BYTES, NoticeNames, name_part
from yikatong.adapters.disclosure_files import DisclosureFileSink
from yikatong.errors import DisclosureError
from yikatong.records import DisclosureNotice

BATCH = "XS-2026-11-GLJT-001"


def _notice(towns: list[str], villages: list[str], *, batch: str = BATCH) -> DisclosureNotice:
    n = len(towns)
    rows = pl.DataFrame(
        {
            "town": towns,
            "village": villages,
            "name_masked": ["张*"] * n,
            "item_name": ["高龄津贴"] * n,
            "period": ["2026-11"] * n,
            "standard": ["100.00元/月"] * n,
            "amount_fen": [10000] * n,
            "pay_date": [dt.date(2026, 11, 20)] * n,
        }
    )
    return DisclosureNotice(
        batch_id=batch,
        item="GLJT",
        item_name="高龄津贴",
        period="2026-11",
        rows=rows,
        window_days=7,
        published_at=dt.datetime(2026, 11, 27, 9, tzinfo=dt.UTC),
    )


FORMULAS = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-1+1"]


def test_formula_text_in_town_and_village_is_inert_in_the_csv(tmp_path: Path) -> None:
    sink = DisclosureFileSink(tmp_path, formats=("csv",))
    sink.publish(_notice([FORMULAS[0]] * 4, FORMULAS))
    (path,) = sink.written
    table = pl.read_csv(path.read_bytes().decode("utf-8-sig").encode("utf-8"), infer_schema=False)
    for column in ("乡镇(街道)", "村(社区)"):
        cells = [c for c in table[column].to_list() if c]
        assert cells
        assert all(not c.startswith(("=", "+", "-", "@")) for c in cells)
    assert "'=HYPERLINK" in table["乡镇(街道)"][0]


def test_formula_text_never_becomes_a_formula_in_the_xlsx_title_or_cells(tmp_path: Path) -> None:
    sink = DisclosureFileSink(tmp_path, formats=("xlsx",))
    sink.publish(_notice([FORMULAS[0]] * 4, FORMULAS))
    (path,) = sink.written
    with zipfile.ZipFile(path) as z:
        sheets = [z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("xl/worksheets/")]
        strings = z.read("xl/sharedStrings.xml").decode("utf-8")
    assert sheets
    assert all("<f>" not in xml for xml in sheets)
    assert "&apos;=HYPERLINK" in strings or "'=HYPERLINK" in strings
    summary = pl.read_excel(io.BytesIO(path.read_bytes()), sheet_name="汇总", read_options={"header_row": 2})
    assert all(not str(v).startswith(("=", "+", "-", "@")) for v in summary["村(社区)"].to_list())


def test_towns_differing_only_in_bracket_width_get_distinct_readable_files(tmp_path: Path) -> None:
    towns = ["平凯街道(东)"] * 5 + ["平凯街道（东）"] * 5
    villages = [f"村{i}" for i in range(10)]
    sink = DisclosureFileSink(tmp_path)
    sink.publish(_notice(towns, villages))
    files = sorted(p.name for p in (tmp_path / BATCH).iterdir())
    assert len(sink.written) == len(set(sink.written)) == 2 + 2 + 10
    assert len(files) == 14
    assert f"平凯街道(东)_GLJT_2026-11_{BATCH}.csv" in files
    assert f"平凯街道（东）_GLJT_2026-11_{BATCH}.csv" in files


def test_places_that_clean_to_the_same_name_are_told_apart_by_a_digest(tmp_path: Path) -> None:
    sink = DisclosureFileSink(tmp_path, formats=("csv",))
    sink.publish(_notice(["a/b", "a:b", "Town", "town"], ["村", "村", "村", "村"]))
    names = [p.name for p in sink.written]
    assert len({n.casefold() for n in names}) == 4
    assert len(list((tmp_path / BATCH).iterdir())) == 4
    assert names[0].startswith("Town_") or names[0].startswith("a_b_")


def test_a_100_character_village_is_published_under_a_shortened_distinct_name(tmp_path: Path) -> None:
    long_a, long_b = "龙" * 99 + "甲", "龙" * 99 + "乙"
    sink = DisclosureFileSink(tmp_path, formats=("html",))
    sink.publish(_notice(["镇", "镇"], [long_a, long_b]))
    names = [p.name for p in sink.written]
    assert len(set(names)) == 2
    assert all(len(n.encode("utf-8")) <= NAME_BYTES for n in names)
    assert all(n.startswith("镇_龙龙") and n.endswith(".html") and "~" in n for n in names)
    pages = [p.read_text(encoding="utf-8") for p in sink.written]
    assert sorted(long_a in page for page in pages) == [False, True]
    assert sorted(long_b in page for page in pages) == [False, True]


def test_a_file_system_refusal_is_a_disclosure_error_not_an_os_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(DisclosureError, match="cannot write the notice"):
        DisclosureFileSink(blocker).publish(_notice(["镇"], ["村"]))
    with pytest.raises(DisclosureError, match=BATCH[:6]):
        DisclosureFileSink(tmp_path).publish(_notice(["镇"], ["村"], batch=BATCH + "9" * 300))


@pytest.mark.parametrize(
    ("text", "part"),
    [("平凯街道（东）", "平凯街道（东）"), ("a/b\\c", "a_b_c"), ("..x.", "x"), ("村\u202e名", "村_名"), ("", "_")],
)
def test_a_name_part_keeps_what_is_readable_and_safe(text: str, part: str) -> None:
    assert name_part(text) == part


def test_the_same_parts_give_the_same_name_within_a_publication() -> None:
    names = NoticeNames()
    first = names.name(("镇", "GLJT"), ".csv")
    assert names.name(("镇", "GLJT"), ".csv") == first
    assert names.name(("镇", "GLJT"), ".xlsx") != first
