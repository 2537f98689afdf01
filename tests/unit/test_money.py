from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yikatong.money import MAX_YUAN_DIGITS, format_yuan, parse_yuan, yuan_fen_expr


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


@pytest.mark.parametrize(
    "bad",
    [
        "1e3",
        "1E3",
        "1_000",
        "100 50",
        "1 000.00",
        "100\u300050",
        "92233720368547758.08",
        "1000000000000000",
        "１００",
        ".5",
        "+-5",
        "0x10",
        "1.0e2",
    ],
)
def test_exponents_underscores_inner_spaces_and_overlong_amounts_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="金额"):
        parse_yuan(bad)


def test_an_amount_keeps_at_most_fifteen_integer_digits_whatever_its_type() -> None:
    largest = "9" * MAX_YUAN_DIGITS + ".99"
    assert parse_yuan(largest) == 10 ** (MAX_YUAN_DIGITS + 2) - 1
    assert parse_yuan("000" + largest) == parse_yuan(largest)
    for too_large in (10**MAX_YUAN_DIGITS, Decimal("1E+15"), 1e16, "9" * 16):
        with pytest.raises(ValueError, match="金额"):
            parse_yuan(too_large)


def test_outer_whitespace_is_ignored_and_trailing_zero_decimals_are_exact() -> None:
    assert parse_yuan("  100.50 ") == 10050
    assert parse_yuan("12.340") == 1234
    assert parse_yuan("-5") == -500
    assert parse_yuan("100.") == 10000


def _column(texts: list[str]) -> list[int | None]:
    return (
        pl.DataFrame({"t": texts}, schema={"t": pl.String})
        .select(yuan_fen_expr(pl.col("t")).alias("fen"))["fen"]
        .to_list()
    )


@settings(deadline=None)
@given(st.text(alphabet="0123456789,.+-eE_ \u3000１", max_size=22))
def test_the_column_parser_and_parse_yuan_accept_the_same_texts_with_the_same_value(text: str) -> None:
    try:
        expected: int | None = parse_yuan(text)
    except ValueError:
        expected = None
    assert _column([text]) == [expected]


@settings(deadline=None)
@given(st.decimals(min_value=-(10**15) + 1, max_value=10**15 - 1, places=2, allow_nan=False, allow_infinity=False))
def test_every_two_decimal_amount_of_fifteen_digits_reads_the_same_as_text_and_as_decimal(value: Decimal) -> None:
    text = f"{value:.2f}"
    assert parse_yuan(text) == parse_yuan(value) == int(value * 100)
    assert _column([text]) == [int(value * 100)]
