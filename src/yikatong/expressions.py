"""Rule checks written as SQL expressions: what a department may write in its catalogue without code.

A catalogue item may carry its own rules (``[[item.rules]]``), each with a ``check``: a boolean SQL expression over
the roster's columns and the item's parameters that must hold for a row to pass, for example::

    check = "quantity <= max_area AND amount_fen <= quantity * rate_fen"

[`compile_check`][yikatong.expressions.compile_check] reads it, refuses at once what it cannot trust, and compiles the
rest with Polars' own SQL expression parser (``polars.sql_expr``) into an expression the engine adds to the one
validation plan.

What an expression may name:

* **columns** of the canonical roster ([`COLUMNS`][yikatong.expressions.COLUMNS]): ``name``, ``sex``, ``amount_fen``
  (integer fen), ``quantity`` (mu, months or persons), ``category``, ``town``, ``village``, ``item``, ``id_number``,
  ``account``, ``household_head_id``;
* **parameters** of the item, replaced by their values before compiling
  ([`item_parameters`][yikatong.catalog_rules.item_parameters]): ``standard_fen`` (a fixed standard), ``rate_fen`` and
  ``max_quantity`` (a rate standard), ``cap_per_period_fen``, ``cap_per_year_fen``, ``age_min``, ``age_max`` when the
  item sets them, and every entry of the item's own ``[item.params]`` table;
* **functions** of the allow-list [`FUNCTIONS`][yikatong.expressions.FUNCTIONS] (numbers: ``ABS``, ``ROUND``, ``FLOOR``,
  ``CEIL``, ``GREATEST``, ``LEAST``; nulls: ``COALESCE``, ``NULLIF``; text: ``LENGTH``, ``CHAR_LENGTH``, ``LOWER``,
  ``UPPER``, ``TRIM``, ``SUBSTR``, ``LEFT``, ``RIGHT``, ``STARTS_WITH``, ``ENDS_WITH``) and ``CAST(x AS type)``;
* operators and keywords: arithmetic, comparisons, ``AND`` ``OR`` ``NOT``, ``IS [NOT] NULL``, ``BETWEEN``, ``IN``,
  ``LIKE``, ``CASE WHEN … THEN … ELSE … END``, string literals in single quotes, numbers.

Anything else (an unknown name, a function outside the list, a sub-query, a ``;``) is refused with its position
(the 1-based character of the expression), and so is an expression that does not give true or false. A check that
gives null for a row (a missing quantity, say) does not fire: a rule that wants missing values caught says so
(``quantity IS NOT NULL AND …``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

import polars as pl

from yikatong.schema import ROSTER_SCHEMA

__all__ = ["COLUMNS", "FUNCTIONS", "KEYWORDS", "ExpressionError", "ParamValue", "compile_check", "referenced_columns"]

ParamValue = int | float | str | bool

COLUMNS: Final[dict[str, pl.DataType]] = {
    name: dtype
    for name, dtype in ROSTER_SCHEMA.items()
    if not name.startswith("flag_") and name not in ("row_id", "source_line", "amount_raw")
}
"""The roster columns an expression may name, with their types."""

FUNCTIONS: Final[frozenset[str]] = frozenset(
    {
        "ABS",
        "ROUND",
        "FLOOR",
        "CEIL",
        "CEILING",
        "GREATEST",
        "LEAST",
        "COALESCE",
        "NULLIF",
        "LENGTH",
        "CHAR_LENGTH",
        "LOWER",
        "UPPER",
        "TRIM",
        "SUBSTR",
        "LEFT",
        "RIGHT",
        "STARTS_WITH",
        "ENDS_WITH",
    }
)
"""The functions an expression may call (names are case-insensitive)."""

KEYWORDS: Final[frozenset[str]] = frozenset(
    {
        *("AND", "OR", "NOT", "IS", "NULL", "TRUE", "FALSE", "BETWEEN", "IN", "LIKE", "ILIKE"),
        *("CASE", "WHEN", "THEN", "ELSE", "END", "CAST", "AS"),
        *("INT", "INTEGER", "BIGINT", "SMALLINT", "DOUBLE", "FLOAT", "REAL", "DECIMAL", "NUMERIC"),
        *("VARCHAR", "TEXT", "STRING", "BOOLEAN", "DATE"),
    }
)
"""SQL words an expression may use (case-insensitive)."""

_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<string>'(?:[^']|'')*'?)
      | (?P<quoted>"[^"]*")
      | (?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op><=|>=|<>|!=|\|\||[-+*/%<>=(),])""",
    re.X,
)


