"""FileExchangeBank over a real folder: atomic idempotent orders, results checked whole, verification by files."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tests.unit.bankfile_support import BATCH, FixedClock, layout, make_order, result_bytes, sample_rows
from yikatong.adapters.bankfile import BankFilePeer, FileExchangeBank
from yikatong.adapters.bankfile.reader import RESULT_SCHEMA
from yikatong.adapters.faults import Faults
from yikatong.adapters.simulated_bank import SimulatedBank
from yikatong.errors import BankFileError, WithdrawalRefused
from yikatong.ports import Bank

LAYOUT_NAMES = ["delimited-gb18030", "fixed-width-gb18030"]


def _book() -> pl.DataFrame:
    """The bank's book: the account of row 3 (欧阳娜娜) is closed, everyone else's is active."""
    rows = sample_rows()
    return rows.select("account", "id_number", "name").with_columns(
        status=pl.when(rows["row_id"] == 3).then(pl.lit("closed")).otherwise(pl.lit("active"))
    )


def _bank(folder: Path, name: str = "delimited-gb18030") -> FileExchangeBank:
    return FileExchangeBank(folder, layout(name), clock=FixedClock())


def _peer(folder: Path, name: str = "delimited-gb18030") -> BankFilePeer:
    return BankFilePeer(folder, layout(name), SimulatedBank(accounts=_book()), clock=FixedClock())


def test_the_file_exchange_bank_is_a_bank(tmp_path: Path) -> None:
    assert isinstance(_bank(tmp_path), Bank)


def test_submit_writes_one_order_file_into_the_outbox_and_nothing_half_written(tmp_path: Path) -> None:
    bank = _bank(tmp_path)
    bank.submit(make_order())
    files = sorted(p.name for p in (tmp_path / "outbox").iterdir())
    assert files == [f"DF_CQRCB_{BATCH}_20261127.txt"]
    assert not list(tmp_path.rglob("*.tmp"))


def test_submitting_the_same_batch_again_writes_nothing_new_even_after_the_file_was_collected(tmp_path: Path) -> None:
    bank = _bank(tmp_path)
    bank.submit(make_order())
    sent = tmp_path / "outbox" / f"DF_CQRCB_{BATCH}_20261127.txt"
    first = sent.read_bytes()
    sent.rename(tmp_path / "collected.txt")  # the host took it to the bank
    bank.submit(make_order())
    assert list((tmp_path / "outbox").iterdir()) == []
    assert (tmp_path / "collected.txt").read_bytes() == first


def test_an_order_interrupted_before_it_was_placed_is_placed_again_with_the_same_name_and_bytes(tmp_path: Path) -> None:
    bank = _bank(tmp_path)
    bank.submit(make_order())
    sent = tmp_path / "outbox" / f"DF_CQRCB_{BATCH}_20261127.txt"
    first = sent.read_bytes()
    sent.unlink()
    (tmp_path / "sent" / f"CQRCB.{BATCH}.placed").unlink()  # as if killed between the manifest and the placement
    bank.submit(make_order())
    assert sent.read_bytes() == first


def test_a_different_order_under_a_batch_already_submitted_is_refused(tmp_path: Path) -> None:
    bank = _bank(tmp_path)
    bank.submit(make_order())
    other = make_order(sample_rows().head(3))
    with pytest.raises(BankFileError, match="already submitted with a different order"):
        bank.submit(other)
    assert len(list((tmp_path / "outbox").iterdir())) == 1


def test_results_are_empty_until_a_result_file_arrives(tmp_path: Path) -> None:
    bank = _bank(tmp_path)
    assert bank.results(BATCH).schema == pl.Schema(RESULT_SCHEMA)
    bank.submit(make_order())
    assert bank.results(BATCH).height == 0


@pytest.mark.parametrize("name", LAYOUT_NAMES)
def test_an_order_goes_to_a_simulated_bank_and_its_result_file_comes_back_as_results(tmp_path: Path, name: str) -> None:
    bank, peer = _bank(tmp_path, name), _peer(tmp_path, name)
    order = make_order()
    bank.submit(order)
    peer.exchange()
    results = bank.results(BATCH).sort("row_id")
    assert results["row_id"].to_list() == [2, 3, 5, 7, 11]
    assert results["outcome"].to_list() == ["paid", "failed", "paid", "paid", "paid"]
    assert results["amount_fen"].sum() == order.total_fen
    failed = results.filter(pl.col("outcome") == "failed").row(0, named=True)
    assert failed["reason"] == "账户已销户"
    assert failed["reason_code"] in layout(name).result.reasons


def test_results_from_several_partial_files_are_all_returned(tmp_path: Path) -> None:
    lay = layout("fixed-width-gb18030")
    bank = _bank(tmp_path, "fixed-width-gb18030")
    order = make_order()
    bank.submit(order)
    first, _ = result_bytes(lay, order, edit=lambda r: r.filter(pl.col("serial") <= 2))
    second, _ = result_bytes(lay, order, edit=lambda r: r.filter(pl.col("serial") > 2))
    (tmp_path / "inbox" / f"RET20261127_PSBC_{BATCH}_1.dat").write_bytes(first)
    (tmp_path / "inbox" / f"RET20261127_PSBC_{BATCH}_2.dat").write_bytes(second)
    (tmp_path / "inbox" / "RET20261127_PSBC_XS-OTHER_1.dat").write_bytes(b"not ours")
    assert sorted(bank.results(BATCH)["row_id"].to_list()) == [2, 3, 5, 7, 11]


def test_a_result_file_that_does_not_add_up_is_moved_aside_and_nothing_of_it_is_returned(tmp_path: Path) -> None:
    lay = layout("delimited-gb18030")
    bank = _bank(tmp_path)
    order = make_order()
    bank.submit(order)
    good, _ = result_bytes(lay, order, edit=lambda r: r.filter(pl.col("serial") <= 2))
    bad, _ = result_bytes(lay, order, edit=lambda r: r.filter(pl.col("serial") > 2), overrides={"paid_total": 1})
    (tmp_path / "inbox" / f"DFHZ_CQRCB_{BATCH}_20261127_1.txt").write_bytes(good)
    (tmp_path / "inbox" / f"DFHZ_CQRCB_{BATCH}_20261127_2.txt").write_bytes(bad)
    with pytest.raises(BankFileError, match=r"DFHZ_.*_2\.txt, line 5: the trailer paid_total"):
        bank.results(BATCH)
    refused = tmp_path / "refused" / f"DFHZ_CQRCB_{BATCH}_20261127_2.txt"
    assert refused.read_bytes() == bad
    assert "paid_total" in (tmp_path / "refused" / f"{refused.name}.reason.txt").read_text(encoding="utf-8")
    assert sorted(bank.results(BATCH)["row_id"].to_list()) == [2, 3]


@pytest.mark.parametrize("name", LAYOUT_NAMES)
def test_account_verification_is_a_request_file_and_a_response_file(tmp_path: Path, name: str) -> None:
    bank, peer = _bank(tmp_path, name), _peer(tmp_path, name)
    rows = sample_rows().drop("amount_fen")
    with pytest.raises(TimeoutError, match="no verification response"):
        bank.verify_accounts(rows)
    assert len(list((tmp_path / "outbox").iterdir())) == 1
    with pytest.raises(TimeoutError):
        bank.verify_accounts(rows)  # asking again writes no second request
    assert len(list((tmp_path / "outbox").iterdir())) == 1
    peer.exchange()
    answer = bank.verify_accounts(rows)
    assert answer.columns == ["row_id", "verified", "reason"]
    assert answer.sort("row_id")["verified"].to_list() == [True, False, True, True, True]
    assert answer.filter(~pl.col("verified"))["reason"].to_list() == ["账户已销户"]
    assert answer.filter(pl.col("verified"))["reason"].null_count() == 4


@pytest.mark.parametrize("name", LAYOUT_NAMES)
def test_rows_no_request_file_can_carry_are_answered_unverified_without_asking_the_bank(
    tmp_path: Path, name: str
) -> None:
    bank, peer = _bank(tmp_path, name), _peer(tmp_path, name)
    rows = sample_rows().drop("amount_fen")
    rows = rows.with_columns(
        pl.when(pl.col("row_id") == rows["row_id"][1])
        .then(pl.lit("名" * 60 + "|"))
        .otherwise(pl.col("name"))
        .alias("name"),
        pl.when(pl.col("row_id") == rows["row_id"][2]).then(None).otherwise(pl.col("account")).alias("account"),
    )
    with pytest.raises(TimeoutError):
        bank.verify_accounts(rows)
    peer.exchange()
    answer = bank.verify_accounts(rows)
    assert answer["row_id"].to_list() == sorted(rows["row_id"].to_list())
    unverified = answer.filter(pl.col("row_id").is_in([rows["row_id"][1], rows["row_id"][2]]))
    assert unverified["verified"].to_list() == [False, False]
    assert all("does not fit the layout" in r for r in unverified["reason"].to_list())


def test_a_verification_response_that_leaves_a_row_unanswered_is_refused(tmp_path: Path) -> None:
    bank, peer = _bank(tmp_path), _peer(tmp_path)
    rows = sample_rows().drop("amount_fen")
    with pytest.raises(TimeoutError):
        bank.verify_accounts(rows)
    peer.exchange()
    response = next((tmp_path / "inbox").iterdir())
    lines = response.read_bytes().split(b"\r\n")
    lines[0] = lines[0].replace(b"|5", b"|4")
    response.write_bytes(b"\r\n".join(lines[:3] + lines[4:]))
    with pytest.raises(BankFileError, match="answers 4 of 5 requested rows"):
        bank.verify_accounts(rows)
    assert (tmp_path / "refused" / response.name).exists()


def test_errors_of_the_exchange_never_show_a_full_account_or_id(tmp_path: Path) -> None:
    bank = _bank(tmp_path, "fixed-width-gb18030")
    rows = sample_rows().with_columns(account=pl.lit("6" * 30))
    with pytest.raises(BankFileError) as caught:
        bank.submit(make_order(rows))
    message = str(caught.value)
    assert "6" * 19 not in message
    for id_number in sample_rows()["id_number"]:
        assert id_number not in message


def test_result_files_of_a_batch_whose_id_starts_like_another_are_not_mixed_up(tmp_path: Path) -> None:
    lay = layout("delimited-gb18030")
    bank = _bank(tmp_path)
    short, longer = make_order(batch_id="B1"), make_order(batch_id="B1_2")
    bank.submit(short)
    bank.submit(longer)
    data, _ = result_bytes(lay, longer)
    (tmp_path / "inbox" / "DFHZ_CQRCB_B1_2_20261127_1.txt").write_bytes(data)
    assert bank.results("B1").height == 0
    assert bank.results("B1_2").height == 5


def test_batch_ids_that_share_a_file_name_are_never_mixed_up(tmp_path: Path) -> None:
    bank = _bank(tmp_path)
    bank.submit(make_order(batch_id="XS/2026/1"))
    with pytest.raises(BankFileError, match="already submitted with a different order"):
        bank.submit(make_order(batch_id="XS_2026_1"))
    assert bank.results("XS_2026_1").height == 0


@pytest.mark.parametrize("name", LAYOUT_NAMES)
def test_a_reversal_travels_in_a_result_file_of_its_own_and_reads_back_reversed(tmp_path: Path, name: str) -> None:
    inner = SimulatedBank(seed=3, accounts=_book(), faults=Faults(reversal=1.0))
    bank = _bank(tmp_path, name)
    peer = BankFilePeer(tmp_path, layout(name), inner, clock=FixedClock())
    bank.submit(make_order())
    for _ in range(12):
        peer.exchange()
    results = bank.results(BATCH)
    reversed_rows = results.filter(pl.col("outcome") == "reversed")
    assert reversed_rows.height > 0
    assert reversed_rows["reason_code"].null_count() == 0
    assert set(reversed_rows["row_id"]) <= set(results.filter(pl.col("outcome") == "paid")["row_id"])
    assert len(list((tmp_path / "inbox").iterdir())) >= 2, "the reversals came in later files"


def test_an_order_still_in_the_outbox_is_withdrawn_and_never_placed_again(tmp_path: Path) -> None:
    bank = _bank(tmp_path)
    bank.submit(make_order())
    bank.withdraw(BATCH)
    assert list((tmp_path / "outbox").iterdir()) == []
    _peer(tmp_path).exchange()
    assert bank.results(BATCH).is_empty()
    bank.withdraw(BATCH)
    with pytest.raises(BankFileError, match="withdrawn"):
        bank.submit(make_order())


def test_an_order_the_bank_has_taken_cannot_be_withdrawn_through_the_files(tmp_path: Path) -> None:
    bank = _bank(tmp_path)
    bank.submit(make_order())
    _peer(tmp_path).exchange()
    with pytest.raises(WithdrawalRefused, match="bank"):
        bank.withdraw(BATCH)
    assert bank.results(BATCH).height == sample_rows().height


def test_withdrawing_a_batch_never_submitted_changes_nothing(tmp_path: Path) -> None:
    bank = _bank(tmp_path)
    bank.withdraw("NEVER")
    assert list((tmp_path / "sent").iterdir()) == []
