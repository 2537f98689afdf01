"""validate_partitioned gives validate's report, whatever the number of parts, and keeps nothing behind."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from tests.idnumbers import with_check as _id
from yikatong.catalog import Catalog, SubsidyItem
from yikatong.errors import ReferenceDataError
from yikatong.ingest import load_ledger, load_reference, load_registry, read_roster
from yikatong.rules import (
    RULES,
    ValidationContext,
    ValidationReport,
    partitioned,
    routing,
    validate,
    validate_partitioned,
)
from yikatong.rules._idparse import ID_PARSE
from yikatong.rules._rule import Finding, Rule, RuleEnv
from yikatong.rules.near import MAX_BLOCK
from yikatong.synth import generate


def _synth(catalog: Catalog, item: str, rows: int, tmp: Path) -> tuple[pl.DataFrame, ValidationContext]:
    data = generate(rows, catalog=catalog, item=item, period="2026-11", seed=11, defect_rate=0.2)
    paths = data.write(tmp, format="parquet", context_format="parquet")
    roster = read_roster(data.roster)
    references = {
        key.split(":", 1)[1]: load_reference(key.split(":", 1)[1], p)[1] for key, p in paths.items() if ":" in key
    }
    ctx = ValidationContext(
        catalog=catalog,
        registry=load_registry(paths["registry"]),
        reference=references,  # type: ignore[arg-type]
        ledger=load_ledger(paths["ledger"]),
        declared_count=roster.height,
        declared_total_fen=int(roster["amount_fen"].sum() or 0) + 1,
    )
    return roster, ctx


def assert_same_report(a: ValidationReport, b: ValidationReport) -> None:
    assert a.rules_run == b.rules_run
    assert a.skipped == b.skipped
    assert_frame_equal(a.verdicts, b.verdicts)
    assert_frame_equal(a.issues, b.issues)
    assert_frame_equal(a.examples, b.examples)


@pytest.mark.parametrize("partitions", [1, 3, 8])
def test_a_person_item_roster_gives_the_single_plan_report_for_any_number_of_parts(
    catalog: Catalog, tmp_path: Path, partitions: int
) -> None:
    roster, ctx = _synth(catalog, "GLJT", 3000, tmp_path)
    kw = {"item": catalog["GLJT"], "period": "2026-11", "context": ctx, "rules": RULES}
    whole = validate(roster, **kw)  # type: ignore[arg-type]
    parts = validate_partitioned(roster.lazy(), partitions=partitions, workdir=tmp_path, **kw)  # type: ignore[arg-type]
    assert_same_report(whole, parts)
    # the synthetic defects reach the cross-row rules, so the comparison covers them
    found = set(whole.issues["code"])
    assert {"DUP_IN_BATCH", "ACCOUNT_SHARED", "DUP_ALREADY_PAID", "BATCH_TOTAL_MISMATCH", "DUP_NEAR"} <= found, found


def test_a_household_item_roster_gives_the_single_plan_report(catalog: Catalog, tmp_path: Path) -> None:
    roster, ctx = _synth(catalog, "DB", 2000, tmp_path)
    kw = {"item": catalog["DB"], "period": "2026-11", "context": ctx, "rules": RULES}
    assert_same_report(validate(roster, **kw), validate_partitioned(roster, partitions=4, **kw))  # type: ignore[arg-type]


def test_a_payee_limit_on_a_person_item_counts_each_household_whole(catalog: Catalog, tmp_path: Path) -> None:
    roster, ctx = _synth(catalog, "GLJT", 2000, tmp_path)
    item = catalog["GLJT"].model_copy(update={"max_payees_per_household": 1})
    kw = {"item": item, "period": "2026-11", "context": ctx, "rules": RULES}
    whole = validate(roster, **kw)  # type: ignore[arg-type]
    assert "household has" in " ".join(whole.issues.filter(pl.col("code") == "AMOUNT_OUTLIER")["evidence"])
    assert_same_report(whole, validate_partitioned(roster, partitions=5, **kw))  # type: ignore[arg-type]


def _small(ids: list[str], heads: list[str | None], accounts: list[str]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "id_number": ids,
            "name": ["张三"] * len(ids),
            "account": accounts,
            "amount_fen": [10_000] * len(ids),
            "household_head_id": heads,
        },
        schema={
            "id_number": pl.String,
            "name": pl.String,
            "account": pl.String,
            "amount_fen": pl.Int64,
            "household_head_id": pl.String,
        },
    )


def test_a_person_in_two_households_is_a_duplicate_though_the_heads_fall_in_different_parts(catalog: Catalog) -> None:
    person = _id("50024119400101123")
    heads = [_id(f"5002411950010{i}123") for i in range(1, 9)]
    ids = [person, person, *heads[2:]]
    roster = _small(ids, [heads[0], heads[1], *heads[2:]], [f"62170000000011111{i}" for i in range(8)])
    kw = {"item": catalog["DB"], "period": "2026-11", "rules": RULES}
    whole = validate(roster, **kw)  # type: ignore[arg-type]
    parts = validate_partitioned(roster, partitions=7, **kw)  # type: ignore[arg-type]
    assert whole.issues.filter(pl.col("code") == "DUP_IN_BATCH")["row_id"].to_list() == [1, 2]
    assert_same_report(whole, parts)


def test_an_account_shared_by_people_of_different_parts_is_found(catalog: Catalog) -> None:
    ids = [_id(f"5002411940010{i}123") for i in range(1, 9)]
    roster = _small(ids, [None] * 8, ["6217000000001111110"] * 8)
    registry = pl.LazyFrame(
        {
            "id_number": [ids[0]],
            "account": ["6217000000001111110"],
            "account_kind": ["card"],
            "bank": ["农商行"],
            "holder_name": ["张三"],
            "status": ["active"],
        }
    )
    ctx = ValidationContext(registry=registry)
    kw = {"item": catalog["GLJT"], "period": "2026-11", "rules": RULES, "context": ctx}
    parts = validate_partitioned(roster, partitions=8, **kw)  # type: ignore[arg-type]
    shared = parts.issues.filter(pl.col("code") == "ACCOUNT_SHARED")
    assert shared.height == 8
    assert_same_report(validate(roster, **kw), parts)  # type: ignore[arg-type]


@pytest.mark.parametrize("partitions", [2, 5])
def test_near_duplicates_are_paired_across_parts_and_reported_as_validate_reports_them(
    catalog: Catalog, partitions: int
) -> None:
    twin_a, twin_b = _id("50024119400101123"), _id("50024119400101124")  # one digit apart: name+birth, region+birth
    crowd = [_id(f"500241194502027{i:02d}") for i in range(0, 99, 3)]  # 33 namesakes born the same day
    ids = [twin_a, _id("50024119500202234"), twin_b, _id("50024119600303345"), *crowd]
    names = ["张三", "李四", "张三", "李四", *(["王五"] * len(crowd))]
    roster = pl.DataFrame(
        {
            "id_number": ids,
            "name": names,
            "village": ["石桥村"] * len(ids),  # every namesake pair is in one village
            "household_head_id": [None, ids[1], None, ids[1], *crowd],
            "account": [f"62170000000{i:08d}" for i in range(len(ids))],
            "amount_fen": [10_000] * len(ids),
        }
    )
    kw = {"item": catalog["GLJT"], "period": "2026-11"}
    whole = validate(roster, **kw)  # type: ignore[arg-type]
    near = whole.issues.filter(pl.col("code") == "DUP_NEAR")
    assert {1, 2, 3, 4} <= set(near["row_id"]), near
    assert near.height > 4  # the namesakes of one village pair among themselves
    assert_same_report(whole, validate_partitioned(roster, partitions=partitions, **kw))  # type: ignore[arg-type]


def test_a_near_duplicate_block_too_large_to_pair_is_left_unpaired_in_parts_too(catalog: Catalog) -> None:
    crowd = [_id(f"50024119450202{i:03d}") for i in range(MAX_BLOCK + 1)]  # one name+birth block, too large
    roster = pl.DataFrame({"id_number": crowd, "name": ["王五"] * len(crowd), "amount_fen": [10_000] * len(crowd)})
    kw = {"item": catalog["GLJT"], "period": "2026-11"}
    whole = validate(roster, **kw)  # type: ignore[arg-type]
    assert_same_report(whole, validate_partitioned(roster, partitions=3, **kw))  # type: ignore[arg-type]


def _same_name_twice(env: RuleEnv) -> Finding:
    return Finding(hit=pl.len().over("_id_person", "name") > 1, evidence=pl.lit("same person and name twice"))


def test_a_rule_added_by_a_caller_is_routed_by_the_key_it_declares(catalog: Catalog) -> None:
    person = _id("50024119400101123")
    heads = [_id(f"5002411950010{i}123") for i in range(1, 10)]  # the person's two rows are in two households
    roster = _small([person, *heads[1:8], person], list[str | None](heads), [f"62170000000011111{i}" for i in range(9)])
    rule = Rule(
        code="X_SAME_NAME_TWICE",
        family="duplicates",
        severity="review",
        message_zh="同一人同名出现两次",
        message_en="the same person and name twice",
        build=_same_name_twice,
        derivations=(ID_PARSE,),
        key="person",
    )
    kw = {"item": catalog["DB"], "period": "2026-11", "rules": [*RULES, rule]}  # household item: split by head
    whole = validate(roster, **kw)  # type: ignore[arg-type]
    assert whole.issues.filter(pl.col("code") == "X_SAME_NAME_TWICE")["row_id"].to_list() == [1, 9]
    assert_same_report(whole, validate_partitioned(roster, partitions=7, **kw))  # type: ignore[arg-type]


def test_the_runners_name_no_rule_code() -> None:
    runners = [Path(m.__file__ or "").read_text(encoding="utf-8") for m in (partitioned, routing)]
    named = [r.code for r in RULES if any(r.code in text for text in runners)]
    assert named == []


def test_an_empty_roster_gives_an_empty_report(catalog: Catalog) -> None:
    roster = _small([], [], [])
    report = validate_partitioned(roster, item=catalog["GLJT"], period="2026-11", partitions=3)
    assert report.rows == 0
    assert report.issues.filter(pl.col("row_id").is_not_null()).is_empty()
    # The only findings are about the batch: the mandatory controls this call did not supply, as validate says.
    assert report.batch_issues["code"].to_list() == ["CONTROL_MISSING"]
    assert_same_report(report, validate(roster, item=catalog["GLJT"], period="2026-11"))


@pytest.mark.parametrize("partitions", [0, -3, 2.5, True])
def test_a_number_of_parts_that_is_not_a_whole_number_above_zero_is_refused(
    catalog: Catalog, partitions: object
) -> None:
    roster = _small([_id("50024119400101123")], [None], ["6217000000001111110"])
    with pytest.raises(ValueError, match="at least 1"):
        validate_partitioned(roster, item=catalog["GLJT"], period="2026-11", partitions=partitions)  # type: ignore[arg-type]


def test_a_missing_working_folder_is_an_os_error_naming_it(catalog: Catalog, tmp_path: Path) -> None:
    roster = _small([_id("50024119400101123")], [None], ["6217000000001111110"])
    with pytest.raises(FileNotFoundError, match="nope"):
        validate_partitioned(roster, item=catalog["GLJT"], period="2026-11", workdir=tmp_path / "nope")


def test_a_roster_without_id_numbers_is_refused(catalog: Catalog) -> None:
    with pytest.raises(ValueError, match="id_number"):
        validate_partitioned(pl.DataFrame({"name": ["张三"]}), item=catalog["GLJT"], period="2026-11")


def test_a_context_frame_missing_a_column_is_refused_before_any_work(catalog: Catalog, tmp_path: Path) -> None:
    roster = _small([_id("50024119400101123")], [None], ["6217000000001111110"])
    ctx = ValidationContext(registry=pl.LazyFrame({"id_number": ["x"]}))
    with pytest.raises(ReferenceDataError, match="registry"):
        validate_partitioned(roster, item=catalog["GLJT"], period="2026-11", context=ctx, workdir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_the_working_files_are_removed_afterwards(catalog: Catalog, tmp_path: Path) -> None:
    roster = _small([_id(f"5002411940010{i}123") for i in range(1, 6)], [None] * 5, ["6217000000001111110"] * 5)
    validate_partitioned(roster, item=catalog["GLJT"], period="2026-11", partitions=2, workdir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_the_number_of_parts_follows_the_roster_size_by_default(catalog: Catalog) -> None:
    roster = _small([_id("50024119400101123")] * 3, [None] * 3, ["6217000000001111110"] * 3)
    report = validate_partitioned(roster, item=catalog["GLJT"], period="2026-11")
    assert report.verdicts["verdict"].to_list() == ["block"] * 3  # one part holds all three copies


_TEXT = st.text(alphabet=st.sampled_from("0123456789Xx 张三·-"), max_size=20)
_HEAD = st.sampled_from([_id("50024119400101123"), _id("50024119500202234"), "", None])
_ACCOUNT = st.sampled_from(["6217000000001111110", "6217000000002222220", ""])


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.one_of(_TEXT, st.sampled_from([_id("50024119400101123"), _id("50024119500202234")])),
            _HEAD,
            _ACCOUNT,
            st.none() | st.integers(-(10**6), 10**6),
        ),
        min_size=1,
        max_size=12,
    ),
    partitions=st.integers(1, 6),
    item=st.sampled_from(["GLJT", "DB"]),
)
def test_any_roster_gives_the_single_plan_report(
    catalog: Catalog, rows: list[tuple[str, str | None, str, int | None]], partitions: int, item: str
) -> None:
    roster = pl.DataFrame(
        {
            "id_number": [r[0] for r in rows],
            "name": ["张三"] * len(rows),
            "household_head_id": [r[1] for r in rows],
            "account": [r[2] for r in rows],
            "amount_fen": [r[3] for r in rows],
        },
        schema_overrides={"amount_fen": pl.Int64, "household_head_id": pl.String},
    )
    chosen: SubsidyItem = catalog[item]
    kw = {"item": chosen, "period": "2026-11", "rules": RULES}
    assert_same_report(validate(roster, **kw), validate_partitioned(roster, partitions=partitions, **kw))  # type: ignore[arg-type]


def test_a_rule_declaring_an_unknown_key_is_refused_naming_it(catalog: Catalog) -> None:
    rule = Rule(
        code="X_ODD",
        family="duplicates",
        severity="review",
        message_zh="未知分组",
        message_en="unknown grouping",
        build=_same_name_twice,
        derivations=(ID_PARSE,),
        key="village",  # type: ignore[arg-type]
    )
    roster = _small([_id("50024119400101123")], [None], ["6217000000001111110"])
    with pytest.raises(ValueError, match="X_ODD declares key 'village'"):
        validate(roster, item=catalog["GLJT"], period="2026-11", rules=[rule])
