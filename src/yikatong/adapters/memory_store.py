"""An in-memory [`yikatong.ports.Store`][]: what tests, demos and the simulation run on.

A commit is checked completely before anything is assigned, so a refused change leaves the store exactly as it
was, as a database transaction would. The refusals are those the [`Change`][yikatong.records.Change] contract lists.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from yikatong.adapters._purge import check_ledger_ids, check_purge_change, purged_rows
from yikatong.errors import StoreError
from yikatong.records import (
    EXCEPTION_SCHEMA,
    LEDGER_ACTIVE,
    LEDGER_SCHEMA,
    ROW_SCHEMA,
    ROW_UPDATE_SCHEMA,
    AuditEntry,
    BatchRecord,
    Change,
)
from yikatong.workflow.audit import GENESIS_HASH, is_hash
from yikatong.workflow.statuses import apply_updates

__all__ = ["MemoryStore", "check_audit_append", "check_ledger_unique"]


def check_audit_append(head: AuditEntry | None, entries: tuple[AuditEntry, ...]) -> None:
    """Refuse audit entries that do not continue the log's head as an intact chain.

    A store checks the links (``seq`` and ``prev_hash``) and the form of each hash; it holds no audit key, so the
    hash's value is checked by [`yikatong.workflow.audit.verify`][yikatong.workflow.verify] with the key.

    Raises:
        StoreError: naming the entry's ``seq``.
    """
    prev_seq, prev_hash = (0, GENESIS_HASH) if head is None else (head.seq, head.hash)
    for entry in entries:
        if entry.seq != prev_seq + 1 or entry.prev_hash != prev_hash:
            raise StoreError(f"audit entry {entry.seq} does not continue the log at entry {prev_seq}")
        if not is_hash(entry.hash):
            raise StoreError(f"audit entry {entry.seq} carries no hash")
        prev_seq, prev_hash = entry.seq, entry.hash


def check_ledger_unique(ledger: pl.DataFrame) -> None:
    """Refuse a ledger holding two active entries for one (person, item, period).

    Raises:
        StoreError: with the count and an example row (never the ID number).
    """
    active = ledger.filter(pl.col("status").is_in(LEDGER_ACTIVE))
    twice = active.filter(pl.struct("id_number", "item", "period").is_duplicated())
    if twice.height:
        first = twice.sort("batch_id", "row_id").row(0, named=True)
        raise StoreError(
            f"{twice.height} ledger entries would pay a (person, item, period) twice, e.g. batch {first['batch_id']}"
            f" row {first['row_id']} / 同一人同一项目同一期间不得重复发放"
        )


class MemoryStore:
    """Batches, rows, ledger, exceptions and the audit log in plain attributes (copies are handed out)."""

    def __init__(self) -> None:
        self._batches: dict[str, BatchRecord] = {}
        self._rows: dict[str, pl.DataFrame] = {}
        self._ledger = pl.DataFrame(schema=LEDGER_SCHEMA)
        self._exceptions = pl.DataFrame(schema=EXCEPTION_SCHEMA)
        self._audit: list[AuditEntry] = []
        self.commits = 0

    # -- writing ------------------------------------------------------------------------------------------------
    def commit(self, change: Change) -> None:
        """Apply ``change`` atomically; see [`Change`][yikatong.records.Change] for the refusals."""
        record = change.batch
        current = self._batches.get(record.batch_id)
        if change.expected_version is None:
            if current is not None:
                raise StoreError(f"batch {record.batch_id} already exists")
            if record.version != 1:
                raise StoreError(f"a new batch starts at version 1, not {record.version}")
        else:
            if current is None:
                raise StoreError(f"batch {record.batch_id} does not exist")
            if current.version != change.expected_version:
                raise StoreError(
                    f"batch {record.batch_id} changed meanwhile (version {current.version}, expected"
                    f" {change.expected_version})"
                )
            if record.version != change.expected_version + 1:
                raise StoreError(f"batch {record.batch_id}: the new version must be {change.expected_version + 1}")
        if change.new_rows is not None and change.expected_version is not None:
            raise StoreError("rows are inserted only when the batch is created")
        check_audit_append(self._audit[-1] if self._audit else None, change.audit)

        rows = dict(self._rows)
        if change.new_rows is not None:
            new = _conform(change.new_rows, ROW_SCHEMA, "rows")
            if new.filter(pl.col("batch_id") != record.batch_id).height:
                raise StoreError("new rows must all belong to the batch being created")
            if new["row_id"].is_duplicated().any():
                raise StoreError("row ids must be unique within a batch")
            rows[record.batch_id] = new.sort("row_id")
        elif record.batch_id not in rows:
            rows[record.batch_id] = pl.DataFrame(schema=ROW_SCHEMA)
        if change.row_updates is not None and change.row_updates.height:
            updates = _conform(change.row_updates, ROW_UPDATE_SCHEMA, "row updates")
            if updates.select("batch_id", "row_id").is_duplicated().any():
                raise StoreError("a row is updated twice in one change")
            for (batch_id,), part in updates.partition_by("batch_id", as_dict=True).items():
                existing = rows.get(str(batch_id))
                known = 0 if existing is None else part.join(existing, on=["batch_id", "row_id"], how="semi").height
                if existing is None or known != part.height:
                    raise StoreError(f"row updates name rows that do not exist in batch {batch_id}")
                rows[str(batch_id)] = apply_updates(existing, part)

        ledger = self._ledger
        if change.ledger is not None and change.ledger.height:
            entries = _conform(change.ledger, LEDGER_SCHEMA, "ledger entries")
            if entries.select("batch_id", "row_id").is_duplicated().any():
                raise StoreError("a ledger entry is written twice in one change")
            ledger = pl.concat([ledger.join(entries, on=["batch_id", "row_id"], how="anti"), entries])
            check_ledger_unique(ledger)

        exceptions = self._exceptions
        if change.exceptions is not None and change.exceptions.height:
            exceptions = pl.concat([exceptions, _conform(change.exceptions, EXCEPTION_SCHEMA, "exceptions")])

        self._batches[record.batch_id] = record
        self._rows = rows
        self._ledger = ledger
        self._exceptions = exceptions
        self._audit.extend(change.audit)
        self.commits += 1

    def purge(self, change: Change, *, ledger_ids: pl.DataFrame) -> None:
        """Empty the personal detail of one batch's rows and ledger IDs with ``change`` (see
        [`yikatong.ports.Store.purge`][])."""
        ids = check_purge_change(change, ledger_ids)
        batch_id = change.batch.batch_id
        own = self._ledger.filter(pl.col("batch_id") == batch_id)
        check_ledger_ids(batch_id, own["row_id"], ids)
        replaced = own.drop("id_number").join(ids, on="row_id", how="left").select(list(LEDGER_SCHEMA))
        ledger = pl.concat([self._ledger.filter(pl.col("batch_id") != batch_id), replaced])
        self.commit(change)  # checks the version and the audit chain; refuses before anything is assigned
        if batch_id in self._rows:
            self._rows[batch_id] = purged_rows(self._rows[batch_id])
        self._ledger = ledger

    # -- reading ------------------------------------------------------------------------------------------------
    def append_audit(self, entries: Sequence[AuditEntry]) -> None:
        """Append audit entries that change no batch (a resident's look-up).

        Raises:
            StoreError: the entries do not continue the log's head as a chain; nothing was appended.
        """
        check_audit_append(self._audit[-1] if self._audit else None, tuple(entries))
        self._audit.extend(entries)

    def ledger_of(self, id_number: str) -> pl.DataFrame:
        """The ledger entries of one person (the 18-character ID), in
        [`LEDGER_SCHEMA`][yikatong.records.LEDGER_SCHEMA]."""
        return self.ledger().filter(pl.col("id_number") == id_number)

    def batch(self, batch_id: str) -> BatchRecord:
        """The current header of a batch (``KeyError`` when unknown)."""
        try:
            return self._batches[batch_id]
        except KeyError:
            raise KeyError(f"no batch {batch_id!r}") from None

    def batches(self) -> tuple[BatchRecord, ...]:
        """Every batch header, in creation order."""
        return tuple(self._batches.values())

    def rows(self, batch_id: str) -> pl.DataFrame:
        """The batch's rows (empty in [`ROW_SCHEMA`][yikatong.records.ROW_SCHEMA] when unknown)."""
        rows = self._rows.get(batch_id)
        # build the empty frame only when needed: constructing one costs more than cloning a batch's rows
        return pl.DataFrame(schema=ROW_SCHEMA) if rows is None else rows.clone()

    def ledger(self, *, item: str | None = None, period: str | None = None) -> pl.DataFrame:
        """Ledger entries, optionally of one item and/or period."""
        out = self._ledger
        if item is not None:
            out = out.filter(pl.col("item") == item)
        if period is not None:
            out = out.filter(pl.col("period") == period)
        return out.clone()

    def exceptions(self, batch_id: str | None = None) -> pl.DataFrame:
        """Reconciliation exceptions, of one batch or all."""
        out = self._exceptions if batch_id is None else self._exceptions.filter(pl.col("batch_id") == batch_id)
        return out.clone()

    def audit(self, *, after_seq: int = 0) -> tuple[AuditEntry, ...]:
        """Audit entries after ``after_seq``."""
        return tuple(e for e in self._audit if e.seq > after_seq)

    def audit_head(self) -> AuditEntry | None:
        """The last audit entry."""
        return self._audit[-1] if self._audit else None


def _conform(frame: pl.DataFrame, schema: dict[str, pl.DataType], what: str) -> pl.DataFrame:
    missing = [c for c in schema if c not in frame.columns]
    if missing:
        raise StoreError(f"{what} lack column(s): {', '.join(missing)}")
    try:
        return frame.select([pl.col(c).cast(t) for c, t in schema.items()])
    except pl.exceptions.PolarsError as exc:
        raise StoreError(f"{what} do not fit the store's schema: {type(exc).__name__}") from None
