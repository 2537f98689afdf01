"""Spreadsheet output: no cell the library writes runs as a formula when a person opens the file."""

from __future__ import annotations

import io
import zipfile

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from yikatong._spreadsheet import (
    FORMULA_TRIGGERS,
    csv_bytes,
    neutralise,
    neutralise_expr,
    neutralise_frame,
    workbook,
    write_table,
    write_text,
)

PAYLOADS = [
    '=HYPERLINK("http://x","y")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
    "=1+1",
    "-",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_cell_beginning_with_a_formula_character_gets_a_quote_in_front(payload: str) -> None:
    assert neutralise(payload) == "'" + payload


@pytest.mark.parametrize("value", ["凤鸣村", "-12.50", "+1,234.00", "100", "a=b", " =1+1", ""])
def test_plain_text_and_plain_numbers_are_left_alone(value: str) -> None:
    assert neutralise(value) == value


@given(st.text(max_size=20))
def test_the_expression_agrees_with_the_function_and_nothing_neutralised_starts_with_a_trigger(text: str) -> None:
    out = pl.select(neutralise_expr(pl.lit(text, dtype=pl.String))).item()
    assert out == neutralise(text)
    plain = out.lstrip("+-").replace(",", "").replace(".", "", 1).isdigit() and out.isascii()
    assert plain or not out.startswith(FORMULA_TRIGGERS)


@pytest.mark.parametrize("text", ["-١٢", "+٣٤.٥", "-１２", "=１"])
def test_digits_of_other_scripts_are_no_plain_number_for_the_expression_either(text: str) -> None:
    assert pl.select(neutralise_expr(pl.lit(text, dtype=pl.String))).item() == neutralise(text) == "'" + text


def test_only_text_columns_of_a_frame_change_and_they_keep_their_names() -> None:
    frame = pl.DataFrame({"town": ["=1+1", None], "fen": [-5, 7]})
    out = neutralise_frame(frame)
    assert out.columns == ["town", "fen"]
    assert out["town"].to_list() == ["'=1+1", None]
    assert out["fen"].to_list() == [-5, 7]


def test_a_csv_quotes_and_neutralises_every_text_cell_and_title() -> None:
    frame = pl.DataFrame({"=title": ["@SUM(1+1)", "村"], "n": [1, 2]})
    text = csv_bytes(frame).decode("utf-8-sig")
    assert text.splitlines() == ['"\'=title","n"', '"\'@SUM(1+1)",1', '"村",2']
    assert csv_bytes(frame, bom=False).startswith(b'"')


def _xlsx(frame: pl.DataFrame, title: str) -> bytes:
    buffer = io.BytesIO()
    book = workbook(buffer)
    sheet = book.add_worksheet("s")
    write_text(sheet, 0, 0, title)
    sheet.write(1, 0, "=1+2")  # even the generic write of this workbook never makes a formula
    end = write_table(sheet, frame, first_row=2)
    assert end == 3 + frame.height
    book.close()
    return buffer.getvalue()


def test_xlsx_cells_are_text_never_formulas_and_numbers_stay_numbers() -> None:
    frame = pl.DataFrame({"村(社区)": PAYLOADS, "人数": list(range(len(PAYLOADS)))})
    data = _xlsx(frame, '=HYPERLINK("http://x","标题")')
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet_xml = z.read("xl/worksheets/sheet1.xml").decode("utf-8")
        strings = z.read("xl/sharedStrings.xml").decode("utf-8")
    assert "<f>" not in sheet_xml
    assert "'=HYPERLINK" in strings
    read = pl.read_excel(data, read_options={"header_row": 2})
    assert read["村(社区)"].to_list() == [neutralise(p) for p in PAYLOADS]
    assert read["人数"].to_list() == list(range(len(PAYLOADS)))
