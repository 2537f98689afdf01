"""Invariant 7 as lazy queries: every fen funded is paid (net of reversals), held at the bank, or refunded."""

from __future__ import annotations

import polars as pl

from yikatong.workflow._violations import SETTLED_STATES as _SETTLED_STATES
from yikatong.workflow._violations import as_text as _s
from yikatong.workflow._violations import violations as _v
from yikatong.workflow.funds import batch_money_lazy

__all__ = ["held_checks"]


def held_checks(
    batches: pl.DataFrame, ledger: pl.DataFrame, refunds: pl.DataFrame | None, *, final: bool
) -> list[pl.LazyFrame]:
    """Invariant 7: every fen funded is paid (net of reversals), held at the bank, or refunded.

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
