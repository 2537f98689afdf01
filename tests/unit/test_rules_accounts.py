from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.idnumbers import luhn_ok as _luhn_ok
from tests.idnumbers import with_check as _id
from yikatong.catalog import Catalog
from yikatong.period import Period
from yikatong.rules import ValidationContext, ValidationReport, validate
from yikatong.rules.accounts import RULES, luhn_ok_expr


def _card(body: str) -> str:
    return next(body + d for d in "0123456789" if _luhn_ok(body + d))


ZHANG = _id("50024119400101123")
AYI = _id("50024119450303224")
WANG = _id("50024119500505335")
LI = _id("50024119550707446")
ZHAO = _id("50024119600909557")
CARD_ZHANG = _card("621799555001234567")
CARD_AYI = _card("623052046000123456")
CARD_WANG = _card("621700000000111111")
CARD_LI = _card("621700000000222222")
PASSBOOK = "2001234567890123456789"


def _registry(rows: list[tuple[str, str, str, str, str]]) -> pl.LazyFrame:
    return pl.LazyFrame(
        {
            "id_number": [r[0] for r in rows],
            "account": [r[1] for r in rows],
            "account_kind": [r[2] for r in rows],
            "bank": ["重庆农商行"] * len(rows),
            "holder_name": [r[3] for r in rows],
            "status": [r[4] for r in rows],
        }
    )


REGISTRY = _registry(
    [
        (ZHANG, CARD_ZHANG, "card", "张伟", "active"),
        (AYI, CARD_AYI, "social_security", "阿依古丽·买买提", "active"),
        (WANG, PASSBOOK, "passbook", "王秀英", "active"),
        (LI, CARD_LI, "card", "李娜", "frozen"),
    ]
)


def _run(
    catalog: Catalog,
    roster: dict[str, list[str | None]],
    *,
    item: str = "GLJT",
    registry: pl.LazyFrame | None = REGISTRY,
    verification: pl.LazyFrame | None = None,
) -> ValidationReport:
    frame = pl.DataFrame(roster, schema=dict.fromkeys(roster, pl.String))
    ctx = ValidationContext(registry=registry, bank_verification=verification)
    period = Period.parse("2026-11").within(catalog[item].period)  # an annual item is paid for the year
    return validate(frame, item=catalog[item], period=period, context=ctx, rules=RULES)


def _codes(report: ValidationReport, row: int) -> dict[str, str]:
    found = report.issues.filter(pl.col("row_id") == row)
    return dict(zip(found["code"], found["severity"], strict=True))


def test_registered_active_accounts_with_matching_names_pass(catalog: Catalog) -> None:
    report = _run(
        catalog,
        {
            "name": ["張偉", "阿依古丽・买买提", "王秀英"],
            "id_number": [ZHANG, AYI, WANG],
            "account": [CARD_ZHANG, CARD_AYI, PASSBOOK],
        },
    )
    assert report.issues.is_empty(), report.issues
    assert report.verdicts["verdict"].to_list() == ["pass", "pass", "pass"]


def test_a_person_without_any_account_is_not_registered(catalog: Catalog) -> None:
    report = _run(catalog, {"name": ["赵六"], "id_number": [ZHAO], "account": [CARD_WANG]})
    assert _codes(report, 1)["ACCOUNT_NOT_REGISTERED"] == "block"
    evidence = report.issues.filter(pl.col("code") == "ACCOUNT_NOT_REGISTERED")["evidence"].item()
    assert evidence == "payee: no one-card account in the registry"


def test_a_roster_account_other_than_the_registered_one_is_a_mismatch(catalog: Catalog) -> None:
    report = _run(catalog, {"name": ["张伟"], "id_number": [ZHANG], "account": [CARD_WANG]})
    assert _codes(report, 1)["ACCOUNT_MISMATCH"] == "block"
    evidence = report.issues.filter(pl.col("code") == "ACCOUNT_MISMATCH")["evidence"].item()
    assert evidence == f"roster ****{CARD_WANG[-4:]}, registered ****{CARD_ZHANG[-4:]}"


def test_a_row_without_an_account_is_paid_into_the_registered_one(catalog: Catalog) -> None:
    report = _run(catalog, {"name": ["张伟"], "id_number": [ZHANG], "account": [None]})
    assert report.issues.is_empty()