class ExpressionError(ValueError):
    """An expression that cannot be trusted: its text is in Chinese and English, with the position when known.

    Attributes:
        message_zh: What is wrong, in Chinese.
        message_en: The same in English.
        position: The 1-based character of the expression where the problem is, or None.
        field: Where the expression sits in the catalogue (``rules[1].check``), when known.
        value: The expression as written, when known.
    """

    def __init__(
        self,
        message_zh: str,
        message_en: str,
        *,
        position: int | None = None,
        field: str | None = None,
        value: str | None = None,
    ) -> None:
        self.message_zh, self.message_en, self.position = message_zh, message_en, position
        self.field, self.value = field, value
        super().__init__(f"{message_zh} / {message_en}")


def _literal(value: ParamValue) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + value.replace("'", "''") + "'"


def _at(position: int) -> tuple[str, str]:
    return f"第 {position} 个字符处", f"at character {position}"


def _substitute(text: str, params: Mapping[str, ParamValue]) -> str:
    """The expression with every parameter replaced by its value, after checking every name it uses."""
    out: list[str] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            zh, en = _at(pos + 1)
            raise ExpressionError(
                f"{zh}有不允许的字符 {text[pos]!r}", f"unexpected character {text[pos]!r} {en}", position=pos + 1
            )
        kind, token = match.lastgroup, match.group()
        if kind == "string" and (len(token) == 1 or not token.endswith("'")):
            zh, en = _at(pos + 1)
            raise ExpressionError(f"{zh}的文本缺少结尾的单引号", f"unterminated text {en}", position=pos + 1)
        if kind == "quoted":
            token = _name(token[1:-1], text, pos, params, quoted=True)
        elif kind == "word":
            token = _name(token, text, match.end(), params, quoted=False, start=pos)
        out.append(token)
        pos = match.end()
    return "".join(out)


def _name(
    word: str, text: str, end: int, params: Mapping[str, ParamValue], *, quoted: bool, start: int | None = None
) -> str:
    """Check one name; return it, or the parameter's value in its place."""
    position = (start if start is not None else end) + 1
    zh_at, en_at = _at(position)
    if not quoted:
        calls = text[end:].lstrip().startswith("(")
        upper = word.upper()
        if upper in KEYWORDS:
            return word
        if calls:
            if upper in FUNCTIONS:
                return word
            allowed = ", ".join(sorted(FUNCTIONS))
            raise ExpressionError(
                f"{zh_at}的函数 {word} 不在允许范围内（可用：{allowed}）",
                f"function {word} {en_at} is not allowed (allowed: {allowed})",
                position=position,
            )
    if word in COLUMNS:
        return f'"{word}"'
    if word in params and not quoted:
        return _literal(params[word])
    known = ", ".join([*COLUMNS, *sorted(params)])
    raise ExpressionError(
        f"{zh_at}的 {word} 既不是名单的列也不是项目参数（可用：{known}）",
        f"unknown column or parameter {word} {en_at} (known: {known})",
        position=position,
    )


def compile_check(text: str, *, params: Mapping[str, ParamValue]) -> pl.Expr:
    """Compile a rule's check into a boolean Polars expression over the roster's columns.

    Args:
        text: The SQL expression (see the module docstring).
        params: The item's parameters by name (see
            [`yikatong.catalog.SubsidyItem.parameters`][yikatong.SubsidyItem.parameters]).

    Returns:
        The expression: true where the row passes, false where the rule fires, null where it does not apply.

    Raises:
        ExpressionError: naming the position of an unknown name or a function outside the allow-list, or saying the
            expression cannot be parsed or does not give true or false.
    """
    if not text.strip():
        raise ExpressionError("表达式为空", "the expression is empty")
    sql = _substitute(text, params)
    try:
        expr = pl.sql_expr(sql)
        dtype = pl.LazyFrame(schema=COLUMNS).select(expr.alias("_check")).collect_schema()["_check"]
    except (pl.exceptions.PolarsError, ValueError) as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ExpressionError("表达式无法解析", f"the expression cannot be parsed: {detail}") from None
    if dtype != pl.Boolean:
        raise ExpressionError(
            f"表达式的结果不是真假（是 {dtype}），请写成比较或判断", f"the expression gives {dtype}, not true or false"
        )
    unknown = sorted(set(referenced_columns(expr)) - set(COLUMNS))
    if unknown:  # cannot happen after the name check; kept so no column outside the schema ever slips through
        raise ExpressionError(f"表达式引用了未知的列 {unknown}", f"the expression names unknown columns {unknown}")
    return expr


def referenced_columns(expr: pl.Expr) -> tuple[str, ...]:
    """The roster columns an expression reads, each once, in order of first use."""
    return tuple(dict.fromkeys(expr.meta.root_names()))
