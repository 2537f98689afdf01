"""The tables of a validation report, as Polars frames: every roster line with its verdict and findings, rows per
rule, rows per town and village. The XLSX and HTML writers lay them out; a host may use them as they are."""

from __future__ import annotations

from typing import Final

import polars as pl

from yikatong.privacy import mask_account_expr, mask_id_expr, scrub, scrub_expr
from yikatong.rules.controls import CONTROL_LABELS
from yikatong.rules.report import ValidationReport

__all__ = [
    "OFFICE_COLUMNS",
    "SEVERITY_ZH",
    "VERDICT_ZH",
    "control_table",
    "issues_with_lines",
    "line_table",
    "rule_table",
    "town_table",
]

VERDICT_ZH: Final = {"pass": "通过", "review": "待复核", "block": "拦截"}
"""Verdict codes in the words a clerk reads."""

SEVERITY_ZH: Final = {"block": "拦截", "review": "复核", "fix": "已修正"}
"""Severity codes in the words a clerk reads."""

OFFICE_COLUMNS: Final = {
    "name": "姓名",
    "id_number": "身份证号",
    "sex": "性别",
    "account": "一卡通账号",
    "amount_raw": "补贴金额",
    "quantity": "数量",
    "category": "类别",
    "town": "乡镇(街道)",
    "village": "村(社区)",
    "household_head_id": "户主身份证号",
    "item": "项目",
}
"""The roster's columns as the office's form titles them, in the form's order."""

_MASKED_IDS: Final = ("id_number", "household_head_id")


def issues_with_lines(report: ValidationReport, roster: pl.DataFrame) -> pl.DataFrame:
    """``report.issues`` with each row-level finding's ``source_line`` (null for batch-level findings).

    Args:
        report: The validation result.
        roster: The roster it was validated from (``row_id`` and ``source_line``; a roster without ``source_line``
            gives nulls).
    """
    lines = _lines(roster)
    return (
        report.issues.join(lines, on="row_id", how="left")
        .select("row_id", "source_line", *[c for c in report.issues.columns if c != "row_id"])
        .sort("row_id", "code", nulls_last=True)
    )


def _lines(roster: pl.DataFrame) -> pl.DataFrame:
    if "source_line" in roster.columns:
        return roster.select("row_id", "source_line")
    return roster.select("row_id", pl.lit(None, pl.Int64).alias("source_line"))


def line_table(report: ValidationReport, roster: pl.DataFrame, *, unmasked: bool = False) -> pl.DataFrame:
    """One row per roster line: 原行号, the office's own columns, 结论 and 问题说明 (every finding, in plain Chinese).

    Args:
        report: The validation result.
        roster: The roster it was validated from.
        unmasked: Keep full ID numbers and accounts (the department's internal copy); masked otherwise.

    Returns:
        The rows in roster order; columns the roster does not carry at all are left out.
    """
    present = [c for c in OFFICE_COLUMNS if c in roster.columns and roster[c].null_count() < roster.height]
    office = []
    for column in present:
        expr = pl.col(column).cast(pl.String)
        if not unmasked and column in _MASKED_IDS:
            expr = mask_id_expr(expr)
        elif not unmasked and column == "account":
            expr = mask_account_expr(expr)
        elif not unmasked:  # an ID or card number typed into another column (a shifted cell) is masked there too
            expr = scrub_expr(expr)
        office.append(expr.alias(OFFICE_COLUMNS[column]))
    explained = (
        report.issues.filter(pl.col("row_id").is_not_null())
        .sort("row_id", "code")
        .group_by("row_id", maintain_order=True)
        .agg(
            pl.concat_str(
                pl.col("message_zh"),
                pl.lit("（"),
                pl.col("code"),
                pl.lit("）"),
                pl.when(pl.col("evidence") != "").then(pl.lit("：") + pl.col("evidence")).otherwise(pl.lit("")),
            )
            .str.join("；")
            .alias("问题说明")
        )
    )
    return (
        roster.join(_lines(roster).rename({"source_line": "_line"}), on="row_id", how="left")
        .join(report.verdicts.select("row_id", "verdict"), on="row_id", how="left")
        .join(explained, on="row_id", how="left")
        .sort("row_id")
        .select(
            pl.col("_line").alias("原行号"),
            *office,
            pl.col("verdict").replace_strict(VERDICT_ZH, default=pl.col("verdict")).alias("结论"),
            pl.col("问题说明").fill_null(""),
        )
    )


