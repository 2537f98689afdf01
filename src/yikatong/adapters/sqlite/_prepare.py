"""A checked change as the embedded store's SQL parameters, made before the write lock is taken.

The checks themselves are every SQL store's (``yikatong.adapters._change.check_change``); here the checked
frames become Parquet bytes and parameter tuples in the order of the SQLite tables' columns.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from attrs import frozen

from yikatong.adapters._change import check_change
from yikatong.adapters.sqlite._codec import (
    EXCEPTION_SQL_COLUMNS,
    LEDGER_SQL_COLUMNS,
    STATE_SQL_COLUMNS,
    STATIC_COLUMNS,
    sql_rows,
)
from yikatong.adapters.sqlite._files import parquet_bytes
from yikatong.records import EXCEPTION_SCHEMA, LEDGER_SCHEMA, ROW_SCHEMA, ROW_UPDATE_SCHEMA, Change

__all__ = ["Prepared", "prepare"]

_NEW_STATE_COLUMNS = ("batch_id", *STATE_SQL_COLUMNS)
_UPDATE_COLUMNS = (*STATE_SQL_COLUMNS[1:], "batch_id", "row_id")


@frozen
class Prepared:
    """A checked change, as SQL parameters.

    Attributes:
        batch_id: The batch; ``expected_version`` as in the change.
        batch_row: The header's parameters.
        rows_parquet: The new rows' immutable columns as Parquet bytes (None without new rows); ``n_rows`` their
            count.
        row_states: ``(batch_id, row_id, state…)`` of the new rows.
        row_updates: ``(state…, batch_id, row_id)`` for the UPDATE statement.
        ledger_release: Ledger entries whose new status frees their key (applied first); ``ledger_hold`` those that
            take it.
        audit: Audit rows, chained among themselves.
        exceptions: Reconciliation exception rows.
    """

    batch_id: str
    expected_version: int | None
    batch_row: tuple[Any, ...]
    rows_parquet: bytes | None
    n_rows: int
    row_states: list[tuple[Any, ...]]
    row_updates: list[tuple[Any, ...]]
    ledger_release: list[tuple[Any, ...]]
    ledger_hold: list[tuple[Any, ...]]
    audit: list[tuple[Any, ...]]
    first_audit: tuple[int, str] | None
    exceptions: list[tuple[Any, ...]]


def _params(frame: pl.DataFrame | None, schema: dict[str, pl.DataType], columns: tuple[str, ...]) -> list[Any]:
    return [] if frame is None else sql_rows(frame, schema, columns)


def prepare(change: Change) -> Prepared:
    """Check what can be checked without the store and convert the change to SQL parameters.

    Raises:
        StoreError: the change is malformed or contradicts itself; nothing was written.
    """
    checked = check_change(change)
    rows = checked.new_rows
    return Prepared(
        batch_id=checked.batch_id,
        expected_version=checked.expected_version,
        batch_row=checked.batch_row,
        rows_parquet=None if rows is None else parquet_bytes(rows.select(STATIC_COLUMNS)),
        n_rows=0 if rows is None else rows.height,
        row_states=_params(rows, ROW_SCHEMA, _NEW_STATE_COLUMNS),
        row_updates=_params(checked.row_updates, ROW_UPDATE_SCHEMA, _UPDATE_COLUMNS),
        ledger_release=_params(checked.ledger_release, LEDGER_SCHEMA, LEDGER_SQL_COLUMNS),
        ledger_hold=_params(checked.ledger_hold, LEDGER_SCHEMA, LEDGER_SQL_COLUMNS),
        audit=checked.audit,
        first_audit=checked.first_audit,
        exceptions=_params(checked.exceptions, EXCEPTION_SCHEMA, EXCEPTION_SQL_COLUMNS),
    )
