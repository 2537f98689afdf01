"""The 汇总表 people read: ``.xlsx`` for the finance bureau's files and the report upward, ``.html`` to read and
print anywhere.

[`write_summary_report`][yikatong.adapters.summary_report.write_summary_report] writes either, chosen by the file's
suffix (``yikatong report --out`` calls it); [`summary_xlsx_bytes`][yikatong.adapters.summary_report.summary_xlsx_bytes]
and [`summary_html`][yikatong.adapters.summary_report.summary_html] give the contents. The figures come from
[`yikatong.workflow.summary.summarise_period`][].
"""

from __future__ import annotations

import os
from pathlib import Path

from yikatong.adapters.summary_report._html import summary_html
from yikatong.adapters.summary_report._labels import HEADINGS
from yikatong.adapters.summary_report._xlsx import summary_xlsx_bytes
from yikatong.workflow.summary import PeriodSummary

__all__ = ["HEADINGS", "SUFFIXES", "default_title", "summary_html", "summary_xlsx_bytes", "write_summary_report"]

SUFFIXES = (".xlsx", ".html")
"""The file kinds [`write_summary_report`][yikatong.adapters.summary_report.write_summary_report] writes."""


def default_title(summary: PeriodSummary) -> str:
    """``惠民惠农财政补贴资金“一卡通”发放汇总表 2026-11``."""
    return f"惠民惠农财政补贴资金“一卡通”发放汇总表 {summary.period.label}"


def write_summary_report(summary: PeriodSummary, path: str | os.PathLike[str], /, *, title: str | None = None) -> Path:
    """Write the summary to ``path``: XLSX for ``.xlsx``, a self-contained page for ``.html``.

    Args:
        summary: [`yikatong.workflow.summary.summarise_period`][]'s result.
        path: The file to write (its folder must exist); an existing file is replaced.
        title: The heading (default [`default_title`][yikatong.adapters.summary_report.default_title]).

    Returns:
        The path written.

    Raises:
        ValueError: a suffix other than ``.xlsx`` or ``.html``.
        OSError: the file cannot be written.
    """
    out = Path(path)
    suffix = out.suffix.lower()
    heading = title or default_title(summary)
    if suffix == ".xlsx":
        out.write_bytes(summary_xlsx_bytes(summary, title=heading))
    elif suffix == ".html":
        out.write_text(summary_html(summary, title=heading), encoding="utf-8")
    else:
        raise ValueError(
            f"汇总表只能写成 .xlsx 或 .html：{out.name} / the summary is written as .xlsx or .html, not {out.name!r}"
        )
    return out
