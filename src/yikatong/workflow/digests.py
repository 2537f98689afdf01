"""Digests of what a step leaves in the store, carried by the step's audit entry.

The audit chain alone proves the log was not edited; these digests tie the log to the money data. Each entry of a
step carries, under ``details["digests"]``, the digest of the batch header as stored after the step, of the payee
rows of every batch whose rows the step wrote, of the ledger entries of every batch whose ledger it wrote, and (at
dispatch) of the pay order sent to the bank. Someone who edits a stored row, a ledger entry or a funded amount must
then also edit the entry, which breaks the keyed chain ([`yikatong.workflow.audit`][]).

A digest is HMAC-SHA256 under the audit key (plain SHA-256 without one) over an unambiguous encoding of the frame:
the column names, then per row each value length-prefixed (nulls marked), so no two different frames encode alike.
Times are encoded as integer microseconds, dates as days, decimals as text: the same on every platform. Digests are
written in unpadded base64url (43 characters), not hex: a hex digest often holds a run of a dozen digits, which a
scan for leaked ID and card numbers would rightly flag.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any, Final

import polars as pl
from attrs import asdict

from yikatong.records import LEDGER_SCHEMA, ROW_SCHEMA, AuditEntry, BatchRecord
from yikatong.workflow.audit import canonical_json

__all__ = [
    "ORDER_COLUMNS",
    "batch_digest",
    "frame_digest",
    "ledger_digest",
    "order_digest",
    "recorded_digests",
    "rows_digest",
]

ORDER_COLUMNS: Final = ("row_id", "id_number", "name", "account", "amount_fen")
"""The columns of a pay order's rows, as the bank receives them."""


def _as_text(name: str, dtype: pl.DataType) -> pl.Expr:
    col = pl.col(name)
    if isinstance(dtype, pl.Datetime):
        text = col.dt.epoch("us").cast(pl.String)
    elif isinstance(dtype, pl.Date):
        text = col.cast(pl.Int32).cast(pl.String)
    else:
        text = col.cast(pl.String)
    # Length-prefixed (in bytes): a value can hold any character and still never be read as two.
    return pl.when(col.is_null()).then(pl.lit("~")).otherwise(pl.concat_str(text.str.len_bytes(), pl.lit(":"), text))


def frame_digest(frame: pl.DataFrame, *, key: bytes | None) -> str:
    """The digest of a frame: HMAC-SHA256 under ``key`` (SHA-256 without one), base64url.

    The frame is hashed as given: callers fix its column order and row order (see
    [`rows_digest`][yikatong.workflow.digests.rows_digest]).
    """
    mac = hashlib.sha256() if key is None else hmac.new(key, digestmod=hashlib.sha256)
    mac.update(canonical_json({"columns": frame.columns, "rows": frame.height}).encode("utf-8"))
    if frame.width and frame.height:
        lines = frame.select(
            pl.concat_str([_as_text(n, d) for n, d in frame.schema.items()], separator="|").alias("_line")
        )
        for chunk in lines.iter_slices(50_000):
            mac.update(("\n" + "\n".join(chunk.get_column("_line").to_list())).encode("utf-8"))
    return _text(mac.digest())


def _text(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def rows_digest(rows: pl.DataFrame, *, key: bytes | None) -> str:
    """The digest of one batch's stored rows ([`ROW_SCHEMA`][yikatong.records.ROW_SCHEMA], in ``row_id`` order).

    The ``bank`` column counts only once a row has one, so rows stored before banks were recorded keep their digests.
    """
    columns = [c for c in ROW_SCHEMA if c != "bank" or ("bank" in rows.columns and rows["bank"].is_not_null().any())]
    return frame_digest(rows.select(columns).sort("row_id"), key=key)


def ledger_digest(entries: pl.DataFrame, *, key: bytes | None) -> str:
    """The digest of one batch's ledger entries ([`LEDGER_SCHEMA`][yikatong.records.LEDGER_SCHEMA], in ``row_id``
    order)."""
    return frame_digest(entries.select(list(LEDGER_SCHEMA)).sort("row_id"), key=key)


def order_digest(rows: pl.DataFrame, *, key: bytes | None) -> str:
    """The digest of a pay order: its rows' [`ORDER_COLUMNS`][yikatong.workflow.digests.ORDER_COLUMNS] in ``row_id``
    order (count and total follow)."""
    return frame_digest(rows.select(ORDER_COLUMNS).sort("row_id"), key=key)


def batch_digest(record: BatchRecord, *, key: bytes | None) -> str:
    """The digest of a batch header: every field (state, version, funded amount, reason…); the per-bank breakdowns
    only when they hold something, so headers written before banks were recorded keep their digests."""
    fields: Mapping[str, Any] = {
        k: v for k, v in asdict(record).items() if v or k not in ("drawn_by_bank", "refunded_by_bank")
    }
    text = canonical_json(fields).encode("utf-8")
    if key is None:
        return _text(hashlib.sha256(text).digest())
    return _text(hmac.new(key, text, hashlib.sha256).digest())


def recorded_digests(entry: AuditEntry) -> dict[str, Any]:
    """The digests an audit entry carries (``batch``, ``rows``, ``ledger``, ``order``); empty when none."""
    try:
        details = json.loads(entry.details or "{}")
    except ValueError:
        return {}
    digests = details.get("digests") if isinstance(details, dict) else None
    if not isinstance(digests, dict):
        return {}
    return {k: v for k, v in digests.items() if (k in ("batch", "order") and isinstance(v, str)) or isinstance(v, dict)}
