from __future__ import annotations

import datetime as dt

import pytest

from yikatong.errors import PeriodKindError
from yikatong.period import Period, period_of_kind


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


@pytest.mark.parametrize(
    ("text", "kind", "said"),
    [
        (
            "2026-Q4",
            "month",
            r"按月发放.*2026-Q4 是季度期间 / .*paid monthly \(periods written YYYY-MM\); 2026-Q4 is a quarter",
        ),
        ("2026-11", "year", r"按年发放.*2026-11 是月度期间 / .*paid annually .*2026-11 is a month"),
        ("2026", "quarter", r"按季发放.*/ .*paid quarterly .*2026 is a year"),
        ("2026-11", "once", r"一次性发放.*/ .*paid once .*YYYY-MM-DD"),
    ],
)
def test_a_period_of_another_kind_than_the_items_is_refused_in_both_languages(text: str, kind: str, said: str) -> None:
    with pytest.raises(PeriodKindError, match=said):
        period_of_kind(text, kind, item="GLJT")  # type: ignore[arg-type]


def test_a_period_of_the_items_kind_is_returned_parsed() -> None:
    assert period_of_kind("2026-q4", "quarter", item="X") == Period.parse("2026-Q4")
    with pytest.raises(ValueError, match="period"):
        period_of_kind("2026-13", "month", item="X")


@pytest.mark.parametrize(
    ("text", "kind", "label"),
    [
        ("2026-11", "year", "2026"),
        ("2026-11", "quarter", "2026-Q4"),
        ("2026-11", "month", "2026-11"),
        ("2026-11", "once", "2026-11-01"),
        ("2026-Q2", "month", "2026-04"),
        ("2026-02-14", "quarter", "2026-Q1"),
    ],
)
def test_within_gives_the_period_of_a_kind_holding_the_first_day(text: str, kind: str, label: str) -> None:
    assert Period.parse(text).within(kind).label == label  # type: ignore[arg-type]
