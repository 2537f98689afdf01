"""Masking of personal data, as Polars expressions and as plain functions.

The disclosure norms of ``domain.md``: a published ID keeps at most its first 6 and last 4 characters (the birth
digits 7–14 always hidden), an account at most its last 4 digits, a name only its surname and, for names of three
characters or more, its last character (``张*``, ``张*三``, ``欧阳**``). Everything the library prints, logs or puts in
an exception goes through these functions.
"""

from __future__ import annotations

import polars as pl

__all__ = [
    "COMPOUND_SURNAMES",
    "mask_account",
    "mask_account_expr",
    "mask_id",
    "mask_id_expr",
    "mask_name",
    "mask_name_expr",
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
    """Vectorized :func:`mask_id`."""
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
    """Vectorized :func:`mask_account`."""
    n = expr.str.len_chars().cast(pl.Int64)
    return (
        pl.when(expr.is_null() | (n == 0))
        .then(pl.lit(""))
        .when(n <= 4)
        .then(_stars(n))
        .otherwise(pl.concat_str(pl.lit("****"), expr.str.slice(-4, 4)))
    )


def mask_name_expr(expr: pl.Expr) -> pl.Expr:
    """Vectorized :func:`mask_name`."""
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
