"""Per-item parameters the generator needs, flattened from the catalogue into plain numbers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl
from attrs import frozen

from yikatong.catalog import Catalog, SubsidyItem
from yikatong.period import Period

__all__ = ["ItemSpec", "by_item", "epoch_days", "item_specs", "years_before"]

_EPOCH = dt.date(1970, 1, 1)


def epoch_days(day: dt.date) -> int:
    """Days since 1970-01-01 (Polars' ``Date`` representation)."""
    return (day - _EPOCH).days


def years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` earlier (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


@frozen
class ItemSpec:
    """One item of a synthetic roster and where its rows are.

    Attributes:
        item: The catalogue entry.
        index: Position of the item in the roster's item list.
        start: First 0-based row of the item's block.
        rows: Number of rows of the item.
        categories: Table categories (empty unless the standard is a table).
        category_fen: Amount per category, fen.
        exclusive_fen: Standard amount (fen) of the first mutually exclusive item, for ledger entries.
    """

    item: SubsidyItem
    index: int
    start: int
    rows: int
    categories: tuple[str, ...]
    category_fen: tuple[int, ...]
    exclusive_fen: int

    @property
    def household(self) -> bool:
        """True for items paid per household (the payee is the household head)."""
        return self.item.unit == "household"

    @property
    def kind(self) -> str:
        """``fixed``, ``rate`` or ``table``."""
        return self.item.standard.kind

    def fixed_fen(self) -> int:
        """The fixed amount (fen), 0 for other standards."""
        std = self.item.standard
        return std.amount if std.kind == "fixed" else 0

    def rate_fen(self) -> int:
        """The rate per unit (fen), 0 for other standards."""
        std = self.item.standard
        return std.rate if std.kind == "rate" else 0

    def max_quantity_hundredths(self) -> int:
        """Largest clean quantity in hundredths: below the item's maximum and below its cap per period."""
        std = self.item.standard
        limit = 4500
        if std.kind == "rate":
            if std.max_quantity is not None:
                limit = min(limit, int(std.max_quantity * 100) - 1)
            if self.item.cap_per_period is not None and std.rate > 0:
                limit = min(limit, (self.item.cap_per_period * 100) // std.rate - 1)
        return max(limit, 60)

    def birth_bounds(self, period: Period) -> tuple[int, int]:
        """Earliest and latest birth day (epoch days) that make a person eligible by age for ``period``."""
        start = period.start
        latest = years_before(start, self.item.age_min) if self.item.age_min is not None else start
        if self.item.age_max is not None:
            earliest = years_before(start, self.item.age_max + 1) + dt.timedelta(days=1)
        else:
            earliest = years_before(start, 105)
        return epoch_days(earliest), epoch_days(latest)


def _standard_fen(item: SubsidyItem) -> int:
    std = item.standard
    if std.kind == "fixed":
        return std.amount
    if std.kind == "table":
        return min(std.amounts.values())
    return std.rate


def item_specs(catalog: Catalog, codes: Sequence[str], rows: int, block: int) -> list[ItemSpec]:
    """Split ``rows`` evenly over the items ``codes``; every block but the last starts at a multiple of ``block``."""
    items = [catalog[code] for code in codes]
    per = (rows // len(items)) // block * block
    if per == 0:  # fewer rows than one block per item: split evenly, and the caller injects no pairs
        per = rows // len(items)
    specs: list[ItemSpec] = []
    start = 0
    for index, item in enumerate(items):
        count = rows - start if index == len(items) - 1 else per
        std = item.standard
        categories = tuple(std.amounts) if std.kind == "table" else ()
        category_fen = tuple(std.amounts.values()) if std.kind == "table" else ()
        exclusive = [catalog[c] for c in item.exclusive_with if c in catalog]
        specs.append(
            ItemSpec(
                item=item,
                index=index,
                start=start,
                rows=count,
                categories=categories,
                category_fen=category_fen,
                exclusive_fen=_standard_fen(exclusive[0]) if exclusive else 0,
            )
        )
        start += count
    return specs


def by_item(values: Sequence[int | float | bool | str | None], dtype: pl.DataType) -> pl.Expr:
    """A per-item value for each row (gathered by the row's ``_item``)."""
    return pl.lit(pl.Series(list(values), dtype=dtype)).gather(pl.col("_item"))
