"""The summary ``yikatong validate`` prints: which controls ran, the rows and verdicts, findings per rule code,
lines that are not payees, the declared totals, batch findings and the rules skipped, each line in Chinese and
English.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

import polars as pl

from yikatong.catalog import SubsidyItem
from yikatong.money import format_yuan
from yikatong.privacy import scrub
from yikatong.rules import ValidationReport
from yikatong.rules.controls import CONTROL_LABELS, describe_controls

__all__ = ["print_controls", "print_summary"]

_VERDICT_ZH = {"pass": "通过", "review": "待复核", "block": "拦截"}
_KIND_ZH = {"title": "标题", "header": "表头", "total": "合计", "note": "签字/备注", "blank": "空行"}
_SEVERITY_ZH = {"block": "拦截", "review": "复核", "fix": "已修正"}


def print_controls(report: ValidationReport, out: TextIO) -> None:
    """Print which controls ran, and which mandatory ones are missing or waived, before anything else: a check
    that did not run is the first thing a reader must know."""
    controls = report.controls
    w = out.write
    ran = "、".join(f"{CONTROL_LABELS[c][0]} {c}" for c in controls.supplied) or "无 none"
    w(f"控制 controls 已运行 ran: {ran}\n")
    if controls.missing:
        zh, en = describe_controls(controls.missing)
        w(f"控制 controls 缺少（必需）MISSING (mandatory): {zh} — {en}\n")
    for control, reason in controls.waived.items():
        zh, en = describe_controls([control])
        w(f"控制 controls 已豁免 waived: {zh} — {en} — 理由 reason: {reason}\n")
    optional = [c for c in CONTROL_LABELS if c not in controls.supplied and c not in controls.required]
    if optional:
        w(f"控制 controls 未提供（非必需）not supplied (optional): {', '.join(optional)}\n")


def print_summary(report: ValidationReport, item: SubsidyItem, roster_path: Path, out: TextIO) -> None:
    """Print the report as a readable summary: controls, rows, verdicts, findings per code, batch findings,
    skipped rules."""
    w = out.write
    print_controls(report, out)
    w(f"名单 roster: {scrub(roster_path.name)} — {report.rows:,} 行 rows\n")
    w(f"项目 item: {item.code} {item.name}（{item.department}） 期间 period: {report.period}\n")
    counts = report.counts_by_verdict
    verdicts = "  ".join(f"{_VERDICT_ZH[v]} {v} {counts[v]:,}" for v in ("pass", "review", "block"))
    w(f"结论 verdicts: {verdicts}\n")
    row_codes = report.issues.filter(pl.col("row_id").is_not_null())
    codes = (
        row_codes.group_by("code", "severity")
        .agg(pl.col("message_zh").first(), pl.len().alias("rows"))
        .sort(["rows", "code"], descending=[True, False])
    )
    if codes.height:
        w("问题 findings (行数 rows · 规则 code · 级别 severity):\n")
        for code, severity, message, rows in codes.iter_rows():
            w(f"  {rows:>10,}  {code:<26} {severity:<6} {_SEVERITY_ZH.get(severity, severity)}  {message}\n")
    else:
        w("问题 findings: 无 none\n")
    lines = report.non_payee_lines
    if lines.height:
        kinds = lines.group_by("kind", maintain_order=True).len()
        listed = "  ".join(f"{_KIND_ZH.get(k, k)} {k} {n}" for k, n in kinds.iter_rows())
        w(f"非发放对象行 lines not payees: {lines.height}（{listed}）\n")
    declared = report.declared
    if declared:
        total = declared.get("total_fen")
        roster_total = declared.get("roster_total_fen")
        w(
            f"申报 declared ({declared['source']}): "
            f"{'-' if declared.get('count') is None else declared['count']} 人 rows, "
            f"{'-' if total is None else format_yuan(total)} 元 yuan；"
            f"名单 roster: {declared['roster_rows']} 人 rows, "
            f"{'-' if roster_total is None else format_yuan(roster_total)} 元 yuan\n"
        )
    for code, severity, evidence in report.batch_issues.select("code", "severity", "evidence").iter_rows():
        w(f"批次 batch: {code} {severity} {_SEVERITY_ZH.get(severity, severity)} — {evidence}\n")
    if report.skipped:
        w("未运行的规则 rules skipped:\n")
        for code, reason in sorted(report.skipped.items()):
            w(f"  {code:<26} {_reason_zh(reason)} / {reason}\n")


_REASONS_ZH = (
    ("roster has no column ", "名单缺少列 "),
    ("not supplied: ", "未提供 "),
    ("item has no cap", "本项目无上限"),
    ("item has no age range", "本项目无年龄条件"),
    ("rate standard", "按面积或数量计发，无户内上限"),
    ("not run partitioned", "分区校验时不运行"),
)


def _reason_zh(reason: str) -> str:
    """The Chinese for a skipped rule's reason (the report keeps the English, which callers may match on)."""
    for prefix, zh in _REASONS_ZH:
        if reason.startswith(prefix):
            rest = reason[len(prefix) :] if prefix.endswith(" ") else ""
            return zh + rest
    if " requires no list" in reason or " excludes no list" in reason:
        return "本项目不涉及此类名单"
    if " has no mutually exclusive item" in reason:
        return "本项目无互斥项目"
    return "本项目不适用"
