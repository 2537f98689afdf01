"""Money as integer fen, and the one grammar every amount in yuan is read by.

Rosters, ledgers, declared totals and the catalogue all read amounts by the same rules, so that a value accepted in
one place means the same number everywhere:

* an optional sign, then the integer part: plain digits (``1234``) or digits grouped by thousands with commas in
  their places (``1,234``); at most [`MAX_YUAN_DIGITS`][yikatong.money.MAX_YUAN_DIGITS] integer digits once leading
  zeros are dropped, so every amount fits ``Int64`` fen with room to add millions of them;
* an optional decimal point and decimals: at most two significant decimals (``12.340`` is exact, ``12.345`` is not);
* nothing else: no exponent (``1e3``), no underscore (``1_000``), no whitespace inside the number (``100 50``), no
  other digits than ASCII ``0-9``. Whitespace around the amount is ignored.

[`parse_yuan`][yikatong.parse_yuan] reads one value; [`yuan_fen_expr`][yikatong.money.yuan_fen_expr] is the same grammar
as a Polars expression for whole columns (the ledger loader), and [`fen_from_parts`][yikatong.money.fen_from_parts] the
shared arithmetic the roster reader uses after taking off the marks people write around amounts (``￥``, ``元``,
full-width digits). Parsing never goes through float.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Final

import polars as pl

__all__ = [
    "MAX_YUAN_DIGITS",
    "YUAN_NUMBER",
    "fen_from_parts",
    "format_yuan",
    "parse_yuan",
    "yuan_fen_expr",
]

MAX_YUAN_DIGITS: Final = 15
"""Integer digits an amount in yuan may have: 10¹⁵ yuan is far beyond any payment and keeps fen inside Int64."""

YUAN_NUMBER: Final = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]*)?"
"""The unsigned number of an amount in yuan, as a regular expression that Python and Polars read alike."""

_PLAIN: Final = re.compile(rf"^[+-]?{YUAN_NUMBER}$")
_PLAIN_EXPR: Final = rf"^[+-]?{YUAN_NUMBER}$"


def parse_yuan(value: str | int | float | Decimal) -> int:
    """Parse an amount in yuan (``"100.00"``, ``"1,234.50"``, ``100``, ``Decimal("12.5")``) into integer fen.

    Text follows the module's grammar; an ``int`` or a ``Decimal`` must have at most
    [`MAX_YUAN_DIGITS`][yikatong.money.MAX_YUAN_DIGITS] integer digits and two decimals; a ``float`` is read by its
    shortest repr (``95.8``), so a float that needs an exponent to be written (``1e16``) is refused with the rest.

    Raises:
        ValueError: when the amount breaks the grammar, has more than two decimals or more than 15 integer digits;
            the message is in Chinese and English.
    """
    if isinstance(value, bool):
        raise ValueError(f"金额不能是布尔值 / an amount cannot be a boolean: {value!r}")
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        text = repr(value)
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"金额格式错误 / not a finite amount: {value!r}")
        text = format(value, "f")
    else:
        text = str(value).strip()
    if not _PLAIN.fullmatch(text):
        raise ValueError(
            f"金额格式错误 / not an amount in yuan: {_shown(value)} (digits with an optional decimal point and "
            "thousands commas; no exponent, underscore or inner space)"
        )
    negative = text.startswith("-")
    whole, _, frac = text.lstrip("+-").replace(",", "").partition(".")
    whole = whole.lstrip("0")
    if len(whole) > MAX_YUAN_DIGITS:
        raise ValueError(f"金额过大 / amount too large: {_shown(value)} (at most {MAX_YUAN_DIGITS} integer digits)")
    if frac[2:].strip("0"):
        raise ValueError(f"金额超过两位小数 / more than two decimals: {_shown(value)}")
    fen = int(whole or "0") * 100 + int(frac[:2].ljust(2, "0"))
    return -fen if negative else fen


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "…'"


def fen_from_parts(ok: pl.Expr, negative: pl.Expr, digits: pl.Expr) -> pl.Expr:
    """Exact ``Int64`` fen from an amount already taken apart: whether its shape is right, its sign, and its
    unsigned number without thousands commas (``"1234.50"``); null unless the shape is right, the number has at
    most [`MAX_YUAN_DIGITS`][yikatong.money.MAX_YUAN_DIGITS] integer digits and at most two significant decimals.

    Integer arithmetic on the digit strings only: no float is ever involved.
    """
    halves = digits.str.split_exact(".", 1)
    whole = halves.struct.field("field_0").str.strip_chars_start("0")
    frac = halves.struct.field("field_1").fill_null("")
    exact = frac.str.slice(2).str.strip_chars("0") == ""
    fits = whole.str.len_bytes() <= MAX_YUAN_DIGITS
    whole_fen = pl.when(whole == "").then(pl.lit(0, pl.Int64)).otherwise(whole.cast(pl.Int64, strict=False)) * 100
    cents = frac.str.slice(0, 2).str.pad_end(2, "0").cast(pl.Int64, strict=False)
    magnitude = whole_fen + cents
    fen = pl.when(negative).then(-magnitude).otherwise(magnitude)
    return pl.when((ok & fits & exact).fill_null(False)).then(fen).otherwise(pl.lit(None, pl.Int64))


def yuan_fen_expr(text: pl.Expr) -> pl.Expr:
    """[`parse_yuan`][yikatong.parse_yuan] as a Polars expression over a ``String`` column: exact fen, or null where
    [`parse_yuan`][yikatong.parse_yuan] would raise."""
    trimmed = text.str.strip_chars()
    return fen_from_parts(
        trimmed.str.contains(_PLAIN_EXPR),
        trimmed.str.starts_with("-"),
        trimmed.str.strip_chars_start("+-").str.replace_all(",", "", literal=True),
    )


def format_yuan(fen: int) -> str:
    """Format integer fen as yuan with two decimals and thousands separators: ``123456`` → ``"1,234.56"``."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"
