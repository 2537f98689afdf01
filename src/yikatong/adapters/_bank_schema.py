"""The schema step both SQL stores take for several paying banks: the bank each row was sent to, and a batch's
draws and refunds per bank (JSON lists of ``[code, fen]``)."""

from __future__ import annotations

from typing import Final

__all__ = ["BANKS_TITLE", "bank_columns"]

BANKS_TITLE: Final = "several paying banks: the bank each row was sent to, and a batch's draws and refunds per bank"
"""The title of the step, for the ``meta`` table and error messages."""


def bank_columns(text: str) -> tuple[str, ...]:
    """The step's statements, with ``text`` the store's text type (``TEXT`` in SQLite, ``text`` in PostgreSQL)."""
    return (
        f"ALTER TABLE row_state ADD COLUMN bank {text}",
        f"ALTER TABLE batches ADD COLUMN drawn_by_bank {text} NOT NULL DEFAULT '[]'",
        f"ALTER TABLE batches ADD COLUMN refunded_by_bank {text} NOT NULL DEFAULT '[]'",
    )
