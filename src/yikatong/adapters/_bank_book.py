"""The simulated bank's own account book, and the failure codes it gives a row.

联网核查 and payment both hold a row (ID, name, account) against the book: an account missing from it, held under
another ID or name, closed or frozen fails with the code a real bank's return file carries. Without a book every
account is taken as open and correctly held.
"""

from __future__ import annotations

from typing import Final

import polars as pl

__all__ = ["BANK_REASONS", "PAID_REASON", "AccountBook", "book_failure", "reason_text"]

BANK_REASONS: dict[str, str] = {
    "ACCOUNT_CLOSED": "账户已销户",
    "ACCOUNT_FROZEN": "账户冻结",
    "NAME_MISMATCH": "户名不符",
    "ACCOUNT_NOT_FOUND": "账号不存在",
    "ID_MISMATCH": "证件号码不符",
    "PAYMENT_RETURNED": "款项退回",
}
"""Per-row failure codes the simulated bank returns, with the text a bank's return file carries."""

PAID_REASON: Final = "交易成功"
"""The text of a paid row."""

_BOOK_COLUMNS = ("account", "id_number", "name", "status")


def reason_text(code: pl.Expr) -> pl.Expr:
    """The bank's text for a failure code (``PAID_REASON`` when the code is null)."""
    return code.replace_strict(BANK_REASONS, default=None, return_dtype=pl.String).fill_null(PAID_REASON)


def book_failure(book_id: pl.Expr, book_name: pl.Expr, status: pl.Expr) -> pl.Expr:
    """The failure code the account book gives a row (null when the book has nothing against it)."""
    return (
        pl.when(status.is_null())
        .then(pl.lit("ACCOUNT_NOT_FOUND"))
        .when(book_id != pl.col("id_number"))
        .then(pl.lit("ID_MISMATCH"))
        .when(book_name != pl.col("name"))
        .then(pl.lit("NAME_MISMATCH"))
        .when(status == "closed")
        .then(pl.lit("ACCOUNT_CLOSED"))
        .when(status == "frozen")
        .then(pl.lit("ACCOUNT_FROZEN"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )


class AccountBook:
    """The accounts the bank holds: ``account``, ``id_number``, ``name``, ``status``; or none (every account open).

    Raises:
        ValueError: the book lacks a column or lists an account twice.
    """

    def __init__(self, accounts: pl.DataFrame | None) -> None:
        self._book: pl.DataFrame | None = None
        if accounts is None:
            return
        missing = [c for c in _BOOK_COLUMNS if c not in accounts.columns]
        if missing:
            raise ValueError(f"account book lacks columns {missing}")
        book = accounts.select(_BOOK_COLUMNS)
        if book.get_column("account").is_duplicated().any():
            raise ValueError("account book lists an account more than once")
        self._book = book.rename({"id_number": "book_id", "name": "book_name", "status": "book_status"})

    def join(self, rows: pl.DataFrame) -> pl.DataFrame:
        """``rows`` (with ``account``, ``id_number``, ``name``) plus what the book holds: ``book_id``,
        ``book_name``, ``book_status`` (null when the account is not in the book), in the rows' order."""
        if self._book is None:
            return rows.with_columns(
                book_id=pl.col("id_number"), book_name=pl.col("name"), book_status=pl.lit("active", dtype=pl.String)
            )
        return rows.join(self._book, on="account", how="left", maintain_order="left")
