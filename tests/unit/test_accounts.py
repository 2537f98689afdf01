from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yikatong.errors import IllegalTransition, PermissionDenied
from yikatong.registry import (
    ACCOUNT_LENGTHS,
    Account,
    Actor,
    account_format_ok,
    close,
    declare,
    id_number_ok,
    residence_town,
    review,
)

AT = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
TOWN = Actor(user="u1", role="town", town="钟灵镇")
CHECKER = Actor(user="u2", role="town", town="钟灵镇")
ID = "11010519491231002X"


def _declare(records: list[Account], account: str = "6217995550012345678") -> Account:
    record, _ = declare(
        records,
        [],
        actor=TOWN,
        id_number=ID,
        account=account,
        kind="card",
        bank="农商行",
        holder_name=" 李秀英 ",
        town="钟灵镇",
        at=AT,
    )
    return record


def test_the_standard_example_ids_pass_and_a_changed_digit_fails() -> None:
    assert id_number_ok("11010519491231002X")
    assert id_number_ok("440524188001010014")
    assert not id_number_ok("11010519491231003X")
    assert not id_number_ok("11010519491231002x")


@given(st.sampled_from(["card", "passbook", "social_security"]), st.integers(min_value=1, max_value=30))
def test_account_lengths_follow_the_documented_table(kind: str, length: int) -> None:
    low, high = ACCOUNT_LENGTHS[kind]  # type: ignore[index]
    assert account_format_ok("6" * length, kind) is (low <= length <= high)  # type: ignore[arg-type]


@given(st.text(min_size=13, max_size=19).filter(lambda s: not s.isascii() or not s.isdigit()))
def test_accounts_with_anything_but_ascii_digits_are_refused(text: str) -> None:
    assert not account_format_ok(text, "card")


def test_a_declaration_is_a_new_pending_record_with_the_holder_name_trimmed() -> None:
    record = _declare([])
    assert (record.status, record.holder_name, record.seq, record.declared_by) == ("pending", "李秀英", 1, "u1")
    assert residence_town([record]) == "钟灵镇"


def test_approving_a_change_supersedes_every_open_account_and_returns_events_in_order() -> None:
    first = _declare([])
    changes, _ = review([first], actor=CHECKER, account=first.account, approve=True, at=AT)
    records = [changes[0]]
    second = _declare(records, "6230520460001234567")
    records.append(second)
    changes, events = review(records, actor=CHECKER, account=second.account, approve=True, at=AT)
    assert changes[0].status == "closed"
    assert changes[1].status == "active"
    assert [e.action for e in events] == ["supersede", "approve"]


def test_a_declaration_cannot_move_the_person_to_another_town() -> None:
    first = _declare([])
    with pytest.raises(PermissionDenied, match="residence town"):
        declare(
            [first],
            [],
            actor=TOWN,
            id_number=ID,
            account="6230520460001234567",
            kind="card",
            bank="邮储",
            holder_name="李秀英",
            town="官庄街道",
            at=AT,
        )


def test_a_second_declaration_while_one_is_pending_is_refused() -> None:
    first = _declare([])
    with pytest.raises(IllegalTransition, match="pending"):
        _declare([first], "6230520460001234567")


def test_an_audit_actor_can_do_nothing() -> None:
    first = _declare([])
    auditor = Actor(user="a1", role="audit")
    with pytest.raises(PermissionDenied):
        close([first], actor=auditor, account=first.account, at=AT, note="x")
