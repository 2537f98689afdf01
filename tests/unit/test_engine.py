from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from yikatong.catalog import Catalog
from yikatong.errors import ReferenceDataError
from yikatong.ingest import load_ledger, load_reference, load_registry, read_roster
from yikatong.rules import Finding, Rule, RuleEnv, ValidationContext, engine, validate
from yikatong.rules.ingestion import RULES as INGESTION
from yikatong.synth import generate


def _roster() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "row_id": [1, 2, 3],
            "source_line": [2, 3, 4],
            "name": ["张三", "李四", "王五"],
            "id_number": ["11010519491231002X", "440524188001010014", "bad"],
            "amount_fen": [10000, 10000, 10000],
            "flag_row_malformed": [False, False, True],
            "flag_name_normalised": [True, False, False],
        }
    )


def _rule(code: str, severity: str, build: object, **kw: object) -> Rule:
    return Rule(code=code, family="test", severity=severity, message_zh="中", message_en="en", build=build, **kw)  # type: ignore[arg-type]


def test_every_row_gets_exactly_one_verdict(catalog: Catalog) -> None:
    report = validate(_roster(), item=catalog["GLJT"], period="2026-11", rules=INGESTION)
    assert report.verdicts["row_id"].to_list() == [1, 2, 3]
    assert report.verdicts["verdict"].to_list() == ["pass", "pass", "block"]


def test_a_fix_finding_is_recorded_but_does_not_change_the_verdict(catalog: Catalog) -> None:
    report = validate(_roster(), item=catalog["GLJT"], period="2026-11", rules=INGESTION)
    fixes = report.issues.filter(pl.col("code") == "NAME_NORMALISED")
    assert fixes["row_id"].to_list() == [1]
    assert fixes["severity"].to_list() == ["fix"]
    assert report.verdicts["verdict"][0] == "pass"


def test_missing_flag_columns_count_as_false_and_missing_columns_skip_rules(catalog: Catalog) -> None:
    roster = _roster().drop("flag_row_malformed", "source_line")
    report = validate(roster, item=catalog["GLJT"], period="2026-11", rules=INGESTION)
    assert report.skipped["ROW_MALFORMED"] == "roster has no column source_line"
    assert set(report.verdicts["verdict"]) == {"pass"}


def test_a_rule_needing_an_input_not_supplied_is_skipped_with_the_reason(catalog: Catalog) -> None:
    rule = _rule("DECEASED", "block", lambda env: Finding(hit=pl.lit(True)), inputs=("reference:deceased",))
    report = validate(_roster(), item=catalog["GLJT"], period="2026-11", rules=[rule])
    assert report.skipped == {"DECEASED": "not supplied: reference:deceased"}
    assert report.issues.is_empty()


def test_the_catalogue_severity_override_wins_over_the_default(catalog: Catalog) -> None:
    rule = _rule("PUBLIC_EMPLOYEE", "review", lambda env: Finding(hit=pl.col("row_id") == 2))
    report = validate(_roster(), item=catalog["DB"], period="2026-11", rules=[rule])
    assert report.issues["severity"].to_list() == ["block"]
    assert report.verdicts["verdict"].to_list() == ["pass", "block", "pass"]


def test_a_per_row_severity_expression_sets_review_or_block(catalog: Catalog) -> None:
    def build(env: RuleEnv) -> Finding:
        sev = pl.when(pl.col("row_id") == 1).then(pl.lit("review")).otherwise(pl.lit("block"))
        return Finding(hit=pl.lit(True), severity=sev, evidence=pl.col("name"))

    report = validate(
        _roster(),
        item=catalog["GLJT"],
        period="2026-11",
        rules=[_rule("HOLDER_NAME_MISMATCH", "block", build)],
    )
    assert report.verdicts["verdict"].to_list() == ["review", "block", "block"]
    assert report.issues["evidence"].to_list() == ["张三", "李四", "王五"]


def test_a_batch_level_rule_reports_one_issue_without_a_row(catalog: Catalog) -> None:
    def build(env: RuleEnv) -> Finding:
        total = pl.col("amount_fen").sum()
        return Finding(hit=total != env.context.declared_total_fen, evidence=total.cast(pl.String))

    rule = _rule("BATCH_TOTAL_MISMATCH", "block", build, inputs=("declared",), batch_level=True)
    ctx = ValidationContext(declared_total_fen=1)
    report = validate(_roster(), item=catalog["GLJT"], period="2026-11", context=ctx, rules=[rule])
    assert report.batch_blocked
    assert report.batch_issues["evidence"].to_list() == ["30000"]
    assert report.verdicts["verdict"].to_list() == ["pass", "pass", "pass"]


