"""Vectorized normalisation of roster cells: IDs, accounts, names, sex, amounts and quantities.

Every function takes and returns Polars expressions over ``String`` columns, so the same code runs on a frame of
ten rows or a lazy plan of millions. Nothing here ever "repairs" data it cannot be sure of: an ID that went through a
numeric spreadsheet cell keeps its mangled text and is only flagged (``ID_EXCEL_MANGLED`` in ``domain.md``).
"""

from __future__ import annotations

from typing import Final

import polars as pl

__all__ = [
    "DOT_LOOKALIKES",
    "ZERO_WIDTH",
    "blank_to_null",
    "clean_account",
    "clean_id",
    "clean_name",
    "fen_to_yuan_text",
    "id_text_mangled",
    "name_has_encoding_damage",
    "numeric_cell_mangled",
    "parse_amount_fen",
    "parse_quantity",
    "parse_sex",
]

ZERO_WIDTH: Final = "\u200b\u200c\u200d\ufeff\u2060"
"""Zero-width space, non-joiner, joiner, BOM / zero-width no-break space and word joiner."""

DOT_LOOKALIKES: Final = ("\u30fb", "\u2022", "\u2027", "\uff0e", "\u22c5", "\u2219", "\uff65")
"""Characters typed in place of the minority-name separator U+00B7 (katakana dot, bullets, full-width stop…)."""

_FW_DIGITS: Final = [chr(0xFF10 + i) for i in range(10)]
_DIGITS: Final = [str(i) for i in range(10)]
_INVISIBLE_OR_SPACE: Final = rf"[\s{ZERO_WIDTH}]"
_MAX_YUAN_DIGITS: Final = 15  # 10^15 yuan is far beyond any payment and keeps fen inside Int64
_MAX_QUANTITY_DIGITS: Final = 30  # Decimal(38, 4) holds 34 integer digits

_SCIENTIFIC: Final = r"^[+-]?\d+(?:\.\d*)?[eE][+-]?\d+$"
_FLOAT: Final = r"^\d+\.\d*$"


def blank_to_null(expr: pl.Expr) -> pl.Expr:
    """Null for a cell that is empty or only whitespace / zero-width characters; the text unchanged otherwise."""
    return pl.when(expr.str.replace_all(_INVISIBLE_OR_SPACE, "") == "").then(pl.lit(None, pl.String)).otherwise(expr)


def clean_id(raw: pl.Expr) -> pl.Expr:
    """Normalise an ID number as ``ID_NORMALISED`` describes; null when nothing is left.

    Removes every space (ASCII, full-width U+3000, no-break) and zero-width character, maps full-width digits to
    ASCII and ``Ｘ``/``ｘ``/``x`` to ``X``. Anything else is kept as written so the identity rules can judge it.
    """
    cleaned = raw.str.replace_all(_INVISIBLE_OR_SPACE, "").str.replace_many(
        [*_FW_DIGITS, "Ｘ", "ｘ", "x"], [*_DIGITS, "X", "X", "X"]
    )
    return pl.when(cleaned == "").then(pl.lit(None, pl.String)).otherwise(cleaned)


def clean_account(raw: pl.Expr) -> pl.Expr:
    """Normalise an account number: spaces (``6217 0000 …`` grouping) and zero-width characters removed, full-width
    digits mapped to ASCII; null when nothing is left."""
    cleaned = raw.str.replace_all(_INVISIBLE_OR_SPACE, "").str.replace_many(_FW_DIGITS, _DIGITS)
    return pl.when(cleaned == "").then(pl.lit(None, pl.String)).otherwise(cleaned)


def id_text_mangled(cleaned: pl.Expr) -> pl.Expr:
    """True when an ID or account text shows it went through a numeric cell: ``5.00241E+17`` or ``…1234.0``.

    Detectable from the text alone, so it applies to every source. Null input gives false.
    """
    return (cleaned.str.contains(_SCIENTIFIC) | cleaned.str.contains(_FLOAT)).fill_null(False)


def numeric_cell_mangled(cleaned: pl.Expr, numeric_cell: pl.Expr) -> pl.Expr:
    """True when a value read from a numeric spreadsheet cell (or a float column) has more than 15 digits.

    Spreadsheets keep 15 significant digits and a double at most 17, so an 18-digit ID or a 16–19 digit card number
    in a numeric cell has lost its last digits for good (often they read ``…000``). Shorter numbers are exact.
    """
    return (numeric_cell & (cleaned.str.count_matches(r"\d") > _MAX_YUAN_DIGITS)).fill_null(False)


def clean_name(raw: pl.Expr) -> pl.Expr:
    """Normalise a name as ``NAME_NORMALISED`` describes; null when nothing is left.

    Look-alikes of the minority-name separator (``DOT_LOOKALIKES``, and an ASCII ``.`` between two Han characters)
    become ``·`` U+00B7, zero-width characters are removed and surrounding whitespace (including U+3000) is trimmed.
    Whitespace between two Han characters (``张　三``, padding to align two-character names) is removed too: it is
    never part of a Chinese name and would defeat matching against the bank's holder name. Other inner spaces
    (``Ahmat Ali``) are kept.
    """
    cleaned = (
        raw.str.replace_all(f"[{ZERO_WIDTH}]", "")
        .str.replace_many(list(DOT_LOOKALIKES), ["·"] * len(DOT_LOOKALIKES))
        .str.replace_all(r"(\p{Han})\.(\p{Han})", "${1}·${2}")
        .str.replace_all(r"(\p{Han})\s+(\p{Han})", "${1}${2}")
        .str.replace_all(r"(\p{Han})\s+(\p{Han})", "${1}${2}")
        .str.strip_chars()
    )
    return pl.when(cleaned == "").then(pl.lit(None, pl.String)).otherwise(cleaned)


