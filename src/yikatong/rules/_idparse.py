"""Parse the ID number once, with integer arithmetic, into the private columns every identity rule reads.

A GB 11643-1999 number is 6 region digits, 8 birth digits (``YYYYMMDD``), a 3-digit sequence (odd = male) and a
check character. Slicing 17 one-character strings per row is slow; here the first 17 digits are cast once to an
``Int64`` (the *body*) and each digit is ``body // 10**k % 10``.

A first-generation 15-digit number (6 region, ``YYMMDD``, 3 sequence, no check) is upgraded the standard way:
``19`` inserted before the year and the check character computed. Every later column is derived from the upgraded
body, so the birth-date, region, sex and age rules judge a 15-digit number exactly as its 18-digit form, and the
duplicate key of a 15-digit number equals that of its upgrade (the same person). ``ID_CHECKSUM`` never fires on
a 15-digit number: it has no check character to be wrong.

Columns added by [`ID_PARSE`][yikatong.rules.ID_PARTS]:

``_id_missing``      null or blank ID
``_id_ok_format``    ``[0-9]{17}[0-9X]`` or ``[0-9]{15}``
``_id_is15``         a 15-digit number (upgraded)
``_id_body``         Int64, the 17 digits before the check character (upgraded for 15-digit); null when malformed
``_id_check_calc``   Int8 0–10, the check character the body calls for (10 stands for ``X``)
``_id_check_ok``     the given check character is right (true for 15-digit numbers)
``_id_person``       Int64 person key ``body * 11 + check`` (null when malformed); a 15-digit ID gets its upgrade's key
``_id_birth_ymd``    Int32 ``YYYYMMDD`` as written; ``_id_birth`` the Date, null when not a real date
``_id_region``       Int32 region code; ``_id_sex_odd`` the 17th digit is odd (male)
"""

from __future__ import annotations

import polars as pl

from yikatong.rules._rule import Derivation, RuleEnv

__all__ = [
    "CHECK_CHARS",
    "ID_PARSE",
    "WEIGHTS",
    "check_char_expr",
    "check_value_expr",
    "id_key_expr",
    "upgraded_id_expr",
]

WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
"""GB 11643 weights of the first 17 digits."""

CHECK_CHARS = "10X98765432"
"""Check character by ``sum(weight * digit) % 11``."""

_WELL_FORMED = r"^[0-9]{15}(?:[0-9]{2}[0-9X])?$"
_MIN_BIRTH_YEAR = 1800


