from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yikatong.money import format_yuan, parse_yuan


@pytest.mark.parametrize(
    ("text", "fen"),
    [("100.00", 10000), ("100", 10000), ("0.5", 50), ("1,234.50", 123450), ("12,345,678", 1234567800)],
)
def test_yuan_text_becomes_exact_fen(text: str, fen: int) -> None:
    assert parse_yuan(text) == fen


def test_decimals_and_floats_that_are_exact_to_the_fen_are_accepted() -> None:
    assert parse_yuan(Decimal("12.5")) == 1250
    assert parse_yuan(95.8) == 9580


@pytest.mark.parametrize("bad", ["1.005", "abc", "", "1,2,3", "12,34.5", "NaN", "Infinity", True])
def test_anything_but_an_exact_amount_is_refused(bad: object) -> None:
    with pytest.raises(ValueError, match=r"amount|decimals"):
        parse_yuan(bad)  # type: ignore[arg-type]


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_format_yuan_reads_back_through_parse_yuan(fen: int) -> None:
    assert parse_yuan(format_yuan(fen)) == fen
