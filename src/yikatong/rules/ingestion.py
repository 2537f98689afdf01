"""Ingestion rules: what [`yikatong.read_roster`][] found while reading, as flags on each row.

The reader does the work (it must, to keep every line); these rules turn its flags into issues so that a roster
read from a file and one built by a host system are judged the same way.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from yikatong._spreadsheet import CONTROL_CHARACTERS, FORMULA_START
from yikatong.rules._rule import Finding, Rule, RuleEnv

__all__ = ["FREE_TEXT_COLUMNS", "RULES"]

FREE_TEXT_COLUMNS: tuple[str, ...] = ("town", "village", "category")
"""Roster columns of free text that reach published and exported files, checked by ``TEXT_INVALID``."""


def _line_evidence(prefix: str) -> pl.Expr:
    return pl.concat_str(pl.lit(prefix), pl.col("source_line").cast(pl.String).fill_null("?"))


def _flag(column: str, evidence: pl.Expr) -> Callable[[RuleEnv], Finding]:
    def build(env: RuleEnv) -> Finding:
        return Finding(hit=pl.col(column), evidence=evidence)

    return build


def _free_text(env: RuleEnv) -> Finding:
    """Free text with a control character or a leading formula character; the evidence names the column and
    the problem, never the text."""
    hits: list[pl.Expr] = []
    notes: list[pl.Expr] = []
    for column in (c for c in FREE_TEXT_COLUMNS if c in env.columns):
        text = pl.col(column).cast(pl.String)
        control = text.str.contains(CONTROL_CHARACTERS).fill_null(False)
        formula = text.str.contains(FORMULA_START).fill_null(False)
        hits += [control, formula]
        notes += [
            pl.when(control).then(pl.lit(f"{column} contains a control character")),
            pl.when(formula).then(pl.lit(f"{column} begins with a formula character (= + - @)")),
        ]
    if not hits:
        return Finding(hit=pl.lit(False))
    return Finding(hit=pl.any_horizontal(hits), evidence=pl.concat_str(notes, separator="; ", ignore_nulls=True))


def _free_text_applies(env: RuleEnv) -> str | None:
    if any(c in env.columns for c in FREE_TEXT_COLUMNS):
        return None
    return f"roster has none of the columns {', '.join(FREE_TEXT_COLUMNS)}"


RULES: tuple[Rule, ...] = (
    Rule(
        code="ROW_MALFORMED",
        family="ingestion",
        severity="block",
        message_zh="该行无法解析为名单的各列（字段数不符或引号不配对），已保留原行号",
        message_en="the line cannot be parsed into the roster's columns; kept with its line number",
        build=_flag("flag_row_malformed", _line_evidence("source line ")),
        columns=("flag_row_malformed", "source_line"),
    ),
    Rule(
        code="TEXT_ENCODING",
        family="ingestion",
        severity="block",
        message_zh="存在无法解码的字节或乱码（如姓名中出现“?”或替换字符）",
        message_en="undecodable bytes, U+FFFD or '?' in a text field",
        build=_flag("flag_text_encoding", _line_evidence("source line ")),
        columns=("flag_text_encoding", "source_line"),
    ),
    Rule(
        code="ID_EXCEL_MANGLED",
        family="ingestion",
        severity="block",
        message_zh="身份证号或账号经过Excel数值单元格（科学计数法、小数或末尾被置零），无法恢复，请从原始资料重新录入",
        message_en="ID or account went through a numeric spreadsheet cell (scientific notation, float, trailing "
        "zeros); unrecoverable, re-enter it from the source documents",
        build=_flag("flag_id_excel_mangled", _line_evidence("source line ")),
        columns=("flag_id_excel_mangled", "source_line"),
    ),
    Rule(
        code="ID_NORMALISED",
        family="ingestion",
        severity="fix",
        message_zh="身份证号已规范化（全角数字和Ｘ、小写x、空格及零宽字符）",
        message_en="ID normalised (full-width digits and X, lower-case x, spaces and zero-width characters)",
        build=_flag("flag_id_normalised", _line_evidence("source line ")),
        columns=("flag_id_normalised", "source_line"),
    ),
    Rule(
        code="NAME_NORMALISED",
        family="ingestion",
        severity="fix",
        message_zh="姓名已规范化（少数民族姓名间隔号统一为“·”，去除首尾空白）",
        message_en="name normalised (minority-name dot look-alikes mapped to U+00B7, whitespace trimmed)",
        build=_flag("flag_name_normalised", _line_evidence("source line ")),
        columns=("flag_name_normalised", "source_line"),
    ),
    Rule(
        code="TEXT_INVALID",
        family="ingestion",
        severity="review",
        message_zh="乡镇、村(社区)或类别含控制字符或以公式字符（= + - @）开头，写入公示和报表前请核实",
        message_en="town, village or category holds a control character or begins with a formula character "
        "(= + - @); check it before it reaches notices and spreadsheets",
        build=_free_text,
        applies=_free_text_applies,
    ),
)
