"""Row statuses move as whole columns by the table of legal moves; an illegal move raises and changes nothing."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from yikatong.errors import IllegalTransition
from yikatong.records import ROW_UPDATE_SCHEMA
from yikatong.workflow.statuses import FINAL_STATUSES, LEGAL_MOVES, ROW_STATUSES, apply_updates, plan_moves

AT = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)


def rows(*statuses: str) -> pl.DataFrame:
    n = len(statuses)
    return pl.DataFrame(
        {
            "batch_id": ["B1"] * n,
            "row_id": list(range(1, n + 1)),
            "id_number": ["11010519491231002X"] * n,
            "status": list(statuses),
            "verdict": [None] * n,
            "note": [None] * n,
            "reason_code": [None] * n,
            "deadline": [None] * n,
            "pay_account": [None] * n,
            "account_source": [None] * n,
            "updated_at": [AT] * n,
        },
        schema_overrides={
            "row_id": pl.Int64,
            "verdict": pl.String,
            "note": pl.String,
            "reason_code": pl.String,
            "deadline": pl.Date,
            "pay_account": pl.String,
            "account_source": pl.String,
            "updated_at": pl.Datetime("us", "UTC"),
        },
    )


def moves(*pairs: tuple[int, str]) -> pl.DataFrame:
    return pl.DataFrame(
        {"batch_id": ["B1"] * len(pairs), "row_id": [p[0] for p in pairs], "to": [p[1] for p in pairs]},
        schema_overrides={"row_id": pl.Int64},
    )


def test_legal_moves_return_new_states_for_the_store() -> None:
    current = rows("pending", "pending", "review")
    updates = plan_moves(current, moves((1, "passed"), (2, "blocked"), (3, "passed")), at=AT)
    assert updates.schema == pl.Schema(ROW_UPDATE_SCHEMA)
    assert updates["status"].to_list() == ["passed", "blocked", "passed"]
    assert apply_updates(current, updates)["status"].to_list() == ["passed", "blocked", "passed"]


def test_an_illegal_move_raises_naming_the_count_and_an_example_row() -> None:
    current = rows("pending", "paid", "paid")
    with pytest.raises(IllegalTransition, match=r"2 illegal row moves, e\.g\. row 2: paid → failed"):
        plan_moves(current, moves((1, "passed"), (2, "failed"), (3, "failed")), at=AT)


def test_an_illegal_move_message_never_carries_an_id_number() -> None:
    with pytest.raises(IllegalTransition) as info:
        plan_moves(rows("paid"), moves((1, "sent")), at=AT)
    assert "11010519491231002X" not in str(info.value)


def test_a_move_for_an_unknown_row_raises() -> None:
    with pytest.raises(IllegalTransition, match=r"do not exist, e\.g\. row 9"):
        plan_moves(rows("pending"), moves((9, "passed")), at=AT)


def test_a_row_named_twice_in_one_step_raises() -> None:
    with pytest.raises(IllegalTransition, match="more than once"):
        plan_moves(rows("pending"), moves((1, "passed"), (1, "blocked")), at=AT)


def test_columns_given_with_a_move_replace_the_stored_ones() -> None:
    m = moves((1, "blocked")).with_columns(pl.lit("不符合条件").alias("note"), pl.lit("X").alias("reason_code"))
    updates = plan_moves(rows("review"), m, at=AT)
    assert updates.select("note", "reason_code").row(0) == ("不符合条件", "X")


def test_no_moves_give_no_updates() -> None:
    assert plan_moves(rows("pending"), moves(), at=AT).is_empty()


def test_final_statuses_leave_only_between_the_correction_queue_and_its_ends_or_by_a_reversal() -> None:
    sources = {a for a, _ in LEGAL_MOVES}
    assert FINAL_STATUSES & sources == {"returned", "expired", "paid"}
    assert {b for a, b in LEGAL_MOVES if a == "returned"} == {"reissued", "expired"}
    assert {b for a, b in LEGAL_MOVES if a == "expired"} == {"returned"}  # only an extension brings it back
    assert {b for a, b in LEGAL_MOVES if a == "paid"} == {"reversed"}


def test_a_reversed_row_can_only_go_back_to_the_department() -> None:
    assert {b for a, b in LEGAL_MOVES if a == "reversed"} == {"returned"}
    assert {a for a, b in LEGAL_MOVES if b == "reversed"} == {"paid"}


@given(st.sampled_from(ROW_STATUSES), st.sampled_from(ROW_STATUSES))
def test_a_move_is_accepted_exactly_when_the_table_lists_it(source: str, target: str) -> None:
    current = rows(source)
    if (source, target) in LEGAL_MOVES:
        assert plan_moves(current, moves((1, target)), at=AT)["status"].to_list() == [target]
    else:
        with pytest.raises(IllegalTransition):
            plan_moves(current, moves((1, target)), at=AT)
        assert current["status"].to_list() == [source]
