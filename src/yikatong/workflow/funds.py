"""Where a batch's money is: paid out, held at the bank, passed on to a correction, or refunded to the treasury.

The treasury funds a batch; the bank pays its rows. Money of rows that failed, or that were paid and came back
(退汇), stays in the bank's 代发 account: it is *held* for the correction. A correction batch draws on the money its
corrected batch holds first (``drawn_fen``) and asks the treasury only for the difference; money no correction
reused by the deadline goes back to the treasury (``refunded_fen``). So at every moment, per batch::

    funded + drawn = (paid − reversed) + held + passed on + refunded

where *passed on* is what the batch's corrections drew from it, and *held* is the money at the bank that is neither
paid out nor refunded: failed and reversed rows, and rows still awaiting their result. Summed over all batches the
draws and what was passed on cancel::

    funded = paid − reversed + held + refunded

(*paid* counts every payment made, *reversed* the payments whose money came back).
[`batch_money`][yikatong.workflow.funds.batch_money] computes the figures from the batch headers and the ledger alone;
[`money_totals`][yikatong.workflow.funds.money_totals] sums them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import polars as pl

from yikatong.records import BatchRecord

__all__ = [
    "FUNDED_STATES",
    "MONEY_COLUMNS",
    "MONEY_TOTALS",
    "batch_money",
    "batch_money_lazy",
    "money_totals",
    "records_frame",
]

FUNDED_STATES: Final[tuple[str, ...]] = ("funded", "disbursing", "settled", "published")
"""States in which the batch's money is at the bank."""

RECORD_COLUMNS: Final[dict[str, pl.DataType]] = {
    "batch_id": pl.String(),
    "item": pl.String(),
    "period": pl.String(),
    "state": pl.String(),
    "corrects": pl.String(),
    "funded_fen": pl.Int64(),
    "drawn_fen": pl.Int64(),
    "refunded_fen": pl.Int64(),
}

MONEY_COLUMNS: Final[tuple[str, ...]] = (
    "batch_id",
    "state",
    "corrects",
    "funded_fen",
    "drawn_fen",
    "passed_on_fen",
    "sent_fen",
    "paid_fen",
    "reversed_fen",
    "failed_fen",
    "in_flight_fen",
    "refunded_fen",
    "held_fen",
)
"""Columns of [`batch_money`][yikatong.workflow.funds.batch_money]: ``paid_fen`` counts every payment made (reversed
ones included)."""

MONEY_TOTALS: Final[tuple[str, ...]] = ("funded_fen", "paid_fen", "reversed_fen", "held_fen", "refunded_fen")
"""Keys of [`money_totals`][yikatong.workflow.funds.money_totals]: funded = paid − reversed + held + refunded."""


def records_frame(records: Iterable[BatchRecord]) -> pl.DataFrame:
    """Batch headers as a frame: ``batch_id, item, period, state, corrects, funded_fen, drawn_fen, refunded_fen``."""
    rows = [
        (b.batch_id, b.item, b.period, b.state, b.corrects, b.funded_fen, b.drawn_fen, b.refunded_fen) for b in records
    ]
    return pl.DataFrame(rows, schema=RECORD_COLUMNS, orient="row")


def batch_money_lazy(batches: pl.LazyFrame, ledger: pl.LazyFrame) -> pl.LazyFrame:
    """Per batch, where its money is ([`MONEY_COLUMNS`][yikatong.workflow.funds.MONEY_COLUMNS]), from the headers and
    the ledger, as one lazy query.

    Args:
        batches: ``batch_id``, ``state``, ``corrects``, ``funded_fen``, ``drawn_fen``, ``refunded_fen`` (see
            [`records_frame`][yikatong.workflow.funds.records_frame]).
        ledger: Ledger entries (``batch_id``, ``amount_fen``, ``status``) of at least these batches.

    Returns:
        One row per batch. ``held_fen`` is what the bank holds of the batch's money: in a funded state, failed,
        reversed and still unanswered rows less what corrections drew and what was refunded; before funding, what
        the batch drew from its corrected batch (reserved for it at the bank). A negative ``held_fen`` means more
        was passed on or refunded than the batch had: the money invariant checks for it.
    """
    status = pl.col("status")
    fen = pl.col("amount_fen")
    per_batch = (
        ledger.lazy()
        .group_by("batch_id")
        .agg(
            fen.filter(status != "withdrawn").sum().alias("sent_fen"),
            fen.filter(status.is_in(["paid", "reversed"])).sum().alias("paid_fen"),
            fen.filter(status == "reversed").sum().alias("reversed_fen"),
            fen.filter(status == "failed").sum().alias("failed_fen"),
            fen.filter(status == "sent").sum().alias("in_flight_fen"),
        )
    )
    heads = batches.select("batch_id", "state", "corrects", "funded_fen", "drawn_fen", "refunded_fen")
    passed_on = (
        heads.filter(pl.col("corrects").is_not_null())
        .group_by("corrects")
        .agg(pl.col("drawn_fen").sum().alias("passed_on_fen"))
        .rename({"corrects": "batch_id"})
    )
    figures = ["passed_on_fen", "sent_fen", "paid_fen", "reversed_fen", "failed_fen", "in_flight_fen"]
    funded = pl.col("state").is_in(FUNDED_STATES)
    at_bank = pl.col("failed_fen") + pl.col("reversed_fen") + pl.col("in_flight_fen")
    held = pl.when(funded).then(at_bank).otherwise(pl.col("drawn_fen")) - pl.col("passed_on_fen")
    return (
        heads.join(per_batch, on="batch_id", how="left")
        .join(passed_on, on="batch_id", how="left")
        .with_columns(pl.col(figures).fill_null(0).cast(pl.Int64))
        .with_columns((held - pl.col("refunded_fen")).alias("held_fen"))
        .select(MONEY_COLUMNS)
    )


def batch_money(batches: pl.DataFrame, ledger: pl.DataFrame) -> pl.DataFrame:
    """[`batch_money_lazy`][yikatong.workflow.funds.batch_money_lazy] collected: one row per batch in
    [`MONEY_COLUMNS`][yikatong.workflow.funds.MONEY_COLUMNS]."""
    return batch_money_lazy(batches.lazy(), ledger.lazy()).collect()


def money_totals(money: pl.DataFrame) -> dict[str, int]:
    """The county's money in total ([`MONEY_TOTALS`][yikatong.workflow.funds.MONEY_TOTALS]), from
    [`batch_money`][yikatong.workflow.funds.batch_money]: funded = paid − reversed + held + refunded. Only money the
    treasury put up counts as funded; draws between batches cancel out."""
    return {name: int(money[name].sum()) for name in MONEY_TOTALS}
