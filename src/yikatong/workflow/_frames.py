"""Frame plumbing shared by the workflow steps: roster → stored rows, stored rows → roster, ledger entries."""

from __future__ import annotations

import datetime as dt

import polars as pl

from yikatong.records import LEDGER_SCHEMA, ROW_SCHEMA, ROW_STATE_SCHEMA
from yikatong.schema import FLAG_COLUMNS, ROSTER_SCHEMA

__all__ = ["canonical_id_expr", "ledger_entries", "roster_of", "stored_rows"]

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def canonical_id_expr(id_col: pl.Expr) -> pl.Expr:
    """The 18-character form of an ID: a first-generation 15-digit number is upgraded (``19`` inserted, check
    character computed); anything else is kept as it is. The ledger keys payments by this form, so one person
    under both forms is still one key."""
    body = pl.concat_str(id_col.str.slice(0, 6), pl.lit("19"), id_col.str.slice(6, 9))
    total = pl.sum_horizontal([body.str.slice(i, 1).cast(pl.Int64, strict=False) * w for i, w in enumerate(_WEIGHTS)])
    check = pl.lit("10X98765432").str.slice(total % 11, 1)
    fifteen = id_col.str.contains(r"^[0-9]{15}$").fill_null(False)
    return pl.when(fifteen).then(pl.concat_str(body, check)).otherwise(id_col)


def stored_rows(roster: pl.DataFrame, *, batch_id: str, at: dt.datetime) -> pl.DataFrame:
    """The roster as stored batch rows (:data:`~yikatong.ports.ROW_SCHEMA`), every row ``pending``.

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
    """Stored rows back as a roster in :data:`~yikatong.schema.ROSTER_SCHEMA` (for validation)."""
    return rows.select(list(ROSTER_SCHEMA))


def ledger_entries(
    rows: pl.DataFrame, *, item: str, period: str, status: str | pl.Expr, at: dt.datetime
) -> pl.DataFrame:
    """Ledger entries (:data:`~yikatong.ports.LEDGER_SCHEMA`) for ``rows`` of one batch."""
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
