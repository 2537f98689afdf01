"""Clocks for the [`yikatong.ports.Clock`][] port: the system clock, and a fixed clock tests move by hand.

Both carry the county's time zone (``zone``, default ``Asia/Shanghai``): the workflow counts deadlines and pay dates
on that zone's calendar.
"""

from __future__ import annotations

import datetime as dt

from yikatong.localtime import COUNTY_ZONE, zone_info

__all__ = ["FixedClock", "SystemClock"]


class SystemClock:
    """The machine's clock, in UTC, for a county in ``zone``.

    Args:
        zone: The county's IANA time zone.

    Raises:
        ValueError: the zone is unknown.
    """

    def __init__(self, *, zone: str = COUNTY_ZONE) -> None:
        zone_info(zone)
        self.zone = zone

    def now(self) -> dt.datetime:
        """The current time (timezone-aware UTC)."""
        return dt.datetime.now(dt.UTC)


class FixedClock:
    """A clock that stands still until told to move; optionally advancing by a step on every reading.

    Args:
        start: The first reading (timezone-aware; a naive time is taken as UTC).
        step: Added after every reading (zero: the clock stands still).
        zone: The county's IANA time zone.

    Raises:
        ValueError: the zone is unknown.
    """

    def __init__(self, start: dt.datetime, *, step: dt.timedelta = dt.timedelta(0), zone: str = COUNTY_ZONE) -> None:
        zone_info(zone)
        self._now = start if start.tzinfo is not None else start.replace(tzinfo=dt.UTC)
        self._step = step
        self.zone = zone

    def now(self) -> dt.datetime:
        """The current reading; then the clock moves by its step."""
        current = self._now
        self._now = current + self._step
        return current

    def peek(self) -> dt.datetime:
        """The current reading, without moving the clock by its step."""
        return self._now

    def advance(self, delta: dt.timedelta) -> None:
        """Move the clock forward (or back, with a negative delta)."""
        self._now += delta

    def set(self, moment: dt.datetime) -> None:
        """Set the clock to ``moment``."""
        self._now = moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
