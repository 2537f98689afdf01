"""Frame plumbing shared by the workflow steps: roster → stored rows, stored rows → roster, ledger entries."""

from __future__ import annotations

import datetime as dt

import polars as pl

from yikatong.records import LEDGER_SCHEMA, ROW_SCHEMA, ROW_STATE_SCHEMA
from yikatong.rules._keys import canonical_id_expr
from yikatong.schema import FLAG_COLUMNS, ROSTER_SCHEMA

__all__ = ["canonical_id_expr", "ledger_entries", "roster_of", "stored_rows"]


def stored_rows(roster: pl.DataFrame, *, batch_id: str, at: dt.datetime) -> pl.DataFrame:
    """The roster as stored batch rows ([`ROW_SCHEMA`][yikatong.records.ROW_SCHEMA]), every row ``pending``.

    Missing optional columns become nulls (flags false); a roster without ``row_id`` is numbered from 1.

    Raises:
        ValueError: when the roster has no ``id_number`` column, or repeats a ``row_id``.
    """
    if "id_number" not in roster.columns:
        raise ValueError("the roster has no id_number column / 名单缺少身份证号列")
    frame = roster
    if "row_id" not in frame.columns:
        frame = frame.with_row_index("row_id", offset=1)
    if frame["row_id"].is_null().any() or frame["row_id"].is_duplicated().any():
        raise ValueError("row_id must be present and unique in a batch / 行号须唯一")
    fill: list[pl.Expr] = []
    for name, dtype in ROW_SCHEMA.items():
        if name in frame.columns and name not in ROW_STATE_SCHEMA and name != "batch_id":
            fill.append(pl.col(name).cast(dtype))
        elif name in FLAG_COLUMNS:
            fill.append(pl.lit(False).alias(name))
        elif name == "batch_id":
            fill.append(pl.lit(batch_id).alias(name))
        elif name == "status":
            fill.append(pl.lit("pending").alias(name))
        elif name == "updated_at":
            fill.append(pl.lit(at).cast(dtype).alias(name))
        else:
            fill.append(pl.lit(None).cast(dtype).alias(name))
    return frame.select(fill).sort("row_id")


def roster_of(rows: pl.DataFrame) -> pl.DataFrame:
    """Stored rows back as a roster in [`ROSTER_SCHEMA`][yikatong.schema.ROSTER_SCHEMA] (for validation)."""
    return rows.select(list(ROSTER_SCHEMA))


def ledger_entries(
    rows: pl.DataFrame, *, item: str, period: str, status: str | pl.Expr, at: dt.datetime
) -> pl.DataFrame:
    """Ledger entries ([`LEDGER_SCHEMA`][yikatong.records.LEDGER_SCHEMA]) for ``rows`` of one batch."""
    status_expr = pl.lit(status) if isinstance(status, str) else status
    return rows.select(
        "batch_id",
        "row_id",
        canonical_id_expr(pl.col("id_number")).alias("id_number"),
        pl.lit(item).alias("item"),
        pl.lit(period).alias("period"),
        "amount_fen",
        status_expr.alias("status"),
        pl.lit(at).alias("updated_at"),
    ).cast(pl.Schema(LEDGER_SCHEMA))
