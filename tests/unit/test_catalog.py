from __future__ import annotations

from pathlib import Path

import pytest

from yikatong.catalog import Catalog, FixedStandard, RateStandard, TableStandard
from yikatong.errors import CatalogError, UnknownItem


def _item(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "code": "GLJT",
        "name": "高龄津贴",
        "department": "民政局",
        "standard": {"kind": "fixed", "amount": "100.00"},
    }
    base.update(overrides)
    return base


def test_example_catalogue_has_the_required_items(catalog: Catalog) -> None:
    for code in ("GLJT", "GDLBZ", "CJRLXBT", "DB", "TKGY"):
        assert code in catalog


def test_gljt_is_a_monthly_fixed_hundred_yuan_for_people_aged_eighty(catalog: Catalog) -> None:
    item = catalog["GLJT"]
    assert item.department == "民政局"
    assert item.unit == "person"
    assert item.period == "month"
    assert item.standard == FixedStandard(amount="100.00")
    assert item.standard.amount == 10000
    assert item.age_min == 80


def test_example_items_carry_their_standards_and_lists(catalog: Catalog) -> None:
    assert isinstance(catalog["GDLBZ"].standard, RateStandard)
    assert catalog["CJRLXBT"].requires_lists == ("disabled",)
    assert catalog["DB"].means_tested
    assert "TKGY" in catalog["DB"].exclusive_with
    assert "DB" in catalog["TKGY"].exclusive_with
    assert isinstance(catalog["TKGY"].standard, TableStandard)


def test_amounts_are_held_as_integer_fen() -> None:
    catalog = Catalog.from_dict({"item": [_item(standard={"kind": "fixed", "amount": "1234.5"})]})
    assert catalog["GLJT"].standard == FixedStandard(amount="1234.50")
    assert catalog["GLJT"].standard.amount == 123450


def test_an_amount_with_three_decimals_names_the_item_and_field() -> None:
    with pytest.raises(
        CatalogError, match=r"item GLJT, field standard\.amount, value \"1\.005\": more than two decimals"
    ):
        Catalog.from_dict({"item": [_item(standard={"kind": "fixed", "amount": "1.005"})]})


@pytest.mark.parametrize("amount", ["1e3", "1_000", "100 50", "1000000000000000", 10**15, "１００"])
def test_a_catalogue_amount_is_read_by_the_strict_grammar(amount: object) -> None:
    with pytest.raises(
        CatalogError, match=r"项目 GLJT 字段 standard\.amount 值 .*：金额.* / item GLJT, field standard\.amount"
    ):
        Catalog.from_dict({"item": [_item(standard={"kind": "fixed", "amount": amount})]})


def test_an_unknown_rule_code_in_severity_overrides_is_refused() -> None:
    with pytest.raises(CatalogError, match=r"item GLJT, field severity.*NOT_A_RULE"):
        Catalog.from_dict({"item": [_item(severity={"NOT_A_RULE": "block"})]})


def test_an_unknown_field_is_refused_with_its_name() -> None:
    with pytest.raises(CatalogError, match="item GLJT, field colour"):
        Catalog.from_dict({"item": [_item(colour="red")]})


def test_exclusive_with_must_name_an_item_of_the_catalogue() -> None:
    with pytest.raises(
        CatalogError, match='item GLJT, field exclusive_with, value "XYZ": no such item in the catalogue'
    ):
        Catalog.from_dict({"item": [_item(exclusive_with=["XYZ"])]})


def test_duplicate_item_codes_are_refused() -> None:
    with pytest.raises(CatalogError, match="duplicate item code"):
        Catalog.from_dict({"item": [_item(), _item()]})


def test_an_inverted_age_range_is_refused() -> None:
    with pytest.raises(CatalogError, match="age_min must not exceed age_max"):
        Catalog.from_dict({"item": [_item(age_min=80, age_max=60)]})


def test_an_empty_catalogue_is_refused() -> None:
    with pytest.raises(CatalogError, match="no \\[\\[item\\]\\]"):
        Catalog.from_dict({})


def test_invalid_toml_is_a_catalog_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[[item]\ncode=", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"bad\.toml: not valid TOML"):
        Catalog.from_toml(path)


def test_an_unknown_item_is_a_key_error(catalog: Catalog) -> None:
    with pytest.raises(KeyError):
        catalog["NOPE"]
    with pytest.raises(UnknownItem, match="NOPE"):
        catalog["NOPE"]


def test_every_problem_of_every_item_is_listed_at_once() -> None:
    bad = [
        _item(department="", period="weekly", colour="red"),
        _item(code="gdlbz", standard={"kind": "ratex"}),
        _item(code="DB", exclusive_with=["NOPE"]),
    ]
    with pytest.raises(CatalogError) as caught:
        Catalog.from_dict({"item": bad})
    where = [(p.item, p.field, p.value) for p in caught.value.problems]
    assert where == [
        ("GLJT", "department", '""'),
        ("GLJT", "period", '"weekly"'),
        ("GLJT", "colour", '"red"'),
        ("gdlbz", "code", '"gdlbz"'),
        ("gdlbz", "standard.kind", '"ratex"'),
        ("DB", "exclusive_with", '"NOPE"'),
    ]
    assert str(caught.value).startswith("补贴清单有 6 处错误 / the catalogue has 6 problem(s):\n")


def test_catalogue_problems_speak_chinese_first_and_never_in_pydantic_words() -> None:
    with pytest.raises(CatalogError) as caught:
        Catalog.from_dict({"item": [_item(period="weekly", age_min="old"), {"name": "x"}]})
    text = str(caught.value)
    for pydantic_words in ("Input should", "Value error", "validation error", "Field required", "type=", "pydantic"):
        assert pydantic_words not in text
    assert '项目 GLJT 字段 period 值 "weekly"：须为以下之一："month", "quarter", "year", "once"' in text
    assert 'item GLJT, field age_min, value "old": must be a whole number' in text
    assert "项目 #2 字段 code：缺少必填字段 / item #2, field code: required field is missing" in text
