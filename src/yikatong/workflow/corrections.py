"""Corrections: the department's queue of returned rows, and the rules a correction batch must obey.

Failed rows (after settlement) and blocked rows (at dispatch) go back to the department as ``returned`` with a
deadline: the item's ``correction_days``, else the service default. A correction batch names the batch it corrects
and carries, per row, ``corrects_row_id``: the returned row it replaces. It may carry only rows returned from that
batch and not yet reissued or being corrected elsewhere, for the same person, never a larger amount; the batch has
the same item and period. It then goes through the whole flow; when its row is paid the original becomes
``reissued``.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from yikatong.errors import IllegalTransition
from yikatong.localtime import COUNTY_ZONE, local_date
from yikatong.privacy import mask_id_expr
from yikatong.workflow._frames import canonical_id_expr

__all__ = [
    "QUEUE_COLUMNS",
    "check_correction_rows",
    "correction_deadline",
    "correction_queue",
]

QUEUE_COLUMNS: tuple[str, ...] = (
    "batch_id",
    "row_id",
    "item",
    "period",
    "town",
    "village",
    "name",
    "id_masked",
    "amount_fen",
    "status",
    "reason_code",
    "note",
    "deadline",
    "overdue",
)
"""The columns of a correction queue, in order (the ID number masked, ``overdue`` a Boolean)."""


def correction_deadline(at: dt.datetime, days: int, *, zone: str = COUNTY_ZONE) -> dt.date:
    """The last day (a county date in ``zone``) to correct a row returned at ``at``.

    Counted on the county's calendar: a row returned at 07:00 Beijing time on 11-27 (23:00 UTC on 11-26) has
    ``days`` days from 11-27.
    """
    return local_date(at, zone) + dt.timedelta(days=days)


def check_correction_rows(
    original: pl.DataFrame, correction: pl.DataFrame, *, in_progress: pl.DataFrame, as_of: dt.date | None = None
) -> None:
    """Refuse a correction batch that carries anything but rows returned from the corrected batch, in time.

    Args:
        original: The corrected batch's stored rows.
        correction: The correction batch's rows: ``corrects_row_id``, ``id_number``, ``amount_fen``.
        in_progress: ``row_id`` of original rows already carried by another live correction batch.
        as_of: Today's county date: a row whose deadline is before it is late (None: deadlines not checked).

    Raises:
        IllegalTransition: naming the count and an example row of the correction (never personal data).
    """
    if "corrects_row_id" not in correction.columns:
        raise IllegalTransition("a correction batch needs a corrects_row_id column / 更正批次须注明所更正的行")
    rows = correction.with_row_index("_pos", offset=1)
    joined = rows.select("_pos", "corrects_row_id", "id_number", "amount_fen").join(
        original.select(
            pl.col("row_id").alias("corrects_row_id"),
            pl.col("id_number").alias("_orig_id"),
            pl.col("amount_fen").alias("_orig_amount"),
            pl.col("status").alias("_orig_status"),
            pl.col("deadline").alias("_orig_deadline"),
        ),
        on="corrects_row_id",
        how="left",
    )
    checks: list[tuple[pl.Expr, str]] = [
        (pl.col("corrects_row_id").is_null(), "name no corrected row"),
        (pl.col("corrects_row_id").is_duplicated(), "correct the same row twice"),
        (pl.col("_orig_status").is_null(), "name rows the corrected batch does not have"),
        (
            pl.col("_orig_status") == "expired",
            "correct rows past their correction deadline (finance must extend it first)",
        ),
        (pl.col("_orig_status") != "returned", "correct rows that were not returned (or were already reissued)"),
        (
            pl.col("_orig_deadline") < pl.lit(as_of, pl.Date),
            "correct rows past their correction deadline (finance must extend it first)",
        ),
        (pl.col("corrects_row_id").is_in(in_progress["row_id"].implode()), "correct rows another batch corrects"),
        (
            pl.col("id_number").is_null()
            | (canonical_id_expr(pl.col("id_number")) != canonical_id_expr(pl.col("_orig_id"))),
            "change the person",
        ),
        (
            pl.col("amount_fen").is_null() | (pl.col("amount_fen") > pl.col("_orig_amount")),
            "raise the amount (or give none)",
        ),
    ]
    for condition, what in checks:
        bad = joined.filter(condition.fill_null(False))
        if bad.height:
            raise IllegalTransition(
                f"{bad.height} correction rows {what}, e.g. correction row {bad['_pos'][0]} / 更正批次行不合规"
                + (" (已过更正期限)" if "deadline" in what else "")
            )


def correction_queue(returned: pl.DataFrame, *, as_of: dt.date) -> pl.DataFrame:
    """The correction queue: rows still awaiting a correction, with their deadline and whether it passed.

    Args:
        returned: Stored rows in status ``returned`` or ``expired`` (with ``batch_id`` and the batch's
            ``item``/``period``); an expired row is always overdue.
        as_of: The day the queue is looked at.

    Returns:
        [`QUEUE_COLUMNS`][yikatong.workflow.corrections.QUEUE_COLUMNS], earliest deadline first; the ID masked.
    """
    return (
        returned.select(
            "batch_id",
            "row_id",
            "item",
            "period",
            "town",
            "village",
            "name",
            mask_id_expr(pl.col("id_number")).alias("id_masked"),
            "amount_fen",
            "status",
            "reason_code",
            "note",
            "deadline",
            ((pl.col("status") == "expired") | (pl.col("deadline") < pl.lit(as_of)).fill_null(False)).alias("overdue"),
        )
        .sort("deadline", "batch_id", "row_id", nulls_last=True)
        .select(QUEUE_COLUMNS)
    )
