"""The simulated bank: each fault on its own, the account book, 联网核查, duplicate submissions, determinism."""

from __future__ import annotations

import attrs
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yikatong.adapters.simulated import BANK_REASONS, Faults, SimulatedBank
from yikatong.errors import WithdrawalRefused
from yikatong.ports import Bank
from yikatong.records import DisbursementOrder


def make_rows(n: int, *, first: int = 1) -> pl.DataFrame:
    ids = [f"500241{1950 + i % 50:04d}0101{i % 1000:03d}{i % 10}" for i in range(first, first + n)]
    return pl.DataFrame(
        {
            "row_id": list(range(first, first + n)),
            "id_number": ids,
            "name": [f"张{'三四五六七'[i % 5]}" for i in range(n)],
            "account": [f"62170000{i:011d}" for i in range(first, first + n)],
            "amount_fen": [10_000 + 100 * (i % 7) for i in range(n)],
        },
        schema={
            "row_id": pl.Int64,
            "id_number": pl.String,
            "name": pl.String,
            "account": pl.String,
            "amount_fen": pl.Int64,
        },
    )


def make_order(n: int = 20, batch_id: str = "B1") -> DisbursementOrder:
    rows = make_rows(n)
    return DisbursementOrder(
        batch_id=batch_id,
        item="GLJT",
        period="2026-11",
        rows=rows,
        count=rows.height,
        total_fen=int(rows.get_column("amount_fen").sum()),
    )


def drain(bank: SimulatedBank, batch_id: str, calls: int = 30) -> list[pl.DataFrame]:
    return [bank.results(batch_id) for _ in range(calls)]


def test_the_simulated_bank_satisfies_the_bank_port() -> None:
    assert isinstance(SimulatedBank(), Bank)


def test_a_well_behaved_bank_pays_every_row_and_returns_the_same_results_on_every_call() -> None:
    bank = SimulatedBank(seed=1)
    order = make_order(20)
    bank.submit(order)
    first = bank.results("B1")
    assert first.get_column("row_id").to_list() == list(range(1, 21))
    assert set(first.get_column("outcome")) == {"paid"}
    assert first.get_column("reason_code").null_count() == 20
    assert first.get_column("amount_fen").to_list() == order.rows.get_column("amount_fen").to_list()
    assert bank.results("B1").equals(first)
    assert bank.paid_fen("B1") == order.total_fen


def test_an_unknown_batch_has_no_results() -> None:
    assert SimulatedBank().results("nope").height == 0


@pytest.mark.parametrize(
    ("faults", "code"),
    [
        (Faults(account_closed=1.0), "ACCOUNT_CLOSED"),
        (Faults(account_frozen=1.0), "ACCOUNT_FROZEN"),
        (Faults(name_mismatch=1.0), "NAME_MISMATCH"),
    ],
)
def test_failing_accounts_fail_with_the_banks_reason_and_are_not_paid(faults: Faults, code: str) -> None:
    bank = SimulatedBank(seed=2, faults=faults)
    bank.submit(make_order(10))
    res = bank.results("B1")
    assert set(res.get_column("outcome")) == {"failed"}
    assert set(res.get_column("reason_code")) == {code}
    assert set(res.get_column("reason")) == {BANK_REASONS[code]}
    assert bank.payments.height == 0
    assert bank.sms.height == 0


def test_a_small_failure_rate_fails_only_some_rows() -> None:
    bank = SimulatedBank(seed=3, faults=Faults(account_closed=0.2))
    bank.submit(make_order(200))
    outcomes = bank.results("B1").get_column("outcome").value_counts()
    failed = outcomes.filter(pl.col("outcome") == "failed").get_column("count").item()
    assert 15 < failed < 70
    assert bank.payments.height == 200 - failed


def test_the_account_book_decides_closed_frozen_and_mismatched_accounts() -> None:
    rows = make_rows(6)
    book = rows.select("account", "id_number", "name").with_columns(
        status=pl.Series(["active", "closed", "frozen", "active", "active", "active"])
    )
    book = book.with_columns(
        name=pl.when(pl.col("account") == rows["account"][3]).then(pl.lit("李四")).otherwise(pl.col("name")),
        id_number=pl.when(pl.col("account") == rows["account"][4])
        .then(pl.lit("110105194912310021"))
        .otherwise(pl.col("id_number")),
    ).filter(pl.col("account") != rows["account"][5])
    bank = SimulatedBank(accounts=book)
    verified = bank.verify_accounts(rows.drop("amount_fen"))
    assert verified.get_column("row_id").to_list() == rows.get_column("row_id").to_list()
    assert verified.get_column("verified").to_list() == [True, False, False, False, False, False]
    assert verified.get_column("reason").to_list() == [
        None,
        "账户已销户",
        "账户冻结",
        "户名不符",
        "证件号码不符",
        "账号不存在",
    ]
    bank.submit(
        DisbursementOrder(
            batch_id="B1", item="GLJT", period="2026-11", rows=rows, count=6, total_fen=int(rows["amount_fen"].sum())
        )
    )
    res = bank.results("B1").sort("row_id")
    assert res.get_column("reason_code").to_list() == [
        None,
        "ACCOUNT_CLOSED",
        "ACCOUNT_FROZEN",
        "NAME_MISMATCH",
        "ID_MISMATCH",
        "ACCOUNT_NOT_FOUND",
    ]


