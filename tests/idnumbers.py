"""Identifiers for tests, computed by hand so that the tests do not lean on the library's own code: the GB 11643
check character of an ID number and the Luhn check of a card number."""

from __future__ import annotations

__all__ = ["luhn_ok", "with_check"]

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def with_check(body: str) -> str:
    """``body`` (17 digits) followed by its check character (``0``–``9`` or ``X``)."""
    total = sum(int(c) * w for c, w in zip(body, _WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


def luhn_ok(number: str) -> bool:
    """True when the digits of ``number`` pass the Luhn check (bank card numbers)."""
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0
