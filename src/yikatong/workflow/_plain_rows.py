"""Rows as plain dicts for the plain-Python invariant checks: look-ups, groups, comparisons with Polars' nulls, and
violation rows capped at the same few examples as the Polars checks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import islice
from typing import Any

from yikatong.workflow import _violations

__all__ = ["Row", "by_keys", "eq", "grouped", "ne", "text", "violations"]

Row = dict[str, Any]
"""One row: column name → value (None for null)."""


def by_keys(rows: Iterable[Row], keys: Sequence[str]) -> dict[tuple[Any, ...], list[Row]]:
    """Rows by their key, for a join: a key with a null part matches nothing, as in a Polars join."""
    out: dict[tuple[Any, ...], list[Row]] = {}
    for row in rows:
        key = tuple(row[k] for k in keys)
        if None not in key:
            out.setdefault(key, []).append(row)
    return out


def grouped(rows: Iterable[Row], keys: Sequence[str]) -> dict[tuple[Any, ...], list[Row]]:
    """Rows by their key, for a group-by: null is a key like any other; groups in the order they first appear."""
    out: dict[tuple[Any, ...], list[Row]] = {}
    for row in rows:
        out.setdefault(tuple(row[k] for k in keys), []).append(row)
    return out


def eq(a: Any, b: Any) -> bool:
    """``a == b`` as a Polars filter keeps it: true only when neither side is null."""
    return a is not None and b is not None and a == b


def ne(a: Any, b: Any) -> bool:
    """``a != b`` as a Polars filter keeps it: true only when neither side is null."""
    return a is not None and b is not None and a != b


def text(value: Any) -> str:
    """A value as a violation's detail shows it (``none`` for null, Booleans in lower case)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def violations(invariant: int, found: Iterable[tuple[Any, str]]) -> list[tuple[int, str, str]]:
    """(invariant, batch_id, detail) for the first few of ``found`` ((batch_id, detail) pairs), as many as the
    Polars checks report per check."""
    return [(invariant, "" if b is None else str(b), d) for b, d in islice(found, _violations.EXAMPLES)]
