"""Vectorized normalisation of roster cells: IDs, accounts, names, sex, amounts and quantities.

Every function takes and returns Polars expressions over ``String`` columns, so the same code runs on a frame of
ten rows or a lazy plan of millions. Nothing here ever "repairs" data it cannot be sure of: an ID that went through a
numeric spreadsheet cell keeps its mangled text and is only flagged (``ID_EXCEL_MANGLED`` in ``docs/domain.md``).
"""

from __future__ import annotations

from typing import Final

import polars as pl

from yikatong.money import YUAN_NUMBER, fen_from_parts

__all__ = [
    "DOT_LOOKALIKES",
    "INVISIBLE",
    "ZERO_WIDTH",
    "amount_fen",
    "amount_parts",
    "blank_to_null",
    "clean_account",
    "clean_id",
    "clean_name",
    "fen_to_yuan_text",
    "float_cell_fen",
    "id_text_mangled",
    "name_has_encoding_damage",
    "numeric_cell_mangled",
    "parse_amount_fen",
    "parse_quantity",
    "parse_sex",
    "quantity",
    "quantity_parts",
]

ZERO_WIDTH: Final = "\u200b\u200c\u200d\ufeff\u2060"
"""Zero-width space, non-joiner, joiner, BOM / zero-width no-break space and word joiner."""

DOT_LOOKALIKES: Final = ("\u30fb", "\u2022", "\u2027", "\uff0e", "\u22c5", "\u2219", "\uff65")
"""Characters typed in place of the minority-name separator U+00B7 (katakana dot, bullets, full-width stop…)."""

_WHITESPACE: Final = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
"""Every Unicode White_Space character (full-width U+3000 and no-break U+00A0 among them)."""
INVISIBLE: Final = _WHITESPACE + ZERO_WIDTH
"""Whitespace and zero-width characters: what a cell may hold and still be empty."""
_FW_DIGITS: Final = [chr(0xFF10 + i) for i in range(10)]
_DIGITS: Final = [str(i) for i in range(10)]
_DROP: Final = list(INVISIBLE)
_NO_CHAR: Final = [""] * len(_DROP)
_TEXT_MARKS: Final = ["'", '"', "="]  # '500241…, ="500241…": ways of keeping a number as text in a spreadsheet
_NO_MARK: Final = [""] * len(_TEXT_MARKS)
_MAX_QUANTITY_DIGITS: Final = 30  # Decimal(38, 4) holds 34 integer digits
_MAX_EXACT_DIGITS: Final = 15  # significant digits a spreadsheet keeps in a numeric cell
_FLOAT_NOISE_FEN: Final = 1e-6
_AMOUNT_SHAPE: Final = rf"^[+-]?(?:(?:[￥¥]|RMB|CNY)\s*)?{YUAN_NUMBER}(?:\s*(?:元|圆)整?)?$"
"""An amount as people write it: [`yikatong.money.YUAN_NUMBER`][] with a currency mark or a 元 around it."""
_UNITS: Final = ("亩", "平方米", "人", "个月", "月", "户")
_UNIT_CHARS: Final = "".join(sorted(set("".join(_UNITS))))
_QUANTITY_SHAPE: Final = (
    rf"^[+-]?(?:\d{{1,3}}(?:,\d{{3}})+|\d{{1,{_MAX_QUANTITY_DIGITS}}})(?:\.\d*)?(?:{'|'.join(_UNITS)})?$"
)

_NUMERIC_FORM: Final = r"^[+-]?\d+(?:\.\d*(?:[eE][+-]?\d+)?|[eE][+-]?\d+)$"
"""Scientific notation (``5.00241E+17``, ``5E17``) or a float (``500241199001011234.0``): a number cell's text."""


_ONLY_INVISIBLE: Final = "^[" + "".join(f"\\u{{{ord(c):x}}}" for c in INVISIBLE) + "]*$"
"""A cell of whitespace and zero-width characters only, as a regular expression (no copy of the text is made)."""


def blank_to_null(expr: pl.Expr) -> pl.Expr:
    """Null for a cell that is empty or only whitespace / zero-width characters; the text unchanged otherwise."""
    return pl.when(expr.str.contains(_ONLY_INVISIBLE)).then(pl.lit(None, pl.String)).otherwise(expr)


def clean_id(raw: pl.Expr) -> pl.Expr:
    """Normalise an ID number as ``ID_NORMALISED`` describes; null when nothing is left.

    Removes every space (ASCII, full-width U+3000, no-break) and zero-width character, and the marks that keep a
    number as text in a spreadsheet (``'500241…``, ``="500241…"``); maps full-width digits to ASCII and
    ``Ｘ``/``ｘ``/``x`` to ``X``. Anything else is kept as written so the identity rules can judge it.
    """
    cleaned = raw.str.replace_many(
        [*_DROP, *_TEXT_MARKS, *_FW_DIGITS, "Ｘ", "ｘ", "x"], [*_NO_CHAR, *_NO_MARK, *_DIGITS, "X", "X", "X"]
    )
    return pl.when(cleaned == "").then(pl.lit(None, pl.String)).otherwise(cleaned)


