"""Conversions between the port's values (frames, records) and SQLite rows.

Times inside frames are stored as integer microseconds since the epoch (UTC) and dates as days since the epoch, so
conversions are whole-column casts. Record times (batch headers, audit entries) are ISO 8601 text, which keeps the
offset the clock gave and therefore reloads to an equal value.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any, Final, cast

import polars as pl

from yikatong.errors import StoreError
from yikatong.records import (
    EXCEPTION_SCHEMA,
    ROW_SCHEMA,
    ROW_STATE_SCHEMA,
    AuditEntry,
    BatchRecord,
    BatchState,
    FundingRoute,
)

__all__ = [
    "AUDIT_COLUMNS",
    "BATCH_COLUMNS",
    "EXCEPTION_SQL_COLUMNS",
    "LEDGER_SQL_COLUMNS",
    "STATE_SQL_COLUMNS",
    "STATIC_COLUMNS",
    "audit_from_row",
    "audit_to_row",
    "batch_from_row",
    "batch_to_row",
    "conform",
    "frame_from_sql",
    "sql_rows",
]

STATIC_COLUMNS: Final[tuple[str, ...]] = tuple(c for c in ROW_SCHEMA if c not in ROW_STATE_SCHEMA)
"""The columns of a batch row that never change after the batch is created (kept in Parquet)."""

STATE_SQL_COLUMNS: Final[tuple[str, ...]] = ("row_id", *ROW_STATE_SCHEMA)
LEDGER_SQL_COLUMNS: Final = ("batch_id", "row_id", "id_number", "item", "period", "amount_fen", "status", "updated_at")
EXCEPTION_SQL_COLUMNS: Final[tuple[str, ...]] = tuple(EXCEPTION_SCHEMA)

BATCH_COLUMNS: Final = (
    "batch_id",
    "item",
    "period",
    "department",
    "state",
    "prepared_by",
    "created_at",
    "updated_at",
    "version",
    "town",
    "bank",
    "corrects",
    "declared_count",
    "declared_total_fen",
    "funding_route",
    "funding_filed_by",
    "funded_fen",
    "reason",
    "drawn_fen",
    "refunded_fen",
    "drawn_by_bank",
    "refunded_by_bank",
)
AUDIT_COLUMNS: Final = (
    "seq",
    "at",
    "actor",
    "role",
    "action",
    "batch_id",
    "from_state",
    "to_state",
    "reason",
    "details",
    "prev_hash",
    "hash",
)


def conform(frame: pl.DataFrame, schema: dict[str, pl.DataType], what: str) -> pl.DataFrame:
    """Select ``schema``'s columns in order, cast to its types.

    Raises:
        StoreError: a column is missing or cannot be cast.
    """
    missing = [c for c in schema if c not in frame.columns]
    if missing:
        raise StoreError(f"{what}: missing columns {', '.join(missing)} / 缺少列")
    try:
        return frame.select(pl.col(name).cast(dtype, strict=True) for name, dtype in schema.items())
    except (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError) as exc:
        raise StoreError(f"{what}: columns of the wrong type / 列类型不符 ({type(exc).__name__})") from exc


def _to_sql_expr(name: str, dtype: pl.DataType) -> pl.Expr:
    if isinstance(dtype, pl.Datetime):
        return pl.col(name).dt.epoch("us")
    if isinstance(dtype, pl.Date):
        return pl.col(name).cast(pl.Int32)
    return pl.col(name)


def sql_rows(frame: pl.DataFrame, schema: dict[str, pl.DataType], columns: Sequence[str]) -> list[tuple[Any, ...]]:
    """The rows of a conformed frame as SQL parameter tuples, times as integers."""
    return frame.select(_to_sql_expr(c, schema[c]) for c in columns).rows()


def _sql_dtype(dtype: pl.DataType) -> pl.DataType:
    if isinstance(dtype, pl.Datetime):
        return pl.Int64()
    if isinstance(dtype, pl.Date):
        return pl.Int32()
    return dtype


def frame_from_sql(
    rows: Iterable[Sequence[Any]], schema: dict[str, pl.DataType], columns: Sequence[str]
) -> pl.DataFrame:
    """Build a frame from SQL rows of ``columns``, turning stored integers back into dates and times.

    The rows are turned into columns first: Polars builds a typed column from a list much faster than it reads
    tuples row by row.
    """
    values = list(zip(*rows, strict=True)) or [()] * len(columns)
    if len(values) != len(columns):
        raise ValueError(f"SQL rows of {len(values)} values for {len(columns)} columns")
    raw = pl.DataFrame([pl.Series(c, v, dtype=_sql_dtype(schema[c])) for c, v in zip(columns, values, strict=True)])
    out: list[pl.Expr] = []
    for c in columns:
        dtype = schema[c]
        if isinstance(dtype, pl.Datetime):
            out.append(pl.col(c).cast(pl.Datetime("us", "UTC")).cast(dtype))
        elif isinstance(dtype, pl.Date):
            out.append(pl.col(c).cast(pl.Date))
        else:
            out.append(pl.col(c))
    return raw.select(out)


def _iso(value: dt.datetime) -> str:
    return value.isoformat()


def _when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def batch_to_row(batch: BatchRecord) -> tuple[Any, ...]:
    """SQL parameters of a batch header, in ``BATCH_COLUMNS`` order."""
    return (
        batch.batch_id,
        batch.item,
        batch.period,
        batch.department,
        batch.state,
        batch.prepared_by,
        _iso(batch.created_at),
        _iso(batch.updated_at),
        batch.version,
        batch.town,
        batch.bank,
        batch.corrects,
        batch.declared_count,
        batch.declared_total_fen,
        batch.funding_route,
        batch.funding_filed_by,
        batch.funded_fen,
        batch.reason,
        batch.drawn_fen,
        batch.refunded_fen,
        _by_bank_text(batch.drawn_by_bank),
        _by_bank_text(batch.refunded_by_bank),
    )


def _by_bank_text(amounts: tuple[tuple[str, int], ...]) -> str:
    """A per-bank breakdown as stored: a JSON list of ``[code, fen]`` pairs."""
    return json.dumps([[code, int(fen)] for code, fen in amounts], ensure_ascii=False, separators=(",", ":"))


def _by_bank(text: str | None) -> tuple[tuple[str, int], ...]:
    return tuple((str(code), int(fen)) for code, fen in json.loads(text or "[]"))


def batch_from_row(row: sqlite3.Row | Sequence[Any]) -> BatchRecord:
    """A batch header from an SQL row of ``BATCH_COLUMNS``."""
    (
        batch_id,
        item,
        period,
        department,
        state,
        prepared_by,
        created_at,
        updated_at,
        version,
        town,
        bank,
        corrects,
        declared_count,
        declared_total_fen,
        funding_route,
        funding_filed_by,
        funded_fen,
        reason,
        drawn_fen,
        refunded_fen,
        drawn_by_bank,
        refunded_by_bank,
    ) = row
    return BatchRecord(
        batch_id=batch_id,
        item=item,
        period=period,
        department=department,
        state=cast(BatchState, state),
        prepared_by=prepared_by,
        created_at=_when(created_at),
        updated_at=_when(updated_at),
        version=version,
        town=town,
        bank=bank,
        corrects=corrects,
        declared_count=declared_count,
        declared_total_fen=declared_total_fen,
        funding_route=cast(FundingRoute | None, funding_route),
        funding_filed_by=funding_filed_by,
        funded_fen=funded_fen,
        drawn_fen=drawn_fen,
        refunded_fen=refunded_fen,
        reason=reason,
        drawn_by_bank=_by_bank(drawn_by_bank),
        refunded_by_bank=_by_bank(refunded_by_bank),
    )


def audit_to_row(entry: AuditEntry) -> tuple[Any, ...]:
    """SQL parameters of an audit entry, in ``AUDIT_COLUMNS`` order."""
    return (
        entry.seq,
        _iso(entry.at),
        entry.actor,
        entry.role,
        entry.action,
        entry.batch_id,
        entry.from_state,
        entry.to_state,
        entry.reason,
        entry.details,
        entry.prev_hash,
        entry.hash,
    )


def audit_from_row(row: Sequence[Any]) -> AuditEntry:
    """An audit entry from an SQL row of ``AUDIT_COLUMNS``."""
    seq, at, actor, role, action, batch_id, from_state, to_state, reason, details, prev_hash, hash_ = row
    return AuditEntry(
        seq=seq,
        at=_when(at),
        actor=actor,
        role=role,
        action=action,
        batch_id=batch_id,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        details=details,
        prev_hash=prev_hash,
        hash=hash_,
    )
