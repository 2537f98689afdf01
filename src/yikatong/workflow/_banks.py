"""Several paying banks: which bank pays each row, one order per bank, and amounts per bank.

A county pays through several banks (the rural commercial bank, the postal savings bank, …): each row goes to the
bank that holds the account it is paid into. The account registry names each account's bank; the host maps those
names to the codes of its ``Bank`` ports (``bank_codes``; a registry that already holds codes
needs no map). An account the registry does not know goes to the batch's own bank when it names one the service
has; otherwise no bank pays it and dispatch holds the row (``BANK_UNKNOWN``).

Money is followed per bank too: a row's money sits at the bank it was sent to. Amounts per bank are keyed by the
bank code, ``""`` standing for a service's one bank when the batch names no code (and for rows stored before banks
were recorded).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

import polars as pl

from yikatong.records import DisbursementOrder

__all__ = [
    "NO_BANK_CODE",
    "bank_key",
    "bank_of_rows",
    "by_bank",
    "merge_by_bank",
    "orders_by_bank",
]

NO_BANK_CODE: Final = "BANK_UNKNOWN"
"""The reason code of a row held at dispatch because no paying bank of the service holds its account."""


def bank_key(column: str = "bank") -> pl.Expr:
    """The key of a row's bank in amounts per bank: its code, ``""`` when it has none."""
    return pl.col(column).fill_null("")


def by_bank(frame: pl.DataFrame, *, amount: str = "amount_fen", bank: str = "bank") -> dict[str, int]:
    """Σ ``amount`` per bank key (see ``bank_key``) of ``frame``'s rows."""
    if frame.is_empty():
        return {}
    per = frame.group_by(bank_key(bank).alias("_bank")).agg(pl.col(amount).sum()).sort("_bank")
    return {str(code): int(fen) for code, fen in per.iter_rows()}


def merge_by_bank(*parts: Iterable[tuple[str, int]] | Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    """Amounts per bank added up, sorted by code, without zero entries (the form batch headers store)."""
    out: dict[str, int] = {}
    for part in parts:
        items = part.items() if isinstance(part, Mapping) else part
        for code, fen in items:
            out[code] = out.get(code, 0) + int(fen)
    return tuple((code, fen) for code, fen in sorted(out.items()) if fen)


def bank_of_rows(
    rows: pl.DataFrame,
    *,
    registry: pl.LazyFrame | None,
    bank_codes: Mapping[str, str],
    known: frozenset[str],
    fallback: str | None,
    account: str = "account",
) -> pl.DataFrame:
    """The paying bank of each row: ``row_id``, ``bank`` (a code of ``known``, or null when none pays it).

    Args:
        rows: At least ``row_id`` and the ``account`` column.
        registry: The registry snapshot (``account``, ``bank``, ``status``), or None.
        bank_codes: Registry bank name → bank code; a name that is already a known code maps to itself.
        known: The codes the service has a bank for.
        fallback: The batch's own bank code, used for accounts the registry does not know.
        account: The column holding the account paid into.
    """
    base = rows.select(pl.col("row_id").cast(pl.Int64), pl.col(account).cast(pl.String).alias("_account"))
    if registry is None:
        found = base.with_columns(pl.lit(None, pl.String).alias("_registered"))
    else:
        accounts = (
            registry.filter(pl.col("status").is_in(["active", "frozen", "pending"]))
            .select(
                pl.col("account").cast(pl.String).alias("_account"),
                pl.col("bank").cast(pl.String).alias("_registered"),
            )
            .unique("_account", keep="first")
            .collect()
        )
        found = base.join(accounts, on="_account", how="left")
    mapped = pl.col("_registered").replace_strict(dict(bank_codes), default=pl.col("_registered"))
    code = pl.when(pl.col("_registered").is_null()).then(pl.lit(fallback, pl.String)).otherwise(mapped)
    return found.select(
        "row_id",
        pl.when(code.is_in(sorted(known))).then(code).otherwise(None).cast(pl.String).alias("bank"),
    )


def orders_by_bank(
    to_send: pl.DataFrame, *, batch_id: str, item: str, period: str, named: bool
) -> tuple[DisbursementOrder, ...]:
    """One ``DisbursementOrder`` per bank of ``to_send`` (sorted by code), each with its own
    control count and total.

    Args:
        to_send: The order's columns (``row_id``, ``id_number``, ``name``, ``account``, ``amount_fen``,
            ``account_source``) and ``bank``.
        batch_id: The batch; ``item`` and ``period`` its item and period.
        named: Whether each order names its bank (several banks); a service's one bank gets ``bank=None``.
    """
    orders: list[DisbursementOrder] = []
    for code in sorted(to_send.get_column("bank").fill_null("").unique().to_list()):
        part = to_send.filter(bank_key() == code)
        orders.append(
            DisbursementOrder(
                batch_id=batch_id,
                item=item,
                period=period,
                rows=part.select("row_id", "id_number", "name", "account", "amount_fen", "account_source"),
                count=part.height,
                total_fen=int(part["amount_fen"].sum()),
                bank=(code or None) if named else None,
            )
        )
    return tuple(orders)
