from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yikatong.cli import main
from yikatong.errors import ReferenceDataError
from yikatong.ingest import load_ledger, load_reference, load_registry, parse_reference_option

ID = "11010519491231002X"
ACCOUNT = "6217995550012345678"
REGISTRY_HEADER = "id_number,account,account_kind,bank,holder_name,status\n"


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_a_registry_csv_keeps_ids_and_accounts_as_text(tmp_path: Path) -> None:
    path = _write(tmp_path / "reg.csv", REGISTRY_HEADER + f" {ID.lower()} ,{ACCOUNT},Card,农商行,张伟,ACTIVE\n")
    frame = load_registry(path).collect()
    assert frame.row(0) == (ID, ACCOUNT, "card", "农商行", "张伟", "active")


def test_a_gb18030_registry_with_a_bom_free_header_is_read(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "reg.csv", REGISTRY_HEADER + f"{ID},{ACCOUNT},passbook,农商行,阿依古丽·买买提,frozen\n", "gb18030"
    )
    assert load_registry(path).collect()["holder_name"].to_list() == ["阿依古丽·买买提"]


def test_a_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ReferenceDataError, match=r"registry file nowhere\.csv: not found"):
        load_registry(tmp_path / "nowhere.csv")


def test_a_missing_column_names_the_file_and_the_column(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "reg.csv", "id_number,account,bank,holder_name,status\n" + f"{ID},{ACCOUNT},b,张伟,active\n"
    )
    with pytest.raises(ReferenceDataError, match=r"registry file reg\.csv: no column account_kind"):
        load_registry(path)


def test_a_bad_value_names_the_column_and_line_but_never_the_id(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "reg.csv", REGISTRY_HEADER + f"{ID},{ACCOUNT},card,b,张伟,active\n{ID},{ACCOUNT},card,b,张伟,lost\n"
    )
    with pytest.raises(ReferenceDataError, match=r"column status, data row 2 \(CSV line 3\)") as info:
        load_registry(path)
    assert ID not in str(info.value)
    assert ACCOUNT not in str(info.value)


def test_a_numeric_parquet_id_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "reg.parquet"
    pl.DataFrame(
        {
            "id_number": [110105194912310020],
            "account": [ACCOUNT],
            "account_kind": ["card"],
            "bank": ["b"],
            "holder_name": ["张伟"],
            "status": ["active"],
        }
    ).write_parquet(path)
    with pytest.raises(ReferenceDataError, match="column id_number: must be text"):
        load_registry(path)


def test_a_deceased_list_parses_its_dates(tmp_path: Path) -> None:
    path = _write(tmp_path / "dead.csv", f"id_number,death_date\n{ID},2026/10/01\n440524188001010014,20261105\n")
    name, frame = load_reference("deceased", path)
    assert name == "deceased"
    assert frame.collect()["death_date"].to_list() == [dt.date(2026, 10, 1), dt.date(2026, 11, 5)]


def test_a_deceased_list_with_a_bad_date_or_no_date_column_is_refused(tmp_path: Path) -> None:
    bad = _write(tmp_path / "dead.csv", f"id_number,death_date\n{ID},yesterday\n")
    with pytest.raises(ReferenceDataError, match=r"reference list deceased file dead\.csv, column death_date"):
        load_reference("deceased", bad)
    no_date = _write(tmp_path / "dead2.csv", f"id_number\n{ID}\n")
    with pytest.raises(ReferenceDataError, match="no column death_date"):
        load_reference("deceased", no_date)


def test_an_unknown_list_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ReferenceDataError, match="unknown reference list 'dead'"):
        load_reference("dead", tmp_path / "x.csv")


def test_a_parquet_reference_list_is_read(tmp_path: Path) -> None:
    path = tmp_path / "disabled.parquet"
    pl.DataFrame({"id_number": [ID], "grade": ["一级"]}).write_parquet(path)
    assert load_reference("disabled", path)[1].collect().columns == ["id_number"]


def test_a_ledger_amount_in_yuan_becomes_exact_fen_and_periods_are_canonical(tmp_path: Path) -> None:
    text = "id_number,item,period,amount,status\n" + f'{ID},GLJT,2026-11,100.5,paid\n{ID},DB,2026-q4,"1,234.56",Sent\n'
    frame = load_ledger(_write(tmp_path / "ledger.csv", text)).collect()
    assert frame.rows() == [(ID, "GLJT", "2026-11", 10050, "paid"), (ID, "DB", "2026-Q4", 123456, "sent")]


@pytest.mark.parametrize(("amount", "column"), [("1.005", "amount"), ("abc", "amount"), ("-1", "amount")])
def test_a_ledger_amount_with_more_than_two_decimals_is_refused(tmp_path: Path, amount: str, column: str) -> None:
    text = "id_number,item,period,amount,status\n" + f"{ID},GLJT,2026-11,{amount},paid\n"
    with pytest.raises(ReferenceDataError, match=f"ledger file ledger.csv, column {column}, data row 1"):
        load_ledger(_write(tmp_path / "ledger.csv", text))