def clean_account(raw: pl.Expr) -> pl.Expr:
    """Normalise an account number: spaces (``6217 0000 …`` grouping), zero-width characters and text marks
    (``'``, ``="…"``) removed, full-width digits mapped to ASCII; null when nothing is left."""
    cleaned = raw.str.replace_many([*_DROP, *_TEXT_MARKS, *_FW_DIGITS], [*_NO_CHAR, *_NO_MARK, *_DIGITS])
    return pl.when(cleaned == "").then(pl.lit(None, pl.String)).otherwise(cleaned)


def id_text_mangled(cleaned: pl.Expr) -> pl.Expr:
    """True when an ID or account text shows it went through a numeric cell: ``5.00241E+17`` or ``…1234.0``.

    Detectable from the text alone, so it applies to every source. Null input gives false.
    """
    return cleaned.str.contains(_NUMERIC_FORM).fill_null(False)


def numeric_cell_mangled(cleaned: pl.Expr, numeric_cell: pl.Expr) -> pl.Expr:
    """True when a value read from a numeric spreadsheet cell (or a float column) has more than 15 digits.

    Spreadsheets keep 15 significant digits and a double at most 17, so an 18-digit ID or a 16–19 digit card number
    in a numeric cell has lost its last digits for good (often they read ``…000``). Shorter numbers are exact.
    """
    return (numeric_cell & (cleaned.str.count_matches(r"\d") > _MAX_EXACT_DIGITS)).fill_null(False)


def clean_name(raw: pl.Expr) -> pl.Expr:
    """Normalise a name as ``NAME_NORMALISED`` describes; null when nothing is left.

    Look-alikes of the minority-name separator (``DOT_LOOKALIKES``, and an ASCII ``.`` between two Han characters)
    become ``·`` U+00B7, zero-width characters are removed and surrounding whitespace (including U+3000) is trimmed.
    Whitespace between two Han characters (``张　三``, padding to align two-character names) is removed too: it is
    never part of a Chinese name and would defeat matching against the bank's holder name. Other inner spaces
    (``Ahmat Ali``) are kept.
    """
    cleaned = (
        raw.str.replace_many([*ZERO_WIDTH, *DOT_LOOKALIKES], [""] * len(ZERO_WIDTH) + ["·"] * len(DOT_LOOKALIKES))
        .map_batches(_join_han, return_dtype=pl.String, is_elementwise=True)
        .str.strip_chars(_WHITESPACE)
    )
    return pl.when(cleaned == "").then(pl.lit(None, pl.String)).otherwise(cleaned)


def _join_han(names: pl.Series) -> pl.Series:
    """``·`` for an ASCII dot between two Han characters, and whitespace between two Han characters removed.

    Only the names holding a dot or whitespace go through the regular expressions (a Unicode class per character
    is the costly part), and are put back in their places; the others are already as they will be.
    """
    candidates = names.str.contains(r"[.\s]").fill_null(False)
    if not candidates.any():
        return names
    where = candidates.arg_true()
    joined = (
        names.gather(where)
        .str.replace_all(r"(\p{Han})\.(\p{Han})", "${1}·${2}")
        .str.replace_all(r"(\p{Han})\s+(\p{Han})", "${1}${2}")
        .str.replace_all(r"(\p{Han})\s+(\p{Han})", "${1}${2}")
    )
    return names.clone().scatter(where, joined)


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
    key = raw.str.strip_chars(INVISIBLE).str.to_uppercase()
    return key.replace_strict(_SEX, default=None, return_dtype=pl.String)


def _ascii_number(raw: pl.Expr) -> pl.Expr:
    """Full-width digits and punctuation to ASCII, every space and zero-width character removed (one pass)."""
    return raw.str.replace_many(
        [*_DROP, *_FW_DIGITS, "．", "，", "－", "＋"],
        [*_NO_CHAR, *_DIGITS, ".", ",", "-", "+"],
    )


def _fraction_exact(frac: pl.Expr, places: int) -> pl.Expr:
    """The decimals beyond ``places`` are all zeros (``12.340`` is exact in fen, ``12.345`` is not)."""
    return frac.str.slice(places).str.strip_chars("0") == ""


def amount_parts(raw: pl.Expr) -> pl.Expr:
    """Whether the text is an amount in yuan, its sign and its digits, as a struct (``ok``, ``negative``, ``digits``).

    Split from ``amount_fen`` so a lazy plan can store it as a column and read it cheaply. The number follows
    the one grammar of [`yikatong.money`][]; around it people write ``100元``, ``100元整``, ``￥100``, ``RMB 100``,
    full-width digits and punctuation, and a leading sign, all accepted. Whitespace inside the number (``100 50``
    is two numbers, not 10050), an exponent or an underscore is not. The shape is checked by one regular
    expression without captures (the fast kind); the digits are then found by stripping the marks it allows.
    """
    text = _amount_text(raw)
    digits = (
        text.str.strip_chars_start("+-￥¥RMBCNY" + _WHITESPACE)
        .str.strip_chars_end("元圆整" + _WHITESPACE)
        .str.replace_all(",", "", literal=True)
    )
    return pl.struct(ok=text.str.contains(_AMOUNT_SHAPE), negative=text.str.starts_with("-"), digits=digits)


