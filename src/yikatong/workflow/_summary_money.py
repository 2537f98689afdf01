"""Each payment's share of its batch's money: what of it the treasury funded, what a correction drew from held
money, what went back to the treasury, and what the bank still holds.

The treasury funds a batch, not a row, and refunds come back per batch ([`yikatong.workflow.funds`][]). A summary
per item, town and month needs those batch figures per row, and its totals must still equal the batch headers to
the fen. So the batch figures are laid over the batch's payments in a fixed order, each payment taking at most its
own amount:

* a correction batch's draw on its corrected batch's held money covers its payments first, in row order; the
  treasury's funding covers the rest (``funded + drawn = sent`` once funded, so every fen lands);
* what the batch's corrections drew from its held money (*passed on*), then its refunds, are laid over its unpaid
  payments (failed, reversed, still awaiting a result): those a correction reissued first, then in row order.

``outstanding_fen`` is then what the bank still holds of the payment: its unpaid amount (once funded), less what a
correction drew from it (``passed_on_fen``) and what was refunded. Summed over a batch it is the batch's
``held_fen``; for every payment ``funded + drawn = paid + outstanding + refunded + passed_on`` (``paid`` net of
reversals), and over the county, where draws and what was passed on cancel, ``funded = paid + outstanding +
refunded``.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from yikatong.records import BatchRecord
from yikatong.workflow.funds import FUNDED_STATES

__all__ = ["ENTRY_COLUMNS", "payment_entries"]

ENTRY_COLUMNS: Final[dict[str, pl.DataType]] = {
    "batch_id": pl.String(),
    "row_id": pl.Int64(),
    "id_number": pl.String(),
    "item": pl.String(),
    "department": pl.String(),
    "period": pl.String(),
    "month": pl.String(),
    "town": pl.String(),
    "village": pl.String(),
    "status": pl.String(),
    "amount_fen": pl.Int64(),
    "funded_fen": pl.Int64(),
    "drawn_fen": pl.Int64(),
    "refunded_fen": pl.Int64(),
    "passed_on_fen": pl.Int64(),
    "outstanding_fen": pl.Int64(),
}
"""Columns of ``payment_entries``: one row per payment sent to a bank (withdrawn ones left out)."""

_BATCH_COLUMNS: Final[dict[str, pl.DataType]] = {
    "batch_id": pl.String(),
    "item": pl.String(),
    "department": pl.String(),
    "period": pl.String(),
    "month": pl.String(),
    "funded_state": pl.Boolean(),
    "corrects": pl.String(),
    "batch_funded": pl.Int64(),
    "batch_drawn": pl.Int64(),
    "batch_refunded": pl.Int64(),
}

_UNPAID: Final = ("failed", "reversed", "sent")


def _share(cap: pl.Expr, before: pl.Expr) -> pl.Expr:
    """What of a payment a batch figure ``cap`` covers, laid over payments in order (``before``: the amounts ahead)."""
    return (cap - before).clip(0, None).clip(None, pl.col("amount_fen")).cast(pl.Int64)


def payment_entries(
    batches: tuple[BatchRecord, ...], months: dict[str, str], ledger: pl.DataFrame, rows: pl.DataFrame
) -> pl.DataFrame:
    """One row per payment of ``batches`` (``ENTRY_COLUMNS``) with its share of its batch's money.

    Args:
        batches: The batches to cover.
        months: Per batch id, the month (``YYYY-MM``) the batch is summarised under.
        ledger: Ledger entries of at least these batches ([`LEDGER_SCHEMA`][yikatong.records.LEDGER_SCHEMA]).
        rows: ``batch_id, row_id, town, village, status, corrects_row_id`` of the batches' rows.
    """
    heads = pl.DataFrame(
        [
            (
                b.batch_id,
                b.item,
                b.department,
                b.period,
                months[b.batch_id],
                b.state in FUNDED_STATES,
                b.corrects,
                b.funded_fen,
                b.drawn_fen,
                b.refunded_fen,
            )
            for b in batches
        ],
        schema=_BATCH_COLUMNS,
        orient="row",
    )
    amount = pl.col("amount_fen")
    placed = (
        ledger.filter(pl.col("status") != "withdrawn")
        .select("batch_id", "row_id", "id_number", "status", "amount_fen")
        .join(heads, on="batch_id", how="inner")
        .join(
            rows.select(
                "batch_id", "row_id", "town", "village", pl.col("status").alias("row_status"), "corrects_row_id"
            ),
            on=["batch_id", "row_id"],
            how="left",
        )
        .sort("batch_id", "row_id")
        .with_columns((amount.cum_sum().over("batch_id") - amount).alias("_before"))
        .with_columns(_share(pl.col("batch_drawn"), pl.col("_before")).alias("drawn_fen"))
        .with_columns(
            (_share(pl.col("batch_drawn") + pl.col("batch_funded"), pl.col("_before")) - pl.col("drawn_fen")).alias(
                "funded_fen"
            )
        )
    )
    unpaid = pl.col("status").is_in(_UNPAID) & pl.col("funded_state")
    passed_on = (
        heads.filter(pl.col("corrects").is_not_null())
        .group_by(pl.col("corrects").alias("batch_id"))
        .agg(pl.col("batch_drawn").sum().alias("batch_passed_on"))
    )
    given_away = pl.col("batch_passed_on") + pl.col("batch_refunded")
    laid = (
        placed.filter(unpaid)
        .join(passed_on, on="batch_id", how="left")
        .with_columns(pl.col("batch_passed_on").fill_null(0))
        .sort("batch_id", pl.col("row_status") != "reissued", "row_id")
        .with_columns((amount.cum_sum().over("batch_id") - amount).alias("_before"))
        .with_columns(_share(pl.col("batch_passed_on"), pl.col("_before")).alias("passed_on_fen"))
        .select(
            "batch_id",
            "row_id",
            "passed_on_fen",
            (_share(given_away, pl.col("_before")) - pl.col("passed_on_fen")).alias("refunded_fen"),
        )
    )
    held = (
        pl.when(pl.col("funded_state")).then(pl.when(unpaid).then(amount).otherwise(0)).otherwise(pl.col("drawn_fen"))
    )
    return (
        placed.join(laid, on=["batch_id", "row_id"], how="left")
        .with_columns(pl.col("refunded_fen", "passed_on_fen").fill_null(0))
        .with_columns((held - pl.col("passed_on_fen") - pl.col("refunded_fen")).alias("outstanding_fen"))
        .select([pl.col(name).cast(dtype) for name, dtype in ENTRY_COLUMNS.items()])
    )
