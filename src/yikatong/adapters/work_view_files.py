"""A work view as files a clerk opens: one XLSX workbook, or CSV files.

[`write_work_view`][yikatong.adapters.work_view_files.write_work_view] writes a
[`WorkView`][yikatong.workflow.work_views.WorkView]:

* ``FILE.xlsx``: sheets 更正队列 (the correction queue with deadlines), 批次结果 (the results of the batches) and
  暂缓发放 (the rows still held), each with Chinese column titles, amounts in yuan, a frozen header and filters;
* ``FILE.csv``: the correction queue in ``FILE.csv``, the batch results in ``FILE-batches.csv`` and the held rows in
  ``FILE-held.csv`` (UTF-8 with a byte order mark, amounts in fen).

Every text cell goes through ``yikatong._spreadsheet``, so a name or village that begins with ``=`` never runs
as a formula. The view is already masked (IDs, accounts); nothing is added to it.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Final

import polars as pl

from yikatong._spreadsheet import csv_bytes, workbook, write_table
from yikatong.workflow.work_views import WorkView

__all__ = ["TITLES", "WORK_VIEW_SUFFIXES", "work_view_tables", "write_work_view"]

WORK_VIEW_SUFFIXES: Final = (".xlsx", ".csv")
"""The file kinds [`write_work_view`][yikatong.adapters.work_view_files.write_work_view] writes."""

TITLES: Final[dict[str, str]] = {
    "batch_id": "批次",
    "row_id": "行号",
    "item": "项目",
    "period": "期间",
    "town": "乡镇",
    "village": "村(社区)",
    "name": "姓名",
    "id_masked": "身份证号(脱敏)",
    "account_masked": "账号(脱敏)",
    "amount_fen": "金额(分)",
    "status": "状态",
    "reason_code": "原因代码",
    "note": "说明",
    "deadline": "更正期限",
    "overdue": "已逾期",
    "deadline_state": "期限状态",
    "days_left": "剩余天数",
    "batch_state": "批次状态",
    "since": "状态日期",
    "department": "主管部门",
    "state": "批次状态",
    "corrects": "所更正批次",
    "rows": "行数",
    "paid_rows": "已发放行",
    "paid_fen": "已发放(分)",
    "in_progress_rows": "办理中行",
    "in_progress_fen": "办理中(分)",
    "held_rows": "暂缓行",
    "held_fen": "暂缓(分)",
    "returned_rows": "待更正行",
    "returned_fen": "待更正(分)",
    "expired_rows": "逾期行",
    "expired_fen": "逾期(分)",
    "reissued_rows": "已补发行",
    "reissued_fen": "已补发(分)",
    "withdrawn_rows": "撤回行",
    "withdrawn_fen": "撤回(分)",
}
"""Chinese column titles of the files (the frames' own column names are the library's contract)."""

_STATE_ZH: Final = {"due": "未到期", "due_soon": "即将到期", "overdue": "已过期限", "expired": "已逾期失效"}
_SHEETS: Final = (("queue", "更正队列"), ("batches", "批次结果"), ("held", "暂缓发放"))
_MAX_WIDTH: Final = 50


def work_view_tables(view: WorkView) -> dict[str, pl.DataFrame]:
    """The view's three frames as the files show them: ``queue``, ``batches``, ``held``, with Chinese titles
    (amounts still in fen, the deadline state in Chinese)."""
    queue = view.queue.with_columns(pl.col("deadline_state").replace_strict(_STATE_ZH, return_dtype=pl.String))
    frames = {"queue": queue, "batches": view.batches, "held": view.held}
    return {name: frame.rename({c: TITLES.get(c, c) for c in frame.columns}) for name, frame in frames.items()}


def _width(text: str) -> int:
    return sum(2 if ord(ch) >= 0x2E80 else 1 for ch in text)


def _xlsx(tables: dict[str, pl.DataFrame]) -> bytes:
    buffer = io.BytesIO()
    book = workbook(buffer)
    header = book.add_format({"bold": True, "bg_color": "#DDE6F0", "border": 1, "text_wrap": True})
    yuan = book.add_format({"num_format": "#,##0.00"})
    for name, title in _SHEETS:
        frame = tables[name]
        money = [c for c in frame.columns if c.endswith("(分)")]
        shown = frame.with_columns(pl.col(c) / 100 for c in money).rename({c: c.replace("(分)", "(元)") for c in money})
        sheet = book.add_worksheet(title)
        formats = [yuan if c.endswith("(元)") else None for c in shown.columns]
        write_table(sheet, shown, header_format=header, formats=formats)
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, max(shown.height, 1), max(shown.width - 1, 0))
        for col, column in enumerate(shown.columns):
            sample = [str(v) for v in shown[column].head(2000).to_list() if v is not None]
            sheet.set_column(col, col, min(max([_width(column), *(_width(v) for v in sample)]) + 2, _MAX_WIDTH))
    book.close()
    return buffer.getvalue()


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def write_work_view(view: WorkView, path: str | os.PathLike[str]) -> tuple[Path, ...]:
    """Write ``view`` to ``path`` (``.xlsx`` or ``.csv``, see the module text); returns the files written.

    Raises:
        ValueError: another suffix.
        OSError: the files cannot be written (each is written whole or not at all).
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in WORK_VIEW_SUFFIXES:
        raise ValueError(
            f"不支持的输出文件类型 {target.suffix or '(无)'}，可用 .xlsx 或 .csv / unsupported output file "
            f"{target.name!r}: use .xlsx or .csv"
        )
    tables = work_view_tables(view)
    if suffix == ".xlsx":
        _write_atomically(target, _xlsx(tables))
        return (target,)
    written = []
    for name, _ in _SHEETS:
        out = target if name == "queue" else target.with_name(f"{target.stem}-{name}{target.suffix}")
        _write_atomically(out, csv_bytes(tables[name]))
        written.append(out)
    return tuple(written)
