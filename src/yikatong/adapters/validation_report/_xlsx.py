"""``report.xlsx``: the validation report a township clerk opens in Excel or WPS.

Four sheets: 问题清单 (every roster line with its source line, the office's own columns, the verdict and every
finding in plain Chinese), 规则统计 (rows per rule and severity), 分乡镇 (per town and village) and 控制项 (the
controls the validation had, lacked, or had waived by finance, with the reason). Each has a frozen
header, filters and column widths that fit Chinese text; every text cell is written as text, never as a formula
(``yikatong._spreadsheet``). The 问题清单 rows, a million for a million-line roster, are written as sheet XML by
Polars (``_bigsheet``) rather than cell by cell.
"""

from __future__ import annotations

import io
from typing import Final

import polars as pl
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from yikatong._spreadsheet import workbook, write_table
from yikatong.adapters.validation_report._bigsheet import fits, with_rows

__all__ = ["xlsx_bytes"]

_MAX_WIDTH: Final = 60


def _display_width(text: str) -> int:
    """Columns a text takes on screen: a CJK or full-width character takes two."""
    return sum(2 if ord(ch) >= 0x2E80 else 1 for ch in text)


def _sheet(
    book: Workbook, title: str, frame: pl.DataFrame, money: frozenset[str] = frozenset(), *, header_only: bool = False
) -> Worksheet:
    """A sheet of ``frame`` (only its header row when ``header_only``: the rows are added to the package later)."""
    sheet = book.add_worksheet(title)
    header = book.add_format({"bold": True, "bg_color": "#DDE6F0", "border": 1, "text_wrap": True})
    yuan = book.add_format({"num_format": "#,##0.00"})
    shown = frame.with_columns(pl.col(c) / 100 for c in money).rename({c: c.replace("(分)", "(元)") for c in money})
    formats = [yuan if c.endswith("(元)") else None for c in shown.columns]
    write_table(sheet, shown.head(0) if header_only else shown, header_format=header, formats=formats)
    sheet.freeze_panes(1, 0)
    if shown.width:
        sheet.autofilter(0, 0, max(shown.height, 1), shown.width - 1)
    for col, name in enumerate(shown.columns):
        sample = [str(v) for v in shown[name].head(2000).to_list() if v is not None]
        widest = max([_display_width(name), *(_display_width(v) for v in sample)], default=4)
        sheet.set_column(col, col, min(widest + 2, _MAX_WIDTH))
    return sheet


def xlsx_bytes(
    lines: pl.DataFrame,
    rules: pl.DataFrame,
    towns: pl.DataFrame,
    controls: pl.DataFrame,
    *,
    cell_by_cell: bool = False,
) -> bytes:
    """The four sheets as XLSX bytes.

    Args:
        lines: [`line_table`][yikatong.adapters.validation_report.line_table].
        rules: [`rule_table`][yikatong.adapters.validation_report.rule_table].
        towns: [`town_table`][yikatong.adapters.validation_report.town_table] (``金额(分)`` shown in yuan).
        controls: [`control_table`][yikatong.adapters.validation_report.control_table].
        cell_by_cell: Write the 问题清单 rows through xlsxwriter too (the same sheet, slower; for comparison).
    """
    buffer = io.BytesIO()
    book = workbook(buffer)
    later = not cell_by_cell and fits(lines)
    issues = _sheet(book, "问题清单", lines, header_only=later)
    wrap, col = None, -1
    if "问题说明" in lines.columns:
        wrap = book.add_format({"text_wrap": True, "valign": "top"})
        col = lines.columns.index("问题说明")
        issues.set_column(col, col, _MAX_WIDTH, wrap)
    _sheet(book, "规则统计", rules)
    _sheet(book, "分乡镇", towns, money=frozenset({"金额(分)"}))
    _sheet(book, "控制项", controls)
    book.close()
    if not later or lines.height == 0:
        return buffer.getvalue()
    styles = {col: wrap.xf_index} if wrap is not None and wrap.xf_index is not None else {}
    return with_rows(buffer.getvalue(), "xl/worksheets/sheet1.xml", lines, styles)
