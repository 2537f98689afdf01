"""Money as integer fen. Parsing goes through ``Decimal``, never through float."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

__all__ = ["format_yuan", "parse_yuan"]

_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")


def parse_yuan(value: str | int | float | Decimal) -> int:
    """Parse an amount in yuan (``"100.00"``, ``"1,234.50"``, ``100``, ``Decimal("12.5")``) into integer fen.

    Thousands separators are accepted only where they group digits correctly, so that what
    :func:`format_yuan` writes reads back; ``"1,2,3"`` is refused.

    Raises:
        ValueError: when the amount is not a finite number with at most two decimals.
    """
    if isinstance(value, bool):
        raise ValueError("an amount cannot be a boolean")
    text = str(value).strip()
    if _GROUPED.match(text):
        text = text.replace(",", "")
    try:
        dec = Decimal(repr(value)) if isinstance(value, float) else Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None
    if not dec.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    fen = dec * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"more than two decimals: {value!r}")
    return int(fen)


def format_yuan(fen: int) -> str:
    """Format integer fen as yuan with two decimals and thousands separators: ``123456`` → ``"1,234.56"``."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"
