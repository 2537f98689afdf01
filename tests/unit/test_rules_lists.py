from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.idnumbers import with_check as _id
from yikatong.adapters.memory_reference import MemoryReference, reference_context
from yikatong.catalog import Catalog, ReferenceListName
from yikatong.errors import ReferenceDataError
from yikatong.ports import ReferenceData
from yikatong.rules import ValidationContext, ValidationReport, validate
from yikatong.rules.lists import RULES

A = _id("50024119400101123")
B = _id("50024119450303224")
C = _id("50024119500505335")


def _run(
    catalog: Catalog, item: str, reference: dict[ReferenceListName, pl.LazyFrame], ids: list[str] | None = None
) -> ValidationReport:
    ids = ids or [A, B, C]
    roster = pl.DataFrame({"name": ["张伟", "李娜", "王芳"][: len(ids)], "id_number": ids})
    return validate(
        roster, item=catalog[item], period="2026-11", context=ValidationContext(reference=reference), rules=RULES
    )


def _deceased(ids: list[str], dates: list[dt.date]) -> pl.LazyFrame:
    return pl.LazyFrame({"id_number": ids, "death_date": dates}, schema={"id_number": pl.String, "death_date": pl.Date})


def _ids(*ids: str) -> pl.LazyFrame:
    return pl.LazyFrame({"id_number": list(ids)}, schema={"id_number": pl.String})


def test_death_before_the_period_blocks_and_inside_the_period_asks_for_review(catalog: Catalog) -> None:
    deceased = _deceased([A, B, C], [dt.date(2026, 10, 31), dt.date(2026, 11, 1), dt.date(2026, 12, 1)])
    report = _run(catalog, "GLJT", {"deceased": deceased})
    issues = report.issues.select("row_id", "code", "severity", "evidence").rows()
    assert issues == [
        (1, "DECEASED", "block", "deceased list: died 2026-10-31, before period 2026-11 starts"),
        (2, "DECEASED_DURING_PERIOD", "review", "deceased list: died 2026-11-01, within period 2026-11"),
    ]
    assert report.verdicts["verdict"].to_list() == ["block", "review", "pass"]


def test_a_person_listed_twice_as_deceased_is_judged_by_the_earliest_date(catalog: Catalog) -> None:
    deceased = _deceased([A, A], [dt.date(2026, 11, 15), dt.date(2026, 9, 1)])
    report = _run(catalog, "GLJT", {"deceased": deceased})
    assert report.issues["code"].to_list() == ["DECEASED"]
    assert report.verdicts.height == 3


def test_a_public_employee_is_for_review_by_default_and_blocked_where_the_item_says_so(catalog: Catalog) -> None:
    means_tested = catalog["DB"].model_copy(update={"severity": {}})
    roster = pl.DataFrame({"name": ["张伟"], "id_number": [A]})
    ctx = ValidationContext(reference={"public_employee": _ids(A)})
    default = validate(roster, item=means_tested, period="2026-11", context=ctx, rules=RULES)
    assert default.issues.select("code", "severity").rows() == [("PUBLIC_EMPLOYEE", "review")]
    overridden = validate(roster, item=catalog["DB"], period="2026-11", context=ctx, rules=RULES)
    assert overridden.issues.select("code", "severity").rows() == [("PUBLIC_EMPLOYEE", "block")]


def test_the_public_employee_rule_does_not_apply_to_items_that_are_not_means_tested(catalog: Catalog) -> None:
    report = _run(catalog, "GLJT", {"public_employee": _ids(A)})
    assert report.skipped["PUBLIC_EMPLOYEE"] == "item GLJT is not means-tested"
    assert report.issues.is_empty()


def test_a_disability_subsidy_requires_the_disabled_persons_list(catalog: Catalog) -> None:
    report = _run(catalog, "CJRLXBT", {"disabled": _ids(A, C)})
    issues = report.issues.select("row_id", "code", "evidence").rows()
    assert issues == [(2, "LIST_REQUIRED_MISSING", "not on required list: disabled")]


def test_a_missing_required_list_skips_the_rule_naming_the_list(catalog: Catalog) -> None:
    report = _run(catalog, "CJRLXBT", {})
    assert report.skipped["LIST_REQUIRED_MISSING"] == "not supplied: reference:disabled"
    assert report.skipped["DECEASED"] == "not supplied: reference:deceased"


def test_dibao_excludes_supported_persons(catalog: Catalog) -> None:
    report = _run(catalog, "DB", {"supported": _ids(B), "public_employee": _ids()})
    assert report.issues.select("row_id", "code", "severity", "evidence").rows() == [
        (2, "LIST_EXCLUDED_PRESENT", "block", "on excluded list: supported")
    ]


def test_an_item_without_list_conditions_skips_the_list_rules(catalog: Catalog) -> None:
    report = _run(catalog, "GLJT", {"disabled": _ids(A)})
    assert report.skipped["LIST_REQUIRED_MISSING"] == "item GLJT requires no list"
    assert report.skipped["LIST_EXCLUDED_PRESENT"] == "item GLJT excludes no list"


@settings(max_examples=25, deadline=None)
@given(
    on_list=st.lists(st.booleans(), min_size=1, max_size=8),
    repeats=st.integers(min_value=1, max_value=3),
)
def test_membership_is_decided_per_person_and_rows_in_equal_rows_out(
    catalog: Catalog, on_list: list[bool], repeats: int
) -> None:
    ids = [_id(f"5002411980010{i:04d}") for i in range(len(on_list))]
    listed = [i for i, flag in zip(ids, on_list, strict=True) for _ in range(repeats) if flag]
    roster = pl.DataFrame({"name": ["张伟"] * len(ids), "id_number": ids})
    ctx = ValidationContext(reference={"disabled": _ids(*listed)})
    report = validate(roster, item=catalog["CJRLXBT"], period="2026-11", context=ctx, rules=RULES)
    assert report.verdicts["row_id"].to_list() == list(range(1, len(ids) + 1))
    blocked = report.verdicts["verdict"].to_list()
    assert blocked == ["pass" if flag else "block" for flag in on_list]


def test_a_memory_reference_source_checks_its_lists_and_feeds_the_context(catalog: Catalog) -> None:
    source = MemoryReference({"deceased": _deceased([A], [dt.date(2026, 10, 1)]).collect(), "disabled": _ids(B)})
    assert isinstance(source, ReferenceData)
    assert source.available() == {"deceased", "disabled"}
    report = validate(
        pl.DataFrame({"name": ["张伟", "李娜"], "id_number": [A, B]}),
        item=catalog["CJRLXBT"],
        period="2026-11",
        context=ValidationContext(reference=reference_context(source)),
        rules=RULES,
    )
    assert report.issues.select("row_id", "code").rows() == [(1, "DECEASED"), (1, "LIST_REQUIRED_MISSING")]
    with pytest.raises(KeyError):
        source.frame("dibao")


def test_a_memory_reference_refuses_unknown_lists_and_missing_columns() -> None:
    with pytest.raises(ReferenceDataError, match="unknown reference list 'poor'"):
        MemoryReference({"poor": _ids(A)})
    with pytest.raises(ReferenceDataError, match="deceased: no column death_date"):
        MemoryReference({"deceased": _ids(A)})
    with pytest.raises(ReferenceDataError, match="column id_number: expected String"):
        MemoryReference({"disabled": pl.LazyFrame({"id_number": [1]})})
