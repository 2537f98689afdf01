"""Contract tests for [`yikatong.ports.Bank`][]: what every paying-bank adapter must do.

A host checks its own bank adapter by subclassing [`BankContract`][yikatong.testing.bank_contract.BankContract] in one
of its test modules and overriding the ``bank_harness`` fixture; pytest then collects and runs every ``test_*`` method
against it::

    # tests/test_my_bank.py (in the host's code base)
    import polars as pl
    import pytest
    from yikatong.testing.bank_contract import BankContract, BankHarness

    class TestMyBank(BankContract):
        @pytest.fixture
        def bank_harness(self, tmp_path):
            bank = MyBankAdapter(sandbox_url=..., folder=tmp_path)        # a fresh bank for every test
            return BankHarness(
                bank=bank,
                payees=pl.DataFrame({"id_number": [...], "name": [...], "account": [...]}),  # sandbox accounts
                rejected=pl.DataFrame({...}),    # optional: people whose 联网核查 must fail
                failing=pl.DataFrame({...}),     # optional: people whose payment must fail (closed account)
                settle=my_sandbox.process_pending,   # optional: let the bank side answer (files, queues, time)
                fund=my_sandbox.credit_batch,        # optional: make an order's money arrive at the bank
            )

The harness is all the kit needs: the bank, people the bank knows (``payees``: ``id_number``, ``name``,
``account``; three or more), optionally people it must reject or fail, and ``settle``, called between attempts so a
bank that answers later (a file exchange, a queue, a sandbox batch job) can. A ``TimeoutError`` from the bank is
retried up to ``max_rounds`` times, as the workflow does. ``paid_fen`` (optional) reports the money the bank side
really paid for a batch, so the kit can check that a repeated order was not paid twice. ``fund`` (optional) makes an
order's money arrive at the bank, for a bank that pays an order only once it is funded; the kit calls it right after
submitting, except when it withdraws the order first.

What is checked: the bank satisfies the port; verification answers every row exactly once with the documented
columns, passes known payees and rejects the rejected with a reason; an order gets one result per row with the
order's amounts, failed rows with a code and a reason; submitting the same order again pays nothing more; results
never name a row outside the order, never contradict each other and only grow; an unknown batch has no results; a
different order under a batch number already used never gets its new rows paid; an order whose control total does
not match its rows is refused with ``ValueError`` without a full account or ID in the message; an order
withdrawn before its money arrived is never paid and has no results; withdrawing a paid order is refused with
[`WithdrawalRefused`][yikatong.errors.WithdrawalRefused] and changes none of its results; withdrawing twice, or a batch
never submitted, changes nothing.

The kit needs pytest (the ``[testing]`` extra of yikatong).
"""

from __future__ import annotations

# Before pytest is imported: without it, an error naming the extra to install.
from yikatong.testing import _pytest  # noqa: F401

# isort: split
import contextlib
import itertools
from collections.abc import Callable
from typing import TypeVar

import polars as pl
import pytest
from attrs import field, frozen

from yikatong.errors import WithdrawalRefused
from yikatong.ports import Bank
from yikatong.records import DisbursementOrder

__all__ = ["RESULT_COLUMNS", "VERIFY_COLUMNS", "BankContract", "BankHarness"]

RESULT_COLUMNS: dict[str, pl.DataType] = {
    "row_id": pl.Int64(),
    "outcome": pl.String(),
    "amount_fen": pl.Int64(),
    "reason_code": pl.String(),
    "reason": pl.String(),
}
"""The columns and types of [`yikatong.ports.Bank.results`][]."""

VERIFY_COLUMNS: dict[str, pl.DataType] = {"row_id": pl.Int64(), "verified": pl.Boolean(), "reason": pl.String()}
"""The columns and types of [`yikatong.ports.Bank.verify_accounts`][]."""

_T = TypeVar("_T")
_PEOPLE = ("id_number", "name", "account")
_batch_numbers = itertools.count(1)


def _nothing() -> None:
    return None


def _people(frame: pl.DataFrame) -> pl.DataFrame:
    missing = set(_PEOPLE) - set(frame.columns)
    if missing:
        raise ValueError(f"BankHarness people lack columns {sorted(missing)}")
    return frame.select(*(pl.col(c).cast(pl.String) for c in _PEOPLE))


def _maybe_people(frame: pl.DataFrame | None) -> pl.DataFrame | None:
    return None if frame is None else _people(frame)


