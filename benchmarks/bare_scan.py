"""The floor: a bare Polars pass over the same roster columns the rules read, with a trivial aggregate.

Every column is touched (string byte lengths summed, numbers summed, nulls counted) so Polars cannot answer from
metadata; nothing else is computed. Two ways, like :mod:`benchmarks.full_rules`: over the roster already in
memory (reading not timed) and straight from the Parquet files (reading timed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from benchmarks._data import Dataset
from benchmarks._harness import Timer

__all__ = ["aggregate", "from_parquet", "in_memory"]


def aggregate(schema: pl.Schema) -> list[pl.Expr]:
    """One cheap aggregate per column that still reads every value."""
    exprs: list[pl.Expr] = []
    for name, dtype in schema.items():
        col = pl.col(name)
        if dtype == pl.String:
            exprs.append(col.str.len_bytes().sum().alias(name))
        elif dtype == pl.Boolean or dtype.is_integer():
            exprs.append(col.cast(pl.Int64).sum().alias(name))
        else:
            exprs.append(col.null_count().alias(name))
    return exprs


def _result(rows: int, timer: Timer) -> dict[str, Any]:
    return {
        "rows": rows,
        "seconds": timer.seconds,
        "rows_per_s": rows / timer.seconds,
        "rss_before_mb": timer.rss_before_mb,
    }


def in_memory(folder: str) -> dict[str, Any]:
    """Aggregate every column of the roster held in memory."""
    data = Dataset(Path(folder))
    roster = data.read("roster")
    timer = Timer()
    with timer.measure():
        roster.select(aggregate(roster.schema))
    return _result(roster.height, timer)


def from_parquet(folder: str, engine: str = "in-memory") -> dict[str, Any]:
    """Read the Parquet parts and aggregate every column (reading timed)."""
    data = Dataset(Path(folder))
    lf = data.scan("roster")
    exprs = aggregate(lf.collect_schema())
    timer = Timer()
    with timer.measure():
        lf.select(exprs).collect(engine="streaming" if engine == "streaming" else "in-memory")
    return _result(data.rows, timer)
