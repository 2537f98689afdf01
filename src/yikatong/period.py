"""Payment periods: a month ``2026-11``, a quarter ``2026-Q4``, a year ``2026`` or a one-off ``2026-11-27``.

A period is the unit a subsidy is paid for; a (person, item, period) is paid at most once. Age eligibility and the
deceased rules are judged against the period's first and last day.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from attrs import frozen

__all__ = ["Period", "PeriodKind"]

PeriodKind = Literal["month", "quarter", "year", "once"]

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-?[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


@frozen(order=True)
class Period:
    """A payment period with its first and last day (both inclusive).

    Build one with :meth:`Period.parse`; ``str(period)`` gives back the canonical label.
    """

    start: dt.date
    end: dt.date
    kind: PeriodKind
    label: str

    @classmethod
    def parse(cls, text: str | Period) -> Period:
        """Parse ``YYYY-MM``, ``YYYY-Qn``, ``YYYY`` or ``YYYY-MM-DD``.

        Raises:
            ValueError: when the text is none of these forms or names an impossible date.
        """
        if isinstance(text, Period):
            return text
        s = str(text).strip()
        try:
            if m := _MONTH.match(s):
                year, month = int(m[1]), int(m[2])
                start = dt.date(year, month, 1)
                return cls(start, _month_end(year, month), "month", f"{year:04d}-{month:02d}")
            if m := _QUARTER.match(s):
                year, q = int(m[1]), int(m[2])
                start = dt.date(year, 3 * q - 2, 1)
                return cls(start, _month_end(year, 3 * q), "quarter", f"{year:04d}-Q{q}")
            if m := _YEAR.match(s):
                year = int(m[1])
                return cls(dt.date(year, 1, 1), dt.date(year, 12, 31), "year", f"{year:04d}")
            if m := _DAY.match(s):
                day = dt.date(int(m[1]), int(m[2]), int(m[3]))
                return cls(day, day, "once", day.isoformat())
        except ValueError as exc:
            raise ValueError(f"invalid period {s!r}: {exc} / 期间无效") from None
        raise ValueError(f"invalid period {s!r}: expected YYYY-MM, YYYY-Qn, YYYY or YYYY-MM-DD / 期间格式无效")

    @property
    def year(self) -> int:
        """The calendar year the period starts in (used for yearly caps)."""
        return self.start.year

    def __str__(self) -> str:
        return self.label


def _month_end(year: int, month: int) -> dt.date:
    if month == 12:
        return dt.date(year, 12, 31)
    return dt.date(year, month + 1, 1) - dt.timedelta(days=1)