@frozen(kw_only=True)
class BankHarness:
    """What the contract kit needs to drive a bank adapter.

    Attributes:
        bank: The adapter under test, fresh for every test.
        payees: People the bank knows with open, correctly held accounts: ``id_number``, ``name``, ``account``.
        rejected: People whose account verification must fail (unknown account, another holder); optional.
        failing: People who pass or skip verification but whose payment must fail (closed account); optional.
        settle: Called between attempts to let the bank side answer; does nothing by default.
        max_rounds: How many attempts (each followed by ``settle``) before the kit gives up waiting.
        paid_fen: Batch id → money the bank side really paid for it; optional.
        fund: Makes an order's money arrive at the bank side (the treasury's transfer); optional, for banks that pay
            an order only once funded.
    """

    bank: Bank
    payees: pl.DataFrame = field(converter=_people)
    rejected: pl.DataFrame | None = field(default=None, converter=_maybe_people)
    failing: pl.DataFrame | None = field(default=None, converter=_maybe_people)
    settle: Callable[[], None] = _nothing
    max_rounds: int = 6
    paid_fen: Callable[[str], int] | None = None
    fund: Callable[[DisbursementOrder], None] | None = None

    def attempt(self, call: Callable[[], _T], *, done: Callable[[_T], bool] = lambda _: True) -> _T:
        """Call until it returns something ``done`` accepts, settling between attempts; retry on TimeoutError.

        Raises:
            AssertionError: when ``max_rounds`` attempts did not give an accepted answer.
        """
        last: _T | None = None
        for _ in range(self.max_rounds):
            try:
                last = call()
            except TimeoutError:
                self.settle()
                continue
            if done(last):
                return last
            self.settle()
        raise AssertionError(f"no complete answer after {self.max_rounds} attempts (last: {last!r})")


def _rows(people: pl.DataFrame, *, first_row: int) -> pl.DataFrame:
    return people.with_row_index("row_id", offset=first_row).with_columns(pl.col("row_id").cast(pl.Int64))


def _order(rows: pl.DataFrame, *, tag: str) -> DisbursementOrder:
    with_amounts = rows.with_columns(amount_fen=(pl.col("row_id") * 137 + 10_000).cast(pl.Int64))
    return DisbursementOrder(
        batch_id=f"CONTRACT-{tag}-{next(_batch_numbers):05d}",
        item="CONTRACT",
        period="2026-11",
        rows=with_amounts,
        count=with_amounts.height,
        total_fen=int(with_amounts["amount_fen"].sum() or 0),
    )


def _distinct(results: pl.DataFrame) -> pl.DataFrame:
    return results.select("row_id", "outcome", "amount_fen").unique()


def _covers(order: DisbursementOrder) -> Callable[[pl.DataFrame], bool]:
    wanted = set(order.rows["row_id"].to_list())
    return lambda results: wanted <= set(results["row_id"].to_list())


def _settled(h: BankHarness, order: DisbursementOrder) -> pl.DataFrame:
    h.attempt(lambda: h.bank.submit(order))
    if h.fund is not None:
        h.fund(order)
    return h.attempt(lambda: h.bank.results(order.batch_id), done=_covers(order))


def _assert_no_personal_data(message: str, people: pl.DataFrame) -> None:
    for value in [*people["id_number"].to_list(), *people["account"].to_list()]:
        if len(value) > 10:
            assert value not in message, "an error message shows a full ID or account number"