def test_verification_without_an_account_book_accepts_every_account() -> None:
    verified = SimulatedBank().verify_accounts(make_rows(5).drop("amount_fen"))
    assert verified.get_column("verified").all()
    assert verified.get_column("reason").null_count() == 5


def test_partial_results_grow_over_several_calls_until_every_row_is_known() -> None:
    bank = SimulatedBank(seed=4, faults=Faults(partial=1.0))
    bank.submit(make_order(40))
    heights = [c.height for c in drain(bank, "B1")]
    assert 0 < heights[0] < 40
    assert heights == sorted(heights)
    assert heights[-1] == 40
    assert bank.results("B1").get_column("row_id").to_list() == list(range(1, 41))
    assert bank.injected["partial"] >= 2


def test_duplicate_results_repeat_a_result_unchanged_within_one_call() -> None:
    bank = SimulatedBank(seed=5, faults=Faults(duplicate=1.0))
    bank.submit(make_order(10))
    res = bank.results("B1")
    assert res.height == 20
    assert res.unique().height == 10


def test_out_of_order_results_hold_the_same_rows_in_another_order() -> None:
    bank = SimulatedBank(seed=6, faults=Faults(out_of_order=1.0))
    bank.submit(make_order(50))
    res = bank.results("B1")
    ids = res.get_column("row_id").to_list()
    assert ids != sorted(ids)
    assert sorted(ids) == list(range(1, 51))


def test_a_contradicting_result_reverses_an_earlier_outcome_in_place_of_the_true_one() -> None:
    bank = SimulatedBank(seed=7, faults=Faults(contradiction=1.0))
    bank.submit(make_order(10))
    first = bank.results("B1")
    later = bank.results("B1")
    assert set(first.get_column("outcome")) == {"paid"}
    assert later.height == 10
    assert set(later.get_column("outcome")) == {"failed"}
    assert set(later.get_column("reason_code")) == {"PAYMENT_RETURNED"}
    assert bank.paid_fen("B1") == make_order(10).total_fen  # the money really went out once
    bank.faults = Faults()
    assert bank.results("B1").equals(first)


def test_a_failed_row_can_be_contradicted_by_a_paid_result() -> None:
    bank = SimulatedBank(seed=7, faults=Faults(contradiction=1.0, account_frozen=1.0))
    bank.submit(make_order(5))
    bank.results("B1")
    later = bank.results("B1")
    assert set(later.get_column("outcome")) == {"paid"}
    assert later.height == 5
    assert later.get_column("reason_code").null_count() == 5
    assert bank.payments.height == 0


def test_a_phantom_result_names_a_row_that_was_never_sent() -> None:
    bank = SimulatedBank(seed=8, faults=Faults(phantom=1.0))
    bank.submit(make_order(10))
    res = bank.results("B1")
    unknown = res.filter(~pl.col("row_id").is_in(list(range(1, 11))))
    assert 1 <= unknown.height <= 3
    assert res.filter(pl.col("row_id").is_in(list(range(1, 11)))).height == 10


def test_an_amount_mismatch_stands_in_for_the_true_result_which_comes_next_call() -> None:
    order = make_order(10)
    bank = SimulatedBank(seed=9, faults=Faults(amount_mismatch=1.0))
    bank.submit(order)
    sent = order.rows.select("row_id", sent="amount_fen")
    first = bank.results("B1").join(sent, on="row_id")
    assert first.height == 10
    assert first.filter(pl.col("amount_fen") != pl.col("sent")).height == 10
    second = bank.results("B1").join(sent, on="row_id")
    assert second.filter(pl.col("amount_fen") == pl.col("sent")).height == 10


def test_a_timeout_raises_timeout_error_from_submit() -> None:
    bank = SimulatedBank(seed=10, faults=Faults(bank_timeout=1.0))
    with pytest.raises(TimeoutError, match="bank"):
        bank.submit(make_order(5))


