"""read_roster on real files written to disk: encodings, spreadsheets with numeric cells, Parquet."""

from __future__ import annotations

import codecs
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from yikatong import RosterFormatError, read_roster
from yikatong.schema import ROSTER_SCHEMA

ROWS = [
    ("䶮", "500241199001011234", "男", "100.00"),
    ("王𠮷", "50024119900101123x", "女", "1,234.50"),
    ("阿依古丽·买买提", "500241199001011234", "女", "100元"),
]


def _text(separator: str = ",") -> str:
    header = separator.join(["姓名", "身份证号", "性别", "补贴金额"])
    lines = [separator.join([n, i, s, f'"{a}"' if "," in a else a]) for n, i, s, a in ROWS]
    return "\n".join([header, *lines]) + "\n"


def _check(roster: pl.DataFrame) -> None:
    assert roster.schema == pl.Schema(ROSTER_SCHEMA)
    assert roster["name"].to_list() == ["䶮", "王𠮷", "阿依古丽·买买提"]
    assert roster["id_number"].to_list() == ["500241199001011234", "50024119900101123X", "500241199001011234"]
    assert roster["amount_fen"].to_list() == [10000, 123450, 10000]
    assert not roster["flag_text_encoding"].any()
    assert not roster["flag_row_malformed"].any()


