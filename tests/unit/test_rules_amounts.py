from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yikatong.catalog import Catalog, RateStandard, SubsidyItem
from yikatong.period import Period
from yikatong.rules import ValidationContext, validate
from yikatong.rules.amounts import RULES

BY_CODE = {r.code: r for r in RULES}
IDS = ["11010519491231002X", "440524188001010014", "500241194101010013", "512330194101010014"]


def _hits(
    code: str,
    roster: Mapping[str, Any],
    item: SubsidyItem,
    context: ValidationContext | None = None,
) -> dict[int | None, str]:
    frame = pl.DataFrame(roster)
    if "id_number" not in frame.columns:
        frame = frame.with_columns(pl.lit(IDS[0]).alias("id_number"))
    period = Period.parse("2026-11").within(item.period)  # an annual item is paid for the year
    report = validate(frame, item=item, period=period, context=context, rules=[BY_CODE[code]])
    assert code not in report.skipped, report.skipped
    issues = report.issues.filter(pl.col("code") == code)
    return dict(zip(issues["row_id"].to_list(), issues["evidence"].to_list(), strict=True))


def _q(*values: str | None) -> pl.Series:
    return pl.Series([None if v is None else Decimal(v) for v in values], dtype=pl.Decimal(38, 4))


def test_missing_zero_and_negative_amounts_are_invalid(catalog: Catalog) -> None:
    roster = {"amount_fen": [10000, None, 0, -500, None], "amount_raw": ["100", "1.234", "0", "-5", ""]}
    hits = _hits("AMOUNT_INVALID", roster, catalog["GLJT"])
    assert hits == {
        2: "amount as written: '1.234' (not an amount with at most two decimals)",
        3: "amount 0.00 yuan is not positive",
        4: "amount -5.00 yuan is not positive",
        5: "amount missing",
    }


def test_a_fixed_standard_must_be_met_to_the_fen(catalog: Catalog) -> None:
    hits = _hits("AMOUNT_STANDARD_MISMATCH", {"amount_fen": [10000, 9999, None]}, catalog["GLJT"])
    assert hits == {2: "amount 99.99 yuan, standard 100.00 yuan"}


@pytest.mark.parametrize(
    ("rounding", "quantity", "expected_fen"),
    [
        ("half_up", "0.9395", 9000),  # 9000.41 fen
        ("half_up", "0.5005", 4795),  # 4794.79 fen
        ("half_up", "2.0880", 20003),  # 20003.04 fen
        ("half_up", "1.2500", 11975),  # exactly 11975.00
        ("down", "0.5005", 4794),
        ("up", "0.9395", 9001),
        ("up", "1.2500", 11975),
    ],
)
def test_rate_times_quantity_is_rounded_to_the_fen_by_the_catalogue_rule(
    catalog: Catalog, rounding: str, quantity: str, expected_fen: int
) -> None:
    base = catalog["GDLBZ"]  # 95.80 yuan per mu
    item = base.model_copy(update={"standard": RateStandard(rate="95.80", rounding=rounding)})
    roster = {"amount_fen": [expected_fen, expected_fen + 1], "quantity": _q(quantity, quantity)}
    hits = _hits("AMOUNT_STANDARD_MISMATCH", roster, item)
    assert list(hits) == [2]
    assert f"= {expected_fen // 100}.{expected_fen % 100:02d} yuan (rounding {rounding})" in hits[2]


def test_a_quantity_missing_not_positive_or_above_the_maximum_is_a_mismatch(catalog: Catalog) -> None:
    roster = {"amount_fen": [9580, 9580, 9580, 574800], "quantity": _q(None, "0", "61", "60")}
    hits = _hits("AMOUNT_STANDARD_MISMATCH", roster, catalog["GDLBZ"])
    assert hits == {
        1: "quantity missing for a rate standard",
        2: "quantity 0.0000 is not a positive quantity",
        3: "quantity 61.0000 above the item's maximum 60.0 亩",
    }


def test_a_rate_standard_without_a_quantity_column_is_skipped(catalog: Catalog) -> None:
    report = validate(
        pl.DataFrame({"id_number": IDS[:1], "amount_fen": [100]}),
        item=catalog["GDLBZ"],
        period="2026",
        rules=RULES,
    )
    assert report.skipped["AMOUNT_STANDARD_MISMATCH"] == "roster has no column quantity"


def test_a_table_standard_is_looked_up_by_category(catalog: Catalog) -> None:
    roster = {"amount_fen": [12000, 10000, 12000, 8000, 8000], "category": ["一级", "一级", "五级", None, " 四级 "]}
    hits = _hits("AMOUNT_STANDARD_MISMATCH", roster, catalog["CJRLXBT"])
    assert hits == {
        2: "amount 100.00 yuan, standard for 一级 is 120.00",
        3: "category '五级' not in the item's table (一级, 二级, 三级, 四级)",
        4: "category missing for a table standard",
    }


def test_an_amount_above_the_cap_per_period_blocks(catalog: Catalog) -> None:
    hits = _hits("AMOUNT_OVER_CAP", {"amount_fen": [10000, 10001]}, catalog["GLJT"])
    assert hits == {2: "amount 100.01 yuan above the cap per period 100.00"}


