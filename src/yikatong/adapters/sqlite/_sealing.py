"""The embedded store's sealing: its ``meta`` read and marked in the SQLite file, the rest shared.

What is sealed, and how, is every SQL store's (``yikatong.adapters._sealing``): row data as one sealed Parquet blob
per batch (inline in ``row_data`` or as a side file), approved accounts in ``row_state.pay_account``, and the
ledger's ID numbers as a look-up hash in ``id_number`` beside the sealed ID in ``id_sealed`` (schema 6).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from yikatong.adapters._sealing import CIPHER_NAME, META_KEYS, Sealing
from yikatong.ports import Keys

__all__ = ["CIPHER_NAME", "Sealing", "open_sealing"]


def open_sealing(conn: sqlite3.Connection, path: Path, keys: Keys | None, *, read_only: bool) -> Sealing:
    """The store's ``Sealing``, marking a new store sealed when keys are given.

    Raises:
        StoreError: a wrong key, or keys given to write into a clear store that already holds batches.
    """
    marks = ", ".join("?" * len(META_KEYS))
    meta = dict(conn.execute(f"SELECT key, value FROM meta WHERE key IN ({marks})", META_KEYS))

    def mark(entries: Sequence[tuple[str, str]]) -> bool:
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("SELECT 1 FROM batches LIMIT 1").fetchone() is not None:
                conn.execute("ROLLBACK")
                return False
            conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", entries)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return True

    return Sealing(path.name, keys, meta=meta, read_only=read_only, mark=mark)
