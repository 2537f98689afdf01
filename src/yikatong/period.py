"""Payment periods: a month ``2026-11``, a quarter ``2026-Q4``, a year ``2026`` or a one-off ``2026-11-27``.

A period is the unit a subsidy is paid for; a (person, item, period) is paid at most once. Age eligibility and the
deceased rules are judged against the period's first and last day.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from attrs import frozen

from yikatong.errors import PeriodKindError

__all__ = ["PERIOD_KIND_LABELS", "Period", "PeriodKind", "period_of_kind"]

PeriodKind = Literal["month", "quarter", "year", "once"]

PERIOD_KIND_LABELS: dict[PeriodKind, tuple[str, str, str, str, str]] = {
    "month": ("按月", "月度", "monthly", "a month", "YYYY-MM"),
    "quarter": ("按季", "季度", "quarterly", "a quarter", "YYYY-Qn"),
    "year": ("按年", "年度", "annually", "a year", "YYYY"),
    "once": ("一次性", "单日", "once", "a single day", "YYYY-MM-DD"),
}
"""Per kind: how the paying and the period are said in Chinese and in English, and the form of its labels."""

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-?[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


@frozen(order=True)
class Period:
    """A payment period with its first and last day (both inclusive).

    Build one with [`Period.parse`][yikatong.Period.parse]; ``str(period)`` gives back the canonical label.
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

    def within(self, kind: PeriodKind) -> Period:
        """The period of ``kind`` that holds this period's first day: ``2026-11`` within ``"year"`` is ``2026``,
        within ``"quarter"`` it is ``2026-Q4``, within ``"once"`` the day ``2026-11-01``."""
        day = self.start
        if kind == "month":
            return Period.parse(f"{day.year:04d}-{day.month:02d}")
        if kind == "quarter":
            return Period.parse(f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}")
        if kind == "year":
            return Period.parse(f"{day.year:04d}")
        return Period.parse(day.isoformat())

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


def period_of_kind(text: str | Period, kind: PeriodKind, *, item: str) -> Period:
    """Parse a period and check that it is of the kind ``item`` is paid by (its catalogue entry's ``period``).

    A monthly item is paid for months, never for a quarter: a payment for ``2026-Q4`` would not be found by the
    month-by-month checks of what was already paid. Every way into the workflow (validation, batch creation, the
    command line) goes through here.

    Raises:
        ValueError: the text is not a period.
        PeriodKindError: the period is of another kind; the message says which kind the item takes.
    """
    period = Period.parse(text)
    if period.kind != kind:
        want_zh, _, want_en, _, form = PERIOD_KIND_LABELS[kind]
        _, got_zh, _, got_en, _ = PERIOD_KIND_LABELS[period.kind]
        raise PeriodKindError(
            f"期间类型不符：项目 {item} {want_zh}发放（期间写作 {form}），{period.label} 是{got_zh}期间 / "
            f"period kind mismatch: item {item} is paid {want_en} (periods written {form}); "
            f"{period.label} is {got_en}"
        )
    return period
