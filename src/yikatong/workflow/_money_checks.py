"""Invariant 7 as lazy queries: every fen funded is paid (net of reversals), held at the bank, or refunded."""

from __future__ import annotations

import polars as pl

from yikatong.workflow._violations import SETTLED_STATES as _SETTLED_STATES
from yikatong.workflow._violations import as_text as _s
from yikatong.workflow._violations import violations as _v
from yikatong.workflow.funds import FUNDED_STATES, bank_money_lazy, batch_money_lazy

__all__ = ["bank_checks", "held_checks"]


def held_checks(
    batches: pl.DataFrame,
    ledger: pl.DataFrame,
    refunds: pl.DataFrame | None,
    *,
    final: bool,
) -> list[pl.LazyFrame]:
    """Invariant 7: every fen funded is paid (net of reversals), held at the bank, or refunded, in total and per
    batch (per paying bank: [`bank_checks`][yikatong.workflow._money_checks.bank_checks]).

    The treasury may have taken a refund whose answer was lost (a timeout): the workflow records it when it files the
    same refund again, so until the life cycle is over the treasury may show more than the batch, never less.
    """
    money = batch_money_lazy(batches.lazy(), ledger.lazy())
    totals = money.select(
        pl.col("funded_fen").sum(),
        (pl.col("paid_fen") - pl.col("reversed_fen") + pl.col("held_fen") + pl.col("refunded_fen")).sum().alias("got"),
    )
    out = [
        _v(
            money.filter(pl.col("held_fen") < 0),
            7,
            "passed on ",
            _s("passed_on_fen"),
            " + refunded ",
            _s("refunded_fen"),
            " fen, more than the bank held of the batch (held ",
            _s("held_fen"),
            " fen)",
        ),
        _v(
            money.filter((pl.col("refunded_fen") != 0) & ~pl.col("state").is_in(_SETTLED_STATES)),
            7,
            "state ",
            _s("state"),
            " yet ",
            _s("refunded_fen"),
            " fen refunded",
        ),
        _v(
            money.filter((pl.col("drawn_fen") != 0) & pl.col("corrects").is_null()),
            7,
            "drew ",
            _s("drawn_fen"),
            " fen but corrects no batch",
        ),
        _v(
            totals.filter(pl.col("funded_fen") != pl.col("got")),
            7,
            "funded ",
            _s("funded_fen"),
            " fen ≠ paid − reversed + held + refunded = ",
            _s("got"),
            " fen",
            batch=pl.lit(""),
        ),
    ]
    if refunds is not None:
        back = refunds.lazy().group_by("batch_id").agg(pl.col("amount_fen").sum().alias("treasury_fen"))
        joined = money.join(back, on="batch_id", how="full", coalesce=True).with_columns(
            pl.col("treasury_fen", "refunded_fen").fill_null(0)
        )
        out.append(
            _v(
                joined.filter(
                    (pl.col("treasury_fen") < pl.col("refunded_fen"))
                    | ((pl.col("treasury_fen") != pl.col("refunded_fen")) & pl.lit(final))
                ),
                7,
                "the treasury took back ",
                _s("treasury_fen"),
                " fen, the batch records ",
                _s("refunded_fen"),
                " fen refunded",
            )
        )
    return out


def bank_checks(
    batches: pl.DataFrame, ledger: pl.DataFrame, rows: pl.DataFrame | None, fundings: pl.DataFrame | None
) -> list[pl.LazyFrame]:
    """Invariant 7 per paying bank: money sits at a particular bank.

    No batch passes on (to a correction) or refunds more at a bank than that bank holds of it; a correction draws
    at a bank no more than it sent there; the per-bank breakdowns of a header add up to its draw and refund; funded
    = paid − reversed + held + refunded holds for each bank; and, when the treasury's books say what it funded per
    bank (``fundings`` with a ``bank`` column), each bank got what the rows sent to it needed.
    """
    has_bank = rows is not None and "bank" in rows.columns
    money = bank_money_lazy(batches.lazy(), ledger.lazy(), rows.lazy() if rows is not None and has_bank else None)
    after_dispatch = ~pl.col("state").is_in(["draft", "submitted", "validated", "rejected"])
    totals = money.group_by("bank").agg(
        pl.col("funded_fen").sum(),
        (pl.col("paid_fen") - pl.col("reversed_fen") + pl.col("held_fen") + pl.col("refunded_fen")).sum().alias("got"),
    )
    summed = (
        money.group_by("batch_id")
        .agg(pl.col("drawn_fen").sum().alias("drawn_banks"), pl.col("refunded_fen").sum().alias("refunded_banks"))
        .join(batches.lazy().select("batch_id", "drawn_fen", "refunded_fen"), on="batch_id", how="inner")
    )
    out = [
        _v(
            money.filter(pl.col("held_fen") < 0),
            7,
            "at bank ",
            _s("bank"),
            ": passed on ",
            _s("passed_on_fen"),
            " + refunded ",
            _s("refunded_fen"),
            " fen, more than that bank held of the batch (held ",
            _s("held_fen"),
            " fen)",
        ),
        _v(
            money.filter(after_dispatch & (pl.col("drawn_fen") > pl.col("sent_fen"))),
            7,
            "drew ",
            _s("drawn_fen"),
            " fen at bank ",
            _s("bank"),
            " but sent only ",
            _s("sent_fen"),
            " fen there",
        ),
        _v(
            summed.filter(
                (pl.col("drawn_banks") != pl.col("drawn_fen")) | (pl.col("refunded_banks") != pl.col("refunded_fen"))
            ),
            7,
            "drawn ",
            _s("drawn_fen"),
            " / refunded ",
            _s("refunded_fen"),
            " fen, but its banks add up to ",
            _s("drawn_banks"),
            " / ",
            _s("refunded_banks"),
            " fen",
        ),
        _v(
            totals.filter(pl.col("funded_fen") != pl.col("got")),
            7,
            "at bank ",
            _s("bank"),
            ": funded ",
            _s("funded_fen"),
            " fen ≠ paid − reversed + held + refunded = ",
            _s("got"),
            " fen",
            batch=pl.lit(""),
        ),
    ]
    if fundings is not None and "bank" in fundings.columns:
        told = (
            fundings.lazy()
            .group_by("batch_id", pl.col("bank").fill_null(""))
            .agg(pl.col("amount_fen").sum().alias("treasury_fen"))
        )
        funded = money.filter(pl.col("state").is_in(FUNDED_STATES)).select("batch_id", "bank", "funded_fen")
        both = funded.join(told, on=["batch_id", "bank"], how="full", coalesce=True).with_columns(
            pl.col("funded_fen", "treasury_fen").fill_null(0)
        )
        funded_batches = money.filter(pl.col("state").is_in(FUNDED_STATES)).select("batch_id").unique()
        out.append(
            _v(
                both.join(funded_batches, on="batch_id", how="semi").filter(
                    pl.col("funded_fen") != pl.col("treasury_fen")
                ),
                7,
                "the treasury funded bank ",
                _s("bank"),
                " ",
                _s("treasury_fen"),
                " fen, the rows sent there less the draw there need ",
                _s("funded_fen"),
                " fen",
            )
        )
    return out
