"""The county's local time: deadlines, pay dates and disclosure dates are county dates, never UTC dates.

The workflow stores instants in UTC; a *date* (the last day to correct a row, the day a payee was paid, the day a
notice went up) is the date on the county's wall clock. The zone comes from the [`Clock`][yikatong.ports.Clock]
port (``Clock.zone``, an IANA name such as ``Asia/Shanghai``), so a host in another zone, or a test, says which.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

__all__ = ["COUNTY_ZONE", "local_date", "local_date_expr", "zone_info"]

COUNTY_ZONE: Final = "Asia/Shanghai"
"""The default zone of the county: China Standard Time (UTC+8, no daylight saving since 1991)."""


@cache
def zone_info(zone: str) -> ZoneInfo:
    """The ``ZoneInfo`` for an IANA zone name.

    Raises:
        ValueError: the name is not a zone the system's time-zone database knows.
    """
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"未知时区 / unknown time zone {zone!r}") from None


def local_date(moment: dt.datetime, zone: str = COUNTY_ZONE) -> dt.date:
    """The county date of an instant (``moment`` must be timezone-aware).

    Raises:
        ValueError: ``moment`` is naive, or the zone is unknown.
    """
    if moment.tzinfo is None:
        raise ValueError("时间须带时区 / the time must be timezone-aware")
    return moment.astimezone(zone_info(zone)).date()


def local_date_expr(column: pl.Expr, zone: str = COUNTY_ZONE) -> pl.Expr:
    """A Polars expression: the county date of a UTC ``Datetime`` column (null stays null)."""
    zone_info(zone)
    return column.dt.convert_time_zone(zone).dt.date()