def _amount_text(raw: pl.Expr) -> pl.Expr:
    """Full-width digits and punctuation to ASCII, zero-width characters removed, outer whitespace trimmed; inner
    whitespace is kept for the shape to judge."""
    return raw.str.replace_many(
        [*ZERO_WIDTH, *_FW_DIGITS, "．", "，", "－", "＋"],
        [*([""] * len(ZERO_WIDTH)), *_DIGITS, ".", ",", "-", "+"],
    ).str.strip_chars(_WHITESPACE)


def amount_fen(parts: pl.Expr) -> pl.Expr:
    """Exact ``Int64`` fen from ``amount_parts``; null unless the amount is exact with at most two decimals.

    Trailing zeros beyond two decimals are exact (``12.340``); any other third decimal (``12.345``), scientific
    notation, more than 15 integer digits or any other shape gives null. The sign is kept (``AMOUNT_INVALID``
    judges amounts ≤ 0). The arithmetic is [`yikatong.money.fen_from_parts`][], shared with every other amount.
    """
    return fen_from_parts(parts.struct.field("ok"), parts.struct.field("negative"), parts.struct.field("digits"))


def float_cell_fen(raw: pl.Expr) -> pl.Expr:
    """Fen from the text of a number cell (or float column), where binary floating point leaves noise.

    A spreadsheet amount computed as rate × area is stored as a double: ``1.1 × 3`` is ``3.3000000000000003``,
    shown as 3.30. Such a value is read as the whole fen it lies within 10⁻⁶ fen of; any other value (a real third
    decimal such as ``12.345``) gives null, as for text. Only for number cells: text is never rounded.
    """
    hundredfold = raw.str.strip_chars(INVISIBLE).cast(pl.Float64, strict=False) * 100
    nearest = hundredfold.round(0)
    exact = ((hundredfold - nearest).abs() <= _FLOAT_NOISE_FEN) & (nearest.abs() < 10.0**_MAX_EXACT_DIGITS)
    return pl.when(exact.fill_null(False)).then(nearest.cast(pl.Int64, strict=False)).otherwise(pl.lit(None, pl.Int64))


def parse_amount_fen(raw: pl.Expr) -> pl.Expr:
    """``amount_fen`` of ``amount_parts``, in one expression (for small frames and tests)."""
    return amount_fen(amount_parts(raw))


def _whole_and_fraction(digits: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    halves = digits.str.split_exact(".", 1)
    return halves.struct.field("field_0"), halves.struct.field("field_1").fill_null("")


def quantity_parts(raw: pl.Expr) -> pl.Expr:
    """Whether the text is a quantity, its sign and its digits, as a struct (see ``quantity``).

    Accepts full-width digits, thousands separators and a trailing unit (亩, 平方米, 人, 个月, 月, 户).
    """
    text = _ascii_number(raw)
    digits = text.str.strip_chars_start("+-").str.strip_chars_end(_UNIT_CHARS).str.replace_all(",", "", literal=True)
    return pl.struct(ok=text.str.contains(_QUANTITY_SHAPE), negative=text.str.starts_with("-"), digits=digits)


def quantity(parts: pl.Expr, scale: int) -> pl.Expr:
    """Exact ``Decimal(38, scale)`` from ``quantity_parts``; null when invalid.

    More than ``scale`` significant decimals, or anything that is not a plain decimal number, gives null rather
    than a rounded value.
    """
    whole, frac = _whole_and_fraction(parts.struct.field("digits"))
    ok = parts.struct.field("ok") & (whole.str.len_bytes() <= _MAX_QUANTITY_DIGITS) & _fraction_exact(frac, scale)
    sign = pl.when(parts.struct.field("negative")).then(pl.lit("-")).otherwise(pl.lit(""))
    text = pl.concat_str(sign, whole, pl.lit("."), frac.str.slice(0, scale).str.pad_end(scale, "0"))
    dtype = pl.Decimal(38, scale)
    return pl.when(ok.fill_null(False)).then(text.cast(dtype, strict=False)).otherwise(pl.lit(None, dtype))


def parse_quantity(raw: pl.Expr, scale: int) -> pl.Expr:
    """``quantity`` of ``quantity_parts``, in one expression (for small frames and tests)."""
    return quantity(quantity_parts(raw), scale)


def fen_to_yuan_text(fen: pl.Expr) -> pl.Expr:
    """``Int64`` fen as yuan text with two decimals (``123456`` → ``"1234.56"``), for frames that give fen only."""
    magnitude = fen.abs()
    return pl.concat_str(
        pl.when(fen < 0).then(pl.lit("-")).otherwise(pl.lit("")),
        (magnitude // 100).cast(pl.String),
        pl.lit("."),
        (magnitude % 100).cast(pl.String).str.pad_start(2, "0"),
    )