def name_has_encoding_damage(name: pl.Expr) -> pl.Expr:
    """True when a name holds U+FFFD or a ``?``/``？``: the trace of a character the encoder could not write."""
    return name.str.contains("[?？\ufffd]").fill_null(False)


_SEX: Final = {
    "男": "男",
    "男性": "男",
    "M": "男",
    "MALE": "男",
    "1": "男",
    "女": "女",
    "女性": "女",
    "F": "女",
    "FEMALE": "女",
    "2": "女",
}


def parse_sex(raw: pl.Expr) -> pl.Expr:
    """``男``/``女`` from 男, 女, 男性, 女性, M/F, male/female, and the GB/T 2261.1 codes 1 (male) and 2 (female).

    Anything else (0 and 9 of GB/T 2261.1 included: "unknown", "not stated") becomes null, which the sex check
    ``ID_SEX_MISMATCH`` treats as "not given".
    """
    key = raw.str.replace_all(_INVISIBLE_OR_SPACE, "").str.to_uppercase()
    return key.replace_strict(_SEX, default=None, return_dtype=pl.String)


def _ascii_number(raw: pl.Expr) -> pl.Expr:
    """Full-width digits and punctuation to ASCII, every space and zero-width character removed."""
    return raw.str.replace_many(
        [*_FW_DIGITS, "．", "，", "－", "＋"],
        [*_DIGITS, ".", ",", "-", "+"],
    ).str.replace_all(_INVISIBLE_OR_SPACE, "")


def parse_amount_fen(raw: pl.Expr) -> pl.Expr:
    """Exact ``Int64`` fen from an amount in yuan as people write it; null when it is not an exact amount.

    Accepted: ``1234.5``, ``1,234.50`` (thousands separators in their places), ``100元``, ``100元整``, ``￥100``,
    ``RMB 100``, full-width digits, a leading sign (kept: ``AMOUNT_INVALID`` judges amounts ≤ 0). Trailing zeros
    beyond two decimals are exact (``12.340``); any other third decimal (``12.345``), scientific notation, a
    number of more than 15 integer digits or text of any other shape gives null. Integer arithmetic on the digit
    strings only: no float is ever involved.
    """
    s = _ascii_number(raw).str.replace(r"^([+-]?)(?:[￥¥]|RMB|CNY)", "${1}").str.replace(r"(?:元|圆)整?$", "")
    shape = r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?$"
    plain = s.str.replace_all(",", "", literal=True)
    negative = plain.str.starts_with("-")
    whole = plain.str.extract(r"^[+-]?0*(\d*)", 1)
    frac = plain.str.extract(r"\.(\d*)$", 1).fill_null("")
    exact = frac.str.contains(r"^\d{0,2}0*$")
    fits = whole.str.len_chars() <= _MAX_YUAN_DIGITS
    whole_fen = pl.when(whole == "").then(pl.lit(0, pl.Int64)).otherwise(whole.cast(pl.Int64, strict=False)) * 100
    cents = frac.str.slice(0, 2).str.pad_end(2, "0").cast(pl.Int64, strict=False)
    magnitude = whole_fen + cents
    fen = pl.when(negative).then(-magnitude).otherwise(magnitude)
    ok = s.str.contains(shape) & exact & fits
    return pl.when(ok.fill_null(False)).then(fen).otherwise(pl.lit(None, pl.Int64))


def parse_quantity(raw: pl.Expr, scale: int) -> pl.Expr:
    """Exact ``Decimal(38, scale)`` from a quantity (mu of land, months, persons); null when invalid.

    Accepts full-width digits, thousands separators and a trailing unit (亩, 平方米, 人, 个月, 月, 户). More than
    ``scale`` significant decimals, or anything that is not a plain decimal number, gives null rather than a
    rounded value.
    """
    s = _ascii_number(raw).str.replace(r"(?:亩|平方米|人|个月|月|户)$", "").str.replace_all(",", "", literal=True)
    ok = s.str.contains(rf"^[+-]?\d{{1,{_MAX_QUANTITY_DIGITS}}}(?:\.\d*)?$") & s.str.extract(r"\.(\d*)$", 1).fill_null(
        ""
    ).str.contains(rf"^\d{{0,{scale}}}0*$")
    whole = s.str.extract(r"^([+-]?\d+)", 1)
    frac = s.str.extract(r"\.(\d*)$", 1).fill_null("").str.slice(0, scale).str.pad_end(scale, "0")
    text = pl.concat_str(whole, pl.lit("."), frac)
    dtype = pl.Decimal(38, scale)
    return pl.when(ok.fill_null(False)).then(text.cast(dtype, strict=False)).otherwise(pl.lit(None, dtype))


def fen_to_yuan_text(fen: pl.Expr) -> pl.Expr:
    """``Int64`` fen as yuan text with two decimals (``123456`` → ``"1234.56"``), for frames that give fen only."""
    magnitude = fen.abs()
    return pl.concat_str(
        pl.when(fen < 0).then(pl.lit("-")).otherwise(pl.lit("")),
        (magnitude // 100).cast(pl.String),
        pl.lit("."),
        (magnitude % 100).cast(pl.String).str.pad_start(2, "0"),
    )
