"""Checking a :class:`~yikatong.ports.Change` and turning it into SQL parameters before the write lock is taken.

Everything that can be decided from the change alone is decided here, with whole-column Polars checks, so the
transaction itself only compares against what is stored and writes.
"""

from __future__ import annotations

import itertools
from typing import Any

import polars as pl
from attrs import frozen

from yikatong.adapters.sqlite._codec import (
    EXCEPTION_SQL_COLUMNS,
    LEDGER_SQL_COLUMNS,
    STATE_SQL_COLUMNS,
    STATIC_COLUMNS,
    audit_to_row,
    batch_to_row,
    conform,
    sql_rows,
)
from yikatong.adapters.sqlite._files import parquet_bytes
from yikatong.errors import StoreError
from yikatong.privacy import mask_id
from yikatong.records import EXCEPTION_SCHEMA, LEDGER_ACTIVE, LEDGER_SCHEMA, ROW_SCHEMA, ROW_UPDATE_SCHEMA, Change
from yikatong.workflow.audit import is_hash

__all__ = ["Prepared", "prepare"]

_UPDATE_COLUMNS = ("batch_id", *STATE_SQL_COLUMNS)


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


def _refuse(zh: str, en: str) -> StoreError:
    return StoreError(f"change refused: {en} / 变更被拒绝：{zh}")


def _check_keys(frame: pl.DataFrame, keys: list[str], what_zh: str, what_en: str) -> None:
    if frame.select(pl.any_horizontal(pl.col(k).is_null() for k in keys).any()).item():
        raise _refuse(f"{what_zh}的键为空", f"{what_en} with an empty key")
    if frame.select(pl.struct(keys).is_duplicated().any()).item():
        raise _refuse(f"{what_zh}重复", f"{what_en} named twice")


def _new_rows(change: Change) -> tuple[bytes | None, int, list[tuple[Any, ...]]]:
    if change.new_rows is None:
        return None, 0, []
    if change.expected_version is not None:
        raise _refuse("只有新建批次时才能写入行", "new rows are only accepted when the batch is created")
    rows = conform(change.new_rows, ROW_SCHEMA, "new rows").sort("row_id")
    _check_keys(rows, ["row_id"], "行号", "row ids")
    if rows.height and not rows.select((pl.col("batch_id") == change.batch.batch_id).all()).item():
        raise _refuse("行的批次号与批次不符", "new rows belong to another batch")
    states = sql_rows(rows.with_columns(pl.lit(change.batch.batch_id).alias("batch_id")), ROW_SCHEMA, _UPDATE_COLUMNS)
    return parquet_bytes(rows.select(STATIC_COLUMNS)), rows.height, states


def _row_updates(change: Change) -> list[tuple[Any, ...]]:
    if change.row_updates is None or change.row_updates.height == 0:
        return []
    updates = conform(change.row_updates, ROW_UPDATE_SCHEMA, "row updates")
    _check_keys(updates, ["batch_id", "row_id"], "行状态更新", "row updates")
    columns = (*STATE_SQL_COLUMNS[1:], "batch_id", "row_id")
    return sql_rows(updates, ROW_UPDATE_SCHEMA, columns)


def _ledger(change: Change) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    if change.ledger is None or change.ledger.height == 0:
        return [], []
    ledger = conform(change.ledger, LEDGER_SCHEMA, "ledger entries")
    _check_keys(ledger, ["batch_id", "row_id"], "台账条目", "ledger entries")
    active = pl.col("status").is_in(LEDGER_ACTIVE)
    twice = ledger.filter(active).filter(pl.struct("id_number", "item", "period").is_duplicated())
    if twice.height:
        first = twice.row(0, named=True)
        raise StoreError(
            f"change refused: two active ledger entries for {mask_id(first['id_number'])}, {first['item']}, "
            f"{first['period']} (paying one person twice) / 变更被拒绝：同一人员、项目、期间不得重复发放"
        )
    release = sql_rows(ledger.filter(~active), LEDGER_SCHEMA, LEDGER_SQL_COLUMNS)
    hold = sql_rows(ledger.filter(active), LEDGER_SCHEMA, LEDGER_SQL_COLUMNS)
    return release, hold


def _audit(change: Change) -> tuple[list[tuple[Any, ...]], tuple[int, str] | None]:
    entries = change.audit
    for entry in entries:
        if not is_hash(entry.hash):
            raise _refuse(f"审计条目 {entry.seq} 缺少哈希值", f"audit entry {entry.seq} carries no hash")
    for before, after in itertools.pairwise(entries):
        if after.seq != before.seq + 1 or after.prev_hash != before.hash:
            raise _refuse(
                f"审计条目 {after.seq} 未接续条目 {before.seq}",
                f"audit entry {after.seq} does not chain to {before.seq}",
            )
    first = (entries[0].seq, entries[0].prev_hash) if entries else None
    return [audit_to_row(e) for e in entries], first


def prepare(change: Change) -> Prepared:
    """Check what can be checked without the store and convert the change to SQL parameters.

    Raises:
        StoreError: the change is malformed or contradicts itself; nothing was written.
    """
    expected_new = 1 if change.expected_version is None else change.expected_version + 1
    if change.batch.version != expected_new:
        raise _refuse(
            f"批次版本应为 {expected_new}，实为 {change.batch.version}",
            f"batch version {change.batch.version}, expected {expected_new}",
        )
    parquet, n_rows, states = _new_rows(change)
    release, hold = _ledger(change)
    audit, first = _audit(change)
    exceptions: list[tuple[Any, ...]] = []
    if change.exceptions is not None and change.exceptions.height:
        frame = conform(change.exceptions, EXCEPTION_SCHEMA, "reconciliation exceptions")
        exceptions = sql_rows(frame, EXCEPTION_SCHEMA, EXCEPTION_SQL_COLUMNS)
    return Prepared(
        batch_id=change.batch.batch_id,
        expected_version=change.expected_version,
        batch_row=batch_to_row(change.batch),
        rows_parquet=parquet,
        n_rows=n_rows,
        row_states=states,
        row_updates=_row_updates(change),
        ledger_release=release,
        ledger_hold=hold,
        audit=audit,
        first_audit=first,
        exceptions=exceptions,
    )
