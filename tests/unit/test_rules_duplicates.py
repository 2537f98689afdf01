from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from yikatong.catalog import Catalog
from yikatong.rules import validate
from yikatong.rules.duplicates import RULES


def _issues(catalog: Catalog, roster: Mapping[str, Any]) -> dict[int, str]:
    report = validate(pl.DataFrame(roster), item=catalog["GLJT"], period="2026-11", rules=RULES)
    return dict(zip(report.issues["row_id"].to_list(), report.issues["evidence"].to_list(), strict=True))


def test_three_copies_of_one_person_are_all_flagged_naming_the_others(catalog: Catalog) -> None:
    ids = ["11010519491231002X", "440524188001010014", "11010519491231002X", "11010519491231002X"]
    assert _issues(catalog, {"id_number": ids}) == {
        1: "also in rows 3, 4",
        3: "also in rows 1, 4",
        4: "also in rows 1, 3",
    }


def test_a_15_digit_id_and_its_18_digit_upgrade_are_the_same_person(catalog: Catalog) -> None:
    assert _issues(catalog, {"id_number": ["110105491231002", "11010519491231002X"]}) == {
        1: "also in rows 2",
        2: "also in rows 1",
    }


def test_ids_differing_only_in_the_check_character_are_different_keys(catalog: Catalog) -> None:
    assert _issues(catalog, {"id_number": ["110105194912310021", "11010519491231002X"]}) == {}


def test_the_same_person_for_two_items_is_not_a_duplicate(catalog: Catalog) -> None:
    roster = {"id_number": ["440524188001010014"] * 3, "item": ["GLJT", "DB", "GLJT"]}
    assert _issues(catalog, roster) == {1: "also in rows 3", 3: "also in rows 1"}


def test_missing_and_malformed_ids_are_left_to_the_identity_rules(catalog: Catalog) -> None:
    assert _issues(catalog, {"id_number": [None, None, "abc", "abc"]}) == {}


def test_many_copies_name_ten_rows_and_count_the_rest(catalog: Catalog) -> None:
    report = validate(
        pl.DataFrame({"id_number": ["440524188001010014"] * 15}), item=catalog["GLJT"], period="2026-11", rules=RULES
    )
    assert report.issues.height == 15
    assert report.issues["evidence"][0] == "also in rows 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 4 more"
    assert set(report.verdicts["verdict"]) == {"block"}
