"""ID numbers for tests: the GB 11643 check character appended to a 17-digit body, written out by hand so that the
tests do not lean on the library's own check-digit code."""

from __future__ import annotations

__all__ = ["with_check"]

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def with_check(body: str) -> str:
    """``body`` (17 digits) followed by its check character (``0``–``9`` or ``X``)."""
    total = sum(int(c) * w for c, w in zip(body, _WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]