def test_a_timeout_raises_timeout_error_from_results_and_releases_nothing() -> None:
    bank = SimulatedBank(seed=10)
    bank.submit(make_order(5))
    bank.faults = Faults(bank_timeout=1.0)
    with pytest.raises(TimeoutError, match="bank"):
        bank.results("B1")
    bank.faults = Faults()
    assert bank.results("B1").height == 5


def test_a_timed_out_submission_was_sometimes_accepted_and_sometimes_not() -> None:
    accepted = []
    for seed in range(40):
        bank = SimulatedBank(seed=seed, faults=Faults(bank_timeout=1.0))
        with pytest.raises(TimeoutError):
            bank.submit(make_order(3))
        accepted.append(bank.accepted("B1"))
    assert any(accepted)
    assert not all(accepted)


def test_retrying_a_timed_out_submission_never_pays_twice() -> None:
    order = make_order(10)
    for seed in range(20):
        bank = SimulatedBank(seed=seed, faults=Faults(bank_timeout=0.6))
        for _ in range(100):
            try:
                bank.submit(order)
                break
            except TimeoutError:
                continue
        assert bank.payments.height == 10
        assert bank.paid_fen("B1") == order.total_fen


def test_the_same_order_submitted_twice_pays_once() -> None:
    bank = SimulatedBank()
    order = make_order(10)
    bank.submit(order)
    bank.submit(order)
    assert bank.duplicate_submissions == 1
    assert bank.payments.height == 10
    assert bank.results("B1").height == 10


def test_a_different_order_under_an_accepted_batch_number_is_refused() -> None:
    bank = SimulatedBank()
    bank.submit(make_order(10))
    with pytest.raises(ValueError, match="batch"):
        bank.submit(make_order(11))
    assert bank.payments.height == 10


def test_an_order_whose_controls_do_not_match_its_rows_is_refused() -> None:
    order = make_order(5)
    bad = DisbursementOrder(
        batch_id="B1", item="GLJT", period="2026-11", rows=order.rows, count=5, total_fen=order.total_fen + 1
    )
    with pytest.raises(ValueError, match="control"):
        SimulatedBank().submit(bad)


def test_the_sms_tells_the_item_amount_and_masked_account_only() -> None:
    bank = SimulatedBank(item_names={"GLJT": "高龄津贴"})
    order = make_order(3)
    bank.submit(order)
    sms = bank.sms
    assert sms.height == 3
    assert sms.get_column("text")[0] == "【一卡通】您尾号0001的账户收到高龄津贴（2026-11）100.00元。"
    assert sms.get_column("account_masked")[0] == "****0001"
    for account in order.rows.get_column("account"):
        assert not sms.select(pl.col("text").str.contains(account, literal=True).any()).item()


def test_the_same_seed_gives_the_same_results() -> None:
    def run(seed: int) -> list[pl.DataFrame]:
        bank = SimulatedBank(seed=seed, faults=attrs.evolve(Faults.typical(), bank_timeout=0.0))
        bank.submit(make_order(40))
        return drain(bank, "B1", 8)

    a, b, c = run(11), run(11), run(12)
    assert all(x.equals(y) for x, y in zip(a, b, strict=True))
    assert not all(x.equals(y) for x, y in zip(a, c, strict=True))


rates = st.floats(min_value=0.0, max_value=1.0)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    n=st.integers(1, 30),
    closed=rates,
    partial=rates,
    duplicate=rates,
    contradiction=st.floats(min_value=0.0, max_value=0.5),
    phantom=rates,
    amount=rates,
    timeout=st.floats(min_value=0.0, max_value=0.7),
)
def test_whatever_the_faults_every_true_result_arrives_and_nothing_is_paid_twice(
    seed: int,
    n: int,
    closed: float,
    partial: float,
    duplicate: float,
    contradiction: float,
    phantom: float,
    amount: float,
    timeout: float,
) -> None:
    faults = Faults(
        account_closed=closed,
        partial=partial,
        duplicate=duplicate,
        contradiction=contradiction,
        phantom=phantom,
        amount_mismatch=amount,
        out_of_order=0.5,
        bank_timeout=timeout,
    )
    bank = SimulatedBank(seed=seed, faults=faults)
    order = make_order(n)
    for _ in range(200):
        try:
            bank.submit(order)
            break
        except TimeoutError:
            continue
    truth = bank.truth("B1")
    true_rows = truth.drop("delivered")
    seen: set[int] = set()
    for _ in range(300):
        try:
            got = bank.results("B1")
        except TimeoutError:
            continue
        matched = got.join(true_rows, on=true_rows.columns, how="semi", nulls_equal=True)
        seen |= set(matched.get_column("row_id").to_list())
        if len(seen) == n:
            break
    assert len(seen) == n
    assert bank.payments.get_column("row_id").is_unique().all()
    assert bank.paid_fen("B1") == int(truth.filter(pl.col("outcome") == "paid").get_column("amount_fen").sum())