class BankContract:
    """The contract every [`yikatong.ports.Bank`][] passes. Subclass it and override ``bank_harness``."""

    @pytest.fixture
    def bank_harness(self) -> BankHarness:
        """Override in the subclass: a [`BankHarness`][yikatong.testing.bank_contract.BankHarness] around a fresh
        adapter."""
        raise NotImplementedError("override the bank_harness fixture in your BankContract subclass")

    def test_bank_satisfies_the_port(self, bank_harness: BankHarness) -> None:
        assert isinstance(bank_harness.bank, Bank)
        assert bank_harness.payees.height >= 3, "give the kit at least three payees"

    def test_verification_answers_every_row_exactly_once(self, bank_harness: BankHarness) -> None:
        h = bank_harness
        people = pl.concat([p for p in (h.payees, h.rejected) if p is not None])
        rows = _rows(people, first_row=10)
        answer = h.attempt(lambda: h.bank.verify_accounts(rows))
        assert dict(answer.schema) == VERIFY_COLUMNS
        assert answer.height == rows.height
        assert sorted(answer["row_id"].to_list()) == rows["row_id"].to_list()

    def test_known_payees_pass_verification(self, bank_harness: BankHarness) -> None:
        h = bank_harness
        rows = _rows(h.payees, first_row=1)
        answer = h.attempt(lambda: h.bank.verify_accounts(rows))
        assert answer["verified"].to_list() == [True] * rows.height
        assert answer["reason"].null_count() == rows.height, "a verified row carries no reason"

    def test_rejected_people_fail_verification_with_a_reason(self, bank_harness: BankHarness) -> None:
        h = bank_harness
        if h.rejected is None or h.rejected.height == 0:
            pytest.skip("the harness names no people whose verification must fail")
        rows = _rows(pl.concat([h.payees, h.rejected]), first_row=1)
        answer = h.attempt(lambda: h.bank.verify_accounts(rows)).sort("row_id")
        expected = [True] * h.payees.height + [False] * h.rejected.height
        assert answer["verified"].to_list() == expected
        reasons = answer.filter(~pl.col("verified"))["reason"]
        assert reasons.null_count() == 0
        assert (reasons.str.len_chars() > 0).all()

    def test_an_order_gets_one_result_per_row_with_the_order_amounts(self, bank_harness: BankHarness) -> None:
        h = bank_harness
        order = _order(_rows(h.payees, first_row=1), tag="ALL")
        results = _settled(h, order)
        assert dict(results.schema) == RESULT_COLUMNS
        distinct = _distinct(results)
        assert sorted(distinct["row_id"].to_list()) == order.rows["row_id"].to_list()
        joined = distinct.join(order.rows.select("row_id", pl.col("amount_fen").alias("ordered")), on="row_id")
        assert (joined["amount_fen"] == joined["ordered"]).all()
        assert distinct["outcome"].to_list() == ["paid"] * order.count
        assert (
            results.filter(pl.col("outcome") == "paid")["reason_code"].null_count()
            == results.filter(pl.col("outcome") == "paid").height
        ), "a paid row carries no reason code"

    def test_failing_payments_come_back_failed_with_a_code_and_a_reason(self, bank_harness: BankHarness) -> None:
        h = bank_harness
        if h.failing is None or h.failing.height == 0:
            pytest.skip("the harness names no people whose payment must fail")
        order = _order(_rows(pl.concat([h.payees, h.failing]), first_row=1), tag="FAIL")
        results = _settled(h, order)
        failing_rows = set(range(h.payees.height + 1, h.payees.height + h.failing.height + 1))
        failed = results.filter(pl.col("outcome") == "failed")
        assert set(failed["row_id"].to_list()) == failing_rows
        assert failed["reason_code"].null_count() == 0
        assert (failed["reason"].str.len_chars() > 0).all()

    def test_submitting_the_same_order_again_pays_nothing_more(self, bank_harness: BankHarness) -> None:
        h = bank_harness
        order = _order(_rows(h.payees, first_row=1), tag="TWICE")
        first = _distinct(_settled(h, order))
        h.attempt(lambda: h.bank.submit(order))
        h.settle()
        again = _distinct(h.attempt(lambda: h.bank.results(order.batch_id), done=_covers(order)))
        assert again.height == order.count, "a row got a second, different result"
        assert again.sort("row_id").equals(first.sort("row_id"))
        if h.paid_fen is not None:
            paid = int(again.filter(pl.col("outcome") == "paid")["amount_fen"].sum() or 0)
            assert h.paid_fen(order.batch_id) == paid, "the bank paid more than its results say"

    def test_results_name_only_rows_of_the_order_and_never_contradict(self, bank_harness: BankHarness) -> None:
        h = bank_harness
        people = pl.concat([p for p in (h.payees, h.failing) if p is not None])
        order = _order(_rows(people, first_row=100), tag="SCOPE")
        results = _settled(h, order)
        assert set(results["row_id"].to_list()) <= set(order.rows["row_id"].to_list())
        per_row = results.group_by("row_id").agg(pl.col("outcome").n_unique(), pl.col("amount_fen").n_unique())
        assert (per_row["outcome"] == 1).all(), "a row is both paid and failed"
        assert (per_row["amount_fen"] == 1).all(), "a row came back with two amounts"

    def test_results_only_grow(self, bank_harness: BankHarness) -> None:
        h = bank_harness
        order = _order(_rows(h.payees, first_row=1), tag="GROW")
        before = _distinct(_settled(h, order))
        h.settle()
        after = _distinct(h.attempt(lambda: h.bank.results(order.batch_id)))
        assert before.join(after, on=list(before.columns), how="anti").height == 0, "a result disappeared"

    def test_an_unknown_batch_has_no_results(self, bank_harness: BankHarness) -> None:
        h = bank_harness
        try:
            results = h.attempt(lambda: h.bank.results("CONTRACT-NEVER-SUBMITTED"))
        except KeyError:
            return
        assert results.height == 0
        assert dict(results.schema) == RESULT_COLUMNS

    def test_a_different_order_under_a_used_batch_number_never_gets_its_new_rows_paid(
        self, bank_harness: BankHarness
    ) -> None:
        h = bank_harness
        order = _order(_rows(h.payees.head(2), first_row=1), tag="REUSE")
        _settled(h, order)
        wider = _order(_rows(h.payees, first_row=1), tag="REUSE")
        other = DisbursementOrder(
            batch_id=order.batch_id,
            item=wider.item,
            period=wider.period,
            rows=wider.rows,
            count=wider.count,
            total_fen=wider.total_fen,
        )
        with contextlib.suppress(ValueError):
            h.attempt(lambda: h.bank.submit(other))
        h.settle()
        results = h.attempt(lambda: h.bank.results(order.batch_id))
        assert set(results["row_id"].to_list()) <= set(order.rows["row_id"].to_list()), "a reused batch paid new rows"

    def test_an_order_whose_control_total_is_wrong_is_refused_without_personal_data(
        self, bank_harness: BankHarness
    ) -> None:
        h = bank_harness
        order = _order(_rows(h.payees, first_row=1), tag="BADTOTAL")
        wrong = DisbursementOrder(
            batch_id=order.batch_id,
            item=order.item,
            period=order.period,
            rows=order.rows,
            count=order.count,
            total_fen=order.total_fen + 1,
        )
        with pytest.raises(ValueError) as caught:  # noqa: PT011 - any ValueError subclass the adapter chooses
            h.attempt(lambda: h.bank.submit(wrong))
        _assert_no_personal_data(str(caught.value), h.payees)
        try:
            nothing = h.attempt(lambda: h.bank.results(order.batch_id))
        except KeyError:
            return
        assert nothing.height == 0, "a refused order was paid"

    def test_an_order_withdrawn_before_its_money_arrived_is_never_paid(self, bank_harness: BankHarness) -> None:
        h = bank_harness
        order = _order(_rows(h.payees, first_row=1), tag="WITHDRAW")
        h.attempt(lambda: h.bank.submit(order))
        h.attempt(lambda: h.bank.withdraw(order.batch_id))
        if h.fund is not None:
            h.fund(order)
        for _ in range(3):
            h.settle()
        try:
            results = h.attempt(lambda: h.bank.results(order.batch_id))
        except KeyError:
            results = pl.DataFrame(schema=RESULT_COLUMNS)
        assert results.height == 0, "a withdrawn order was paid"
        if h.paid_fen is not None:
            assert h.paid_fen(order.batch_id) == 0, "the bank paid money of a withdrawn order"

    def test_a_paid_order_cannot_be_withdrawn(self, bank_harness: BankHarness) -> None:
        h = bank_harness
        order = _order(_rows(h.payees, first_row=1), tag="NOWITHDRAW")
        before = _distinct(_settled(h, order))
        with pytest.raises(WithdrawalRefused) as caught:
            h.attempt(lambda: h.bank.withdraw(order.batch_id))
        _assert_no_personal_data(str(caught.value), h.payees)
        h.settle()
        after = _distinct(h.attempt(lambda: h.bank.results(order.batch_id), done=_covers(order)))
        assert after.sort("row_id").equals(before.sort("row_id")), "a refused withdrawal changed the results"

    def test_withdrawing_twice_or_an_unknown_batch_changes_nothing(self, bank_harness: BankHarness) -> None:
        h = bank_harness
        h.attempt(lambda: h.bank.withdraw("CONTRACT-NEVER-SUBMITTED"))
        order = _order(_rows(h.payees, first_row=1), tag="WITHDRAW2")
        h.attempt(lambda: h.bank.submit(order))
        h.attempt(lambda: h.bank.withdraw(order.batch_id))
        h.attempt(lambda: h.bank.withdraw(order.batch_id))
        h.settle()
        try:
            results = h.attempt(lambda: h.bank.results(order.batch_id))
        except KeyError:
            return
        assert results.height == 0
