"""``report.xlsx``: the validation report a township clerk opens in Excel or WPS.

Four sheets: 问题清单 (every roster line with its source line, the office's own columns, the verdict and every
finding in plain Chinese), 规则统计 (rows per rule and severity), 分乡镇 (per town and village) and 控制项 (the
controls the validation had, lacked, or had waived by finance, with the reason). Each has a frozen
header, filters and column widths that fit Chinese text; every text cell is written as text, never as a formula
(``yikatong._spreadsheet``).
"""

from __future__ import annotations

import io
from typing import Final

import polars as pl
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from yikatong._spreadsheet import workbook, write_table

__all__ = ["xlsx_bytes"]

_MAX_WIDTH: Final = 60


def _display_width(text: str) -> int:
    """Columns a text takes on screen: a CJK or full-width character takes two."""
    return sum(2 if ord(ch) >= 0x2E80 else 1 for ch in text)


def _sheet(book: Workbook, title: str, frame: pl.DataFrame, money: frozenset[str] = frozenset()) -> Worksheet:
    sheet = book.add_worksheet(title)
    header = book.add_format({"bold": True, "bg_color": "#DDE6F0", "border": 1, "text_wrap": True})
    yuan = book.add_format({"num_format": "#,##0.00"})
    shown = frame.with_columns(pl.col(c) / 100 for c in money).rename({c: c.replace("(分)", "(元)") for c in money})
    formats = [yuan if c.endswith("(元)") else None for c in shown.columns]
    write_table(sheet, shown, header_format=header, formats=formats)
    sheet.freeze_panes(1, 0)
    if shown.width:
        sheet.autofilter(0, 0, max(shown.height, 1), shown.width - 1)
    for col, name in enumerate(shown.columns):
        sample = [str(v) for v in shown[name].head(2000).to_list() if v is not None]
        widest = max([_display_width(name), *(_display_width(v) for v in sample)], default=4)
        sheet.set_column(col, col, min(widest + 2, _MAX_WIDTH))
    return sheet


def xlsx_bytes(lines: pl.DataFrame, rules: pl.DataFrame, towns: pl.DataFrame, controls: pl.DataFrame) -> bytes:
    """The four sheets as XLSX bytes.

    Args:
        lines: [`line_table`][yikatong.adapters.validation_report.line_table].
        rules: [`rule_table`][yikatong.adapters.validation_report.rule_table].
        towns: [`town_table`][yikatong.adapters.validation_report.town_table] (``金额(分)`` shown in yuan).
        controls: [`control_table`][yikatong.adapters.validation_report.control_table].
    """
    buffer = io.BytesIO()
    book = workbook(buffer)
    issues = _sheet(book, "问题清单", lines)
    if "问题说明" in lines.columns:
        wrap = book.add_format({"text_wrap": True, "valign": "top"})
        col = lines.columns.index("问题说明")
        issues.set_column(col, col, _MAX_WIDTH, wrap)
    _sheet(book, "规则统计", rules)
    _sheet(book, "分乡镇", towns, money=frozenset({"金额(分)"}))
    _sheet(book, "控制项", controls)
    book.close()
    return buffer.getvalue()
