"""The supervision export: what the audit office supervises in a period, as one read-only XLSX workbook.

[`write_supervision_export`][yikatong.adapters.supervision_export.write_supervision_export] writes it (``yikatong export
supervision --out`` calls it); [`supervision_xlsx_bytes`][yikatong.adapters.supervision_export.supervision_xlsx_bytes]
gives its bytes. The tables come from [`yikatong.workflow.supervision.supervision_tables`][], every ID number, account
and name masked.

A cover sheet (封面) names the period, the audit log's head (to match the file with the log it came from) and the
rows of each sheet; then one sheet each: 批次, 异常行, 银行结果异常, 人工复核, 豁免, 延期, 撤回退回, 退汇. Every
sheet is protected with a password nobody is told (the file is for reading: copy cells out to work on them) and the
workbook asks to be opened read-only; every text cell is written as text, never as a formula
(``yikatong._spreadsheet``).
"""

from __future__ import annotations

import io
import os
import secrets
from pathlib import Path
from typing import Final

import polars as pl
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from yikatong._spreadsheet import workbook, write_table, write_text
from yikatong.adapters.summary_report import HEADINGS
from yikatong.workflow.supervision import SupervisionExport

__all__ = ["SHEET_TITLES", "supervision_xlsx_bytes", "write_supervision_export"]

SHEET_TITLES: Final[dict[str, str]] = {
    "batches": "批次",
    "exceptions": "异常行",
    "bank_exceptions": "银行结果异常",
    "reviews": "人工复核",
    "waivers": "豁免",
    "extensions": "延期",
    "withdrawals": "撤回退回",
    "reversals": "退汇",
}
"""Sheet titles by table ([`SupervisionExport.sheets`][yikatong.workflow.supervision.SupervisionExport.sheets]); the
cover sheet is 封面."""

_MORE_HEADINGS: Final = {
    "prepared_by": "经办人",
    "bank": "代发银行",
    "funding_route": "拨付方式",
    "created_at": "创建时间(UTC)",
    "updated_at": "更新时间(UTC)",
    "passed_on_fen": "被更正批次动用",
    "in_flight_fen": "待银行回盘",
    "row_id": "行号",
    "source_line": "原行号",
    "name": "姓名(脱敏)",
    "id_number": "身份证号(脱敏)",
    "account": "名单账号(脱敏)",
    "pay_account": "发放账号(脱敏)",
    "amount_fen": "金额",
    "expected_fen": "应发金额",
    "status": "状态",
    "verdict": "校验结论",
    "reason_code": "原因代码",
    "note": "说明",
    "deadline": "更正期限",
    "kind": "类别",
    "outcome": "银行回报",
    "detail": "说明",
    "reviewer": "复核人",
    "from_state": "原状态",
    "actor": "操作人",
    "role": "角色",
    "rows_withdrawn": "撤回行数",
    "unsent_fen": "撤回金额",
    "order_withdrawn": "已撤回银行指令",
}
_MAX_WIDTH: Final = 40


def _heading(column: str) -> str:
    base = _MORE_HEADINGS.get(column) or HEADINGS.get(column, column)
    return f"{base}(元)" if column.endswith("_fen") else base


def _shown(frame: pl.DataFrame) -> pl.DataFrame:
    out = frame.with_columns(
        *((pl.col(c).cast(pl.Float64) / 100).alias(c) for c in frame.columns if c.endswith("_fen")),
        *(pl.col(c).dt.strftime("%Y-%m-%d %H:%M:%S") for c, t in frame.schema.items() if isinstance(t, pl.Datetime)),
    )
    return out.rename({c: _heading(c) for c in out.columns})


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) >= 0x2E80 else 1 for ch in text)


def _protect(sheet: Worksheet) -> None:
    """Lock every cell behind a password nobody is told; filters and selection stay usable."""
    sheet.protect(secrets.token_urlsafe(24), {"autofilter": True, "sort": False, "select_locked_cells": True})


