"""Catalogue problems in the catalogue's own words: the item, the field, the value, and what is wrong with it.

The catalogue is parsed by pydantic, whose messages speak of models, unions and "input should be"; a department
clerk editing a TOML file needs the item code and the field as written in the file, the value found there, and what
the field accepts, in Chinese and English. ``problems_of`` turns one pydantic error list into
[`CatalogProblem`][yikatong.errors.CatalogProblem] values, every error at once.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from yikatong.errors import CatalogProblem
from yikatong.expressions import ExpressionError

__all__ = ["problems_of", "show_value"]

_VALUE_WIDTH = 40


def show_value(value: object) -> str:
    """The value as written in TOML, cut to a readable width."""
    shown = f'"{value}"' if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else repr(value)
    return shown if len(shown) <= _VALUE_WIDTH else shown[: _VALUE_WIDTH - 1] + "…"


def _field(loc: tuple[int | str, ...], tags: frozenset[str]) -> str:
    # A discriminated union puts the chosen kind into the path (standard.fixed.amount); the file has standard.amount.
    # A list position is counted from 1, as a person counts the [[item.rules]] tables of the file: rules[1].code.
    text = ""
    for i, part in enumerate(loc):
        if i > 0 and loc[i - 1] == "standard" and part in tags:
            continue
        text += f"[{part + 1}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "(item)"


def _said(kind: str, ctx: dict[str, Any]) -> tuple[str, str]:
    """What the field accepts, ``(zh, en)``, for one pydantic error type."""
    bound = {
        "greater_than": ("须大于 {gt}", "must be greater than {gt}"),
        "greater_than_equal": ("须大于或等于 {ge}", "must be at least {ge}"),
        "less_than": ("须小于 {lt}", "must be less than {lt}"),
        "less_than_equal": ("须小于或等于 {le}", "must be at most {le}"),
    }
    if kind in bound:
        zh, en = bound[kind]
        return zh.format(**ctx), en.format(**ctx)
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", '"').replace(" or ", ", ")
        return f"须为以下之一：{expected}", f"must be one of {expected}"
    if kind == "union_tag_invalid":
        expected = str(ctx.get("expected_tags", "")).replace("'", '"')
        return f"未知的种类，须为以下之一：{expected}", f"unknown kind, must be one of {expected}"
    table: dict[str, tuple[str, str]] = {
        "missing": ("缺少必填字段", "required field is missing"),
        "extra_forbidden": ("未知字段（拼写有误？）", "unknown field (misspelt?)"),
        "string_pattern_mismatch": ("格式不符：须为大写字母开头的代码，如 GLJT", "must be a code such as GLJT"),
        "string_too_short": ("不能为空", "must not be empty"),
        "string_type": ("须为文本", "must be text"),
        "int_type": ("须为整数", "must be a whole number"),
        "int_parsing": ("须为整数", "must be a whole number"),
        "int_from_float": ("须为整数", "must be a whole number"),
        "float_type": ("须为数字", "must be a number"),
        "float_parsing": ("须为数字", "must be a number"),
        "bool_type": ("须为 true 或 false", "must be true or false"),
        "bool_parsing": ("须为 true 或 false", "must be true or false"),
        "dict_type": ("须为表（[...] 或 {...}）", "must be a table ([...] or {...})"),
        "model_type": ("须为表（[...] 或 {...}）", "must be a table ([...] or {...})"),
        "model_attributes_type": ("须为表（[...] 或 {...}）", "must be a table ([...] or {...})"),
        "list_type": ("须为列表 [...]", "must be a list [...]"),
        "tuple_type": ("须为列表 [...]", "must be a list [...]"),
        "union_tag_not_found": ("缺少 kind 字段", "the kind field is missing"),
    }
    return table.get(kind, ("取值无效", "invalid value"))


def _own_words(error: Any) -> tuple[str, str]:
    """The validator's own message: ``"中文 / English"`` split in two, or English alone kept for both."""
    message = str(error)
    if " / " in message:
        first, second = message.split(" / ", 1)
        return (first, second) if any("\u4e00" <= c <= "\u9fff" for c in first) else (second, first)
    return "取值无效", message


def problems_of(exc: ValidationError, *, item: str, tags: frozenset[str] = frozenset()) -> list[CatalogProblem]:
    """Every error of one item's validation, in the catalogue's own words.

    Args:
        exc: The pydantic error raised validating the item's table.
        item: The item code (or ``#N`` when the table has no usable code).
        tags: The kinds of a discriminated union (``fixed``, ``rate``, ``table``), left out of field paths.
    """
    found: list[CatalogProblem] = []
    for error in exc.errors():
        kind = error["type"]
        ctx = dict(error.get("ctx") or {})
        zh, en = _own_words(ctx["error"]) if kind in ("value_error", "assertion_error") else _said(kind, ctx)
        value = None if kind in ("missing", "union_tag_not_found") or error["loc"] == () else error["input"]
        loc = tuple(error["loc"])
        if kind == "union_tag_invalid":  # name the kind itself, not the whole table
            loc, value = (*loc, str(ctx.get("discriminator", "kind")).strip("'")), ctx.get("tag")
        field = _field(loc, tags)
        cause = ctx.get("error")
        if isinstance(cause, ExpressionError) and cause.field is not None:  # a rule's check: name the rule's field
            field, value = cause.field, cause.value
        found.append(
            CatalogProblem(
                item=item,
                field=field,
                value=None if value is None else show_value(value),
                message_zh=zh,
                message_en=en,
            )
        )
    return found
