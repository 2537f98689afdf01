from __future__ import annotations

import datetime as dt

import pytest

from yikatong.period import Period


def test_a_month_runs_from_its_first_to_its_last_day() -> None:
    p = Period.parse("2024-02")
    assert (p.start, p.end, p.kind, str(p)) == (dt.date(2024, 2, 1), dt.date(2024, 2, 29), "month", "2024-02")


def test_a_quarter_and_a_year_are_understood() -> None:
    assert Period.parse("2026-Q4").start == dt.date(2026, 10, 1)
    assert Period.parse("2026-Q4").end == dt.date(2026, 12, 31)
    assert Period.parse("2026").end == dt.date(2026, 12, 31)


def test_a_single_day_is_a_one_off_period() -> None:
    assert Period.parse("2026-11-27").kind == "once"


@pytest.mark.parametrize("text", ["2026-13", "26-11", "2026-Q5", "", "November", "2026-02-30"])
def test_nonsense_periods_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="period"):
        Period.parse(text)