def rule_table(report: ValidationReport) -> pl.DataFrame:
    """Rows per rule and severity (row-level findings), then each batch-level finding: 规则代码, 级别, 说明,
    English, 行数 (null for a batch-level finding), 范围 (``行`` or ``批次``)."""
    rows = report.counts_by_code.join(
        report.issues.filter(pl.col("row_id").is_null()).select("code").unique(), on="code", how="anti"
    ).select(
        pl.col("code").alias("规则代码"),
        pl.col("severity").replace_strict(SEVERITY_ZH, default=pl.col("severity")).alias("级别"),
        pl.col("message_zh").alias("说明"),
        pl.col("message_en").alias("English"),
        pl.col("rows").cast(pl.Int64).alias("行数"),
        pl.lit("行").alias("范围"),
    )
    batch = report.batch_issues.select(
        pl.col("code").alias("规则代码"),
        pl.col("severity").replace_strict(SEVERITY_ZH, default=pl.col("severity")).alias("级别"),
        pl.concat_str(pl.col("message_zh"), pl.lit("："), pl.col("evidence")).alias("说明"),
        pl.col("message_en").alias("English"),
        pl.lit(None, pl.Int64).alias("行数"),
        pl.lit("批次").alias("范围"),
    )
    return pl.concat([rows, batch], how="vertical")


def town_table(report: ValidationReport, roster: pl.DataFrame) -> pl.DataFrame:
    """Per town and village: 行数, 通过, 待复核, 拦截 and 金额(元) (the amounts that could be read, in yuan), sorted by
    town and village; a missing town or village shows as ``（未填）``, and a long number typed into one is masked."""
    place = [
        (scrub_expr(pl.col(c)).fill_null("（未填）") if c in roster.columns else pl.lit("（未填）")).alias(title)
        for c, title in (("town", "乡镇(街道)"), ("village", "村(社区)"))
    ]
    amount = pl.col("amount_fen") if "amount_fen" in roster.columns else pl.lit(None, pl.Int64)
    return (
        roster.select("row_id", *place, amount.alias("_fen"))
        .join(report.verdicts.select("row_id", "verdict"), on="row_id", how="left")
        .group_by("乡镇(街道)", "村(社区)")
        .agg(
            pl.len().cast(pl.Int64).alias("行数"),
            *[(pl.col("verdict") == v).sum().cast(pl.Int64).alias(zh) for v, zh in VERDICT_ZH.items()],
            pl.col("_fen").sum().cast(pl.Int64).alias("金额(分)"),
        )
        .sort("乡镇(街道)", "村(社区)")
    )


def control_table(report: ValidationReport) -> pl.DataFrame:
    """The controls the validation had or lacked: 控制项, 代码, 必需 (是 / 否), 状态 (已提供 / 缺失 / 已豁免) and
    豁免理由.

    Every mandatory control is listed, then every other control supplied. A control finance waived for the batch
    shows the reason given (long numbers in it masked), so a report read without the audit log still says that a
    check was not made, and why.
    """
    controls = report.controls
    names = [*controls.required, *(c for c in controls.supplied if c not in controls.required)]
    rows = []
    for name in names:
        if name in controls.supplied:
            state = "已提供 supplied"
        elif name in controls.waived:
            state = "已豁免 waived"
        else:
            state = "缺失 missing"
        zh, en = CONTROL_LABELS.get(name, (name, name))
        rows.append(
            {
                "控制项": f"{zh} {en}",
                "代码": name,
                "必需": "是" if name in controls.required else "否",
                "状态": state,
                "豁免理由": scrub(controls.waived.get(name, "")),
            }
        )
    schema = dict.fromkeys(("控制项", "代码", "必需", "状态", "豁免理由"), pl.String)
    return pl.DataFrame(rows, schema=schema)