def test_plain_gbk_cannot_encode_these_names_but_gb18030_can() -> None:
    with pytest.raises(UnicodeEncodeError):
        "王𠮷".encode("gbk")
    assert "䶮".encode("gb18030").decode("gb18030") == "䶮"


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8", "utf-8-sig", "utf-16"])
def test_a_csv_in_each_supported_encoding_reads_the_same(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes(_text().encode(encoding))
    _check(read_roster(path))


def test_the_bom_is_not_part_of_the_first_header(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes(codecs.BOM_UTF8 + _text().encode())
    assert read_roster(str(path))["name"][0] == "䶮"


def test_a_tab_separated_txt_export_is_read(tmp_path: Path) -> None:
    path = tmp_path / "名单.txt"
    path.write_bytes(_text("\t").encode("gb18030"))
    _check(read_roster(path))


def test_a_gb18030_file_with_a_damaged_byte_flags_only_that_row(tmp_path: Path) -> None:
    data = _text().encode("gb18030").replace("王".encode("gb18030"), b"\xff\x30")
    path = tmp_path / "roster.csv"
    path.write_bytes(data)
    roster = read_roster(path)
    assert roster.height == 3
    assert roster["flag_text_encoding"].to_list() == [False, True, False]
    assert roster["name"][0] == "䶮"


def _workbook(path: Path) -> None:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("名单")
    sheet.write_row(0, 0, ["姓名", "公民身份号码", "补贴金额", "一卡通账号", "备注"])
    sheet.write_row(1, 0, ["张三", "500241199001011234", 100, "6217000012345678901"])
    sheet.write_row(2, 0, ["李四", 500241199001011234, "1,234.50", 6217000012345678901])
    sheet.write_row(3, 0, ["王五", "5.00241E+17", 12.5, 1234567890123])
    sheet.write_row(5, 0, ["赵六", "50024119900101123X", 0.3])
    sheet.write_row(6, 0, ["", None, "  "])
    book.close()


def test_a_spreadsheet_is_read_as_text_and_numeric_id_cells_are_flagged(tmp_path: Path) -> None:
    path = tmp_path / "roster.xlsx"
    _workbook(path)
    roster = read_roster(path)
    assert roster["row_id"].to_list() == [1, 2, 3, 4]
    assert roster["source_line"].to_list() == [2, 3, 4, 6]
    assert roster["name"].to_list() == ["张三", "李四", "王五", "赵六"]
    assert roster["id_number"][0] == "500241199001011234"
    assert roster["id_number"][2] == "5.00241E+17"
    assert roster["flag_id_excel_mangled"].to_list() == [False, True, True, False]
    assert roster["account"][3] is None
    assert roster["account"][2] == "1234567890123"
    assert roster["amount_fen"].to_list() == [10000, 123450, 1250, 30]


def test_a_sheet_is_chosen_by_name(tmp_path: Path) -> None:
    path = tmp_path / "roster.xlsx"
    _workbook(path)
    assert read_roster(path, sheet="名单").height == 4
    with pytest.raises(RosterFormatError) as info:
        read_roster(path, sheet="没有这张表")
    assert info.value.problem == "unreadable"


def test_a_header_only_spreadsheet_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "roster.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet().write_row(0, 0, ["姓名", "身份证号"])
    book.close()
    with pytest.raises(RosterFormatError) as info:
        read_roster(path)
    assert info.value.problem == "empty"


def test_parquet_is_read_by_column_names_and_a_float_id_column_is_mangled(tmp_path: Path) -> None:
    path = tmp_path / "roster.parquet"
    pl.DataFrame(
        {"姓名": ["张三", "李四"], "身份证号": [5.002411990010112e17, 1.0], "金额": ["100", "2.5"]}
    ).write_parquet(path)
    roster = read_roster(path)
    assert roster["flag_id_excel_mangled"].to_list() == [True, True]
    assert roster["amount_fen"].to_list() == [10000, 250]
    assert roster["source_line"].to_list() == [2, 3]


def test_a_roster_saved_as_parquet_reads_back_identical(tmp_path: Path) -> None:
    source = tmp_path / "roster.csv"
    source.write_bytes(_text().encode("gb18030") + "坏行,1\n".encode("gb18030"))
    first = read_roster(source)
    assert first["flag_row_malformed"].to_list() == [False, False, False, True]
    saved = tmp_path / "roster.parquet"
    first.write_parquet(saved)
    assert read_roster(saved).equals(first)


def test_content_decides_when_the_name_says_nothing(tmp_path: Path) -> None:
    xlsx = tmp_path / "roster.xlsx"
    _workbook(xlsx)
    blob = tmp_path / "upload"
    blob.write_bytes(xlsx.read_bytes())
    assert read_roster(blob).height == 4
    with blob.open("rb") as handle:
        assert read_roster(handle).height == 4


def test_an_unknown_suffix_is_refused_unless_a_format_is_given(tmp_path: Path) -> None:
    path = tmp_path / "roster.dat"
    path.write_bytes(_text().encode())
    with pytest.raises(RosterFormatError) as info:
        read_roster(path)
    assert info.value.problem == "unknown_format"
    _check(read_roster(path, format="csv"))


def test_a_missing_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(RosterFormatError) as info:
        read_roster(tmp_path / "nowhere.csv")
    assert info.value.problem == "unreadable"


def test_a_spreadsheet_with_a_title_row_and_an_indented_table_keeps_sheet_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "roster.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write(0, 5, "凤鸣村高龄津贴发放花名册")
    sheet.write_row(2, 2, ["姓名", "身份证号", "一卡通账号"])
    sheet.write_row(3, 2, ["张三", 500241199001011234, "6217000012345678901"])
    sheet.write_row(4, 2, ["李四", "500241199001011234", 6217000012345678901])
    book.close()
    roster = read_roster(path)
    assert roster["source_line"].to_list() == [4, 5]
    assert roster["name"].to_list() == ["张三", "李四"]
    assert roster["flag_id_excel_mangled"].to_list() == [True, True]
    assert roster["account"][0] == "6217000012345678901"


def test_float_noise_in_a_computed_amount_cell_is_read_as_whole_fen_but_text_is_never_rounded(tmp_path: Path) -> None:
    path = tmp_path / "roster.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["身份证号", "亩数", "补贴金额"])
    sheet.write_row(1, 0, ["500241199001011234", 3])
    sheet.write_formula(1, 2, "=1.1*B2", None, 1.1 * 3)  # cached as 3.3000000000000003, as Excel stores it
    sheet.write_row(2, 0, ["500241199001011234", 1, 12.345])
    sheet.write_row(3, 0, ["500241199001011234", 1, "3.3000000000000003"])
    book.close()
    roster = read_roster(path)
    assert roster["amount_raw"].to_list()[1:] == ["12.345", "3.3000000000000003"]
    assert roster["amount_fen"].to_list() == [330, None, None]
