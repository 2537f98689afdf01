"""Purging one batch of the embedded store ([`purge`][yikatong.adapters.SqliteStore.purge]): its row data
rewritten without the personal columns, its approved accounts emptied, its ledger IDs replaced by their hashes.

The caller holds the write transaction (and ``PRAGMA secure_delete``); a side file is replaced by a new one, the old
one is left for the store's garbage collection after the commit.
"""

from __future__ import annotations

import sqlite3
from hashlib import sha256
from typing import Any

import polars as pl

from yikatong.adapters._purge import purged_rows
from yikatong.adapters.sqlite._files import RowFiles, parquet_bytes, read_parquet_bytes
from yikatong.adapters.sqlite._sealing import Sealing

__all__ = ["purge_batch_data", "static_rows"]


def static_rows(
    files: RowFiles, sealing: Sealing, batch_id: str, digest: str, file: str | None, inline: bytes | None
) -> pl.DataFrame:
    """The immutable columns of a batch's rows, from its side file or inline blob, checked and opened.

    Raises:
        StoreError: the data is missing, damaged or does not open.
    """
    what = f"batch {batch_id}"

    def opener(data: bytes) -> bytes:
        return sealing.open_rows(batch_id, data)

    if file is not None:
        return files.read(file, expected_sha256=digest, what=what, opener=opener)
    assert inline is not None
    return read_parquet_bytes(inline, expected_sha256=digest, what=what, opener=opener)


def purge_batch_data(
    conn: sqlite3.Connection, files: RowFiles, sealing: Sealing, batch_id: str, ledger_ids: pl.DataFrame
) -> None:
    """Rewrite the batch's row data without the personal columns, empty its approved accounts, and give its ledger
    entries the hashed IDs of ``ledger_ids`` (``row_id``, ``id_number``), inside the caller's transaction."""
    found = conn.execute("SELECT sha256, file, inline FROM row_data WHERE batch_id = ?", (batch_id,)).fetchone()
    if found is not None:
        digest, file, inline = found
        static = static_rows(files, sealing, batch_id, digest, file, inline)
        data = sealing.seal_rows(batch_id, parquet_bytes(purged_rows(static)))
        if file is not None:
            name, new_digest = files.write(data)
            params: tuple[Any, ...] = (new_digest, name, None, batch_id)
        else:
            params = (sha256(data).hexdigest(), None, data, batch_id)
        conn.execute("UPDATE row_data SET sha256 = ?, file = ?, inline = ? WHERE batch_id = ?", params)
    conn.execute("UPDATE row_state SET pay_account = NULL WHERE batch_id = ?", (batch_id,))
    conn.executemany(
        "UPDATE ledger SET id_number = ?, id_sealed = NULL WHERE batch_id = ? AND row_id = ?",
        [(h, batch_id, r) for r, h in ledger_ids.select("row_id", "id_number").iter_rows()],
    )
