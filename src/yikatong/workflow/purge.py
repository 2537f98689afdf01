"""Retention: which batches may lose their payee detail, and how a purged batch is recognised and compared.

A catalogue item may set ``retention_years``; the payee detail ([`PURGED_COLUMNS`][yikatong.records.PURGED_COLUMNS]:
names, ID numbers, accounts, categories, household heads) of its finished batches is kept that long and may then be
purged ([`yikatong.workflow.Service.purge_batch`][]). What stays: the batch header, every row's amount, status,
town and village, the ledger entries with their amounts and statuses, and the whole audit log.

A purged ledger entry keeps, in place of the ID number, [`purged_id`][yikatong.workflow.purge.purged_id]: ``#`` and the
HMAC-SHA256 of the canonical ID under a key derived from the audit key. The duplicate-payment checks
(``DUP_ALREADY_PAID``, the annual caps, dispatch's one payment per person, item and period) hash the IDs in front of
them the same way and find the purged entries again
([`resolve_purged_ids`][yikatong.workflow.purge.resolve_purged_ids]); nobody without the key can tell whose they are.

A batch counts as purged when the (keyed) audit log holds its ``purge`` entry
([`purge_entries`][yikatong.workflow.purge.purge_entries]).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterable
from typing import Any, Final

import polars as pl

from yikatong.records import PURGED_COLUMNS, PURGED_ID_PREFIX, ROW_SCHEMA, AuditEntry

__all__ = [
    "PURGE_ACTION",
    "PURGE_ROW_STATUSES",
    "PURGE_STATES",
    "purge_entries",
    "purge_totals",
    "purged_id",
    "purged_rows",
    "recorded_totals",
    "resolve_purged_ids",
    "retention_ends",
]

PURGE_ACTION: Final = "purge"
"""The audit action of a purge."""

PURGE_STATES: Final[tuple[str, ...]] = ("settled", "published", "cancelled", "rejected", "sent_back")
"""Batch states in which a batch is over and may be purged (with every row in
[`PURGE_ROW_STATUSES`][yikatong.workflow.purge.PURGE_ROW_STATUSES])."""

PURGE_ROW_STATUSES: Final[tuple[str, ...]] = ("paid", "reissued", "withdrawn", "expired")
"""Row statuses of a batch that may be purged: paid, paid again by a correction, never paid, or past correction.
A failed, reversed or returned row still waits for the department; a sent row for the bank."""

_PURPOSE: Final = b"yikatong purged ledger id\x00"


def purged_id(id_number: str, *, key: bytes) -> str:
    """The value a purged ledger entry keeps in place of the canonical ``id_number``: ``#`` and a keyed hash.

    Args:
        id_number: The canonical ID number (as the ledger holds it).
        key: The audit key ([`yikatong.ports.Keys.audit_key`][]).
    """
    mac = hmac.new(key, _PURPOSE + id_number.encode("utf-8"), hashlib.sha256).digest()
    return PURGED_ID_PREFIX + base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def resolve_purged_ids(ledger: pl.LazyFrame, ids: Iterable[str | None], *, key: bytes | None) -> pl.LazyFrame:
    """``ledger`` with every purged entry whose hash is one of ``ids``'s given back that canonical ID.

    The checks that compare a roster with the ledger (duplicate payments, annual caps) then see a purged entry of
    a person on the roster as that person's; purged entries of people not on the roster stay hashed, matching
    nobody. Without a key (a store written without keys holds no purged entries) the ledger is returned as is.
    """
    if key is None:
        return ledger
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return ledger
    names = pl.DataFrame(
        {"_hash": [purged_id(i, key=key) for i in wanted], "_clear": wanted},
        schema={"_hash": pl.String, "_clear": pl.String},
    )
    return (
        ledger.join(names.lazy(), left_on="id_number", right_on="_hash", how="left", maintain_order="left")
        .with_columns(pl.coalesce("_clear", "id_number").alias("id_number"))
        .drop("_clear")
    )


def purged_rows(rows: pl.DataFrame) -> pl.DataFrame:
    """``rows`` with [`PURGED_COLUMNS`][yikatong.records.PURGED_COLUMNS] emptied (null), every other column as it
    was."""
    return rows.with_columns(pl.lit(None, ROW_SCHEMA[c]).alias(c) for c in PURGED_COLUMNS if c in rows.columns)


def purge_entries(entries: Iterable[AuditEntry]) -> dict[str, AuditEntry]:
    """The ``purge`` entry of each purged batch, by batch."""
    return {e.batch_id: e for e in entries if e.action == PURGE_ACTION and e.batch_id}


def purge_totals(rows: pl.DataFrame, ledger: pl.DataFrame) -> dict[str, int]:
    """What a purge keeps and records of a batch: its rows' count and sum, its ledger entries' count and sum.

    Amounts never change after a batch is created, so these hold for as long as the store does.
    """
    return {
        "rows": rows.height,
        "amount_fen": int(rows["amount_fen"].fill_null(0).sum()),
        "ledger_entries": ledger.height,
        "ledger_fen": int(ledger["amount_fen"].fill_null(0).sum()),
    }


def recorded_totals(entry: AuditEntry) -> dict[str, Any]:
    """The totals a ``purge`` entry recorded (empty when it holds none)."""
    try:
        details = json.loads(entry.details or "{}")
    except ValueError:
        return {}
    totals = details.get("totals") if isinstance(details, dict) else None
    return totals if isinstance(totals, dict) else {}


def retention_ends(anchor: dt.date, years: int) -> dt.date:
    """The last day of a retention of ``years`` counted from ``anchor`` (29 February counts to 28 February)."""
    try:
        return anchor.replace(year=anchor.year + years)
    except ValueError:
        return anchor.replace(year=anchor.year + years, day=28)