def _sheet(book: Workbook, title: str, frame: pl.DataFrame) -> Worksheet:
    sheet = book.add_worksheet(title)
    header = book.add_format({"bold": True, "bg_color": "#DDE6F0", "border": 1, "text_wrap": True})
    yuan = book.add_format({"num_format": "#,##0.00"})
    shown = _shown(frame)
    formats = [yuan if name.endswith("(元)") else None for name in shown.columns]
    end = write_table(sheet, shown, header_format=header, formats=formats)
    sheet.freeze_panes(1, 0)
    if shown.width:
        sheet.autofilter(0, 0, max(end - 1, 1), shown.width - 1)
    for col, name in enumerate(shown.columns):
        sample = [str(v) for v in shown[name].head(2000) if v is not None]
        widest = max([_display_width(name), *(_display_width(v) for v in sample)], default=4)
        sheet.set_column(col, col, min(widest + 2, _MAX_WIDTH))
    _protect(sheet)
    return sheet


def _cover(book: Workbook, export: SupervisionExport, title: str) -> None:
    sheet = book.add_worksheet("封面")
    bold = book.add_format({"bold": True, "font_size": 14})
    write_text(sheet, 0, 0, title, bold)
    lines = [
        ("期间 period", export.period.label),
        ("审计链末条序号 audit head seq", str(export.head.seq) if export.head else "(空 empty)"),
        ("审计链末条哈希 audit head hash", export.head.hash if export.head else ""),
        ("审计链末条时间 audit head at (UTC)", export.head.at.isoformat() if export.head else ""),
        ("个人信息 personal data", "身份证号、账号、姓名均已脱敏 / ID numbers, accounts and names masked"),
        ("只读 read-only", "各表已锁定；如需加工请复制到新表 / sheets are locked; copy cells out to work on them"),
    ]
    for row, (label, value) in enumerate(lines, start=2):
        write_text(sheet, row, 0, label)
        write_text(sheet, row, 1, value)
    write_text(sheet, len(lines) + 3, 0, "表 sheet", bold)
    write_text(sheet, len(lines) + 3, 1, "行数 rows", bold)
    for offset, (name, frame) in enumerate(export.sheets().items(), start=len(lines) + 4):
        write_text(sheet, offset, 0, SHEET_TITLES[name])
        sheet.write_number(offset, 1, frame.height)
    sheet.set_column(0, 0, 36)
    sheet.set_column(1, 1, 72)
    _protect(sheet)


def supervision_xlsx_bytes(export: SupervisionExport, *, title: str | None = None) -> bytes:
    """The export as XLSX bytes: the cover sheet, then one protected sheet per table.

    Args:
        export: [`yikatong.workflow.supervision.supervision_tables`][]'s result.
        title: The cover's heading (default ``"一卡通"资金监督检查导出 <period>``).
    """
    buffer = io.BytesIO()
    book = workbook(buffer)
    book.read_only_recommended()
    _cover(book, export, title or f"惠民惠农财政补贴资金“一卡通”监督检查导出 {export.period.label}")
    for name, frame in export.sheets().items():
        _sheet(book, SHEET_TITLES[name], frame)
    book.close()
    return buffer.getvalue()


def write_supervision_export(
    export: SupervisionExport, path: str | os.PathLike[str], /, *, title: str | None = None
) -> Path:
    """Write the export to ``path`` (an ``.xlsx`` file; its folder must exist; an existing file is replaced).

    Raises:
        ValueError: ``path`` does not end in ``.xlsx``.
        OSError: the file cannot be written.
    """
    out = Path(path)
    if out.suffix.lower() != ".xlsx":
        raise ValueError(
            f"监督检查导出须为 .xlsx 文件：{out.name} / the supervision export is an .xlsx file, not {out.name!r}"
        )
    out.write_bytes(supervision_xlsx_bytes(export, title=title))
    return out