def test_a_lazy_roster_runs_on_the_streaming_engine(catalog: Catalog) -> None:
    report = validate(_roster().lazy(), item=catalog["GLJT"], period="2026-11", rules=INGESTION, engine="streaming")
    assert report.counts_by_verdict == {"pass": 2, "review": 0, "block": 1}


def test_examples_mask_the_id(catalog: Catalog) -> None:
    report = validate(_roster(), item=catalog["GLJT"], period="2026-11", rules=INGESTION)
    assert report.examples.filter(pl.col("code") == "NAME_NORMALISED")["id_masked"].to_list() == ["110105********002X"]


def test_a_roster_without_id_column_is_refused(catalog: Catalog) -> None:
    with pytest.raises(ValueError, match="id_number"):
        validate(pl.DataFrame({"name": ["张三"]}), item=catalog["GLJT"], period="2026-11")


def test_an_unknown_engine_is_refused(catalog: Catalog) -> None:
    with pytest.raises(ValueError, match="unknown engine"):
        validate(_roster(), item=catalog["GLJT"], period="2026-11", engine="gpu")  # type: ignore[arg-type]


def test_summary_counts_codes_and_verdicts(catalog: Catalog) -> None:
    report = validate(_roster(), item=catalog["GLJT"], period="2026-11", rules=INGESTION)
    summary = report.summary
    assert summary["verdicts"] == {"pass": 2, "review": 0, "block": 1}
    assert summary["codes"]["ROW_MALFORMED"]["by_severity"] == {"block": 1}


def test_a_ledger_without_amount_fen_is_refused_naming_the_input_and_column(catalog: Catalog) -> None:
    ledger = pl.LazyFrame({"id_number": ["11010519491231002X"], "item": ["GLJT"], "period": ["2026-10"]})
    with pytest.raises(ReferenceDataError, match=r"ledger: missing column\(s\) amount_fen, status"):
        validate(_roster(), item=catalog["GLJT"], period="2026-11", context=ValidationContext(ledger=ledger))


def test_a_deceased_list_needs_its_death_dates(catalog: Catalog) -> None:
    ctx = ValidationContext(reference={"deceased": pl.LazyFrame({"id_number": ["11010519491231002X"]})})
    with pytest.raises(ReferenceDataError, match="reference:deceased: missing column"):
        validate(_roster(), item=catalog["GLJT"], period="2026-11", context=ctx)


_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=24)


@settings(max_examples=25, deadline=None)
@given(
    rows=st.lists(
        st.tuples(_TEXT, _TEXT, _TEXT, st.none() | st.integers(-(10**12), 10**12), st.none() | _TEXT),
        min_size=1,
        max_size=8,
    )
)
def test_any_cell_text_gets_exactly_one_verdict_per_row_from_every_rule(
    catalog: Catalog, rows: list[tuple[str, str, str, int | None, str | None]]
) -> None:
    roster = pl.DataFrame(
        {
            "row_id": list(range(1, len(rows) + 1)),
            "id_number": [r[0] for r in rows],
            "name": [r[1] for r in rows],
            "account": [r[2] for r in rows],
            "amount_fen": [r[3] for r in rows],
            "household_head_id": [r[4] for r in rows],
        },
        schema_overrides={"amount_fen": pl.Int64, "household_head_id": pl.String},
    )
    report = validate(roster, item=catalog["DB"], period="2026-11")
    assert report.verdicts["row_id"].to_list() == roster["row_id"].to_list()
    assert set(report.verdicts["verdict"]) <= {"pass", "review", "block"}


@pytest.mark.parametrize("item", ["GLJT", "DB"])
def test_a_small_roster_collected_first_gives_the_report_of_the_single_cached_plan(
    catalog: Catalog, tmp_path: Path, item: str
) -> None:
    data = generate(300, catalog=catalog, item=item, period="2026-11", seed=5, defect_rate=0.2)
    paths = data.write(tmp_path, format="parquet", context_format="parquet")
    roster = read_roster(data.roster)
    context = ValidationContext(
        catalog=catalog,
        registry=load_registry(paths["registry"]),
        reference={k.split(":", 1)[1]: load_reference(k.split(":", 1)[1], p)[1] for k, p in paths.items() if ":" in k},  # type: ignore[misc]
        ledger=load_ledger(paths["ledger"]),
        declared_count=roster.height + 1,
    )
    assert roster.height <= engine.SMALL_ROWS  # a frame this small is collected before the branches run
    eager = validate(roster, item=catalog[item], period="2026-11", context=context)
    cached = validate(roster.lazy(), item=catalog[item], period="2026-11", context=context)
    assert eager.rules_run == cached.rules_run
    assert eager.issues.height > 0
    assert_frame_equal(eager.verdicts, cached.verdicts)
    assert_frame_equal(eager.issues, cached.issues)
    assert_frame_equal(eager.examples, cached.examples)
    assert eager.declared == cached.declared
