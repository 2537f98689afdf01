from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from yikatong.catalog import Catalog, SubsidyItem
from yikatong.rules import validate
from yikatong.rules._idparse import ID_PARSE
from yikatong.rules.identity import RULES

BY_CODE = {r.code: r for r in RULES}


def _hits(code: str, roster: Mapping[str, Any], item: SubsidyItem, period: str = "2026-11") -> dict[int, str]:
    report = validate(pl.DataFrame(roster), item=item, period=period, rules=[BY_CODE[code]])
    issues = report.issues.filter(pl.col("code") == code)
    return dict(zip(issues["row_id"].to_list(), issues["evidence"].to_list(), strict=True))


def _with_check(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


def test_the_gb11643_examples_pass_every_identity_rule(catalog: Catalog) -> None:
    roster = pl.DataFrame(
        {"name": ["张三", "李四"], "id_number": ["11010519491231002X", "440524188001010014"], "sex": ["女", "男"]}
    )
    report = validate(roster, item=catalog["ZDJSBT"], period="2026-11", rules=RULES)  # age_min 49
    assert report.issues.is_empty()
    assert report.verdicts["verdict"].to_list() == ["pass", "pass"]


def test_an_empty_or_null_id_is_missing(catalog: Catalog) -> None:
    hits = _hits("ID_MISSING", {"id_number": ["11010519491231002X", "", None, "  "]}, catalog["DB"])
    assert sorted(hits) == [2, 3, 4]


def test_a_malformed_id_is_reported_masked(catalog: Catalog) -> None:
    ids = ["11010519491231002X", "1101051949123100", "11010519491231002x", "１１０１０５１９４９１２３１００２X", ""]
    hits = _hits("ID_FORMAT", {"id_number": ids}, catalog["DB"])
    assert sorted(hits) == [2, 3, 4]
    assert hits[2] == "ID 110105********** (16 characters)"
    assert hits[3] == "ID 110105********002x (18 characters)"
    assert all("19491231" not in e for e in hits.values())


def test_a_15_digit_id_is_upgraded_and_flagged_for_review(catalog: Catalog) -> None:
    hits = _hits("ID_15_DIGIT", {"id_number": ["110105491231002", "11010519491231002X"]}, catalog["DB"])
    assert hits == {1: "upgraded to 110105********002X"}
    report = validate(
        pl.DataFrame({"id_number": ["110105491231002"]}), item=catalog["DB"], period="2026-11", rules=RULES
    )
    assert report.issues["code"].to_list() == ["ID_15_DIGIT"]
    assert report.verdicts["verdict"].to_list() == ["review"]


def test_the_upgraded_15_digit_id_is_judged_by_the_other_rules(catalog: Catalog) -> None:
    # 15-digit ID born 1990-02-30: the upgrade exposes the impossible birth date, and the age rule sees 1990.
    report = validate(
        pl.DataFrame({"id_number": ["500241900230001", "500241300101001"]}),
        item=catalog["GLJT"],
        period="2026-11",
        rules=RULES,
    )
    codes = {(r, c) for r, c in report.issues.select("row_id", "code").iter_rows()}
    assert (1, "ID_BIRTH_DATE") in codes
    assert (2, "AGE_NOT_ELIGIBLE") not in codes  # born 1930: 96 years old
    assert not any(c == "ID_CHECKSUM" for _, c in codes)


def test_a_wrong_check_character_blocks_with_the_expected_one(catalog: Catalog) -> None:
    hits = _hits("ID_CHECKSUM", {"id_number": ["110105194912310021", "440524188001010014"]}, catalog["DB"])
    assert hits == {1: "check character 1, expected X"}


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.text(alphabet="0123456789", min_size=17, max_size=17), st.sampled_from("0123456789X")),
        min_size=1,
        max_size=50,
    )
)
def test_the_check_character_agrees_with_python_stdnum(ids: list[tuple[str, str]]) -> None:
    numbers = [body + check for body, check in ids]
    frame = ID_PARSE.apply(pl.LazyFrame({"id_number": numbers}), None).collect()  # type: ignore[arg-type]
    assert frame["_id_check_ok"].to_list() == [ric.calc_check_digit(n) == n[17] for n in numbers]


@pytest.mark.parametrize(
    ("birth", "real"),
    [("20000229", True), ("19000229", False), ("20240229", True), ("20230229", False), ("19491331", False)],
)
def test_february_29_is_real_only_in_leap_years(catalog: Catalog, birth: str, real: bool) -> None:
    hits = _hits("ID_BIRTH_DATE", {"id_number": [_with_check("500241" + birth + "001")]}, catalog["DB"])
    assert (hits == {}) is real
    if not real:
        assert hits[1] == f"birth digits {birth} not a real date"


def test_a_birth_date_after_the_period_blocks(catalog: Catalog) -> None:
    ids = [_with_check("50024120261130001"), _with_check("50024120261201001")]
    hits = _hits("ID_BIRTH_DATE", {"id_number": ids}, catalog["DB"])
    assert hits == {2: "birth date 2026-12-01 after the period's last day 2026-11-30"}


