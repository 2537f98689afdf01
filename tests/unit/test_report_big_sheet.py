"""report.xlsx's line sheet written as sheet XML by Polars reads back exactly as the cell-by-cell workbook does."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yikatong.adapters.validation_report import _bigsheet
from yikatong.adapters.validation_report._bigsheet import fits
from yikatong.adapters.validation_report._xlsx import xlsx_bytes

_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\ufffe\uffff"), max_size=10
) | st.sampled_from(["=1+1", "+cmd", "-12.50", "@SUM(1)", "\tx", "_x0041_", "a<b>&c", " 前后 ", "", "１２"])

_SMALL = [pl.DataFrame({"规则代码": ["ID_FORMAT"], "行数": [1]}), pl.DataFrame({"金额(分)": [100]}), pl.DataFrame()]


def _workbook(lines: pl.DataFrame, *, big_sheet: bool) -> bytes:
    return xlsx_bytes(lines, *_SMALL, cell_by_cell=not big_sheet)


def _sheet(data: bytes) -> list[tuple[object, ...]]:
    return pl.read_excel(io.BytesIO(data), sheet_name="问题清单", infer_schema_length=0).rows()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 10**9) | st.none(), _TEXT | st.none(), _TEXT), min_size=1, max_size=15))
def test_the_line_sheet_reads_back_the_same_from_either_writer(rows: list[tuple[int | None, str | None, str]]) -> None:
    lines = pl.DataFrame(rows, schema={"原行号": pl.Int64, "姓名": pl.String, "问题说明": pl.String}, orient="row")
    fast = _workbook(lines, big_sheet=True)
    assert _sheet(fast) == _sheet(_workbook(lines, big_sheet=False))
    sheet = zipfile.ZipFile(io.BytesIO(fast)).read("xl/worksheets/sheet1.xml").decode()
    assert f'<dimension ref="A1:C{len(rows) + 1}"/>' in sheet
    assert "<f>" not in sheet


def test_a_frame_with_a_float_column_or_text_too_long_for_a_cell_is_left_to_the_cell_writer() -> None:
    assert fits(pl.DataFrame({"a": [1], "b": ["x"]}))
    assert not fits(pl.DataFrame({"a": [1.5]}))
    assert not fits(pl.DataFrame({"a": ["x" * 20_000]}))


def test_a_sheet_built_in_several_chunks_reads_back_whole_and_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_bigsheet, "_CHUNK", 4)  # 11 rows: chunks of 4, 4 and 3, each built while the last deflates
    lines = pl.DataFrame({"原行号": list(range(1, 12)), "姓名": [f"张{i}" for i in range(11)], "问题说明": [""] * 11})
    assert _sheet(_workbook(lines, big_sheet=True)) == _sheet(_workbook(lines, big_sheet=False))


def test_a_chunk_that_fails_to_build_fails_the_sheet_with_its_own_error() -> None:
    def chunks() -> Iterator[bytes]:
        yield b"<row/>"
        raise ValueError("chunk 2 failed")

    with pytest.raises(ValueError, match="chunk 2 failed"):
        list(_bigsheet.ahead(chunks()))
