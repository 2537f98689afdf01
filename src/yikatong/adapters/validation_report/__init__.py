"""The validation report people read: ``report.xlsx`` for the clerk, ``report.html`` for anyone, and
``issues.parquet`` with each finding's source line, written beside ``verdicts.parquet``.

[`write_validation_report`][yikatong.adapters.validation_report.write_validation_report] writes them all (``yikatong
validate --out DIR`` calls it); [`line_table`][yikatong.adapters.validation_report.line_table],
[`rule_table`][yikatong.adapters.validation_report.rule_table],
[`town_table`][yikatong.adapters.validation_report.town_table] and
[`control_table`][yikatong.adapters.validation_report.control_table] give the same tables as Polars frames.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from yikatong.adapters.validation_report._html import html_page
from yikatong.adapters.validation_report._tables import (
    OFFICE_COLUMNS,
    control_table,
    issues_with_lines,
    line_table,
    rule_table,
    town_table,
)
from yikatong.adapters.validation_report._xlsx import xlsx_bytes
from yikatong.rules.report import ValidationReport

__all__ = [
    "OFFICE_COLUMNS",
    "control_table",
    "issues_with_lines",
    "line_table",
    "rule_table",
    "town_table",
    "write_validation_report",
]


def write_validation_report(
    report: ValidationReport,
    roster: pl.DataFrame,
    directory: str | os.PathLike[str],
    /,
    *,
    title: str | None = None,
    internal_copy: bool = False,
) -> list[Path]:
    """Write the validation report files into ``directory`` (created when missing).

    Writes ``verdicts.parquet``, ``issues.parquet`` (the issues with ``source_line``), ``summary.json``,
    ``report.xlsx`` and ``report.html``, all with IDs and accounts masked, and with ``internal_copy`` also
    ``report-internal.xlsx``: the department's own copy with full IDs and accounts, for correcting its rows.

    Args:
        report: The result of [`yikatong.validate`][] (or a runner giving the same report).
        roster: The roster that was validated (the frame [`yikatong.read_roster`][] returned).
        directory: Where to write.
        title: The heading of ``report.html`` (default: the item and period).
        internal_copy: Also write the unmasked ``report-internal.xlsx``.

    Returns:
        The paths written, in the order above.

    Raises:
        OSError: when the folder or a file cannot be written.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = report.write_parquet(out)
    issues_with_lines(report, roster).write_parquet(paths[1])
    paths.append(report.write_json(out / "summary.json"))
    rules = rule_table(report)
    towns = town_table(report, roster)
    controls = control_table(report)
    workbooks = [("report.xlsx", False)] + ([("report-internal.xlsx", True)] if internal_copy else [])
    written: list[Path] = []
    for name, unmasked in workbooks:
        path = out / name
        path.write_bytes(xlsx_bytes(line_table(report, roster, unmasked=unmasked), rules, towns, controls))
        written.append(path)
    page = out / "report.html"
    heading = title or f"名单校验报告 validation report — {report.item} {report.period}"
    page.write_text(html_page(report, rules, towns, controls, title=heading), encoding="utf-8")
    return [*paths, written[0], page, *written[1:]]
