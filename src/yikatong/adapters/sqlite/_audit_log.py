"""Appending to the embedded store's audit table: the one place that checks an append continues the chain."""

from __future__ import annotations

import sqlite3
from typing import Any

from yikatong.adapters.sqlite._codec import AUDIT_COLUMNS
from yikatong.errors import StoreError
from yikatong.workflow.audit import GENESIS_HASH

__all__ = ["append_audit_rows"]


def append_audit_rows(conn: sqlite3.Connection, first: tuple[int, str], audit: list[tuple[Any, ...]]) -> None:
    """Insert audit rows (``AUDIT_COLUMNS`` order) inside the caller's write transaction.

    Args:
        conn: The connection, inside ``BEGIN IMMEDIATE``.
        first: ``(seq, prev_hash)`` of the first entry.
        audit: The rows, already checked to chain among themselves.

    Raises:
        StoreError: the first entry does not continue the log's last entry (another writer came first).
    """
    head = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    head_seq, head_hash = (0, GENESIS_HASH) if head is None else (int(head[0]), str(head[1]))
    seq, prev_hash = first
    if seq != head_seq + 1 or prev_hash != head_hash:
        raise StoreError(
            f"change refused: audit entry {seq} does not follow the log's last entry {head_seq} "
            f"/ 变更被拒绝：审计条目未接续日志末尾"
        )
    marks = ", ".join("?" * len(AUDIT_COLUMNS))
    conn.executemany(f"INSERT INTO audit ({', '.join(AUDIT_COLUMNS)}) VALUES ({marks})", audit)
