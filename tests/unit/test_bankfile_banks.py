"""Every exchange file names the paying bank: its code is in the file name and the header, and two banks' files in
one folder are never taken for one another."""

from __future__ import annotations

from pathlib import Path

import attrs
import polars as pl
import pytest

from tests.unit.bankfile_support import BATCH, FixedClock, layout, make_order, result_bytes, sample_rows
from yikatong.adapters.bankfile import BankFilePeer, FileExchangeBank
from yikatong.adapters.bankfile.reader import read_result
from yikatong.adapters.bankfile.writer import render_order
from yikatong.adapters.simulated_bank import SimulatedBank
from yikatong.errors import BankFileError, BankLayoutError

LAYOUT_NAMES = ["delimited-gb18030", "fixed-width-gb18030"]


def _book() -> pl.DataFrame:
    rows = sample_rows()
    return rows.select("account", "id_number", "name").with_columns(status=pl.lit("active"))


@pytest.mark.parametrize("name", LAYOUT_NAMES)
def test_every_file_of_a_shipped_layout_names_the_bank_in_its_name_and_header(name: str) -> None:
    lay = layout(name)
    assert lay.code
    assert lay.files_missing_bank() == []


@pytest.mark.parametrize("name", LAYOUT_NAMES)
def test_the_order_file_carries_the_bank_code_in_its_name_and_header(tmp_path: Path, name: str) -> None:
    bank = FileExchangeBank(tmp_path, layout(name), bank_code="RCB7", clock=FixedClock())
    bank.submit(make_order())
    (path,) = list((tmp_path / "outbox").iterdir())
    assert "RCB7" in path.name
    header = path.read_bytes().split(b"\r\n")[0].decode("gb18030")
    assert "RCB7" in header


def test_an_order_for_another_bank_is_refused_by_the_exchange(tmp_path: Path) -> None:
    bank = FileExchangeBank(tmp_path, layout("delimited-gb18030"), bank_code="CQRCB", clock=FixedClock())
    order = make_order()
    with pytest.raises(BankFileError, match="bank PSBC"):
        bank.submit(attrs.evolve(order, bank="PSBC"))
    assert list((tmp_path / "outbox").iterdir()) == []


@pytest.mark.parametrize("name", LAYOUT_NAMES)
def test_a_result_file_whose_header_names_another_bank_is_refused(name: str) -> None:
    lay = layout(name)
    order = make_order()
    data, sent = result_bytes(lay, order, overrides={"bank_code": "OTHER"})
    with pytest.raises(BankFileError, match="names bank OTHER, not"):
        read_result(data, lay, file="r", batch_id=BATCH, sent=sent, bank=lay.code)


def test_two_banks_sharing_a_folder_each_take_only_their_own_answers(tmp_path: Path) -> None:
    lay = layout("delimited-gb18030")
    rural = FileExchangeBank(tmp_path, lay, bank_code="CQRCB", clock=FixedClock())
    postal = FileExchangeBank(tmp_path, lay, bank_code="PSBC", clock=FixedClock())
    rows = sample_rows()
    first, second = rows.head(2), rows.tail(rows.height - 2)
    rural.submit(make_order(first))
    postal.submit(make_order(second))
    assert len(list((tmp_path / "outbox").iterdir())) == 2
    for code in ("CQRCB", "PSBC"):
        BankFilePeer(tmp_path, lay, SimulatedBank(accounts=_book()), bank_code=code, clock=FixedClock()).exchange()
    assert sorted(rural.results(BATCH)["row_id"].to_list()) == sorted(first["row_id"].to_list())
    assert sorted(postal.results(BATCH)["row_id"].to_list()) == sorted(second["row_id"].to_list())
    names = sorted(p.name for p in (tmp_path / "inbox").iterdir())
    assert [n.split("_")[1] for n in names] == ["CQRCB", "PSBC"]


def test_an_exchange_needs_a_bank_code_and_a_layout_that_names_the_bank_in_every_file(tmp_path: Path) -> None:
    lay = layout("delimited-gb18030")
    with pytest.raises(BankLayoutError, match="bank_code="):
        FileExchangeBank(tmp_path, lay.model_copy(update={"code": ""}))
    unnamed = lay.model_copy(
        update={"result": lay.result.model_copy(update={"file_name": "DFHZ_{batch_id}_{date}_{seq}.txt"})}
    )
    with pytest.raises(BankLayoutError, match=r"result.file_name \{bank\}"):
        FileExchangeBank(tmp_path, unnamed)
    assert render_order(make_order(), lay, date=FixedClock().now().date(), bank="X1")[0].startswith("DF_X1_")
