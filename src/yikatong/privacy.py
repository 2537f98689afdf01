"""Masking of personal data, as Polars expressions and as plain functions.

The disclosure norms of ``docs/domain.md``: a published ID keeps at most its first 6 and last 4 characters (the birth
digits 7–14 always hidden), an account at most its last 4 digits, a name only its surname and, for names of three
characters or more, its last character (``张*``, ``张*三``, ``欧阳**``). Everything the library prints, logs or puts in
an exception goes through these functions.

Free text (a reason typed by a clerk, a bank's message, the evidence of a finding that echoes a cell) goes through
[`scrub`][yikatong.privacy.scrub], which masks every long number in it, whatever its form.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

import polars as pl

__all__ = [
    "COMPOUND_SURNAMES",
    "mask_account",
    "mask_account_expr",
    "mask_id",
    "mask_id_expr",
    "mask_name",
    "mask_name_expr",
    "scrub",
    "scrub_expr",
    "scrub_series",
]

COMPOUND_SURNAMES: frozenset[str] = frozenset(
    [
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "夏侯",
        "轩辕",
        "令狐",
        "端木",
        "西门",
        "南宫",
        "独孤",
        "万俟",
        "闻人",
        "澹台",
        "公冶",
        "申屠",
    ]
)


def mask_id(value: str | None) -> str:
    """Mask an ID number: first 6 and last 4 characters kept, the rest ``*`` (``500241********123X``)."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_account(value: str | None) -> str:
    """Mask an account number: only its last 4 characters kept (``****1234``)."""
    if not value:
        return ""
    if len(value) <= 4:
        return "*" * len(value)
    return "****" + value[-4:]


def mask_name(value: str | None) -> str:
    """Mask a name for publication: ``张*``, ``张*三``, ``欧阳**``; minority names keep their first part.

    The surname is one character, or two for a compound surname (欧阳, 司马…). A name with a middle dot
    (``阿依古丽·买买提``) keeps its first character and masks the rest.
    """
    if not value:
        return ""
    if "·" in value:
        return value[0] + "*" * (len(value) - 1)
    surname = 2 if len(value) >= 3 and value[:2] in COMPOUND_SURNAMES else 1
    rest = len(value) - surname
    if surname == 2 or rest <= 1:
        return value[:surname] + "*" * rest
    return value[:surname] + "*" * (rest - 1) + value[-1]


def _stars(count: pl.Expr) -> pl.Expr:
    """``count`` asterisks; every branch of a ``when`` is evaluated on every row, so a negative count (a branch
    not taken) must give an empty string, not wrap around to a huge unsigned length."""
    return pl.lit("*").repeat_by(count.clip(lower_bound=0)).list.join("")


def mask_id_expr(expr: pl.Expr) -> pl.Expr:
    """Vectorized [`mask_id`][yikatong.mask_id]."""
    n = expr.str.len_chars().cast(pl.Int64)
    return (
        pl.when(expr.is_null() | (n == 0))
        .then(pl.lit(""))
        .when(n <= 10)
        .then(_stars(n))
        .otherwise(
            pl.concat_str(
                expr.str.slice(0, 6),
                _stars(n - 10),
                expr.str.slice(-4, 4),
            )
        )
    )


def mask_account_expr(expr: pl.Expr) -> pl.Expr:
    """Vectorized [`mask_account`][yikatong.mask_account]."""
    n = expr.str.len_chars().cast(pl.Int64)
    return (
        pl.when(expr.is_null() | (n == 0))
        .then(pl.lit(""))
        .when(n <= 4)
        .then(_stars(n))
        .otherwise(pl.concat_str(pl.lit("****"), expr.str.slice(-4, 4)))
    )


