"""Row statuses, moved as whole Polars columns by a table of legal moves.

A step never edits rows one by one: it states the moves it wants as a frame (``batch_id, row_id, to`` and the new
``note``/``reason_code``/``deadline``/``verdict`` where they change),
[`plan_moves`][yikatong.workflow.statuses.plan_moves] joins that frame with the current statuses and with
[`LEGAL_MOVES`][yikatong.workflow.LEGAL_MOVES], and either returns the new row states for the store or raises
[`IllegalTransition`][yikatong.errors.IllegalTransition] without changing anything.

The moves::

    pending  → passed | review | blocked | withdrawn
    review   → passed | blocked | withdrawn          (a department user decides, with a reason)
    passed   → sent | blocked | withdrawn            (blocked at dispatch: the key is already in the ledger)
    blocked  → returned | withdrawn                  (to the correction queue at dispatch)
    sent     → paid | failed | withdrawn             (withdrawn only before funding: cancel, send back)
    paid     → reversed                              (退汇: the money came back after crediting)
    failed   → returned                              (to the correction queue after settlement)
    reversed → returned                              (to the correction queue, like a failure)
    returned → reissued | expired                    (a correction batch paid the row; the deadline passed)
    expired  → returned                              (finance extended the deadline, maker-checker)

``withdrawn`` ends a row whose batch was rejected, cancelled or sent back. A row ends in exactly one of
[`FINAL_STATUSES`][yikatong.workflow.FINAL_STATUSES].
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import polars as pl

from yikatong.errors import IllegalTransition
from yikatong.records import ROW_STATE_SCHEMA, ROW_UPDATE_SCHEMA

__all__ = [
    "FINAL_STATUSES",
    "LEGAL_MOVES",
    "ROW_STATUSES",
    "apply_updates",
    "legal_moves_frame",
    "plan_moves",
]

ROW_STATUSES: Final[tuple[str, ...]] = (
    "pending",
    "passed",
    "review",
    "blocked",
    "sent",
    "paid",
    "failed",
    "reversed",
    "returned",
    "reissued",
    "withdrawn",
    "expired",
)

LEGAL_MOVES: Final[tuple[tuple[str, str], ...]] = (
    ("pending", "passed"),
    ("pending", "review"),
    ("pending", "blocked"),
    ("pending", "withdrawn"),
    ("review", "passed"),
    ("review", "blocked"),
    ("review", "withdrawn"),
    ("passed", "sent"),
    ("passed", "blocked"),
    ("passed", "withdrawn"),
    ("blocked", "returned"),
    ("blocked", "withdrawn"),
    ("sent", "paid"),
    ("sent", "failed"),
    ("sent", "withdrawn"),
    ("paid", "reversed"),
    ("failed", "returned"),
    ("reversed", "returned"),
    ("returned", "reissued"),
    ("returned", "expired"),
    ("expired", "returned"),
)
"""(from, to) pairs; every other move is illegal."""

FINAL_STATUSES: Final[frozenset[str]] = frozenset({"paid", "returned", "reissued", "withdrawn", "expired"})
"""Where a row's life ends once its batch is over (``returned`` rows wait in the correction queue; ``expired`` rows
missed their deadline and wait for an extension or nothing). A ``paid`` row may still be reversed later (退汇); a
``reversed`` row is not final: it waits to be returned."""

_OPTIONAL: Final[tuple[str, ...]] = (
    "verdict",
    "note",
    "reason_code",
    "deadline",
    "pay_account",
    "account_source",
    "bank",
)


def legal_moves_frame() -> pl.DataFrame:
    """[`LEGAL_MOVES`][yikatong.workflow.LEGAL_MOVES] as a frame ``status, to``."""
    return pl.DataFrame(list(LEGAL_MOVES), schema={"status": pl.String, "to": pl.String}, orient="row")


def plan_moves(current: pl.DataFrame, moves: pl.DataFrame, *, at: dt.datetime) -> pl.DataFrame:
    """Check requested moves against the current statuses and return the rows' new states.

    Args:
        current: Stored rows: at least ``batch_id``, ``row_id`` and the columns of
            [`ROW_STATE_SCHEMA`][yikatong.records.ROW_STATE_SCHEMA].
        moves: ``batch_id``, ``row_id``, ``to``; optionally ``verdict``, ``note``, ``reason_code``, ``deadline``,
            ``pay_account``, ``account_source``, ``bank`` (a column given replaces the stored value, nulls included;
            a column left out keeps it).
        at: The time of the step (becomes ``updated_at``).

    Returns:
        One row per move in [`ROW_UPDATE_SCHEMA`][yikatong.records.ROW_UPDATE_SCHEMA], ready for
        ``row_updates``.

    Raises:
        IllegalTransition: when a move names an unknown row, names a row twice, or is not in
            [`LEGAL_MOVES`][yikatong.workflow.LEGAL_MOVES]; the message gives the count and one example row id (never
            personal data).
    """
    missing = {"batch_id", "row_id", "to"} - set(moves.columns)
    if missing:
        raise ValueError(f"moves need the columns batch_id, row_id, to (missing: {', '.join(sorted(missing))})")
    if moves.is_empty():
        return pl.DataFrame(schema=ROW_UPDATE_SCHEMA)
    keys = ["batch_id", "row_id"]
    twice = moves.filter(pl.struct(keys).is_duplicated())
    if twice.height:
        raise IllegalTransition(f"{twice.height} moves name a row more than once, e.g. row {_example(twice)}")
    state_cols = [c for c in ROW_STATE_SCHEMA if c != "updated_at"]
    # a frame from before a state column existed (e.g. ``bank``) holds null there
    current = current.with_columns(
        pl.lit(None, ROW_STATE_SCHEMA[c]).alias(c) for c in state_cols if c not in current.columns
    )
    joined = moves.select(*keys, "to", *[pl.col(c).alias(f"_new_{c}") for c in _OPTIONAL if c in moves.columns]).join(
        current.select(*keys, *state_cols), on=keys, how="left"
    )
    unknown = joined.filter(pl.col("status").is_null())
    if unknown.height:
        raise IllegalTransition(f"{unknown.height} moves name rows that do not exist, e.g. row {_example(unknown)}")
    illegal = joined.join(legal_moves_frame(), on=["status", "to"], how="anti")
    if illegal.height:
        first = illegal.sort(keys).row(0, named=True)
        raise IllegalTransition(
            f"{illegal.height} illegal row moves, e.g. row {first['row_id']}: {first['status']} → {first['to']}"
            " / 行状态变更不合法"
        )
    replaced = [
        (pl.col(f"_new_{c}") if c in moves.columns else pl.col(c)).cast(ROW_STATE_SCHEMA[c]).alias(c) for c in _OPTIONAL
    ]
    return joined.select(
        pl.col("batch_id").cast(pl.String),
        pl.col("row_id").cast(pl.Int64),
        pl.col("to").cast(pl.String).alias("status"),
        *replaced,
        pl.lit(at).cast(ROW_STATE_SCHEMA["updated_at"]).alias("updated_at"),
    ).select(list(ROW_UPDATE_SCHEMA))


def apply_updates(rows: pl.DataFrame, updates: pl.DataFrame) -> pl.DataFrame:
    """Rows with ``updates`` ([`ROW_UPDATE_SCHEMA`][yikatong.records.ROW_UPDATE_SCHEMA]) applied: what a store holds
    afterwards."""
    if updates.is_empty():
        return rows
    keys = ["batch_id", "row_id"]
    state = list(ROW_STATE_SCHEMA)
    rows = rows.with_columns(pl.lit(None, ROW_STATE_SCHEMA[c]).alias(c) for c in state if c not in rows.columns)
    merged = rows.join(updates.select(*keys, *[pl.col(c).alias(f"_u_{c}") for c in state]), on=keys, how="left")
    hit = pl.col("_u_status").is_not_null()
    return merged.with_columns(
        [pl.when(hit).then(pl.col(f"_u_{c}")).otherwise(pl.col(c)).alias(c) for c in state]
    ).select(rows.columns)


def _example(frame: pl.DataFrame) -> object:
    return frame.sort("batch_id", "row_id")["row_id"][0]
