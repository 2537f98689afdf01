"""``汇总表-<period>.xlsx``: the summary a finance bureau keeps and sends upward, one sheet per table.

Sheets: 汇总 (the chosen grouping with a 合计 line, and the audit head at the foot), 分月分项目 (per item and
month), 批次 (per batch: where its money is), 豁免 (waivers of mandatory controls) and 延期 (extensions of correction
deadlines). Frozen headers, filters, widths that fit Chinese text, money as numbers in yuan (``#,##0.00``), every
text cell written as text (``yikatong._spreadsheet``), pages set up to print landscape, one page wide.
"""

from __future__ import annotations

import io
from typing import Final

import polars as pl
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from yikatong._spreadsheet import workbook, write_table, write_text
from yikatong.adapters.summary_report._labels import head_line, shown
from yikatong.workflow.summary import PeriodSummary

__all__ = ["summary_xlsx_bytes"]

_MAX_WIDTH: Final = 40


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) >= 0x2E80 else 1 for ch in text)


def _sheet(book: Workbook, title: str, frame: pl.DataFrame, *, first_row: int = 0) -> tuple[Worksheet, int]:
    """Write ``frame`` (already ``shown``) under ``first_row``; returns the sheet and the row after it."""
    sheet = book.add_worksheet(title)
    header = book.add_format({"bold": True, "bg_color": "#DDE6F0", "border": 1, "text_wrap": True})
    yuan = book.add_format({"num_format": "#,##0.00"})
    whole = book.add_format({"num_format": "#,##0"})
    formats = [
        yuan if name.endswith("(元)") else whole if dtype.is_integer() else None for name, dtype in frame.schema.items()
    ]
    end = write_table(sheet, frame, first_row=first_row, header_format=header, formats=formats)
    sheet.freeze_panes(first_row + 1, 0)
    if frame.width:
        sheet.autofilter(first_row, 0, max(end - 1, first_row + 1), frame.width - 1)
    for col, name in enumerate(frame.columns):
        sample = [f"{v:,.2f}" if isinstance(v, float) else str(v) for v in frame[name].head(2000) if v is not None]
        widest = max([_display_width(name), *(_display_width(v) for v in sample)], default=4)
        sheet.set_column(col, col, min(widest + 2, _MAX_WIDTH))
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(first_row)
    return sheet, end


def summary_xlsx_bytes(summary: PeriodSummary, *, title: str) -> bytes:
    """The summary as XLSX bytes.

    Args:
        summary: [`yikatong.workflow.summary.summarise_period`][]'s result.
        title: The heading written above the main table.
    """
    buffer = io.BytesIO()
    book = workbook(buffer)
    bold = book.add_format({"bold": True, "font_size": 14})
    total_format = book.add_format({"bold": True, "top": 1})
    keys = [c for c in summary.table.columns if c not in summary.totals.columns]
    main, end = _sheet(book, "汇总", shown(summary.table), first_row=2)
    write_text(main, 0, 0, title, bold)
    note = f"期间 {summary.period.label}（按报盘时间），金额单位：元 / period by dispatch date, in yuan"
    write_text(main, 1, 0, note)
    totals = shown(summary.totals)
    write_text(main, end, 0, "合计 total", total_format)
    yuan = book.add_format({"bold": True, "top": 1, "num_format": "#,##0.00"})
    whole = book.add_format({"bold": True, "top": 1, "num_format": "#,##0"})
    for offset, (name, value) in enumerate(totals.row(0, named=True).items()):
        main.write_number(end, len(keys) + offset, float(value), yuan if name.endswith("(元)") else whole)
    write_text(main, end + 2, 0, head_line(summary.head))
    _sheet(book, "分月分项目", shown(summary.monthly))
    _sheet(book, "批次", shown(summary.batches))
    _sheet(book, "豁免", shown(summary.waivers.with_columns(pl.col("at").dt.strftime("%Y-%m-%d %H:%M"))))
    _sheet(book, "延期", shown(summary.extensions.with_columns(pl.col("at").dt.strftime("%Y-%m-%d %H:%M"))))
    book.close()
    return buffer.getvalue()
