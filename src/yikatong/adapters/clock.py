"""Clocks for the :class:`yikatong.ports.Clock` port: the system clock, and a fixed clock tests move by hand."""

from __future__ import annotations

import datetime as dt

__all__ = ["FixedClock", "SystemClock"]


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> dt.datetime:
        """The current time (timezone-aware UTC)."""
        return dt.datetime.now(dt.UTC)


class FixedClock:
    """A clock that stands still until told to move; optionally advancing by a step on every reading.

    Args:
        start: The first reading (timezone-aware; a naive time is taken as UTC).
        step: Added after every reading (zero: the clock stands still).
    """

    def __init__(self, start: dt.datetime, *, step: dt.timedelta = dt.timedelta(0)) -> None:
        self._now = start if start.tzinfo is not None else start.replace(tzinfo=dt.UTC)
        self._step = step

    def now(self) -> dt.datetime:
        """The current reading; then the clock moves by its step."""
        current = self._now
        self._now = current + self._step
        return current

    def advance(self, delta: dt.timedelta) -> None:
        """Move the clock forward (or back, with a negative delta)."""
        self._now += delta

    def set(self, moment: dt.datetime) -> None:
        """Set the clock to ``moment``."""
        self._now = moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
