"""A catalogue's SQL checks compile into one boolean expression, or are refused naming the position."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest

from yikatong.expressions import COLUMNS, FUNCTIONS, ExpressionError, ParamValue, compile_check, referenced_columns

PARAMS: dict[str, ParamValue] = {"rate_fen": 9580, "max_area_mu": 50, "town_name": "清溪场镇", "strict": True}


def _rows() -> pl.LazyFrame:
    return pl.LazyFrame(
        {
            "amount_fen": [95_800, 600_000, 100, None],
            "quantity": [Decimal("10"), Decimal("60"), None, Decimal("1")],
            "town": ["清溪场镇", "官庄街道", "清溪场镇", None],
        },
        schema={"amount_fen": pl.Int64, "quantity": COLUMNS["quantity"], "town": pl.String},
    )


def _run(text: str) -> list[bool | None]:
    return _rows().select(compile_check(text, params=PARAMS).alias("ok")).collect()["ok"].to_list()


def test_a_check_over_columns_and_parameters_gives_true_false_or_null() -> None:
    assert _run("quantity <= max_area_mu AND amount_fen <= quantity * rate_fen") == [True, False, None, None]


def test_text_parameters_are_quoted_and_booleans_are_sql_truth_values() -> None:
    assert _run("town = town_name AND strict") == [True, False, True, None]


def test_the_columns_a_check_reads_are_named_once_in_order() -> None:
    expr = compile_check("amount_fen <= quantity * rate_fen AND amount_fen > 0", params=PARAMS)
    assert referenced_columns(expr) == ("amount_fen", "quantity")


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_allowed_function_compiles(function: str) -> None:
    calls = {
        "ABS": "ABS(amount_fen) > 0",
        "ROUND": "ROUND(quantity, 1) > 0",
        "FLOOR": "FLOOR(quantity) > 0",
        "CEIL": "CEIL(quantity) > 0",
        "CEILING": "CEILING(quantity) > 0",
        "GREATEST": "GREATEST(amount_fen, 1) > 0",
        "LEAST": "LEAST(amount_fen, 1) > 0",
        "COALESCE": "COALESCE(quantity, 0) <= 50",
        "NULLIF": "NULLIF(amount_fen, 0) > 0",
        "LENGTH": "LENGTH(town) > 0",
        "CHAR_LENGTH": "CHAR_LENGTH(town) > 0",
        "LOWER": "LOWER(town) = 'x'",
        "UPPER": "UPPER(town) = 'x'",
        "TRIM": "TRIM(town) = 'x'",
        "SUBSTR": "SUBSTR(town, 1, 2) = '清溪'",
        "LEFT": "LEFT(town, 2) = '清溪'",
        "RIGHT": "RIGHT(town, 1) = '镇'",
        "STARTS_WITH": "STARTS_WITH(town, '清')",
        "ENDS_WITH": "ENDS_WITH(town, '镇')",
    }
    assert len(_run(calls[function])) == 4


@pytest.mark.parametrize(
    ("text", "position", "words"),
    [
        ("quantity <= max_aera", 13, "unknown column or parameter max_aera at character 13"),
        ("amount_fen > 0 AND EXP(quantity) > 1", 20, "function EXP at character 20 is not allowed"),
        ("amount_fen > 0; DROP TABLE roster", 15, "unexpected character ';' at character 15"),
        ("town = 'open", 8, "unterminated text at character 8"),
        ('"rate_fen" > 1', 1, "unknown column or parameter rate_fen"),
        ("(SELECT 1) = 1", 2, "unknown column or parameter SELECT at character 2"),
    ],
)
def test_an_untrusted_check_is_refused_naming_the_position(text: str, position: int, words: str) -> None:
    with pytest.raises(ExpressionError, match=words) as caught:
        compile_check(text, params=PARAMS)
    assert caught.value.position == position
    assert str(caught.value).index(" / ") > 0
    assert caught.value.message_zh.startswith(f"第 {position} 个字符处")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("amount_fen * 2", "gives Int64, not true or false"),
        ("town", "gives String, not true or false"),
        ("amount_fen >", "cannot be parsed"),
        ("amount_fen > (1", "cannot be parsed"),
        ("   ", "empty"),
    ],
)
def test_a_check_that_is_not_a_boolean_expression_is_refused(text: str, words: str) -> None:
    with pytest.raises(ExpressionError, match=words):
        compile_check(text, params=PARAMS)
