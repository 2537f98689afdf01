"""Checking a [`Change`][yikatong.records.Change] before a SQL store's write transaction starts.

Everything that can be decided from the change alone is decided here, once for every SQL store (SQLite and
PostgreSQL), with whole-column Polars checks: the batch version step, the new rows' keys and batch, the row updates'
keys, two active ledger entries for one (person, item, period) inside the change, and the audit entries' chaining
among themselves. The transaction itself then only compares against what is stored and writes.

An audit entry's hash is checked for its form only: the chain is keyed (HMAC) and the store does not hold the key;
``yikatong audit verify`` checks the hashes with it.
"""

from __future__ import annotations

import itertools
from typing import Any

import polars as pl
from attrs import frozen

from yikatong.adapters.sqlite._codec import audit_to_row, batch_to_row, conform
from yikatong.errors import StoreError
from yikatong.privacy import mask_id
from yikatong.records import (
    EXCEPTION_SCHEMA,
    LEDGER_ACTIVE,
    LEDGER_SCHEMA,
    ROW_SCHEMA,
    ROW_UPDATE_SCHEMA,
    AuditEntry,
    Change,
)
from yikatong.workflow.audit import is_hash

__all__ = ["CheckedChange", "audit_rows", "check_change"]


@frozen
class CheckedChange:
    """A change checked against itself, its frames conformed to the port's schemas.

    Attributes:
        batch_id: The batch; ``expected_version`` as in the change.
        batch_row: The header's SQL parameters (``BATCH_COLUMNS`` order).
        new_rows: The new rows ([`ROW_SCHEMA`][yikatong.records.ROW_SCHEMA], sorted by ``row_id``, ``batch_id`` set), or
            None.
        row_updates: Row states to replace ([`ROW_UPDATE_SCHEMA`][yikatong.records.ROW_UPDATE_SCHEMA]), or None.
        ledger_release: Ledger entries whose new status frees their key (written first); ``ledger_hold`` those
            that take it ([`LEDGER_SCHEMA`][yikatong.records.LEDGER_SCHEMA]; None when there are none).
        audit: Audit rows (``AUDIT_COLUMNS`` order), chained among themselves; ``first_audit`` the first entry's
            ``(seq, prev_hash)``, which must follow the stored log's head.
        exceptions: Reconciliation exceptions ([`EXCEPTION_SCHEMA`][yikatong.records.EXCEPTION_SCHEMA]), or None.
    """

    batch_id: str
    expected_version: int | None
    batch_row: tuple[Any, ...]
    new_rows: pl.DataFrame | None
    row_updates: pl.DataFrame | None
    ledger_release: pl.DataFrame | None
    ledger_hold: pl.DataFrame | None
    audit: list[tuple[Any, ...]]
    first_audit: tuple[int, str] | None
    exceptions: pl.DataFrame | None


def _refuse(zh: str, en: str) -> StoreError:
    return StoreError(f"change refused: {en} / 变更被拒绝：{zh}")


def _check_keys(frame: pl.DataFrame, keys: list[str], what_zh: str, what_en: str) -> None:
    if frame.select(pl.any_horizontal(pl.col(k).is_null() for k in keys).any()).item():
        raise _refuse(f"{what_zh}的键为空", f"{what_en} with an empty key")
    if frame.select(pl.struct(keys).is_duplicated().any()).item():
        raise _refuse(f"{what_zh}重复", f"{what_en} named twice")


def _new_rows(change: Change) -> pl.DataFrame | None:
    if change.new_rows is None:
        return None
    if change.expected_version is not None:
        raise _refuse("只有新建批次时才能写入行", "new rows are only accepted when the batch is created")
    rows = conform(change.new_rows, ROW_SCHEMA, "new rows").sort("row_id")
    _check_keys(rows, ["row_id"], "行号", "row ids")
    if rows.height and not rows.select((pl.col("batch_id") == change.batch.batch_id).all()).item():
        raise _refuse("行的批次号与批次不符", "new rows belong to another batch")
    return rows.with_columns(pl.lit(change.batch.batch_id).alias("batch_id"))


def _row_updates(change: Change) -> pl.DataFrame | None:
    if change.row_updates is None or change.row_updates.height == 0:
        return None
    updates = conform(change.row_updates, ROW_UPDATE_SCHEMA, "row updates")
    _check_keys(updates, ["batch_id", "row_id"], "行状态更新", "row updates")
    return updates


def _ledger(change: Change) -> tuple[pl.DataFrame | None, pl.DataFrame | None]:
    if change.ledger is None or change.ledger.height == 0:
        return None, None
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
    release, hold = ledger.filter(~active), ledger.filter(active)
    return (release if release.height else None), (hold if hold.height else None)


def _audit(change: Change) -> tuple[list[tuple[Any, ...]], tuple[int, str] | None]:
    entries = change.audit
    first = (entries[0].seq, entries[0].prev_hash) if entries else None
    return audit_rows(entries), first


def audit_rows(entries: tuple[AuditEntry, ...]) -> list[tuple[Any, ...]]:
    """The SQL rows (``AUDIT_COLUMNS`` order) of audit entries, checked to carry hashes and chain among themselves.

    Raises:
        StoreError: an entry without a hash, or one that does not chain to the entry before it.
    """
    for entry in entries:
        if not is_hash(entry.hash):
            raise _refuse(f"审计条目 {entry.seq} 缺少哈希值", f"audit entry {entry.seq} carries no hash")
    for before, after in itertools.pairwise(entries):
        if after.seq != before.seq + 1 or after.prev_hash != before.hash:
            raise _refuse(
                f"审计条目 {after.seq} 未接续条目 {before.seq}",
                f"audit entry {after.seq} does not chain to {before.seq}",
            )
    return [audit_to_row(e) for e in entries]


def check_change(change: Change) -> CheckedChange:
    """Check what can be checked without the store.

    Raises:
        StoreError: the change is malformed or contradicts itself; nothing was written.
    """
    expected_new = 1 if change.expected_version is None else change.expected_version + 1
    if change.batch.version != expected_new:
        raise _refuse(
            f"批次版本应为 {expected_new}，实为 {change.batch.version}",
            f"batch version {change.batch.version}, expected {expected_new}",
        )
    new_rows = _new_rows(change)
    release, hold = _ledger(change)
    audit, first = _audit(change)
    exceptions = None
    if change.exceptions is not None and change.exceptions.height:
        exceptions = conform(change.exceptions, EXCEPTION_SCHEMA, "reconciliation exceptions")
    return CheckedChange(
        batch_id=change.batch.batch_id,
        expected_version=change.expected_version,
        batch_row=batch_to_row(change.batch),
        new_rows=new_rows,
        row_updates=_row_updates(change),
        ledger_release=release,
        ledger_hold=hold,
        audit=audit,
        first_audit=first,
        exceptions=exceptions,
    )
