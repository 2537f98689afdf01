"""Violation rows as the invariant checks build them: a few examples per check, details from text and columns."""

from __future__ import annotations

from typing import Final

import polars as pl

__all__ = ["EXAMPLES", "SETTLED_STATES", "VIOLATION_SCHEMA", "as_text", "violations"]

VIOLATION_SCHEMA: Final[dict[str, pl.DataType]] = {
    "invariant": pl.Int64(),
    "batch_id": pl.String(),
    "detail": pl.String(),
}

SETTLED_STATES: Final = ["settled", "published"]
EXAMPLES: Final = 5
"""How many examples each check reports at most."""


def as_text(name: str) -> pl.Expr:
    """A column as text for a detail message (``none`` for null)."""
    return pl.col(name).cast(pl.String).fill_null("none")


def violations(lf: pl.LazyFrame, invariant: int, *parts: str | pl.Expr, batch: pl.Expr | None = None) -> pl.LazyFrame:
    """Violation rows (at most a few examples per check) with a detail assembled from literal text and columns."""
    detail = pl.concat_str([pl.lit(p) if isinstance(p, str) else p for p in parts])
    return lf.select(
        pl.lit(invariant, pl.Int64).alias("invariant"),
        (pl.col("batch_id") if batch is None else batch).cast(pl.String).fill_null("").alias("batch_id"),
        detail.alias("detail"),
    ).head(EXAMPLES)
