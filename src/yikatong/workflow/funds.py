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

With several paying banks the money is followed per bank as well: a row's money sits at the bank it was sent to,
a correction draws only on what its corrected batch holds at the same bank (``drawn_by_bank``) and a refund comes
back from the bank that held the money (``refunded_by_bank``), so the same identity holds per (batch, bank) and per
bank in total. [`bank_money_lazy`][yikatong.workflow.funds.bank_money_lazy] computes those figures; a header without
breakdowns counts its whole draw and refund under ``""``, the key of rows without a bank code.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import polars as pl

from yikatong.records import BatchRecord

__all__ = [
    "BANK_MONEY_COLUMNS",
    "BY_BANK",
    "FUNDED_STATES",
    "MONEY_COLUMNS",
    "MONEY_TOTALS",
    "bank_money_lazy",
    "batch_money",
    "batch_money_lazy",
    "money_totals",
    "records_frame",
]

FUNDED_STATES: Final[tuple[str, ...]] = ("funded", "disbursing", "settled", "published")
"""States in which the batch's money is at the bank."""

BY_BANK: Final = pl.List(pl.Struct({"bank": pl.String(), "fen": pl.Int64()}))
"""The type of a per-bank breakdown column: a list of ``{bank, fen}``."""

RECORD_COLUMNS: Final[dict[str, pl.DataType]] = {
    "batch_id": pl.String(),
    "item": pl.String(),
    "period": pl.String(),
    "state": pl.String(),
    "corrects": pl.String(),
    "funded_fen": pl.Int64(),
    "drawn_fen": pl.Int64(),
    "refunded_fen": pl.Int64(),
    "drawn_by_bank": BY_BANK,
    "refunded_by_bank": BY_BANK,
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
    """Batch headers as a frame: ``batch_id, item, period, state, corrects, funded_fen, drawn_fen, refunded_fen,
    drawn_by_bank, refunded_by_bank`` (the last two of type ``BY_BANK``)."""

    def pairs(amounts: tuple[tuple[str, int], ...]) -> list[dict[str, object]]:
        return [{"bank": code, "fen": fen} for code, fen in amounts]

    rows = [
        (
            b.batch_id,
            b.item,
            b.period,
            b.state,
            b.corrects,
            b.funded_fen,
            b.drawn_fen,
            b.refunded_fen,
            pairs(b.drawn_by_bank),
            pairs(b.refunded_by_bank),
        )
        for b in records
    ]
    return pl.DataFrame(rows, schema=RECORD_COLUMNS, orient="row")


def _held_expr() -> pl.Expr:
    """``held_fen``: in a funded state the failed, reversed and in-flight money, before funding what was drawn;
    less what corrections drew from it (``passed_on_fen``) and what was refunded."""
    at_bank = pl.col("failed_fen") + pl.col("reversed_fen") + pl.col("in_flight_fen")
    held = pl.when(pl.col("state").is_in(FUNDED_STATES)).then(at_bank).otherwise(pl.col("drawn_fen"))
    return (held - pl.col("passed_on_fen") - pl.col("refunded_fen")).alias("held_fen")


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
    return (
        heads.join(per_batch, on="batch_id", how="left")
        .join(passed_on, on="batch_id", how="left")
        .with_columns(pl.col(figures).fill_null(0).cast(pl.Int64))
        .with_columns(_held_expr())
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


BANK_MONEY_COLUMNS: Final[tuple[str, ...]] = (
    "batch_id",
    "bank",
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
"""Columns of ``bank_money_lazy``: the figures of ``MONEY_COLUMNS`` per batch and paying bank."""


def _breakdown(batches: pl.LazyFrame, column: str, scalar: str) -> pl.LazyFrame:
    """``batch_id, bank, fen`` from a per-bank breakdown column; a header without one (or a frame without the
    column) counts its whole ``scalar`` under ``""``."""
    names = batches.collect_schema().names()
    listed = pl.col(column) if column in names else pl.lit(None, BY_BANK)
    heads = batches.select("batch_id", pl.col(scalar).fill_null(0).alias("_scalar"), listed.alias("_by"))
    given = (
        heads.filter(pl.col("_by").list.len() > 0)
        .explode("_by")
        .select("batch_id", pl.col("_by").struct.field("bank"), pl.col("_by").struct.field("fen"))
    )
    whole = heads.filter((pl.col("_by").list.len().fill_null(0) == 0) & (pl.col("_scalar") != 0)).select(
        "batch_id", pl.lit("").alias("bank"), pl.col("_scalar").alias("fen")
    )
    return pl.concat([given, whole]).group_by("batch_id", "bank").agg(pl.col("fen").sum())


def bank_money_lazy(batches: pl.LazyFrame, ledger: pl.LazyFrame, rows: pl.LazyFrame | None) -> pl.LazyFrame:
    """Per batch and paying bank, where the money is (``BANK_MONEY_COLUMNS``), as one lazy query.

    Args:
        batches: As for ``batch_money_lazy``, with ``drawn_by_bank`` and ``refunded_by_bank`` when known.
        ledger: Ledger entries (``batch_id``, ``row_id``, ``amount_fen``, ``status``).
        rows: ``batch_id``, ``row_id``, ``bank`` (the bank each row was sent to), or None when no row has one.

    Returns:
        One row per (batch, bank) holding or having moved any money; ``bank`` is ``""`` for rows without a code.
        ``funded_fen`` is what the treasury put up at that bank (Σ sent there less the draw there, once funded);
        ``held_fen`` is what that bank holds of the batch, negative when more was passed on or refunded there than
        it held.
    """
    status = pl.col("status")
    fen = pl.col("amount_fen")
    keys = ["batch_id", "bank"]
    entries = ledger.lazy().select("batch_id", "row_id", "amount_fen", "status")
    if rows is None:
        entries = entries.with_columns(pl.lit("").alias("bank"))
    else:
        where = rows.lazy().select("batch_id", "row_id", pl.col("bank").fill_null(""))
        entries = entries.join(where, on=["batch_id", "row_id"], how="left").with_columns(pl.col("bank").fill_null(""))
    per_bank = entries.group_by(keys).agg(
        fen.filter(status != "withdrawn").sum().alias("sent_fen"),
        fen.filter(status.is_in(["paid", "reversed"])).sum().alias("paid_fen"),
        fen.filter(status == "reversed").sum().alias("reversed_fen"),
        fen.filter(status == "failed").sum().alias("failed_fen"),
        fen.filter(status == "sent").sum().alias("in_flight_fen"),
    )
    heads = batches.select("batch_id", "state", "corrects")
    drawn = _breakdown(batches, "drawn_by_bank", "drawn_fen").rename({"fen": "drawn_fen"})
    refunded = _breakdown(batches, "refunded_by_bank", "refunded_fen").rename({"fen": "refunded_fen"})
    passed_on = (
        drawn.join(heads.select("batch_id", "corrects"), on="batch_id")
        .filter(pl.col("corrects").is_not_null())
        .group_by("corrects", "bank")
        .agg(pl.col("drawn_fen").sum().alias("passed_on_fen"))
        .rename({"corrects": "batch_id"})
    )
    figures = ["drawn_fen", "passed_on_fen", "sent_fen", "paid_fen", "reversed_fen", "failed_fen", "in_flight_fen"]
    figures.append("refunded_fen")
    found = pl.concat([f.select(keys) for f in (per_bank, drawn, refunded, passed_on)]).unique()
    joined = found
    for part in (per_bank, drawn, refunded, passed_on):
        joined = joined.join(part, on=keys, how="left")
    funded = pl.col("state").is_in(FUNDED_STATES)
    return (
        joined.join(heads, on="batch_id", how="inner")
        .with_columns(pl.col(figures).fill_null(0).cast(pl.Int64))
        .with_columns(
            pl.when(funded).then(pl.col("sent_fen") - pl.col("drawn_fen")).otherwise(0).alias("funded_fen"),
            _held_expr(),
        )
        .select(BANK_MONEY_COLUMNS)
    )