def _body_expr(id_col: pl.Expr, ok: pl.Expr | None = None) -> pl.Expr:
    """The 17-digit body as Int64 (15-digit numbers upgraded), null when the text is not well formed."""
    if ok is None:
        ok = id_col.str.contains(_WELL_FORMED)
    head = id_col.str.slice(0, 17).cast(pl.Int64, strict=False)
    # head of a 15-digit number is the whole number: region (6) | YYMMDD + sequence (9).
    upgraded = (head // 10**9) * 10**11 + 19 * 10**9 + head % 10**9
    return pl.when(~ok).then(None).when(id_col.str.len_bytes() == 15).then(upgraded).otherwise(head)


def _chunk_table(weights: tuple[int, ...]) -> pl.Series:
    width = len(weights)
    table = []
    for value in range(10**width):
        digits = [int(c) for c in str(value).zfill(width)]
        table.append(sum(d * w for d, w in zip(digits, weights, strict=True)) % 11)
    return pl.Series(table, dtype=pl.Int16)


# The body split into chunks of 3 digits (the last of 2): (divisor exponent, width, first digit position).
_CHUNKS: tuple[tuple[int, int, int], ...] = ((14, 3, 0), (11, 3, 3), (8, 3, 6), (5, 3, 9), (2, 3, 12), (0, 2, 15))
_TABLES: tuple[pl.Series, ...] = tuple(_chunk_table(WEIGHTS[start : start + width]) for _, width, start in _CHUNKS)


def check_value_expr(body: pl.Expr) -> pl.Expr:
    """The check value 0–10 (10 = ``X``) that a 17-digit body calls for; null for a null body.

    The weighted digit sum is looked up per chunk of three digits (six small tables) rather than digit by digit:
    six divisions and six gathers instead of seventeen of each.
    """
    parts = []
    for (shift, width, _), table in zip(_CHUNKS, _TABLES, strict=True):
        chunk = (body // 10**shift if shift else body) % 10**width
        parts.append(pl.lit(table).gather(chunk))
    remainder = pl.sum_horizontal(parts) % 11
    # CHECK_CHARS[r] as a value: "1","0","X","9",...,"2" -> (12 - r) % 11.
    return pl.when(body.is_not_null()).then(((12 - remainder) % 11).cast(pl.Int8))


def check_char_expr(value: pl.Expr) -> pl.Expr:
    """The check character (``0``–``9`` or ``X``) of a check value 0–10."""
    return pl.when(value == 10).then(pl.lit("X")).otherwise(value.cast(pl.String))


def _given_check(id_col: pl.Expr) -> pl.Expr:
    last = id_col.str.slice(17, 1)
    return pl.when(last == "X").then(pl.lit(10, pl.Int8)).otherwise(last.cast(pl.Int8, strict=False))


def id_key_expr(id_col: pl.Expr) -> pl.Expr:
    """The Int64 person key of an ID column (``body * 11 + check``), null when the ID is malformed.

    Use it to join other frames (a ledger, a list) on the same key as the roster's ``_id_person``: a 15-digit number
    and its 18-digit upgrade get the same key.
    """
    body = _body_expr(id_col)
    check = pl.when(id_col.str.len_bytes() == 15).then(check_value_expr(body)).otherwise(_given_check(id_col))
    return body * 11 + check.cast(pl.Int64)


def upgraded_id_expr() -> pl.Expr:
    """The 18-character form of the parsed ID (from ``_id_body``), for evidence once masked."""
    return pl.concat_str(
        pl.col("_id_body").cast(pl.String).str.zfill(17),
        check_char_expr(pl.col("_id_check_calc")),
    )


def _days_in_month(year: pl.Expr, month: pl.Expr) -> pl.Expr:
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    return (
        pl.when(month == 2)
        .then(pl.when(leap).then(29).otherwise(28))
        .when(month.is_in([4, 6, 9, 11]))
        .then(30)
        .otherwise(31)
    )


def _apply(lf: pl.LazyFrame, env: RuleEnv) -> pl.LazyFrame:
    idc = pl.col("id_number")
    lf = lf.with_columns(
        (idc.is_null() | (idc.str.strip_chars() == "")).alias("_id_missing"),
        idc.str.contains(_WELL_FORMED).fill_null(False).alias("_id_ok_format"),
        (idc.str.len_bytes() == 15).fill_null(False).alias("_id_is15"),
    )
    lf = lf.with_columns(_body_expr(idc, pl.col("_id_ok_format")).alias("_id_body"))
    body = pl.col("_id_body")
    lf = lf.with_columns(
        check_value_expr(body).alias("_id_check_calc"),
        ((body // 1000) % 10**8).cast(pl.Int32).alias("_id_birth_ymd"),
        (body // 10**11).cast(pl.Int32).alias("_id_region"),
        (body % 2 == 1).alias("_id_sex_odd"),
    )
    calc = pl.col("_id_check_calc")
    check_ok = pl.col("_id_is15") | (_given_check(idc) == calc)
    ymd = pl.col("_id_birth_ymd")
    year, month, day = ymd // 10000, ymd // 100 % 100, ymd % 100
    real = (year >= _MIN_BIRTH_YEAR) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= _days_in_month(year, month))
    safe = real.fill_null(False)
    # Days since 1970-01-01 by the civil-calendar formula (H. Hinnant): far cheaper than building dates.
    y_adj = year - (month <= 2).cast(pl.Int32)
    era = y_adj // 400
    yoe = y_adj - era * 400
    doy = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
    birth = days.cast(pl.Int32).cast(pl.Date)
    return lf.with_columns(
        check_ok.alias("_id_check_ok"),
        (body * 11 + pl.when(pl.col("_id_is15")).then(calc).otherwise(_given_check(idc)).cast(pl.Int64)).alias(
            "_id_person"
        ),
        pl.when(safe).then(birth).otherwise(None).alias("_id_birth"),
    )


ID_PARSE = Derivation(name="id_parse", apply=_apply)
"""The shared ID parse; every identity rule (and ``DUP_IN_BATCH``) asks for it."""
