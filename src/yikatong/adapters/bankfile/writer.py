"""Writing the files of the exchange: the outgoing 代发 order, the verification request, and (for a simulated
bank side) result and verification response files.

Everything is rendered in one pass of Polars expressions per field. The order file carries the full account and ID
number: it is the private channel to the paying bank, never public output, and it is written only into the folder
the host names. Errors name the line and the field, never the value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import polars as pl

from yikatong.adapters.bankfile._codec import render
from yikatong.adapters.bankfile._files import safe_name
from yikatong.adapters.bankfile.layout import BankLayout, FileSection
from yikatong.errors import BankFileError, BankLayoutError
from yikatong.records import DisbursementOrder

__all__ = [
    "amount_text",
    "file_name",
    "order_rows",
    "render_file",
    "render_order",
    "render_verify_request",
    "verify_rows",
]

_TOTALS = frozenset(["total", "paid_total", "failed_total", "reversed_total"])


def amount_text(fen: pl.Expr, unit: str) -> pl.Expr:
    """Integer fen as the layout writes amounts: ``12345`` (fen) or ``123.45`` (yuan)."""
    if unit == "fen":
        return fen.cast(pl.String)
    return pl.concat_str((fen // 100).cast(pl.String), pl.lit("."), (fen % 100).cast(pl.String).str.zfill(2))


def _one_amount(fen: int, unit: str) -> str:
    return str(fen) if unit == "fen" else f"{fen // 100}.{fen % 100:02d}"


def file_name(section: FileSection, *, batch_id: str, date: dt.date, seq: int = 1, bank: str = "") -> str:
    """The file name the pattern gives for a paying bank's code, a batch (or verification request), date and
    sequence number.

    Raises:
        BankLayoutError: when the pattern uses an unknown placeholder.
    """
    safe = safe_name(batch_id)
    try:
        return section.file_name.format(
            bank=safe_name(bank), batch_id=safe, request_id=safe, date=date.strftime(section.date_format), seq=seq
        )
    except (KeyError, IndexError, ValueError) as exc:
        raise BankLayoutError(f"file_name {section.file_name!r}: unknown placeholder {exc}") from None


def render_file(
    section: FileSection,
    rows: pl.DataFrame,
    *,
    values: Mapping[str, str | int],
    date: dt.date,
    file: str,
) -> bytes:
    """Render any file of the exchange.

    Args:
        section: The file's layout.
        rows: The per-row columns; an ``amount_fen`` column (Int64) is written as ``amount`` in the section's unit.
        values: Header/trailer values; ``total``, ``paid_total``, ``failed_total``, ``reversed_total`` in integer
            fen.
        date: The file date (``date`` fields).
        file: The file name, for messages.

    Raises:
        BankFileError: a value that does not fit the layout (line and field named).
    """
    if "amount_fen" in rows.columns:
        rows = rows.with_columns(amount=amount_text(pl.col("amount_fen"), section.amount_unit)).drop("amount_fen")
    text: dict[str, str] = {"date": date.strftime(section.date_format)}
    for key, value in values.items():
        text[key] = _one_amount(int(value), section.amount_unit) if key in _TOTALS else str(value)
    return render(section, rows, text, file=file)


def order_rows(order: DisbursementOrder, *, file: str) -> pl.DataFrame:
    """The order's rows as the file carries them: sorted by ``row_id``, with ``serial`` 1..n.

    Raises:
        BankFileError: when the order does not add up (its count or control total differs from its rows), a row
            has no account, name or amount, an amount is not positive, or a ``row_id`` repeats.
    """
    rows = order.rows
    missing = {"row_id", "account", "name", "amount_fen"} - set(rows.columns)
    if missing:
        raise BankFileError(f"the order lacks columns {sorted(missing)}", file=file)
    if rows.height != order.count:
        raise BankFileError(f"the order says {order.count} rows but carries {rows.height}", file=file)
    stats = rows.select(
        total=pl.col("amount_fen").sum(),
        bad_amount=(pl.col("amount_fen").is_null() | (pl.col("amount_fen") <= 0)).any(),
        dup=pl.col("row_id").is_duplicated().any(),
        empty=pl.any_horizontal(pl.col("row_id", "account", "name").is_null()).any(),
    ).row(0, named=True)
    if stats["bad_amount"]:
        raise BankFileError("the order has an amount that is missing or not positive", file=file)
    if int(stats["total"] or 0) != order.total_fen:
        raise BankFileError("the order's control total differs from the sum of its rows", file=file)
    if stats["dup"]:
        raise BankFileError("the order has a row_id twice", file=file)
    if stats["empty"]:
        raise BankFileError("the order has a row without row_id, account or name", file=file)
    if "id_number" not in rows.columns:
        rows = rows.with_columns(id_number=pl.lit("", dtype=pl.String))
    return (
        rows.select(
            pl.col("row_id").cast(pl.Int64),
            pl.col("account").cast(pl.String),
            pl.col("name").cast(pl.String),
            pl.col("id_number").cast(pl.String).fill_null(""),
            pl.col("amount_fen").cast(pl.Int64),
        )
        .sort("row_id")
        .with_row_index("serial", offset=1)
        .with_columns(pl.col("serial").cast(pl.Int64))
    )


def render_order(
    order: DisbursementOrder, layout: BankLayout, *, date: dt.date, bank: str | None = None
) -> tuple[str, bytes, pl.DataFrame]:
    """The order file of a batch for the paying bank ``bank`` (its code; the layout's ``code`` when None): its name,
    its bytes, and its rows (with ``serial``) to check results against.

    Raises:
        BankFileError: when the order does not add up, is for another bank, or a value does not fit the layout.
    """
    section = layout.order
    bank = layout.code if bank is None else bank
    name = file_name(section, batch_id=order.batch_id, date=date, bank=bank)
    if order.bank is not None and bank and order.bank != bank:
        raise BankFileError(f"the order is for bank {order.bank}, this exchange is bank {bank}'s", file=name)
    rows = order_rows(order, file=name)
    values: dict[str, str | int] = {
        "bank_code": bank,
        "batch_id": order.batch_id,
        "item": order.item,
        "period": order.period,
        "count": rows.height,
        "total": order.total_fen,
    }
    data = render_file(section, rows, values=values, date=date, file=name)
    return name, data, rows


def verify_rows(rows: pl.DataFrame, *, file: str) -> pl.DataFrame:
    """The rows of a verification request, sorted by ``row_id``, with ``serial`` 1..n.

    Raises:
        BankFileError: when a column is missing, a ``row_id`` repeats or a row lacks a value.
    """
    missing = {"row_id", "id_number", "name", "account"} - set(rows.columns)
    if missing:
        raise BankFileError(f"the verification rows lack columns {sorted(missing)}", file=file)
    picked = rows.select(
        pl.col("row_id").cast(pl.Int64),
        *(pl.col(c).cast(pl.String) for c in ("account", "name", "id_number")),
    )
    bad = picked.select(
        dup=pl.col("row_id").is_duplicated().any(), empty=pl.any_horizontal(pl.all().is_null()).any()
    ).row(0)
    if bad[0]:
        raise BankFileError("a row_id appears twice in the verification rows", file=file)
    if bad[1]:
        raise BankFileError("a verification row lacks its row_id, account, name or ID number", file=file)
    return picked.sort("row_id").with_row_index("serial", offset=1).with_columns(pl.col("serial").cast(pl.Int64))


def render_verify_request(
    rows: pl.DataFrame, layout: BankLayout, *, request_id: str, date: dt.date, bank: str | None = None
) -> tuple[str, bytes, pl.DataFrame]:
    """The verification request file to the paying bank ``bank`` (its code; the layout's ``code`` when None): its
    name, its bytes, and its rows (with ``serial``).

    Raises:
        BankFileError: when a row lacks a value or a value does not fit the layout.
    """
    section = layout.verify_request
    bank = layout.code if bank is None else bank
    name = file_name(section, batch_id=request_id, date=date, bank=bank)
    picked = verify_rows(rows, file=name)
    values: dict[str, str | int] = {"bank_code": bank, "batch_id": request_id, "count": picked.height}
    return name, render_file(section, picked, values=values, date=date, file=name), picked
