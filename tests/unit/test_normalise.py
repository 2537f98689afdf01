"""Cell normalisation: IDs, accounts, names, sex, amounts and quantities, as vectorized expressions."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yikatong.ingest import _normalise as norm
from yikatong.money import parse_yuan


def _apply(expr: pl.Expr, values: list[str | None]) -> list[object]:
    return pl.DataFrame({"v": values}, schema={"v": pl.String}).select(expr.alias("out"))["out"].to_list()


def _one(expr_of: object, value: str | None) -> object:
    assert callable(expr_of)
    return _apply(expr_of(pl.col("v")), [value])[0]


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("50024119900101123X", "50024119900101123X"),
        ("50024119900101123x", "50024119900101123X"),
        ("５００２４１１９９００１０１１２３Ｘ", "50024119900101123X"),
        ("50024119900101123ｘ", "50024119900101123X"),
        ("500241\u200b199001011234", "500241199001011234"),
        ("\ufeff500241199001011234\u2060", "500241199001011234"),
        ("500 241 1990 0101 1234", "500241199001011234"),
        ("　500241199001011234　", "500241199001011234"),
        ("\u200b\u200c", None),
        ("'500241199001011234", "500241199001011234"),
        ('="50024119900101123X"', "50024119900101123X"),
    ],
)
def test_ids_lose_spaces_and_zero_width_characters_and_get_ascii_digits_and_capital_x(
    raw: str, clean: str | None
) -> None:
    assert _one(norm.clean_id, raw) == clean


@pytest.mark.parametrize("raw", ["5.00241E+17", "5.00241e17", "500241199001011234.0", "500241199001011000.", "1E+18"])
def test_ids_written_in_scientific_or_float_form_are_recognised_as_mangled(raw: str) -> None:
    assert _one(lambda e: norm.id_text_mangled(norm.clean_id(e)), raw) is True


@pytest.mark.parametrize("raw", ["500241199001011234", "50024119900101123X", "500241900101123", None, "abc"])
def test_ordinary_ids_are_not_taken_for_mangled(raw: str | None) -> None:
    assert _one(lambda e: norm.id_text_mangled(norm.clean_id(e)), raw) is False


def test_a_long_number_from_a_numeric_cell_is_mangled_but_a_short_one_is_exact() -> None:
    frame = pl.DataFrame(
        {"v": ["500241199001011000", "500241199001011000", "1234567890123"], "numeric": [True, False, True]}
    )
    out = frame.select(norm.numeric_cell_mangled(pl.col("v"), pl.col("numeric")))
    assert out.to_series().to_list() == [True, False, False]


def test_accounts_lose_grouping_spaces_and_full_width_digits() -> None:
    assert _one(norm.clean_account, "6217 0000 1234 5678") == "6217000012345678"
    assert _one(norm.clean_account, "６２１７０００") == "6217000"
    assert _one(norm.clean_account, "  ") is None


@pytest.mark.parametrize(
    "dot",
    ["\u30fb", "\u2022", "\u2027", "\uff0e", "\u22c5", "\u2219", "\uff65", "."],
)
def test_look_alikes_of_the_minority_name_dot_become_the_middle_dot(dot: str) -> None:
    assert _one(norm.clean_name, f"阿依古丽{dot}买买提") == "阿依古丽·买买提"


def test_names_are_trimmed_and_padding_between_han_characters_is_removed() -> None:
    assert _one(norm.clean_name, " 张三\u3000") == "张三"
    assert _one(norm.clean_name, "张　三") == "张三"
    assert _one(norm.clean_name, "张 三 丰") == "张三丰"
    assert _one(norm.clean_name, "Ahmat Ali") == "Ahmat Ali"
    assert _one(norm.clean_name, "张\u200b三") == "张三"
    assert _one(norm.clean_name, "䶮𠮷") == "䶮𠮷"


@pytest.mark.parametrize(("name", "damaged"), [("李?", True), ("李？", True), ("王\ufffd", True), ("䶮𠮷", False)])
def test_question_marks_and_replacement_characters_in_names_are_encoding_damage(name: str, damaged: bool) -> None:
    assert _one(norm.name_has_encoding_damage, name) is damaged


@pytest.mark.parametrize(
    ("raw", "sex"),
    [("男", "男"), ("女", "女"), (" 男性 ", "男"), ("f", "女"), ("Male", "男"), ("1", "男"), ("2", "女"), ("9", None)],
)
def test_sex_is_read_from_chinese_english_and_national_standard_codes(raw: str, sex: str | None) -> None:
    assert _one(norm.parse_sex, raw) == sex


@pytest.mark.parametrize(
    ("raw", "fen"),
    [
        ("100", 10000),
        ("100.00", 10000),
        ("1,234.50", 123450),
        ("1，234．50", 123450),
        ("100元", 10000),
        ("100元整", 10000),
        ("￥100", 10000),
        ("¥ 1,000,000.01", 100000001),
        ("RMB 12.5", 1250),
        ("１００．５", 10050),
        ("12.340", 1234),
        ("0.01", 1),
        ("-5", -500),
        ("100.", 10000),
        ("000100", 10000),
    ],
)
def test_amounts_people_write_become_exact_fen(raw: str, fen: int) -> None:
    assert _one(norm.parse_amount_fen, raw) == fen


@pytest.mark.parametrize(
    "raw",
    [
        "12.345",
        "1e3",
        "1_000",
        "100 50",
        "1 000",
        "１００　５０",
        "1\u00a0000",
        "abc",
        "1,23.4",
        "12,34",
        "",
        ".5",
        "1.2.3",
        "100元5",
        "9999999999999999",
        "0x10",
        None,
        "--5",
    ],
)
def test_anything_not_an_exact_amount_with_two_decimals_gives_null(raw: str | None) -> None:
    assert _one(norm.parse_amount_fen, raw) is None


@settings(max_examples=150, deadline=None)
@given(st.decimals(min_value=-(10**12), max_value=10**12, places=2, allow_nan=False, allow_infinity=False))
def test_the_fen_of_a_plain_amount_equal_those_of_parse_yuan(value: Decimal) -> None:
    text = f"{value:,.2f}" if value >= 0 else f"-{-value:,.2f}"
    assert _one(norm.parse_amount_fen, text) == parse_yuan(value)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=12))
def test_amount_parsing_never_fails_and_agrees_with_parse_yuan_when_it_succeeds(text: str) -> None:
    fen = _one(norm.parse_amount_fen, text)
    if fen is not None and text.isascii() and text.replace(".", "", 1).lstrip("+-").isdigit():
        assert fen == parse_yuan(text)


@pytest.mark.parametrize(
    ("raw", "quantity"),
    [
        ("3.5", Decimal("3.5")),
        ("3.5亩", Decimal("3.5")),
        ("1,234.5678", Decimal("1234.5678")),
        ("12.340000", Decimal("12.34")),
        ("６", Decimal("6")),
        ("12.34567", None),
        ("a lot", None),
        ("", None),
    ],
)
def test_quantities_are_exact_decimals_with_four_places_or_null(raw: str, quantity: Decimal | None) -> None:
    assert _one(lambda e: norm.parse_quantity(e, 4), raw) == quantity


def test_fen_are_written_back_as_yuan_text() -> None:
    frame = pl.DataFrame({"fen": [123456, 5, -250, 0]})
    out = frame.select(norm.fen_to_yuan_text(pl.col("fen"))).to_series().to_list()
    assert out == ["1234.56", "0.05", "-2.50", "0.00"]


_NAME_TEXT = st.lists(
    st.text(alphabet="张三丰王秀英.·・ \u3000\u00a0\t\u200bAbi", max_size=8) | st.none(), min_size=1, max_size=30
)


@settings(max_examples=200, deadline=None)
@given(_NAME_TEXT)
def test_names_are_cleaned_as_by_the_plain_chain_of_replacements(names: list[str | None]) -> None:
    plain = (
        pl.col("name")
        .str.replace_many(
            [*norm.ZERO_WIDTH, *norm.DOT_LOOKALIKES], [""] * len(norm.ZERO_WIDTH) + ["·"] * len(norm.DOT_LOOKALIKES)
        )
        .str.replace_all(r"(\p{Han})\.(\p{Han})", "${1}·${2}")
        .str.replace_all(r"(\p{Han})\s+(\p{Han})", "${1}${2}")
        .str.replace_all(r"(\p{Han})\s+(\p{Han})", "${1}${2}")
        .str.strip_chars()
    )
    expected = pl.when(plain == "").then(pl.lit(None, pl.String)).otherwise(plain)
    frame = pl.DataFrame({"name": names}, schema={"name": pl.String})
    got = frame.lazy().select(norm.clean_name(pl.col("name"))).collect().to_series().to_list()
    assert got == frame.select(expected).to_series().to_list()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=norm.INVISIBLE + "a,\n", max_size=4) | st.none(), min_size=1, max_size=20))
def test_a_cell_of_whitespace_and_zero_width_characters_only_is_blank(cells: list[str | None]) -> None:
    frame = pl.DataFrame({"c": cells}, schema={"c": pl.String})
    got = frame.select(norm.blank_to_null(pl.col("c"))).to_series().to_list()
    assert got == [None if c is None or not c.strip(norm.INVISIBLE) else c for c in cells]
