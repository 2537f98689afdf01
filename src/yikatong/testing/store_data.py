"""Small, valid values for exercising a [`yikatong.ports.Store`][]: headers, rows, ledger entries, audit entries.

Used by [`yikatong.testing.store_contract`][] and by tests that drive a store directly (crash tests, benchmarks).
The ID and account numbers are obviously synthetic (``ID-P1``): a store stores them as given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import polars as pl

from yikatong.ports import Store
from yikatong.records import (
    EXCEPTION_SCHEMA,
    LEDGER_SCHEMA,
    ROW_SCHEMA,
    ROW_UPDATE_SCHEMA,
    AuditEntry,
    BatchRecord,
    BatchState,
)
from yikatong.workflow.audit import chain

__all__ = [
    "T0",
    "audit_entries",
    "exception_frame",
    "header",
    "ledger_frame",
    "make_rows",
    "snapshot",
    "state_updates",
]

T0 = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)
"""The time every generated value carries (a store must give times back unchanged)."""


def header(
    batch_id: str,
    *,
    version: int = 1,
    item: str = "GDLS",
    period: str = "2026-11",
    state: BatchState = "submitted",
) -> BatchRecord:
    """A batch header with every optional field filled, so a store that drops one is caught."""
    return BatchRecord(
        batch_id=batch_id,
        item=item,
        period=period,
        department="农业农村委",
        state=state,
        prepared_by="clerk-1",
        created_at=T0,
        updated_at=T0 + dt.timedelta(minutes=version),
        version=version,
        town="中和街道",
        bank="CQRCB",
        corrects=None,
        declared_count=3,
        declared_total_fen=30_000,
        funding_route="treasury",
        funding_filed_by="department",
        funded_fen=0,
        reason="",
    )


def make_rows(batch_id: str, n: int, *, item: str = "GDLS", first_row_id: int = 1) -> pl.DataFrame:
    """``n`` rows of a batch in [`ROW_SCHEMA`][yikatong.records.ROW_SCHEMA], all ``pending``, sorted by ``row_id``."""
    ids = pl.int_range(first_row_id, first_row_id + n, dtype=pl.Int64, eager=True)
    frame = pl.DataFrame({"row_id": ids}).with_columns(
        pl.lit(batch_id).alias("batch_id"),
        (pl.col("row_id") + 1).alias("source_line"),
        pl.format("张{}", pl.col("row_id")).alias("name"),
        pl.format("ID-R{}", pl.col("row_id")).alias("id_number"),
        pl.when(pl.col("row_id") % 2 == 0).then(pl.lit("女")).otherwise(pl.lit("男")).alias("sex"),
        pl.format("6217{}", pl.col("row_id").cast(pl.String).str.zfill(12)).alias("account"),
        (pl.col("row_id") * 100 + 10_000).alias("amount_fen"),
        pl.format("{}.00", pl.col("row_id") + 100).alias("amount_raw"),
        pl.lit(Decimal("1.5"), dtype=pl.Decimal(38, 4)).alias("quantity"),
        pl.lit(None, dtype=pl.String).alias("category"),
        pl.lit("中和街道").alias("town"),
        pl.format("村{}", pl.col("row_id") % 3).alias("village"),
        pl.lit(None, dtype=pl.String).alias("household_head_id"),
        pl.lit(item).alias("item"),
        *[pl.lit(False).alias(c) for c in ROW_SCHEMA if c.startswith("flag_")],
        pl.lit(None, dtype=pl.Int64).alias("corrects_row_id"),
        pl.lit("pending").alias("status"),
        pl.lit(None, dtype=pl.String).alias("verdict"),
        pl.lit(None, dtype=pl.String).alias("note"),
        pl.lit(None, dtype=pl.String).alias("reason_code"),
        pl.lit(None, dtype=pl.Date).alias("deadline"),
        pl.lit(None, dtype=pl.String).alias("pay_account"),
        pl.lit(None, dtype=pl.String).alias("account_source"),
        pl.lit(None, dtype=pl.String).alias("bank"),
        pl.lit(T0).alias("updated_at"),
    )
    return frame.select(pl.col(c).cast(t) for c, t in ROW_SCHEMA.items())


def state_updates(
    batch_id: str,
    row_ids: Sequence[int],
    status: str,
    *,
    note: str | None = None,
    deadline: bool = False,
) -> pl.DataFrame:
    """Row updates in [`ROW_UPDATE_SCHEMA`][yikatong.records.ROW_UPDATE_SCHEMA] moving ``row_ids`` to ``status``."""
    n = len(row_ids)
    return pl.DataFrame(
        {
            "batch_id": [batch_id] * n,
            "row_id": list(row_ids),
            "status": [status] * n,
            "verdict": ["pass"] * n,
            "note": [note] * n,
            "reason_code": [None] * n,
            "deadline": [dt.date(2026, 12, 31) if deadline else None] * n,
            "pay_account": [f"621799{r:013d}" for r in row_ids],
            "account_source": ["registry"] * n,
            "bank": ["PSBC"] * n,
            "updated_at": [T0 + dt.timedelta(hours=1)] * n,
        },
        schema=ROW_UPDATE_SCHEMA,
    )


def ledger_frame(entries: Sequence[tuple[Any, ...]]) -> pl.DataFrame:
    """Ledger entries from ``(batch_id, row_id, person, status[, item[, period]])``, ``id_number`` ``ID-<person>``."""
    rows = [
        {
            "batch_id": e[0],
            "row_id": e[1],
            "id_number": f"ID-{e[2]}",
            "item": e[4] if len(e) > 4 else "GDLS",
            "period": e[5] if len(e) > 5 else "2026-11",
            "amount_fen": 10_000,
            "status": e[3],
            "updated_at": T0,
        }
        for e in entries
    ]
    return pl.DataFrame(rows, schema=LEDGER_SCHEMA)


def exception_frame(batch_id: str, row_id: int) -> pl.DataFrame:
    """One reconciliation exception in [`EXCEPTION_SCHEMA`][yikatong.records.EXCEPTION_SCHEMA]."""
    return pl.DataFrame(
        [
            {
                "batch_id": batch_id,
                "row_id": row_id,
                "kind": "unknown_row",
                "outcome": "paid",
                "amount_fen": 10_000,
                "expected_fen": None,
                "detail": "银行结果中的行未发送",
                "at": T0,
            }
        ],
        schema=EXCEPTION_SCHEMA,
    )


def audit_entries(head: AuditEntry | None, steps: Sequence[tuple[str, str, str, str]]) -> tuple[AuditEntry, ...]:
    """Audit entries chained after ``head``, one per ``(action, batch_id, from_state, to_state)``."""
    drafts = [
        {
            "at": T0,
            "actor": "clerk-1",
            "role": "department",
            "action": action,
            "batch_id": batch_id,
            "from_state": from_state,
            "to_state": to_state,
            "details": {"rows": 3},
        }
        for action, batch_id, from_state, to_state in steps
    ]
    return chain(head, drafts)


def snapshot(store: Store, *, with_rows: bool = True) -> tuple[object, ...]:
    """Everything a store holds, as comparable plain values (frames as sorted row tuples)."""
    batches = store.batches()
    rows = tuple(store.rows(b.batch_id).rows() for b in batches) if with_rows else ()
    ledger = tuple(store.ledger().sort("batch_id", "row_id").rows())
    exceptions = tuple(store.exceptions().rows())
    return batches, store.audit(), ledger, exceptions, rows