@pytest.mark.parametrize("amount", ["92233720368547758.08", "1000000000000000", "1e3", "1_000", "100 50"])
def test_a_ledger_amount_that_does_not_fit_is_refused_naming_its_line_never_wrapped(
    tmp_path: Path, amount: str
) -> None:
    text = "id_number,item,period,amount,status\n" + f"{ID},GLJT,2026-11,100,paid\n{ID},GLJT,2026-12,{amount},paid\n"
    with pytest.raises(ReferenceDataError, match=r"column amount, data row 2 \(CSV line 3\): 金额格式错误"):
        load_ledger(_write(tmp_path / "ledger.csv", text))


def test_an_integer_parquet_ledger_amount_beyond_fifteen_digits_is_refused(tmp_path: Path) -> None:
    base = {"id_number": [ID, ID], "item": ["GLJT", "GLJT"], "period": ["2026-11", "2026-12"], "status": ["paid"] * 2}
    path = tmp_path / "l.parquet"
    pl.DataFrame({**base, "amount": [100, 92233720368547758]}).write_parquet(path)
    with pytest.raises(ReferenceDataError, match=r"data row 2 .*out of range"):
        load_ledger(path)
    pl.DataFrame({**base, "amount": [100, 999_999_999_999_999]}).write_parquet(path)
    assert load_ledger(path).collect()["amount_fen"].to_list() == [10000, 99_999_999_999_999_900]


def test_a_ledger_with_a_bad_period_or_status_is_refused(tmp_path: Path) -> None:
    bad_period = "id_number,item,period,amount,status\n" + f"{ID},GLJT,November,1,paid\n"
    with pytest.raises(ReferenceDataError, match="column period"):
        load_ledger(_write(tmp_path / "a.csv", bad_period))
    bad_status = "id_number,item,period,amount,status\n" + f"{ID},GLJT,2026-11,1,refunded\n"
    with pytest.raises(ReferenceDataError, match="column status"):
        load_ledger(_write(tmp_path / "b.csv", bad_status))


def test_a_float_parquet_amount_is_refused_and_a_decimal_one_is_exact(tmp_path: Path) -> None:
    base = {"id_number": [ID], "item": ["GLJT"], "period": ["2026-11"], "status": ["paid"]}
    floats = tmp_path / "f.parquet"
    pl.DataFrame({**base, "amount": [100.1]}).write_parquet(floats)
    with pytest.raises(ReferenceDataError, match="floating-point"):
        load_ledger(floats)
    decimals = tmp_path / "d.parquet"
    pl.DataFrame({**base, "amount": pl.Series([Decimal("100.10")], dtype=pl.Decimal(10, 2))}).write_parquet(decimals)
    assert load_ledger(decimals).collect()["amount_fen"].to_list() == [10010]


@settings(max_examples=60, deadline=None)
@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_ledger_amounts_convert_exactly(tmp_path_factory: pytest.TempPathFactory, amount: Decimal) -> None:
    path = tmp_path_factory.mktemp("ledger") / "l.csv"
    _write(path, "id_number,item,period,amount,status\n" + f"{ID},GLJT,2026-11,{amount},paid\n")
    assert load_ledger(path).collect()["amount_fen"].item() == int(amount * 100)


def test_reference_options_split_on_the_first_equals_sign() -> None:
    assert parse_reference_option("deceased=/data/a=b.csv") == ("deceased", "/data/a=b.csv")
    with pytest.raises(ReferenceDataError, match="NAME=FILE"):
        parse_reference_option("deceased")


def test_the_validate_command_uses_registry_reference_and_ledger_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = Path(__file__).resolve().parents[2] / "src" / "yikatong" / "data" / "catalog.toml"
    roster = _write(tmp_path / "roster.csv", f"name,id_number,account,amount\n张伟,{ID},{ACCOUNT},100.00\n")
    registry = _write(tmp_path / "reg.csv", REGISTRY_HEADER + f"{ID},{ACCOUNT},card,农商行,張偉,active\n")
    dead = _write(tmp_path / "dead.csv", f"id_number,death_date\n{ID},2026-10-01\n")
    ledger = _write(tmp_path / "ledger.csv", f"id_number,item,period,amount,status\n{ID},GLJT,2026-11,100,paid\n")
    code = main(
        [
            "validate",
            str(roster),
            "--catalog",
            str(catalog),
            "--item",
            "GLJT",
            "--period",
            "2026-11",
            "--registry",
            str(registry),
            "--reference",
            f"deceased={dead}",
            "--ledger",
            str(ledger),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "DECEASED" in out
    assert "DUP_ALREADY_PAID" in out
    assert "ACCOUNT_NOT_REGISTERED" not in out


def test_the_validate_command_reports_a_bad_registry_file_with_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = Path(__file__).resolve().parents[2] / "src" / "yikatong" / "data" / "catalog.toml"
    roster = _write(tmp_path / "roster.csv", f"name,id_number,account,amount\n张伟,{ID},{ACCOUNT},100.00\n")
    registry = _write(tmp_path / "reg.csv", "id_number,account\n" + f"{ID},{ACCOUNT}\n")
    code = main(
        [
            "validate",
            str(roster),
            "--catalog",
            str(catalog),
            "--item",
            "GLJT",
            "--period",
            "2026-11",
            "--registry",
            str(registry),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "registry file reg.csv: no column account_kind" in err
    assert ID not in err