def mask_name_expr(expr: pl.Expr) -> pl.Expr:
    """Vectorized [`mask_name`][yikatong.mask_name]."""
    n = expr.str.len_chars().cast(pl.Int64)
    compound = (n >= 3) & expr.str.slice(0, 2).is_in(list(COMPOUND_SURNAMES))
    return (
        pl.when(expr.is_null() | (n == 0))
        .then(pl.lit(""))
        .when(expr.str.contains("·", literal=True))
        .then(pl.concat_str(expr.str.slice(0, 1), _stars(n - 1)))
        .when(compound)
        .then(pl.concat_str(expr.str.slice(0, 2), _stars(n - 2)))
        .when(n <= 2)
        .then(pl.concat_str(expr.str.slice(0, 1), _stars(n - 1)))
        .otherwise(pl.concat_str(expr.str.slice(0, 1), _stars(n - 2), expr.str.slice(-1, 1)))
    )


_SEPARATORS: Final = " \u00a0\u3000\t\u2010\u2011\u2012\u2013\u2014\u2212\uff0d-"
"""What people put between the groups of a long number: spaces (ASCII, no-break, full-width) and dashes."""
_CHECK: Final = "XxＸｘ"
_SEP_CLASS: Final = _SEPARATORS[:-1] + r"\-"
_NUMBER: Final = re.compile(rf"\d(?:[{_SEP_CLASS}]?\d)*(?:[{_SEP_CLASS}]?[{_CHECK}](?![A-Za-z]))?")
"""A run of digits (any script: ASCII, full-width…) that single spaces or dashes may split, with an ID's check
character ``X`` after it (not when the ``X`` starts a Latin word)."""
_CANDIDATE: Final = rf"\d[\d{_SEP_CLASS}]{{9,}}"
"""A Polars (Rust) pattern that every number [`scrub`][yikatong.privacy.scrub] masks contains: rows without it are left
alone."""
_MIN_SPLIT: Final = 12
_MIN_JOINED: Final = 10
_ID_LENGTHS: Final = (15, 18)


def _mask_number(match: re.Match[str]) -> str:
    text = match.group(0)
    kept = [c for c in text if c not in _SEPARATORS]
    digits = sum(1 for c in kept if c.isdigit())
    split = len(kept) != len(text)
    after = match.string[match.end() : match.end() + 2]
    decimal = len(after) == 2 and after[0] == "." and after[1].isdigit()  # an amount such as 1234567890.50
    if digits < (_MIN_SPLIT if split or decimal else _MIN_JOINED):
        return text
    compact = "".join(str(unicodedata.digit(c)) if c.isdigit() else "X" for c in kept)
    return mask_id(compact) if len(compact) in _ID_LENGTHS else mask_account(compact)


def scrub(text: str) -> str:
    """``text`` with every long number masked: what an ID or account number pasted into free text looks like.

    A number is a run of digits in any script (``５００２４１…`` as well as ``500241…``), which single spaces or
    dashes may split (``6217 0000 1234 5678``, ``500241-19500707-0060``) and an ``X`` may end. It is masked when it
    has 12 digits or more, or 10 or more written together (a mobile phone number) unless decimals follow (an
    amount): an 18- or 15-character one as an ID (``500241********0060``), any other as an account
    (``****5678``). Shorter numbers (row numbers, amounts, dates, ``2026-11-20 14:30``) are kept.
    """
    return _NUMBER.sub(_mask_number, text)


def scrub_series(values: pl.Series) -> pl.Series:
    """[`scrub`][yikatong.privacy.scrub] of every value of a ``String`` series; only values that may hold a long number
    are visited."""
    maybe = values.str.contains(_CANDIDATE).fill_null(False)
    if not maybe.any():
        return values
    at = maybe.arg_true()
    cleaned = [scrub(v) for v in values.gather(at).to_list()]
    return values.clone().scatter(at, pl.Series(values.name, cleaned, dtype=pl.String))


def scrub_expr(expr: pl.Expr) -> pl.Expr:
    """Vectorized [`scrub`][yikatong.privacy.scrub] for a column of free text (reasons, bank messages, evidence)."""
    return expr.cast(pl.String).map_batches(scrub_series, return_dtype=pl.String, is_elementwise=True)
