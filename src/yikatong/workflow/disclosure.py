"""The public list 公示 of a settled batch: masked, per town and village, from the rows the bank paid.

What is published (``docs/domain.md``): masked name (``张*``, ``张*三``, ``欧阳**``), town, village, item, period, the
item's standard, the amount, the pay date, and totals per town and village. What never is: an ID number, an account
number, a phone number, the category (a disability grade is health detail), anything about a person beyond that.

Children: a payee under 14 on the pay date (age from the ID's birth digits) is not listed by name at all. The
item rules in the catalogue carry nothing that would allow it, so such a payee is only counted in the village's
totals (``minors_withheld``), which keeps the totals true without identifying the child (PIPL art. 28).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from yikatong.catalog import FixedStandard, RateStandard, SubsidyItem, TableStandard
from yikatong.localtime import COUNTY_ZONE, local_date_expr
from yikatong.money import format_yuan
from yikatong.privacy import mask_name_expr
from yikatong.records import BatchRecord, DisclosureNotice

__all__ = [
    "MINOR_AGE",
    "NOTICE_COLUMNS",
    "TOTALS_COLUMNS",
    "build_notice",
    "standard_expr",
]

MINOR_AGE = 14
"""Payees younger than this are not listed by name."""

NOTICE_COLUMNS: tuple[str, ...] = (
    "town",
    "village",
    "name_masked",
    "item_name",
    "period",
    "standard",
    "amount_fen",
    "pay_date",
)
"""The columns of a public notice's rows, in order: one row per payee listed, the name masked."""
TOTALS_COLUMNS: tuple[str, ...] = ("town", "village", "payees", "amount_fen", "minors_withheld")
"""The columns of a notice's totals, one row per village (minors are counted there, never named)."""

_PER: dict[str, str] = {"month": "月", "quarter": "季", "year": "年", "once": "次"}


def standard_expr(item: SubsidyItem) -> pl.Expr:
    """The item's standard as published text, per row (a table standard reads the row's ``category``)."""
    std = item.standard
    if isinstance(std, FixedStandard):
        return pl.lit(f"{format_yuan(std.amount)}元/{_PER[item.period]}")
    if isinstance(std, RateStandard):
        return pl.lit(f"{format_yuan(std.rate)}元/{std.unit_name}")
    assert isinstance(std, TableStandard)
    texts = {category: f"{format_yuan(fen)}元/{_PER[item.period]}" for category, fen in std.amounts.items()}
    return pl.col("category").replace_strict(texts, default=None, return_dtype=pl.String)


def _birth_date() -> pl.Expr:
    return pl.col("id_number").str.slice(6, 8).str.strptime(pl.Date, "%Y%m%d", strict=False)


def _age_on(day: pl.Expr) -> pl.Expr:
    birth = _birth_date()
    before_birthday = (day.dt.month() < birth.dt.month()) | (
        (day.dt.month() == birth.dt.month()) & (day.dt.day() < birth.dt.day())
    )
    return day.dt.year().cast(pl.Int32) - birth.dt.year().cast(pl.Int32) - before_birthday.cast(pl.Int32)


def build_notice(
    record: BatchRecord,
    item: SubsidyItem,
    rows: pl.DataFrame,
    *,
    published_at: dt.datetime,
    window_days: int,
    zone: str = COUNTY_ZONE,
) -> DisclosureNotice:
    """Build the masked public list of a settled batch.

    Args:
        record: The batch.
        item: Its catalogue entry (name and standard).
        rows: The batch's stored rows; only ``paid`` rows are published.
        published_at: When the notice goes up; ``window_days`` how long it stays.
        zone: The county's time zone: a pay date is the county date the row was paid on (paid at 07:00 Beijing
            time on 11-27 is 11-27, though it is still 11-26 in UTC).

    Returns:
        A [`DisclosureNotice`][yikatong.records.DisclosureNotice] with
        [`NOTICE_COLUMNS`][yikatong.workflow.disclosure.NOTICE_COLUMNS] rows and
        [`TOTALS_COLUMNS`][yikatong.workflow.disclosure.TOTALS_COLUMNS] totals, sorted by town, village and masked name.
    """
    paid = rows.filter(pl.col("status") == "paid").with_columns(
        local_date_expr(pl.col("updated_at"), zone).alias("pay_date"),
        pl.col("town").fill_null(""),
        pl.col("village").fill_null(""),
    )
    paid = paid.with_columns((_age_on(pl.col("pay_date")) < MINOR_AGE).fill_null(False).alias("_minor"))
    listed = (
        paid.filter(~pl.col("_minor"))
        .select(
            "town",
            "village",
            mask_name_expr(pl.col("name")).alias("name_masked"),
            pl.lit(item.name).alias("item_name"),
            pl.lit(record.period).alias("period"),
            standard_expr(item).alias("standard"),
            "amount_fen",
            "pay_date",
        )
        .sort("town", "village", "name_masked", "amount_fen")
    )
    totals = (
        paid.group_by("town", "village")
        .agg(
            pl.len().cast(pl.Int64).alias("payees"),
            pl.col("amount_fen").sum().cast(pl.Int64).alias("amount_fen"),
            pl.col("_minor").sum().cast(pl.Int64).alias("minors_withheld"),
        )
        .sort("town", "village")
        .select(TOTALS_COLUMNS)
    )
    return DisclosureNotice(
        batch_id=record.batch_id,
        item=record.item,
        item_name=item.name,
        period=record.period,
        rows=listed.select(NOTICE_COLUMNS),
        window_days=window_days,
        published_at=published_at,
        totals=totals,
    )