def test_frozen_closed_and_pending_accounts_are_inactive(catalog: Catalog) -> None:
    registry = _registry(
        [
            (LI, CARD_LI, "card", "李娜", "frozen"),
            (ZHAO, CARD_WANG, "card", "赵六", "pending"),
            (ZHANG, CARD_ZHANG, "card", "张伟", "closed"),
            (ZHANG, CARD_AYI, "card", "张伟", "active"),
        ]
    )
    report = _run(
        catalog,
        {"name": ["李娜", "赵六", "张伟"], "id_number": [LI, ZHAO, ZHANG], "account": [CARD_LI, None, CARD_ZHANG]},
        registry=registry,
    )
    evidence = report.issues.filter(pl.col("code") == "ACCOUNT_INACTIVE").sort("row_id")["evidence"].to_list()
    assert evidence == [
        f"account ****{CARD_LI[-4:]} is frozen",
        "no active account (registry: pending)",
        f"account ****{CARD_ZHANG[-4:]} is closed",
    ]
    assert "ACCOUNT_MISMATCH" in _codes(report, 3)


@pytest.mark.parametrize(
    ("account", "why"),
    [
        ("62179955500123456X", "characters other than digits"),
        ("621799555001", "12 digits, card needs 13-19"),
        ("62179955500123456789", "20 digits, card needs 13-19"),
    ],
)
def test_card_numbers_must_be_13_to_19_digits(catalog: Catalog, account: str, why: str) -> None:
    registry = _registry([(ZHANG, account, "card", "张伟", "active")])
    report = _run(catalog, {"name": ["张伟"], "id_number": [ZHANG], "account": [account]}, registry=registry)
    evidence = report.issues.filter(pl.col("code") == "ACCOUNT_FORMAT")["evidence"].item()
    assert why in evidence
    assert account not in evidence


def test_passbook_and_social_security_accounts_are_valid_and_passbooks_skip_luhn(catalog: Catalog) -> None:
    report = _run(catalog, {"name": ["王秀英"], "id_number": [WANG], "account": [PASSBOOK]})
    assert report.issues.is_empty()


def test_an_unregistered_account_of_unknown_kind_is_judged_by_any_accepted_length(catalog: Catalog) -> None:
    report = _run(
        catalog,
        {"name": ["赵六", "赵六"], "id_number": [ZHAO, ZHAO], "account": ["123456789", PASSBOOK]},
        registry=None,
    )
    assert "ACCOUNT_FORMAT" in _codes(report, 1)
    assert "ACCOUNT_FORMAT" not in _codes(report, 2)


def test_a_missing_account_without_a_registry_fails_the_format_rule(catalog: Catalog) -> None:
    report = _run(catalog, {"name": ["赵六"], "id_number": [ZHAO], "account": [""]}, registry=None)
    assert report.issues.filter(pl.col("code") == "ACCOUNT_FORMAT")["evidence"].item() == "no account"


def test_a_card_failing_luhn_is_only_for_review(catalog: Catalog) -> None:
    bad = CARD_ZHANG[:-1] + str((int(CARD_ZHANG[-1]) + 1) % 10)
    registry = _registry([(ZHANG, bad, "card", "张伟", "active")])
    report = _run(catalog, {"name": ["张伟"], "id_number": [ZHANG], "account": [bad]}, registry=registry)
    assert _codes(report, 1) == {"ACCOUNT_LUHN": "review"}
    assert report.verdicts["verdict"].item() == "review"


@settings(deadline=None)
@given(st.text(alphabet="0123456789", min_size=1, max_size=19))
def test_the_vectorized_luhn_check_agrees_with_the_textbook_one(number: str) -> None:
    got = pl.select(luhn_ok_expr(pl.lit(number))).item()
    assert got is _luhn_ok(number)


