"""Frame helpers: change a few rows of a large frame without evaluating the change on every row.

A defect touches a few percent of the rows. Writing it as ``when(kind == …).then(expensive).otherwise(col)`` would
evaluate ``expensive`` on all ten million rows; ``patch`` evaluates it on the affected rows only and scatters the
result back. Random streams are keyed by the row number, so a value drawn on the subset equals the value the same
stream gives that row in the whole frame.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

__all__ = ["copy_from_partner", "patch", "patch_many", "yuan_text"]


def patch(frame: pl.DataFrame, column: str, where: pl.Expr, value: pl.Expr) -> pl.DataFrame:
    """Set ``column`` to ``value`` on the rows where ``where`` holds, evaluating ``value`` on those rows only."""
    return patch_many(frame, column, [(where, value)])


def patch_many(frame: pl.DataFrame, column: str, changes: Sequence[tuple[pl.Expr, pl.Expr]]) -> pl.DataFrame:
    """Apply several ``(where, value)`` changes to ``column`` with one copy of the column.

    The ``where`` conditions must select disjoint rows (each defect kind is on its own rows).
    """
    target = frame[column]
    indices: list[pl.Series] = []
    values: list[pl.Series] = []
    for where, value in changes:
        mask = frame.select(where.fill_null(False)).to_series()
        if not mask.any():
            continue
        indices.append(frame.select(pl.arg_where(mask)).to_series().cast(pl.Int64))
        # with_columns, not select: a literal value is broadcast to every selected row.
        values.append(frame.filter(mask).with_columns(value.cast(target.dtype).alias("__value"))["__value"])
    if not indices:
        return frame
    return frame.with_columns(target.clone().scatter(pl.concat(indices), pl.concat(values)).alias(column))


def copy_from_partner(frame: pl.DataFrame, kind: str, columns: Sequence[str]) -> pl.DataFrame:
    """On rows of ``kind``, replace ``columns`` by the values of the row's ``_partner``."""
    mask = frame.select((pl.col("_kind") == kind).fill_null(False)).to_series()
    if not mask.any():
        return frame
    index = frame.select(pl.arg_where(mask)).to_series().cast(pl.Int64)
    partners = frame["_partner"].gather(index)
    return frame.with_columns(frame[c].clone().scatter(index, frame[c].gather(partners)).alias(c) for c in columns)


def yuan_text(fen: pl.Expr) -> pl.Expr:
    """Integer fen as yuan text with two decimals (``12345`` → ``"123.45"``), exact: a decimal, never a float."""
    return fen.cast(pl.Decimal(20, 2)).truediv(100).cast(pl.String)
