"""How the 汇总表 names its columns and shows its money: Chinese headings, yuan with two decimals.

The library's frames speak English column names and integer fen ([`yikatong.workflow.summary`][]); the files a
finance bureau sends upward speak Chinese and yuan. Both writers (XLSX and HTML) take their headings from here.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from yikatong.money import format_yuan
from yikatong.records import AuditEntry

__all__ = ["DECISION_LABELS", "HEADINGS", "head_line", "heading", "money_columns", "shown", "yuan_text"]

HEADINGS: Final[dict[str, str]] = {
    "item": "项目",
    "item_name": "项目名称",
    "town": "乡镇(街道)",
    "village": "村(社区)",
    "department": "主管部门",
    "month": "报盘月份",
    "period": "所属期间",
    "payees": "人数",
    "sent_rows": "报盘笔数",
    "sent_fen": "报盘金额",
    "funded_fen": "财政拨付",
    "paid_rows": "发放笔数",
    "paid_fen": "发放金额",
    "failed_rows": "失败笔数",
    "failed_fen": "失败金额",
    "reversed_rows": "退汇笔数",
    "reversed_fen": "退汇金额",
    "refunded_fen": "缴回国库",
    "outstanding_fen": "银行留存待处理",
    "batch_id": "批次",
    "state": "状态",
    "corrects": "所更正批次",
    "drawn_fen": "动用留存资金",
    "held_fen": "银行留存",
    "passed_on_fen": "被更正动用",
    "control": "豁免的控制",
    "reason": "理由",
    "proposed_by": "提出人",
    "approved_by": "批准人",
    "at": "时间(UTC)",
    "rows": "行数",
    "until": "延至",
    "requested_by": "申请人",
    "decision": "结果",
    "decided_by": "审批人",
}
"""Column → Chinese heading; money columns (``*_fen``) get ``(元)`` after it."""

DECISION_LABELS: Final[dict[str, str]] = {"granted": "批准", "refused": "驳回", "pending": "待审批"}


def money_columns(frame: pl.DataFrame) -> list[str]:
    """The columns of ``frame`` that hold fen."""
    return [c for c in frame.columns if c.endswith("_fen")]


def heading(column: str) -> str:
    """The Chinese heading of ``column`` (money columns in yuan)."""
    base = HEADINGS.get(column, column)
    return f"{base}(元)" if column.endswith("_fen") else base


def shown(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with Chinese headings, money in yuan (Float64, for a spreadsheet's number format) and decisions in
    Chinese. Fen are whole numbers far below 2**53, so the yuan values are exact to the fen."""
    out = frame
    if "decision" in out.columns:
        out = out.with_columns(pl.col("decision").replace_strict(DECISION_LABELS, default=pl.col("decision")))
    out = out.with_columns((pl.col(c).cast(pl.Float64) / 100).alias(c) for c in money_columns(out))
    return out.rename({c: heading(c) for c in out.columns})


def yuan_text(fen: int) -> str:
    """Fen as yuan text with thousands separators: ``1234567`` → ``12,345.67``."""
    return format_yuan(fen)


def head_line(head: AuditEntry | None) -> str:
    """The audit log's head as one line for the foot of a report."""
    if head is None:
        return "审计日志为空 / the audit log is empty"
    return f"审计链末条 audit head: 第 {head.seq} 条 entry {head.seq}, {head.at.isoformat()}, {head.hash}"
