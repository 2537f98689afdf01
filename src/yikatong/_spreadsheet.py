"""Spreadsheets a person can open safely: no cell of a CSV or XLSX the library writes ever runs as a formula.

A roster is typed by many hands, and its free text (a town, a village, a name) reaches files that people open in
Excel or WPS: disclosure notices, validation reports. A cell such as ``=HYPERLINK("http://x","y")``,
``+cmd|' /C calc'!A0`` or ``@SUM(1+1)`` would run there as a formula (CWE-1236, "CSV injection"). Following the
OWASP CSV-injection guidance, every writer of the library goes through this module:

* ``neutralise`` prefixes a single quote to a text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return, so the spreadsheet shows it as text; a plain number (``-12.50``, ``1,234``) is left alone,
  since a spreadsheet reads it as a number and never as a formula;
* ``csv_bytes`` writes a frame as CSV with every text cell neutralised and quoted;
* ``workbook`` opens an XLSX workbook that never turns text into a formula, a number or a link, and
  ``write_text`` / ``write_table`` write text with ``write_string`` (neutralised too, so that copying the
  cell or saving the sheet as CSV stays safe) and numbers with ``write_number``.

``CONTROL_CHARACTERS`` and ``FORMULA_START`` are the patterns the rules ``TEXT_INVALID`` and
``NAME_INVALID`` and the bank file writer use to find the same text before it is written anywhere.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Final

import polars as pl
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

__all__ = [
    "CONTROL_CHARACTERS",
    "FORMULA_START",
    "FORMULA_TRIGGERS",
    "csv_bytes",
    "neutralise",
    "neutralise_expr",
    "neutralise_frame",
    "workbook",
    "write_table",
    "write_text",
]

FORMULA_TRIGGERS: Final = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP CSV-injection guidance)."""

FORMULA_START: Final = r"^[=+\-@\t\r]"
"""A regular expression (Rust and Python syntax) matching text that begins with a formula trigger."""

CONTROL_CHARACTERS: Final = r"[\p{Cc}\p{Zl}\p{Zp}\x{202A}-\x{202E}\x{2066}-\x{2069}]"
"""A Polars (Rust) regular expression matching a control character: C0 and C1 controls (NUL, tab, CR, LF, U+0085
…), DEL, the line and paragraph separators U+2028 and U+2029, and the bidirectional overrides and isolates that
can make text display in another order than it is stored."""

_PLAIN_NUMBER: Final = r"^[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?$"
"""A plain decimal number in ASCII digits: the same in Python and in Polars, whose digit class takes any script's
digits."""
_PLAIN_NUMBER_RE: Final = re.compile(_PLAIN_NUMBER, re.ASCII)
_QUOTE: Final = "'"


def neutralise(value: str) -> str:
    """``value`` made inert in a spreadsheet: a single quote before a leading formula trigger, else unchanged.

    A plain decimal number (an optional sign, digits, thousands separators, decimals) is unchanged: it is read as
    a number, never as a formula.
    """
    if value.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER_RE.match(value):
        return _QUOTE + value
    return value


def neutralise_expr(expr: pl.Expr) -> pl.Expr:
    """Vectorized ``neutralise`` for a ``String`` column (null stays null; the column keeps its name)."""
    plain = expr.str.contains(_PLAIN_NUMBER)
    return pl.when(plain).then(expr).otherwise(expr.str.replace(FORMULA_START, _QUOTE + "$0"))


def neutralise_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with every ``String`` column neutralised (other columns unchanged)."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(neutralise_expr(pl.col(c)) for c in text) if text else frame


def csv_bytes(frame: pl.DataFrame, *, bom: bool = True, line_terminator: str = "\r\n") -> bytes:
    """``frame`` as UTF-8 CSV bytes for a spreadsheet: text cells neutralised and quoted, titles neutralised too.

    Args:
        frame: The table to write; its column names are the header line.
        bom: Start with a UTF-8 byte order mark, so that Excel reads the Chinese text as UTF-8.
        line_terminator: ``\\r\\n`` by default, what spreadsheets write themselves.
    """
    safe = neutralise_frame(frame).rename({c: neutralise(c) for c in frame.columns})
    return safe.write_csv(include_bom=bom, line_terminator=line_terminator, quote_style="non_numeric").encode("utf-8")


def workbook(buffer: io.BytesIO) -> xlsxwriter.Workbook:
    """A new in-memory XLSX workbook writing into ``buffer`` that never converts text into a formula, number or
    link, whichever ``write`` method a caller uses."""
    return xlsxwriter.Workbook(
        buffer,
        {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False},
    )


def write_text(sheet: Worksheet, row: int, col: int, value: str, fmt: Format | None = None) -> None:
    """Write ``value`` as a text cell (neutralised), never as a formula."""
    sheet.write_string(row, col, neutralise(value), fmt)


def _write_value(sheet: Worksheet, row: int, col: int, value: object, fmt: Format | None) -> None:
    if value is None:
        sheet.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value, fmt)
    elif isinstance(value, int | float | Decimal):
        sheet.write_number(row, col, float(value), fmt)
    elif isinstance(value, dt.date):
        write_text(sheet, row, col, value.isoformat(), fmt)
    else:
        write_text(sheet, row, col, str(value), fmt)


def write_table(
    sheet: Worksheet,
    frame: pl.DataFrame,
    *,
    first_row: int = 0,
    header_format: Format | None = None,
    formats: Sequence[Format | None] | None = None,
) -> int:
    """Write ``frame`` with its column names as a header row at ``first_row``; text as text, numbers as numbers.

    Args:
        sheet: The worksheet (of a ``workbook``).
        frame: The rows; ``String`` cells are neutralised, dates written as ISO text, null cells left blank.
        first_row: The 0-based row of the header.
        header_format: The header cells' format.
        formats: One format per column (or None), applied to its data cells.

    Returns:
        The 0-based row after the last one written.
    """
    for col, title in enumerate(frame.columns):
        write_text(sheet, first_row, col, title, header_format)
    per_column = list(formats) if formats is not None else [None] * frame.width
    for offset, values in enumerate(frame.iter_rows(), start=first_row + 1):
        for col, value in enumerate(values):
            _write_value(sheet, offset, col, value, per_column[col])
    return first_row + 1 + frame.height
