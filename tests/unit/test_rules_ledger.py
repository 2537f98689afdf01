from __future__ import annotations

import polars as pl
import pytest

from tests.idnumbers import with_check as _id
from yikatong.catalog import Catalog
from yikatong.errors import PeriodKindError
from yikatong.rules import ValidationContext, ValidationReport, validate
from yikatong.rules.ledger import RULES, period_bounds

A = _id("50024119400101123")
B = _id("50024119450303224")


def _ledger(rows: list[tuple[str, str, str, int, str]]) -> pl.LazyFrame:
    return pl.LazyFrame(
        rows,
        schema={
            "id_number": pl.String,
            "item": pl.String,
            "period": pl.String,
            "amount_fen": pl.Int64,
            "status": pl.String,
        },
        orient="row",
    )


def _run(catalog: Catalog, item: str, ledger: pl.LazyFrame, *, with_catalog: bool = False) -> ValidationReport:
    roster = pl.DataFrame({"name": ["张伟", "李娜"], "id_number": [A, B]})
    ctx = ValidationContext(ledger=ledger, catalog=catalog if with_catalog else None)
    return validate(roster, item=catalog[item], period="2026-11", context=ctx, rules=RULES)


@pytest.mark.parametrize(
    ("status", "duplicate"),
    [("paid", True), ("sent", True), ("failed", False), ("returned", False), ("reissued", False)],
)
def test_only_paid_or_in_flight_payments_make_a_duplicate(catalog: Catalog, status: str, duplicate: bool) -> None:
    report = _run(catalog, "GLJT", _ledger([(A, "GLJT", "2026-11", 10000, status)]))
    assert (report.issues["code"].to_list() == ["DUP_ALREADY_PAID"]) is duplicate


def test_a_row_returned_and_reissued_later_is_still_a_duplicate_of_the_reissue(catalog: Catalog) -> None:
    ledger = _ledger([(A, "GLJT", "2026-11", 10000, "returned"), (A, "GLJT", "2026-11", 10000, "paid")])
    report = _run(catalog, "GLJT", ledger)
    assert report.issues.select("row_id", "severity", "evidence").rows() == [
        (1, "block", "ledger: GLJT 2026-11 already paid, 100.00 yuan")
    ]


def test_other_items_and_periods_are_not_duplicates(catalog: Catalog) -> None:
    ledger = _ledger([(A, "GLJT", "2026-10", 10000, "paid"), (A, "ZDJSBT", "2026-11", 59000, "paid")])
    assert _run(catalog, "GLJT", ledger).issues.is_empty()


def test_receiving_an_exclusive_item_in_the_same_period_is_blocked(catalog: Catalog) -> None:
    ledger = _ledger([(B, "TKGY", "2026-11", 97000, "paid"), (A, "TKGY", "2026-10", 97000, "paid")])
    report = _run(catalog, "DB", ledger)
    assert report.issues.select("row_id", "code", "severity", "evidence").rows() == [
        (2, "DUP_EXCLUSIVE_ITEMS", "block", "ledger: also receives TKGY 2026-11 (paid)")
    ]


def test_a_quarterly_or_yearly_payment_overlapping_the_month_counts(catalog: Catalog) -> None:
    ledger = _ledger([(A, "TKGY", "2026-Q4", 97000, "sent"), (B, "TKGY", "2025", 97000, "paid")])
    report = _run(catalog, "DB", ledger)
    assert report.issues["row_id"].to_list() == [1]


def test_exclusion_declared_on_the_other_item_only_counts_when_the_catalogue_is_given(catalog: Catalog) -> None:
    one_sided = catalog["DB"].model_copy(update={"exclusive_with": ()})
    roster = pl.DataFrame({"name": ["张伟"], "id_number": [A]})
    ledger = _ledger([(A, "TKGY", "2026-11", 97000, "paid")])
    without = validate(roster, item=one_sided, period="2026-11", context=ValidationContext(ledger=ledger), rules=RULES)
    assert without.skipped["DUP_EXCLUSIVE_ITEMS"] == "item DB has no mutually exclusive item"
    with_catalog = validate(
        roster, item=one_sided, period="2026-11", context=ValidationContext(ledger=ledger, catalog=catalog), rules=RULES
    )
    assert with_catalog.issues["code"].to_list() == ["DUP_EXCLUSIVE_ITEMS"]


def test_the_ledger_rules_are_skipped_without_a_ledger(catalog: Catalog) -> None:
    roster = pl.DataFrame({"name": ["张伟"], "id_number": [A]})
    report = validate(roster, item=catalog["DB"], period="2026-11", rules=RULES)
    assert report.skipped == {"DUP_ALREADY_PAID": "not supplied: ledger", "DUP_EXCLUSIVE_ITEMS": "not supplied: ledger"}


def test_period_labels_map_to_their_first_and_last_day() -> None:
    start, end = period_bounds(pl.col("p"))
    got = pl.DataFrame({"p": ["2026-11", "2026-Q4", "2024", "2026-02-03", "2024-02", "junk"]}).select(
        start.cast(pl.String).alias("s"), end.cast(pl.String).alias("e")
    )
    assert got.rows() == [
        ("2026-11-01", "2026-11-30"),
        ("2026-10-01", "2026-12-31"),
        ("2024-01-01", "2024-12-31"),
        ("2026-02-03", "2026-02-03"),
        ("2024-02-01", "2024-02-29"),
        (None, None),
    ]


def test_a_quarterly_payment_of_the_same_item_makes_each_of_its_months_already_paid(catalog: Catalog) -> None:
    ledger = _ledger([(A, "GLJT", "2026-Q4", 30000, "paid"), (B, "GLJT", "2026-Q3", 30000, "paid")])
    report = _run(catalog, "GLJT", ledger)
    assert report.issues.select("row_id", "code", "evidence").rows() == [
        (1, "DUP_ALREADY_PAID", "ledger: GLJT 2026-Q4 already paid, 300.00 yuan")
    ]


def test_an_annual_item_already_paid_for_months_of_its_year_lists_each_overlap(catalog: Catalog) -> None:
    roster = pl.DataFrame({"name": ["张伟"], "id_number": [A]})
    ledger = _ledger([(A, "GDLBZ", "2026-03", 100, "paid"), (A, "GDLBZ", "2026-07", 200, "sent")])
    ledger = pl.concat([ledger, _ledger([(A, "GDLBZ", "2025", 900, "paid")])])
    report = validate(
        roster, item=catalog["GDLBZ"], period="2026", context=ValidationContext(ledger=ledger), rules=RULES
    )
    assert report.issues.select("code", "evidence").rows() == [
        ("DUP_ALREADY_PAID", "ledger: GDLBZ 2026-03 already paid; 2026-07 already sent, 3.00 yuan")
    ]


def test_validation_refuses_a_period_of_another_kind_than_the_items(catalog: Catalog) -> None:
    roster = pl.DataFrame({"name": ["张伟"], "id_number": [A]})
    with pytest.raises(PeriodKindError, match=r"GLJT.*2026-Q4"):
        validate(roster, item=catalog["GLJT"], period="2026-Q4", rules=RULES)
    with pytest.raises(PeriodKindError, match=r"GDLBZ.*2026-11"):
        validate(roster, item=catalog["GDLBZ"], period="2026-11", rules=RULES)
