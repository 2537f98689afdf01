"""The project's own banks pass the Bank contract kit, and banks that break the contract fail it.

Passing: the file exchange bank over both example layouts (the bank side played by a simulated bank through
:class:`~yikatong.adapters.bankfile.BankFilePeer`), and the simulated bank itself.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import polars as pl
import pytest

from tests.unit.bankfile_support import FixedClock, layout
from yikatong.adapters.bankfile import BankFilePeer, FileExchangeBank
from yikatong.adapters.simulated import Faults, SimulatedBank
from yikatong.records import DisbursementOrder
from yikatong.testing.bank_contract import BankContract, BankHarness

PAYEES = pl.DataFrame(
    {
        "id_number": ["11010519491231002X", "440524188001010014", "500241199001011237", "500241198502023318"],
        "name": ["张三", "欧阳娜娜", "阿依古丽·买买提", "李四光"],
        "account": ["6228480012345678901", "6210981234567890", "6230520000000001", "62170000111122223"],
    }
)
REJECTED = pl.DataFrame({"id_number": ["50024119700303442X"], "name": ["王五"], "account": ["6222029999999999"]})
FAILING = pl.DataFrame({"id_number": ["500241196001014414"], "name": ["赵六"], "account": ["6217000088887777"]})


def _book() -> pl.DataFrame:
    """The simulated bank's book: every payee active, the failing person's account closed, the rejected absent."""
    return pl.concat([PAYEES, FAILING]).with_columns(
        status=pl.when(pl.col("name") == "赵六").then(pl.lit("closed")).otherwise(pl.lit("active"))
    )


def _paid_fen(bank: SimulatedBank) -> dict[str, int]:
    paid = bank.payments.group_by("batch_id").agg(pl.col("amount_fen").sum())
    return dict(zip(paid["batch_id"].to_list(), paid["amount_fen"].to_list(), strict=True))


class _Funds:
    """The money that has reached the bank per batch: what a bank that waits for funds reads."""

    def __init__(self) -> None:
        self.fen: dict[str, int] = {}

    def of(self, batch_id: str) -> int:
        return self.fen.get(batch_id, 0)

    def arrive(self, order: DisbursementOrder) -> None:
        self.fen[order.batch_id] = order.total_fen


def _simulated_harness(bank: SimulatedBank, funds: _Funds | None = None) -> BankHarness:
    return BankHarness(
        bank=bank,
        payees=PAYEES,
        rejected=REJECTED,
        failing=FAILING,
        paid_fen=lambda batch_id: _paid_fen(bank).get(batch_id, 0),
        fund=None if funds is None else funds.arrive,
    )


def _waiting_bank(*, seed: int = 0, faults: Faults | None = None) -> BankHarness:
    """A simulated bank that pays an order only once its money has arrived (as the workflow's bank does)."""
    funds = _Funds()
    return _simulated_harness(SimulatedBank(seed=seed, accounts=_book(), faults=faults, funding=funds.of), funds)


class TestSimulatedBank(BankContract):
    @pytest.fixture
    def bank_harness(self) -> BankHarness:
        return _waiting_bank()


class TestSimulatedBankThatTimesOutAndAnswersInParts(BankContract):
    """Timeouts are retried and partial results waited for, as the workflow does."""

    @pytest.fixture
    def bank_harness(self) -> BankHarness:
        return attrs.evolve(_waiting_bank(seed=11, faults=Faults(bank_timeout=0.25, partial=0.5)), max_rounds=20)


def _file_harness(folder: Path, name: str, *, faults: Faults | None = None) -> BankHarness:
    funds = _Funds()
    inner = SimulatedBank(seed=5, accounts=_book(), faults=faults, funding=funds.of)
    peer = BankFilePeer(folder, layout(name), inner, clock=FixedClock())
    return BankHarness(
        bank=FileExchangeBank(folder, layout(name), clock=FixedClock()),
        payees=PAYEES,
        rejected=REJECTED,
        failing=FAILING,
        settle=peer.exchange,
        paid_fen=lambda batch_id: _paid_fen(inner).get(batch_id, 0),
        fund=funds.arrive,
        max_rounds=20,
    )


class TestFileExchangeBankDelimited(BankContract):
    @pytest.fixture
    def bank_harness(self, tmp_path: Path) -> BankHarness:
        return _file_harness(tmp_path, "delimited-gb18030")


class TestFileExchangeBankFixedWidth(BankContract):
    @pytest.fixture
    def bank_harness(self, tmp_path: Path) -> BankHarness:
        return _file_harness(tmp_path, "fixed-width-gb18030")


class TestFileExchangeBankWithResultsInSeveralFiles(BankContract):
    """The bank answers a few rows at a time: each answer is a new result file in the inbox."""

    @pytest.fixture
    def bank_harness(self, tmp_path: Path) -> BankHarness:
        return _file_harness(tmp_path, "fixed-width-gb18030", faults=Faults(partial=1.0))


class TestFileExchangeBankWhoseBankTimesOut(BankContract):
    """The bank side misses some runs (a file stays in the outbox, or no result file comes that day)."""

    @pytest.fixture
    def bank_harness(self, tmp_path: Path) -> BankHarness:
        return _file_harness(tmp_path, "delimited-gb18030", faults=Faults(bank_timeout=0.4, partial=0.5))


# -- the kit catches banks that break the contract ---------------------------------------------------------------


class _ForgetfulBank(SimulatedBank):
    """Never returns the result of the highest row."""

    def results(self, batch_id: str) -> pl.DataFrame:
        found = super().results(batch_id)
        return found.filter(pl.col("row_id") != found["row_id"].max()) if found.height else found


class _CredulousBank(SimulatedBank):
    """Verifies everyone."""

    def verify_accounts(self, rows: pl.DataFrame) -> pl.DataFrame:
        return super().verify_accounts(rows).with_columns(verified=pl.lit(True), reason=pl.lit(None, pl.String))


class _LeakyBank(SimulatedBank):
    """Refuses a bad order by printing the first account in full."""

    def submit(self, order: DisbursementOrder) -> None:
        try:
            super().submit(order)
        except ValueError:
            raise ValueError(f"bad order, first account {order.rows['account'][0]}") from None


class _StubbornBank(SimulatedBank):
    """Acknowledges a withdrawal and pays the order anyway once its money arrives."""

    def withdraw(self, batch_id: str) -> None:
        return None


class _DoublePayingBank(SimulatedBank):
    """Takes a repeated order as a new one: its results change and it pays again."""

    def __init__(self) -> None:
        super().__init__(accounts=_book())
        self.seen: dict[str, int] = {}

    def submit(self, order: DisbursementOrder) -> None:
        self.seen[order.batch_id] = self.seen.get(order.batch_id, 0) + 1
        super().submit(order)

    def results(self, batch_id: str) -> pl.DataFrame:
        found = super().results(batch_id)
        if self.seen.get(batch_id, 0) < 2:
            return found
        return pl.concat([found, found.with_columns(amount_fen=pl.col("amount_fen") * 2)])


@pytest.mark.parametrize(
    ("bank", "check"),
    [
        (_ForgetfulBank(accounts=_book()), BankContract.test_an_order_gets_one_result_per_row_with_the_order_amounts),
        (_CredulousBank(accounts=_book()), BankContract.test_rejected_people_fail_verification_with_a_reason),
        (
            _LeakyBank(accounts=_book()),
            BankContract.test_an_order_whose_control_total_is_wrong_is_refused_without_personal_data,
        ),
        (_DoublePayingBank(), BankContract.test_submitting_the_same_order_again_pays_nothing_more),
    ],
    ids=["forgetful", "credulous", "leaky", "double-paying"],
)
def test_the_kit_fails_a_bank_that_breaks_the_contract(bank: SimulatedBank, check: object) -> None:
    harness = _simulated_harness(bank)
    with pytest.raises(AssertionError):
        check(BankContract(), harness)  # type: ignore[operator]


def test_the_kit_fails_a_bank_that_pays_a_withdrawn_order() -> None:
    funds = _Funds()
    harness = _simulated_harness(_StubbornBank(accounts=_book(), funding=funds.of), funds)
    with pytest.raises(AssertionError, match="withdrawn order was paid"):
        BankContract().test_an_order_withdrawn_before_its_money_arrived_is_never_paid(harness)


def test_the_kit_passes_the_same_checks_on_a_well_behaved_bank() -> None:
    harness = _simulated_harness(SimulatedBank(accounts=_book()))
    kit = BankContract()
    kit.test_an_order_gets_one_result_per_row_with_the_order_amounts(harness)
    kit.test_rejected_people_fail_verification_with_a_reason(harness)
    kit.test_an_order_whose_control_total_is_wrong_is_refused_without_personal_data(harness)
    kit.test_submitting_the_same_order_again_pays_nothing_more(harness)


def test_a_bank_answering_in_parts_leaves_several_result_files_that_together_cover_the_order(tmp_path: Path) -> None:
    harness = _file_harness(tmp_path, "fixed-width-gb18030", faults=Faults(partial=1.0))
    BankContract().test_an_order_gets_one_result_per_row_with_the_order_amounts(harness)
    assert len(list((tmp_path / "inbox").glob("RET*.dat"))) >= 2
