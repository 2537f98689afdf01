"""A catalogue item's own rules: checked when the catalogue loads, run in the one plan under their local codes."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tests.idnumbers import with_check
from yikatong.catalog import Catalog
from yikatong.errors import CatalogError
from yikatong.rules import validate, validate_partitioned

RULE = {
    "code": "X_AREA",
    "severity": "review",
    "message_zh": "面积超过上限",
    "message_en": "area above the limit",
    "check": "quantity <= max_area_mu AND amount_fen <= quantity * rate_fen + 0.5",
}


def _item(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "code": "GDLBZ",
        "name": "耕地地力保护补贴",
        "department": "农业农村委",
        "period": "year",
        "standard": {"kind": "rate", "rate": "95.80"},
        "params": {"max_area_mu": 50},
        "rules": [RULE],
    }
    base.update(overrides)
    return base


def _catalog(**overrides: object) -> Catalog:
    return Catalog.from_dict({"item": [_item(**overrides)]})


def _roster(quantities: list[str], amounts: list[int]) -> pl.DataFrame:
    ids = [with_check(f"50024119600101{n:03d}") for n in range(1, len(amounts) + 1)]
    return pl.DataFrame(
        {
            "id_number": ids,
            "name": ["张三"] * len(ids),
            "quantity": [Decimal(q) for q in quantities],
            "amount_fen": amounts,
        },
        schema_overrides={"quantity": pl.Decimal(38, 4)},
    )


def test_the_example_catalogue_carries_an_expression_rule(catalog: Catalog) -> None:
    (rule,) = catalog["GDLBZ"].rules
    assert rule.code == "X_GDLBZ_AREA"
    assert "max_area_mu" in rule.check
    assert catalog["GDLBZ"].parameters()["rate_fen"] == 9580


def test_an_expression_rule_fires_where_its_check_is_false_and_names_the_values() -> None:
    item = _catalog()["GDLBZ"]
    roster = _roster(["10", "60", "2"], [95_800, 574_800, 95_800])  # fine; too much land; too much money
    report = validate(roster, item=item, period="2026")
    hits = report.issues.filter(pl.col("code") == "X_AREA").sort("row_id")
    assert hits["row_id"].to_list() == [2, 3]
    assert hits["severity"].to_list() == ["review", "review"]
    assert hits["evidence"].to_list() == ["quantity 60.0000; amount_fen 574800", "quantity 2.0000; amount_fen 95800"]
    assert hits["message_en"].to_list() == ["area above the limit"] * 2


def test_a_roster_without_the_columns_a_check_reads_skips_the_rule() -> None:
    roster = _roster(["10"], [95_800]).drop("quantity")
    report = validate(roster, item=_catalog()["GDLBZ"], period="2026")
    assert report.skipped["X_AREA"] == "roster has no column quantity"


def test_a_severity_override_may_name_a_local_code() -> None:
    item = _catalog(severity={"X_AREA": "block"})["GDLBZ"]
    report = validate(_roster(["60"], [574_800]), item=item, period="2026")
    assert report.issues.filter(pl.col("code") == "X_AREA")["severity"].to_list() == ["block"]
    assert report.verdicts["verdict"].to_list() == ["block"]


def test_the_partitioned_runner_reports_an_expression_rule_as_validate_does(tmp_path: Path) -> None:
    item = _catalog()["GDLBZ"]
    roster = _roster([str(q) for q in range(40, 70)], [q * 9580 for q in range(40, 70)])
    whole = validate(roster, item=item, period="2026").issues.filter(pl.col("code") == "X_AREA")
    parts = validate_partitioned(roster, item=item, period="2026", partitions=3, workdir=tmp_path)
    split = parts.issues.filter(pl.col("code") == "X_AREA")
    assert split.height == 19  # 51 to 69 mu
    assert_frame_equal(split.sort("row_id"), whole.sort("row_id"))


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        (
            {"rules": [{**RULE, "check": "quantity <= max_aera"}]},
            "rules[1].check",
            "unknown column or parameter max_aera at character 13",
        ),
        (
            {"rules": [{**RULE, "check": "EXP(quantity) > 1"}]},
            "rules[1].check",
            "function EXP at character 1 is not allowed",
        ),
        ({"rules": [{**RULE, "check": "quantity * rate_fen"}]}, "rules[1].check", "not true or false"),
        ({"rules": [{**RULE, "code": "AREA"}]}, "rules[1].code", "must be a code"),
        ({"params": {"quantity": 5}}, "params", "taken by a column"),
        ({"severity": {"NOT_A_RULE": "block"}}, "severity", "local codes start with X_"),
    ],
)
def test_a_rule_that_cannot_be_trusted_is_refused_when_the_catalogue_loads(
    overrides: dict[str, object], field: str, words: str
) -> None:
    with pytest.raises(CatalogError) as caught:
        _catalog(**overrides)
    (problem,) = caught.value.problems
    assert problem.item == "GDLBZ"
    assert problem.field == field
    assert words in problem.message_en


def test_a_bad_check_names_the_item_the_rule_and_the_position_in_both_languages() -> None:
    with pytest.raises(CatalogError) as caught:
        _catalog(rules=[{**RULE, "check": "quantity <= max_aera"}])
    text = str(caught.value)
    assert '项目 GDLBZ 字段 rules[1].check 值 "quantity <= max_aera"：规则 X_AREA 第 13 个字符处的 max_aera' in text
    assert 'item GDLBZ, field rules[1].check, value "quantity <= max_aera": rule X_AREA: unknown column' in text
