"""Mandatory controls: an item names the inputs its validation must have; a missing one blocks the batch."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from tests.idnumbers import with_check as _id
from yikatong.catalog import Catalog, SubsidyItem
from yikatong.errors import CatalogError
from yikatong.rules import RULES, ValidationContext, validate, validate_partitioned
from yikatong.rules.catalogue_doc import render_rule_catalogue
from yikatong.rules.controls import RULES as CONTROL_RULES
from yikatong.rules.controls import control_report

A = _id("50024119400101123")
ROSTER = pl.DataFrame({"name": ["张伟"], "id_number": [A], "amount_fen": [10_000]})
REGISTRY = pl.LazyFrame(
    {
        "id_number": [A],
        "account": ["6217000000000000012"],
        "account_kind": ["card"],
        "bank": ["RCC"],
        "holder_name": ["张伟"],
        "status": ["active"],
    }
)
LEDGER = pl.LazyFrame(
    schema={"id_number": pl.String, "item": pl.String, "period": pl.String, "amount_fen": pl.Int64, "status": pl.String}
)
DECEASED = pl.LazyFrame(schema={"id_number": pl.String, "death_date": pl.Date})


def _all_three(**extra: object) -> ValidationContext:
    return ValidationContext(registry=REGISTRY, ledger=LEDGER, reference={"deceased": DECEASED}, **extra)  # type: ignore[arg-type]


def test_the_example_catalogue_makes_registry_ledger_and_deceased_list_mandatory_for_every_item(
    catalog: Catalog,
) -> None:
    for item in catalog:
        assert {"registry", "ledger", "deceased"} <= set(item.required_controls), item.code


def test_lists_an_item_requires_or_excludes_are_mandatory_controls_too(catalog: Catalog) -> None:
    assert "disabled" in catalog["CJRLXBT"].required_controls
    assert "supported" in catalog["DB"].required_controls


def test_missing_controls_block_the_batch_naming_each_in_chinese_and_english(catalog: Catalog) -> None:
    report = validate(ROSTER, item=catalog["GLJT"], period="2026-11", rules=CONTROL_RULES)
    assert report.batch_blocked
    assert report.batch_issues.select("code", "severity").rows() == [("CONTROL_MISSING", "block")]
    evidence = report.batch_issues["evidence"][0]
    assert evidence.startswith("未提供必需的控制：一卡通账户登记库 registry、发放台账 ledger、死亡人员名单 deceased / ")
    assert (
        "mandatory control(s) not supplied: registry (one-card account registry), ledger (payment ledger)" in evidence
    )
    assert report.controls.missing == ("registry", "ledger", "deceased")
    assert report.counts_by_verdict == {"pass": 1, "review": 0, "block": 0}  # the rows are judged as usual


def test_one_missing_control_is_the_only_one_named(catalog: Catalog) -> None:
    ctx = ValidationContext(registry=REGISTRY, ledger=LEDGER)
    report = validate(ROSTER, item=catalog["GLJT"], period="2026-11", context=ctx, rules=CONTROL_RULES)
    assert report.controls.missing == ("deceased",)
    assert report.controls.supplied == ("registry", "ledger")
    assert "registry" not in report.batch_issues["evidence"][0]


def test_every_mandatory_control_supplied_gives_no_finding(catalog: Catalog) -> None:
    report = validate(ROSTER, item=catalog["GLJT"], period="2026-11", context=_all_three(), rules=CONTROL_RULES)
    assert report.issues.is_empty()
    assert not report.batch_blocked
    assert report.controls.summary == {
        "required": ["registry", "ledger", "deceased"],
        "supplied": ["registry", "ledger", "deceased"],
        "missing": [],
        "waived": {},
    }


def test_a_waived_control_is_reported_as_waived_not_missing(catalog: Catalog) -> None:
    ctx = ValidationContext(
        ledger=LEDGER, reference={"deceased": DECEASED}, waived_controls={"registry": "登记库迁移中，财政批准"}
    )
    report = validate(ROSTER, item=catalog["GLJT"], period="2026-11", context=ctx, rules=CONTROL_RULES)
    assert report.issues.is_empty()
    assert report.controls.waived == {"registry": "登记库迁移中，财政批准"}
    assert report.summary["controls"]["waived"] == {"registry": "登记库迁移中，财政批准"}


def test_a_waiver_of_a_control_that_was_supplied_is_not_listed(catalog: Catalog) -> None:
    report = control_report(catalog["GLJT"], _all_three(waived_controls={"registry": "x"}))
    assert report.waived == {}


def test_an_item_without_mandatory_controls_skips_the_rule(catalog: Catalog) -> None:
    item = catalog["GLJT"].model_copy(update={"mandatory_controls": ()})
    report = validate(ROSTER, item=item, period="2026-11", rules=CONTROL_RULES)
    assert report.skipped == {"CONTROL_MISSING": "item GLJT names no mandatory control"}


def test_the_library_rule_set_checks_controls_on_both_runners(catalog: Catalog, tmp_path: Path) -> None:
    ctx = ValidationContext(registry=REGISTRY, reference={"deceased": DECEASED})
    memory = validate(ROSTER, item=catalog["GLJT"], period="2026-11", context=ctx, rules=RULES)
    parts = validate_partitioned(
        ROSTER, item=catalog["GLJT"], period="2026-11", context=ctx, partitions=2, workdir=tmp_path, rules=RULES
    )
    for report in (memory, parts):
        assert report.batch_issues.filter(pl.col("code") == "CONTROL_MISSING").height == 1
        assert report.controls.missing == ("ledger",)


@pytest.mark.parametrize("bad", [["registery"], ["ledger", "bank"], "registry"])
def test_an_unknown_mandatory_control_is_refused_naming_the_field(bad: object) -> None:
    item = {
        "code": "GLJT",
        "name": "高龄津贴",
        "department": "民政局",
        "standard": {"kind": "fixed", "amount": "100.00"},
        "mandatory_controls": bad,
    }
    with pytest.raises(CatalogError, match="item GLJT, field mandatory_controls"):
        Catalog.from_dict({"item": [item]})


def test_the_rule_catalogue_lists_control_missing() -> None:
    text = render_rule_catalogue(RULES)
    assert "## Mandatory controls 必需的控制" in text
    assert "| `CONTROL_MISSING` | block (batch) |" in text
    assert "Not yet implemented" not in text


def test_a_death_date_list_counts_as_the_deceased_control_even_when_empty(catalog: Catalog) -> None:
    item: SubsidyItem = catalog["GLJT"]
    empty = pl.LazyFrame({"id_number": [A], "death_date": [dt.date(2020, 1, 1)]}).clear()
    report = control_report(item, ValidationContext(reference={"deceased": empty}))
    assert "deceased" in report.supplied