@pytest.mark.parametrize(
    ("roster_name", "holder", "severity"),
    [
        ("張偉", "张伟", None),
        ("阿依古丽.买买提", "阿依古丽·买买提", None),
        ("阿依古丽买买提", "阿依古丽•买买提", None),
        ("劉德華", "刘德华", None),
        ("张伟华", "张伟", "review"),
        ("李娜", "张伟", "block"),
    ],
)
def test_holder_names_are_compared_after_removing_dots_and_traditional_forms(
    catalog: Catalog, roster_name: str, holder: str, severity: str | None
) -> None:
    registry = _registry([(ZHANG, CARD_ZHANG, "card", holder, "active")])
    report = _run(catalog, {"name": [roster_name], "id_number": [ZHANG], "account": [CARD_ZHANG]}, registry=registry)
    assert _codes(report, 1).get("HOLDER_NAME_MISMATCH") == severity


def test_household_items_judge_the_head_account_and_skip_members_names(catalog: Catalog) -> None:
    member = _id("50024120100101661")
    report = _run(
        catalog,
        {
            "name": ["张伟", "张小明", "赵六"],
            "id_number": [ZHANG, member, ZHAO],
            "household_head_id": [ZHANG, ZHANG, ""],
            "account": [CARD_ZHANG, CARD_ZHANG, None],
        },
        item="GDLBZ",
    )
    assert _codes(report, 1) == {}
    assert _codes(report, 2) == {}
    assert "ACCOUNT_NOT_REGISTERED" in _codes(report, 3)


def test_a_household_member_row_names_the_masked_head_when_the_head_has_no_account(catalog: Catalog) -> None:
    member = _id("50024120100101661")
    report = _run(
        catalog,
        {"name": ["赵小六"], "id_number": [member], "household_head_id": [ZHAO], "account": [None]},
        item="GDLBZ",
    )
    evidence = report.issues.filter(pl.col("code") == "ACCOUNT_NOT_REGISTERED")["evidence"].item()
    assert evidence == f"household head {ZHAO[:6]}********{ZHAO[-4:]}: no one-card account in the registry"


def test_one_account_paying_two_persons_in_a_batch_blocks_both_rows(catalog: Catalog) -> None:
    report = _run(
        catalog,
        {"name": ["张伟", "王秀英"], "id_number": [ZHANG, WANG], "account": [CARD_ZHANG, CARD_ZHANG]},
    )
    shared = report.issues.filter(pl.col("code") == "ACCOUNT_SHARED")
    assert shared["severity"].to_list() == ["block", "block"]
    assert (
        shared["evidence"].to_list()
        == [f"account ****{CARD_ZHANG[-4:]} pays 2 different persons in this batch (rows 1, 2)"] * 2
    )


def test_an_account_registered_to_someone_else_is_for_review(catalog: Catalog) -> None:
    registry = _registry([(ZHANG, CARD_ZHANG, "card", "张伟", "active"), (WANG, CARD_ZHANG, "card", "张伟", "closed")])
    report = _run(catalog, {"name": ["张伟"], "id_number": [ZHANG], "account": [CARD_ZHANG]}, registry=registry)
    assert _codes(report, 1) == {"ACCOUNT_SHARED": "review"}


def test_a_person_reached_through_two_accounts_is_for_review(catalog: Catalog) -> None:
    member = _id("50024120100101661")
    report = _run(
        catalog,
        {
            "name": ["张伟", "张小明"],
            "id_number": [ZHANG, member],
            "household_head_id": [ZHANG, ZHANG],
            "account": [CARD_ZHANG, CARD_WANG],
        },
        item="GDLBZ",
    )
    multiple = report.issues.filter(pl.col("code") == "PERSON_MULTIPLE_ACCOUNTS")
    assert multiple["row_id"].to_list() == [1, 2]
    assert multiple["evidence"].to_list() == ["payee reached through 2 accounts in this batch (rows 1, 2)"] * 2


def test_two_open_accounts_in_the_registry_are_for_review(catalog: Catalog) -> None:
    registry = _registry([(ZHANG, CARD_ZHANG, "card", "张伟", "active"), (ZHANG, CARD_WANG, "card", "张伟", "frozen")])
    report = _run(catalog, {"name": ["张伟"], "id_number": [ZHANG], "account": [CARD_ZHANG]}, registry=registry)
    assert _codes(report, 1) == {"PERSON_MULTIPLE_ACCOUNTS": "review"}