def test_the_yearly_cap_counts_paid_and_sent_ledger_rows_of_the_same_year(catalog: Catalog) -> None:
    ledger = pl.LazyFrame(
        {
            "id_number": [IDS[0]] * 5 + [IDS[1]],
            "item": ["GLJT", "GLJT", "GLJT", "GLJT", "DB", "GLJT"],
            "period": ["2026-01", "2026-02", "2026-03", "2025-12", "2026-04", "2026-01"],
            "amount_fen": [50000, 50000, 50000, 90000, 90000, 100000],
            "status": ["paid", "sent", "failed", "paid", "paid", "returned"],
        }
    )
    roster = {"id_number": [IDS[0], IDS[1]], "amount_fen": [10000, 10000]}
    hits = _hits("AMOUNT_OVER_CAP", roster, catalog["GLJT"], ValidationContext(ledger=ledger))
    assert hits == {}
    roster = {"id_number": [IDS[0], IDS[1]], "amount_fen": [10000, 10000]}
    ledger = ledger.with_columns(pl.col("status").replace("failed", "paid"))
    hits = _hits("AMOUNT_OVER_CAP", roster, catalog["GLJT"], ValidationContext(ledger=ledger))
    assert hits == {1: "this 100.00 + earlier 2026 payments 1500.00 = 1600.00 above the yearly cap 1200.00"}


def test_an_item_without_caps_skips_the_cap_rule(catalog: Catalog) -> None:
    report = validate(
        pl.DataFrame({"id_number": IDS[:1], "amount_fen": [59000]}),
        item=catalog["ZDJSBT"],
        period="2026-11",
        rules=RULES,
    )
    assert report.skipped["AMOUNT_OVER_CAP"] == "item has no cap"


def test_an_amount_far_above_the_batch_median_is_reviewed(catalog: Catalog) -> None:
    roster = {"amount_fen": [10000, 10000, 10000, 30000, 30001]}
    report = validate(
        pl.DataFrame(roster).with_columns(pl.lit(IDS[0]).alias("id_number")),
        item=catalog["GLJT"],  # outlier_factor 3
        period="2026-11",
        rules=[BY_CODE["AMOUNT_OUTLIER"]],
    )
    assert report.issues["row_id"].to_list() == [5]
    assert report.issues["evidence"].to_list() == ["amount 300.01 > 3 × batch median 100.00"]
    assert report.verdicts["verdict"].to_list() == ["pass"] * 4 + ["review"]


def test_too_many_payees_in_one_household_are_reviewed(catalog: Catalog) -> None:
    roster = {
        "id_number": [IDS[0], IDS[1], IDS[2], IDS[2]],
        "household_head_id": [IDS[0], IDS[0], IDS[2], IDS[2]],
        "amount_fen": [58000, 58000, 58000, 58000],
    }
    hits = _hits("AMOUNT_OUTLIER", roster, catalog["DB"])  # max 1 payee per household
    assert hits == {1: "household has 2 payees, the item allows 1", 2: "household has 2 payees, the item allows 1"}


def test_a_declared_total_that_differs_from_the_rows_blocks_the_batch(catalog: Catalog) -> None:
    roster = {"amount_fen": [10000, 10000, None]}
    ok = _hits("BATCH_TOTAL_MISMATCH", roster, catalog["GLJT"], ValidationContext(declared_count=3))
    assert ok == {}
    ctx = ValidationContext(declared_count=3, declared_total_fen=30000)
    report = validate(
        pl.DataFrame(roster).with_columns(pl.lit(IDS[0]).alias("id_number")),
        item=catalog["GLJT"],
        period="2026-11",
        context=ctx,
        rules=[BY_CODE["BATCH_TOTAL_MISMATCH"]],
    )
    assert report.batch_blocked
    assert report.batch_issues["evidence"].to_list() == ["declared 3 rows, 300.00 yuan; roster has 3 rows, 200.00 yuan"]
    assert report.verdicts["verdict"].to_list() == ["pass"] * 3


def test_without_declared_figures_the_batch_rule_is_skipped(catalog: Catalog) -> None:
    roster = pl.DataFrame({"id_number": IDS[:1], "amount_fen": [1]})
    report = validate(roster, item=catalog["GLJT"], period="2026-11", rules=RULES)
    assert report.skipped["BATCH_TOTAL_MISMATCH"] == "not supplied: declared"


_ROUND = {"half_up": ROUND_HALF_UP, "down": ROUND_DOWN, "up": ROUND_UP}


@settings(max_examples=60, deadline=None)
@given(
    quantities=st.lists(st.integers(min_value=1, max_value=600_000), min_size=1, max_size=20),
    rate=st.integers(min_value=1, max_value=100_000),
    rounding=st.sampled_from(["half_up", "down", "up"]),
)
def test_the_rate_standard_equals_decimal_arithmetic(quantities: list[int], rate: int, rounding: str) -> None:
    item = SubsidyItem(
        code="T",
        name="测试",
        department="农业农村委",
        period="year",
        standard=RateStandard(rate=f"{rate // 100}.{rate % 100:02d}", rounding=rounding),
    )
    qs = [Decimal(q).scaleb(-4) for q in quantities]
    exact = [int((q * rate).quantize(Decimal(1), rounding=_ROUND[rounding])) for q in qs]
    roster = pl.DataFrame(
        {"id_number": IDS[:1] * len(qs), "amount_fen": exact, "quantity": pl.Series(qs, dtype=pl.Decimal(38, 4))}
    )
    rules = [BY_CODE["AMOUNT_STANDARD_MISMATCH"]]
    assert validate(roster, item=item, period="2026", rules=rules).issues.is_empty()
    off_by_one = roster.with_columns(pl.col("amount_fen") + 1)
    assert validate(off_by_one, item=item, period="2026", rules=rules).issues.height == len(qs)


def test_a_rate_standard_has_no_amount_outliers_only_large_quantities(catalog: Catalog) -> None:
    report = validate(
        pl.DataFrame({"id_number": IDS[:1], "amount_fen": [100]}), item=catalog["GDLBZ"], period="2026", rules=RULES
    )
    assert report.skipped["AMOUNT_OUTLIER"].startswith("rate standard")
