from __future__ import annotations

from collections.abc import Sequence

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.idnumbers import with_check as _id
from yikatong.catalog import Catalog
from yikatong.rules import validate
from yikatong.rules.near import RULES, merge_pairs, near_duplicates, near_pairs, near_parts


def _roster(rows: Sequence[tuple[str, str, str | None, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"name": pl.String, "id_number": pl.String, "village": pl.String, "household_head_id": pl.String},
        orient="row",
    )


def _pairs(rows: Sequence[tuple[str, str, str | None, str | None]], **kw: int) -> list[tuple[int, int, str]]:
    return near_duplicates(_roster(rows), **kw).pairs.select("row_id", "other_row_id", "blocks").rows()


ORIGINAL = _id("50024119560312123")
ONE_DIGIT_OFF = _id("50024119560312173")
HEAD = _id("50024119300101111")
HEAD2 = _id("50024119310101112")


def test_the_same_name_and_birth_date_with_ids_one_digit_apart_is_reported_both_ways(catalog: Catalog) -> None:
    roster = _roster([("张伟", ORIGINAL, "龙池村", HEAD), ("张伟", ONE_DIGIT_OFF, "石堤村", HEAD2)])
    report = validate(roster, item=catalog["GLJT"], period="2026-11", rules=RULES)
    issues = report.issues.select("row_id", "severity", "evidence").rows()
    assert issues == [
        (1, "review", "possibly the same person as row 2 (name+birth;region+birth, ID distance 1, name score 100)"),
        (2, "review", "possibly the same person as row 1 (name+birth;region+birth, ID distance 1, name score 100)"),
    ]
    assert all(ORIGINAL not in e and ONE_DIGIT_OFF not in e for e in report.issues["evidence"])


def test_traditional_characters_and_dots_do_not_hide_a_near_duplicate() -> None:
    assert _pairs([("張偉", ORIGINAL, None, None), ("张伟", ONE_DIGIT_OFF, None, None)]) == [
        (1, 2, "name+birth;region+birth")
    ]
    assert _pairs([("阿依古丽・买买提", ORIGINAL, None, None), ("阿依古丽·买买提", ONE_DIGIT_OFF, None, None)]) == [
        (1, 2, "name+birth;region+birth")
    ]


def test_namesakes_with_different_birth_dates_are_not_reported() -> None:
    other_birth = _id("50024119610312123")
    assert _pairs([("张伟", ORIGINAL, "龙池村", HEAD), ("张伟", other_birth, "龙池村", HEAD2)]) == []


def test_namesakes_born_the_same_day_with_unrelated_ids_elsewhere_are_not_reported() -> None:
    far = _id("50024119560312987")
    assert _pairs([("王芳", ORIGINAL, "龙池村", HEAD), ("王芳", far, "石堤村", HEAD2)]) == []


def test_namesakes_born_the_same_day_in_the_same_village_are_reported() -> None:
    far = _id("50024119560312987")
    assert _pairs([("王芳", ORIGINAL, "龙池村", HEAD), ("王芳", far, "龙池村", HEAD2)]) == [(1, 2, "name+birth")]


def test_twins_in_one_household_with_different_names_are_not_reported() -> None:
    twin = _id("50024119560312143")
    assert _pairs([("张子涵", ORIGINAL, "龙池村", HEAD), ("张子轩", twin, "龙池村", HEAD)]) == []
    assert _pairs([("李伟", ORIGINAL, "龙池村", HEAD), ("李玮", twin, "龙池村", HEAD)]) == []


def test_the_same_name_in_one_household_is_reported_whatever_the_ids() -> None:
    other = _id("50024119800101987")
    assert _pairs([("张伟", ORIGINAL, "龙池村", HEAD), ("张伟", other, "龙池村", HEAD)]) == [
        (1, 2, "name+village+household")
    ]


def test_a_long_name_with_one_character_more_and_an_id_one_digit_off_is_reported() -> None:
    rows = [("阿依古丽买买提", ORIGINAL, None, None), ("阿依古丽买买提江", ONE_DIGIT_OFF, None, None)]
    assert _pairs(rows) == [(1, 2, "region+birth")]


def test_the_same_id_twice_and_malformed_ids_are_left_to_other_rules() -> None:
    rows = [("张伟", ORIGINAL, None, None), ("张伟", ORIGINAL, None, None), ("张伟", ORIGINAL[:-1], None, None)]
    assert _pairs(rows) == []


def test_a_block_larger_than_the_limit_is_reported_and_not_paired() -> None:
    rows = [("张伟", _id(f"50024119560312{i:03d}"), None, None) for i in range(120, 125)]
    found = near_duplicates(_roster(rows), max_block=3)
    assert found.pairs.is_empty()
    assert found.oversize.sort("block").rows() == [("name+birth", 1, 5), ("region+birth", 1, 5)]


def test_a_roster_without_village_columns_still_uses_the_other_blocks(catalog: Catalog) -> None:
    roster = pl.DataFrame({"name": ["张伟", "张伟"], "id_number": [ORIGINAL, ONE_DIGIT_OFF]})
    report = validate(roster, item=catalog["GLJT"], period="2026-11", rules=RULES)
    assert report.issues["row_id"].to_list() == [1, 2]


@settings(max_examples=30, deadline=None)
@given(st.permutations(list(range(6))))
def test_the_pairs_found_do_not_depend_on_row_order(order: list[int]) -> None:
    people = [
        ("张伟", ORIGINAL, "龙池村", HEAD),
        ("張偉", ONE_DIGIT_OFF, "石堤村", HEAD2),
        ("张子涵", _id("50024119560312143"), "龙池村", HEAD),
        ("王芳", _id("50024119700101222"), "龙池村", HEAD),
        ("王芳", _id("50024119800101222"), "龙池村", HEAD2),
        ("李娜", _id("50024119700101333"), "石堤村", HEAD2),
    ]
    shuffled = [people[i] for i in order]
    found = near_duplicates(_roster(shuffled)).pairs
    ids = {i: shuffled[i - 1][1] for i in range(1, 7)}
    as_ids = {frozenset((ids[a], ids[b])) for a, b in found.select("row_id", "other_row_id").rows()}
    assert as_ids == {frozenset((ORIGINAL, ONE_DIGIT_OFF))}


def test_two_ids_differing_only_in_the_check_character_are_one_pair_named_by_both_block_kinds() -> None:
    wrong_check = ORIGINAL[:17] + ("0" if ORIGINAL[17] != "0" else "1")
    assert _pairs([("张伟", ORIGINAL, None, None), ("张伟", wrong_check, None, None)]) == [
        (1, 2, "name+birth;region+birth")
    ]


def test_a_different_first_character_keeps_ids_one_digit_apart_out_of_the_region_birth_block() -> None:
    assert _pairs([("阿依古丽买买提", ORIGINAL, None, None), ("啊依古丽买买提", ONE_DIGIT_OFF, None, None)]) == []


def test_the_same_household_head_in_another_village_is_not_the_household_block() -> None:
    other = _id("50024119800101987")
    assert _pairs([("张伟", ORIGINAL, "龙池村", HEAD), ("张伟", other, "石堤村", HEAD)]) == []


_PEOPLE = [
    ("张伟", ORIGINAL, "龙池村", HEAD),
    ("張偉", ONE_DIGIT_OFF, "石堤村", HEAD2),
    ("张伟", _id("50024119800101987"), "龙池村", HEAD),
    ("王芳", _id("50024119700101222"), "龙池村", HEAD2),
    ("王芳", _id("50024119700101282"), "石堤村", HEAD),
    ("王芳", _id("50024119700101922"), "龙池村", HEAD2),
    ("阿依古丽买买提", _id("50024119700101333"), None, None),
    ("阿依古丽买买提江", _id("50024119700101335"), None, None),
]


@settings(max_examples=20, deadline=None)
@given(st.integers(min_value=1, max_value=5))
def test_the_pairs_of_every_part_merged_are_the_pairs_of_the_whole_roster(n: int) -> None:
    roster = _roster(_PEOPLE).with_row_index("row_id", offset=1).with_columns(pl.col("row_id").cast(pl.Int64))
    columns = frozenset(roster.columns)
    routed = near_parts(roster.lazy(), columns, n).collect()
    parts = [
        near_pairs(routed.filter(pl.col("_part") == k).drop("_part").lazy(), columns, part=(k, n))[0] for k in range(n)
    ]
    merged = merge_pairs(pl.concat(parts)).sort("row_id", "other_row_id").collect()
    whole = near_duplicates(roster).pairs
    assert merged.select(whole.columns).equals(whole)
    assert whole.select("row_id", "other_row_id").rows() == [(1, 2), (1, 3), (4, 5), (4, 6), (7, 8)]