def test_a_region_code_created_after_the_birth_year_passes(catalog: Catalog) -> None:
    # 500241 (Xiushan, Chongqing) dates from 1997; a resident born in 1941 holds it legitimately.
    ids = [_with_check("50024119410101001"), _with_check("51233019410101001"), _with_check("51233019900101001")]
    assert _hits("ID_REGION_UNKNOWN", {"id_number": ids}, catalog["DB"]) == {}
    assert not ric.is_valid(ids[0])  # the trap python-stdnum falls into


def test_a_region_code_that_never_existed_is_reviewed(catalog: Catalog) -> None:
    report = validate(
        pl.DataFrame({"id_number": [_with_check("12345619800101001")]}),
        item=catalog["DB"],
        period="2026-11",
        rules=[BY_CODE["ID_REGION_UNKNOWN"]],
    )
    assert report.issues["evidence"].to_list() == ["region code 123456 never existed in GB/T 2260"]
    assert report.verdicts["verdict"].to_list() == ["review"]


def test_a_region_code_retired_before_the_birth_year_is_reviewed(catalog: Catalog) -> None:
    # 512330 (Xiushan under Sichuan) was last used in 1996: nobody born in 2005 was first registered under it.
    hits = _hits("ID_REGION_UNKNOWN", {"id_number": [_with_check("51233020050101001")]}, catalog["DB"])
    assert hits == {1: "region code 512330 last in use 1996, before the birth year 2005"}


def test_the_17th_digit_parity_must_match_the_sex_column(catalog: Catalog) -> None:
    roster = {
        "id_number": ["11010519491231002X", "11010519491231002X", "440524188001010014", "440524188001010014"],
        "sex": ["女", "男", "男", None],
    }
    hits = _hits("ID_SEX_MISMATCH", roster, catalog["DB"])
    assert hits == {2: "17th digit even (female), sex column 男"}


def test_a_roster_without_a_sex_column_skips_the_sex_rule(catalog: Catalog) -> None:
    report = validate(
        pl.DataFrame({"id_number": ["11010519491231002X"]}), item=catalog["DB"], period="2026-11", rules=RULES
    )
    assert report.skipped["ID_SEX_MISMATCH"] == "roster has no column sex"
    assert report.skipped["NAME_INVALID"] == "roster has no column name"


def test_age_is_counted_on_the_period_first_day(catalog: Catalog) -> None:
    ids = [_with_check("50024119461101001"), _with_check("50024119461102001")]
    hits = _hits("AGE_NOT_ELIGIBLE", {"id_number": ids}, catalog["GLJT"])  # age_min 80
    assert hits == {2: "age 79 on 2026-11-01, item requires 80–"}


def test_a_person_born_on_february_29_turns_older_on_march_1_in_common_years(catalog: Catalog) -> None:
    item = catalog["GLJT"].model_copy(update={"age_min": 26})
    ids = [_with_check("50024120000229001")]
    assert _hits("AGE_NOT_ELIGIBLE", {"id_number": ids}, item, period="2026-03") == {}
    assert _hits("AGE_NOT_ELIGIBLE", {"id_number": ids}, item, period="2026-02") == {
        1: "age 25 on 2026-02-01, item requires 26–"
    }


def test_an_item_without_an_age_range_skips_the_age_rule(catalog: Catalog) -> None:
    report = validate(
        pl.DataFrame({"id_number": ["11010519491231002X"]}), item=catalog["DB"], period="2026-11", rules=RULES
    )
    assert report.skipped["AGE_NOT_ELIGIBLE"] == "item has no age range"


def test_names_with_digits_latin_letters_or_too_long_are_invalid(catalog: Catalog) -> None:
    names = ["张三", "", None, "张3", "Zhang San", "阿依古丽·买买提", "张" * 51, "王２"]
    roster = {"id_number": ["11010519491231002X"] * len(names), "name": names}
    hits = _hits("NAME_INVALID", roster, catalog["DB"])
    assert sorted(hits) == [2, 3, 4, 5, 7, 8]
    assert hits[5] == "name contains Latin letters"
    assert hits[7] == "name has 51 characters (>50)"


def test_latin_names_pass_when_the_item_allows_them(catalog: Catalog) -> None:
    item = catalog["DB"].model_copy(update={"allow_latin_names": True})
    hits = _hits("NAME_INVALID", {"id_number": ["11010519491231002X"], "name": ["Maria Lopez"]}, item)
    assert hits == {}


def test_ids_shorter_than_six_characters_are_reported_as_malformed_not_crash(catalog: Catalog) -> None:
    roster = pl.DataFrame({"row_id": [1, 2], "id_number": ["x", "12345"], "name": ["张三", "李四"]})
    report = validate(roster, item=catalog["GLJT"], period="2026-11", rules=RULES)
    found = report.issues.filter(pl.col("code") == "ID_FORMAT")
    assert found["row_id"].to_list() == [1, 2]
    assert found["evidence"].to_list() == ["ID x (1 characters)", "ID 12345 (5 characters)"]