def test_a_failed_bank_verification_blocks_the_row_it_names(catalog: Catalog) -> None:
    verification = pl.LazyFrame({"row_id": [1, 2], "verified": [True, False], "reason": [None, "户名不符"]})
    report = _run(
        catalog,
        {"name": ["张伟", "阿依古丽·买买提"], "id_number": [ZHANG, AYI], "account": [CARD_ZHANG, CARD_AYI]},
        verification=verification,
    )
    failed = report.issues.filter(pl.col("code") == "BANK_VERIFY_FAILED")
    assert failed.select("row_id", "evidence").rows() == [(2, "bank verification: 户名不符")]


def test_registry_rules_are_skipped_without_a_registry(catalog: Catalog) -> None:
    report = _run(catalog, {"name": ["张伟"], "id_number": [ZHANG], "account": [CARD_ZHANG]}, registry=None)
    assert report.skipped["ACCOUNT_NOT_REGISTERED"] == "not supplied: registry"
    assert report.skipped["BANK_VERIFY_FAILED"] == "not supplied: bank_verification"


def test_a_registry_repeating_an_account_keeps_rows_in_equal_to_rows_out(catalog: Catalog) -> None:
    registry = _registry([(ZHANG, CARD_ZHANG, "card", "张伟", "active")] * 3)
    report = _run(
        catalog, {"name": ["张伟"] * 4, "id_number": [ZHANG] * 4, "account": [CARD_ZHANG] * 4}, registry=registry
    )
    assert report.verdicts["row_id"].to_list() == [1, 2, 3, 4]


def test_evidence_never_holds_a_full_id_or_account(catalog: Catalog) -> None:
    report = _run(
        catalog,
        {
            "name": ["李娜", "赵六", "张伟", "王秀英"],
            "id_number": [LI, ZHAO, ZHANG, WANG],
            "account": [CARD_LI, CARD_ZHANG, CARD_WANG, CARD_ZHANG],
        },
    )
    assert not report.issues.is_empty()
    for evidence in report.issues["evidence"]:
        for secret in (LI, ZHAO, ZHANG, WANG, CARD_LI, CARD_ZHANG, CARD_WANG):
            assert secret not in evidence


@pytest.mark.parametrize("item", ["GDLBZ", "DB"])
def test_every_rule_with_every_input_gives_the_same_report_on_both_engines(catalog: Catalog, item: str) -> None:
    from yikatong.rules import RULES as ALL_RULES

    roster = pl.DataFrame(
        {
            "name": ["张伟", "張偉", "阿依古丽·买买提", "王秀英", "李娜"],
            "id_number": [ZHANG, _id("50024119400101131"), AYI, WANG, LI],
            "household_head_id": [ZHANG, ZHANG, AYI, None, LI],
            "village": ["龙池村", "龙池村", "石堤村", "石堤村", "龙池村"],
            "account": [CARD_ZHANG, CARD_ZHANG, CARD_AYI, PASSBOOK, CARD_LI],
            "amount_fen": [10000, 10000, 58000, 12000, 10000],
            "category": ["A类", "A类", "一级", "B类", "A类"],
        }
    )
    ids = pl.LazyFrame({"id_number": [AYI, LI]})
    ctx = ValidationContext(
        catalog=catalog,
        registry=REGISTRY,
        reference={
            "deceased": pl.LazyFrame({"id_number": [LI], "death_date": [dt.date(2026, 11, 3)]}),
            "disabled": ids,
            "supported": ids,
            "public_employee": ids,
        },
        ledger=pl.LazyFrame(
            {"id_number": [WANG], "item": [item], "period": ["2026-11"], "amount_fen": [100], "status": ["paid"]}
        ),
        bank_verification=pl.LazyFrame({"row_id": [4], "verified": [False], "reason": ["户名不符"]}),
    )
    period = Period.parse("2026-11").within(catalog[item].period)
    memory = validate(roster, item=catalog[item], period=period, context=ctx, rules=ALL_RULES)
    streaming = validate(
        roster.lazy(), item=catalog[item], period=period, context=ctx, rules=ALL_RULES, engine="streaming"
    )
    assert memory.verdicts.equals(streaming.verdicts)
    assert memory.issues.equals(streaming.issues)
    assert memory.verdicts.height == roster.height
    assert {"DUP_NEAR", "BANK_VERIFY_FAILED", "DUP_ALREADY_PAID", "DECEASED_DURING_PERIOD"} <= set(
        memory.issues["code"]
    )