def test_with_a_funding_source_the_bank_pays_only_once_the_money_arrived() -> None:
    funded: dict[str, int] = {}
    bank = SimulatedBank(funding=lambda batch_id: funded.get(batch_id, 0))
    order = make_order(5)
    bank.submit(order)
    assert bank.results("B1").height == 0
    assert bank.payments.height == 0
    assert bank.outcomes().height == 0
    funded["B1"] = order.total_fen - 1
    assert bank.results("B1").height == 0
    funded["B1"] = order.total_fen
    assert bank.results("B1").height == 5
    assert bank.payments.height == 5
    assert bank.outcomes().get_column("delivered").all()
    bank.results("B1")
    assert bank.payments.height == 5


def test_an_order_never_funded_is_never_paid() -> None:
    bank = SimulatedBank(funding=lambda batch_id: 0)
    bank.submit(make_order(5))
    for _ in range(3):
        bank.results("B1")
    assert bank.payments.height == 0
    assert bank.sms.height == 0
    assert bank.truth("B1").height == 5


def test_only_a_result_shown_unaltered_before_is_ever_contradicted() -> None:
    order = make_order(6)
    bank = SimulatedBank(seed=12, faults=Faults(amount_mismatch=1.0, contradiction=1.0))
    bank.submit(order)
    first = bank.results("B1")
    assert set(first.get_column("outcome")) == {"paid"}
    assert not first.get_column("amount_fen").is_in(order.rows.get_column("amount_fen").implode()).any()
    second = bank.results("B1")
    assert set(second.get_column("outcome")) == {"paid"}
    assert second.sort("row_id").get_column("amount_fen").equals(order.rows.get_column("amount_fen"))
    third = bank.results("B1")
    assert set(third.get_column("outcome")) == {"failed"}


def test_an_order_withdrawn_before_its_money_arrived_is_never_paid() -> None:
    funded: dict[str, int] = {}
    bank = SimulatedBank(funding=lambda batch_id: funded.get(batch_id, 0))
    order = make_order(5)
    bank.submit(order)
    bank.withdraw("B1")
    funded["B1"] = order.total_fen
    assert bank.results("B1").height == 0
    assert bank.payments.height == 0
    assert bank.withdrawn == frozenset({"B1"})
    with pytest.raises(ValueError, match="withdrawn"):
        bank.submit(order)


def test_withdrawal_is_refused_once_the_money_arrived() -> None:
    bank = SimulatedBank(funding=lambda batch_id: 10**9)
    bank.submit(make_order(5))
    with pytest.raises(WithdrawalRefused):
        bank.withdraw("B1")
    assert bank.results("B1").height == 5
    assert bank.withdrawn == frozenset()


def test_withdrawing_twice_or_an_unknown_batch_changes_nothing() -> None:
    bank = SimulatedBank(funding=lambda batch_id: 0)
    bank.withdraw("NEVER")
    bank.submit(make_order(3))
    bank.withdraw("B1")
    bank.withdraw("B1")
    assert bank.withdrawn == frozenset({"B1"})


def test_a_reversal_comes_after_the_payment_was_seen_and_is_booked_as_money_back() -> None:
    bank = SimulatedBank(seed=4, faults=Faults(reversal=1.0))
    bank.submit(make_order(6))
    first = bank.results("B1")
    assert set(first["outcome"]) == {"paid"}, "nothing is reversed before its payment was reported"
    calls = drain(bank, "B1", calls=12)
    last = calls[-1]
    reversed_rows = last.filter(pl.col("outcome") == "reversed")
    assert reversed_rows.height == 6
    assert reversed_rows["reason_code"].null_count() == 0
    assert last.filter(pl.col("outcome") == "paid").height == 6, "the payment is still reported beside it"
    assert set(bank.truth("B1")["outcome"]) == {"reversed"}
    assert bank.reversals.select("row_id").sort("row_id")["row_id"].to_list() == list(range(1, 7))
    assert bank.payments.height == 6


def test_without_the_reversal_fault_no_payment_comes_back() -> None:
    bank = SimulatedBank(seed=4, faults=Faults(contradiction=0.5))
    bank.submit(make_order(6))
    drain(bank, "B1", calls=10)
    assert bank.reversals.is_empty()
    assert "reversed" not in set(bank.truth("B1")["outcome"])
