"""read_roster on in-memory sources: every data row kept, flags set, whole-file problems raised."""

from __future__ import annotations

import io
from decimal import Decimal

import polars as pl
import pytest

import yikatong
from yikatong import RosterFormatError, read_roster
from yikatong.catalog import Catalog
from yikatong.ingest import RosterFormat
from yikatong.rules.ingestion import RULES as INGESTION
from yikatong.schema import ROSTER_SCHEMA

HEADER = "姓名,身份证号,性别,一卡通账号,补贴金额,乡镇(街道),村(社区)\n"
GOOD = "张三,500241199001011234,男,6217000012345678,100.00,中和街道,凤鸣村\n"


def _csv(*lines: str, header: str = HEADER, encoding: str = "utf-8") -> bytes:
    return (header + "".join(lines)).encode(encoding)


def _row(frame: pl.DataFrame, row_id: int) -> dict[str, object]:
    return frame.filter(pl.col("row_id") == row_id).row(0, named=True)


def test_the_result_has_exactly_the_canonical_schema() -> None:
    roster = read_roster(_csv(GOOD))
    assert roster.schema == pl.Schema(ROSTER_SCHEMA)


def test_columns_the_source_lacks_are_null_and_flags_false() -> None:
    roster = read_roster("身份证号\n500241199001011234\n".encode())
    row = _row(roster, 1)
    assert row["name"] is None
    assert row["amount_fen"] is None
    assert row["quantity"] is None
    assert not any(row[c] for c in ROSTER_SCHEMA if c.startswith("flag_"))


def test_chinese_headers_map_to_the_canonical_columns() -> None:
    row = _row(read_roster(_csv(GOOD)), 1)
    assert row == row | {
        "row_id": 1,
        "source_line": 2,
        "name": "张三",
        "id_number": "500241199001011234",
        "sex": "男",
        "account": "6217000012345678",
        "amount_fen": 10000,
        "amount_raw": "100.00",
        "town": "中和街道",
        "village": "凤鸣村",
    }


def test_headers_are_compared_without_spaces_and_full_width_brackets_and_units() -> None:
    header = " 姓 名 ,公民身份号码,补贴金额（元）,乡镇（街道）,村（社区）,计税面积,档次,户主身份证号,项目代码\n"
    line = "李四,500241199001011234,50,中和街道,凤鸣村,3.5,一级,500241196001011234,GDLBZ\n"
    row = _row(read_roster(_csv(line, header=header)), 1)
    assert row["name"] == "李四"
    assert row["amount_fen"] == 5000
    assert row["town"] == "中和街道"
    assert row["village"] == "凤鸣村"
    assert row["quantity"] == Decimal("3.5")
    assert row["category"] == "一级"
    assert row["household_head_id"] == "500241196001011234"
    assert row["item"] == "GDLBZ"


def test_english_headers_are_recognised_too() -> None:
    row = _row(read_roster(b"name,id_number,amount\nZhang,500241199001011234,1.5\n"), 1)
    assert (row["name"], row["amount_fen"]) == ("Zhang", 150)


def test_unknown_columns_are_dropped() -> None:
    roster = read_roster("身份证号,备注,电话\n500241199001011234,低保户,13800000000\n".encode())
    assert roster.columns == list(ROSTER_SCHEMA)


def test_a_custom_mapping_names_the_callers_own_headers() -> None:
    data = "户名,证件,实发\n张三,500241199001011234,88.5\n".encode()
    row = _row(read_roster(data, mapping={"户名": "name", "证件": "id_number", "实发": "amount"}), 1)
    assert (row["name"], row["id_number"], row["amount_fen"]) == ("张三", "500241199001011234", 8850)


def test_a_mapping_to_none_ignores_a_column_the_aliases_would_pick_up() -> None:
    data = "身份证号,银行账号,社保卡号\n500241199001011234,6217000012345678,1000000001\n".encode()
    with pytest.raises(RosterFormatError) as info:
        read_roster(data)
    assert info.value.problem == "bad_mapping"
    row = _row(read_roster(data, mapping={"银行账号": None}), 1)
    assert row["account"] == "1000000001"


@pytest.mark.parametrize(
    "mapping",
    [{"不存在的列": "name"}, {"姓名": "surname"}],
)
def test_a_mapping_naming_a_missing_column_or_an_unknown_target_is_refused(mapping: dict[str, str]) -> None:
    with pytest.raises(RosterFormatError) as info:
        read_roster(_csv(GOOD), mapping=mapping)
    assert info.value.problem == "bad_mapping"


def test_rows_keep_their_physical_line_and_blank_lines_are_not_data_rows() -> None:
    roster = read_roster(_csv(GOOD, "\n", "   \n", ",,,,,,\n", GOOD, "\r\n"))
    assert roster["row_id"].to_list() == [1, 2]
    assert roster["source_line"].to_list() == [2, 6]


def test_crlf_line_ends_are_read_like_lf() -> None:
    roster = read_roster(_csv(GOOD, GOOD).replace(b"\n", b"\r\n"))
    assert roster["village"].to_list() == ["凤鸣村", "凤鸣村"]
    assert not roster["flag_row_malformed"].any()


def test_a_line_with_too_many_fields_is_kept_and_flagged_malformed() -> None:
    roster = read_roster(_csv(GOOD, "王五,500241199001011234,男,6217000012345678,1,234.50,中和街道,凤鸣村\n", GOOD))
    assert roster.height == 3
    row = _row(roster, 2)
    assert row["flag_row_malformed"]
    assert row["source_line"] == 3
    assert row["name"] == "王五"
    assert row["id_number"] == "500241199001011234"
    assert not _row(roster, 1)["flag_row_malformed"]
    assert not _row(roster, 3)["flag_row_malformed"]


def test_a_line_with_too_few_fields_is_kept_and_flagged_malformed() -> None:
    roster = read_roster(_csv("赵六,500241199001011234\n", GOOD))
    row = _row(roster, 1)
    assert row["flag_row_malformed"]
    assert row["name"] == "赵六"
    assert row["village"] is None
    assert roster.height == 2


def test_empty_trailing_fields_beyond_the_header_are_tolerated() -> None:
    roster = read_roster(_csv(GOOD.replace("\n", ",,\n")))
    assert not roster["flag_row_malformed"].any()


def test_an_unbalanced_quote_costs_only_its_own_line() -> None:
    broken = '"钱七,500241199001011234,女,6217000012345678,100,中和街道,凤鸣村\n'
    roster = read_roster(_csv(GOOD, broken, GOOD, GOOD, '孙八,"500241199001011234,男,1,1,1,1\n', GOOD))
    assert roster["source_line"].to_list() == [2, 3, 4, 5, 6, 7]
    assert roster["flag_row_malformed"].to_list() == [False, True, False, False, True, False]
    assert _row(roster, 2)["name"] == "钱七"


def test_a_quoted_cell_spanning_lines_is_one_row() -> None:
    roster = read_roster(_csv('张三,500241199001011234,男,6217000012345678,100,中和街道,"凤鸣村\n二组"\n', GOOD))
    assert roster["source_line"].to_list() == [2, 4]
    assert _row(roster, 1)["village"] == "凤鸣村\n二组"
    assert not roster["flag_row_malformed"].any()


def test_a_quoted_amount_with_a_thousands_separator_is_one_field() -> None:
    row = _row(read_roster(_csv('周九,500241199001011234,男,6217000012345678,"1,234.50",中和街道,"凤鸣""村"\n')), 1)
    assert (row["amount_fen"], row["amount_raw"], row["village"]) == (123450, "1,234.50", '凤鸣"村')
    assert not row["flag_row_malformed"]


@pytest.mark.parametrize(("amount", "fen"), [("100元", 10000), ("12.345", None), ("abc", None), ("", None)])
def test_the_amount_text_is_kept_and_only_exact_amounts_get_fen(amount: str, fen: int | None) -> None:
    row = _row(read_roster(_csv(f"张三,500241199001011234,男,1,{amount},镇,村\n")), 1)
    assert row["amount_fen"] == fen
    assert row["amount_raw"] == (amount or None)


def test_id_normalisation_is_flagged_only_when_the_text_changed() -> None:
    lines = [
        "甲,50024119900101123x,男,1,1,镇,村\n",
        "乙,５００２４１１９９００１０１１２３Ｘ,男,1,1,镇,村\n",
        "丙,500241\u200b199001011234,男,1,1,镇,村\n",
        "丁,50024119900101123X,男,1,1,镇,村\n",
    ]
    roster = read_roster(_csv(*lines))
    assert roster["id_number"].to_list() == ["50024119900101123X"] * 2 + ["500241199001011234", "50024119900101123X"]
    assert roster["flag_id_normalised"].to_list() == [True, True, True, False]


def test_a_scientific_notation_id_is_kept_as_written_and_flagged_mangled() -> None:
    roster = read_roster(
        _csv("甲,5.00241E+17,男,6.21700001234568E+15,1,镇,村\n", "乙,500241199001011234.0,女,1,1,镇,村\n")
    )
    assert roster["id_number"].to_list() == ["5.00241E+17", "500241199001011234.0"]
    assert roster["flag_id_excel_mangled"].to_list() == [True, True]


def test_a_name_with_a_question_mark_or_replacement_character_is_an_encoding_problem() -> None:
    roster = read_roster(_csv("李?,500241199001011234,男,1,1,镇,村\n", "䶮,500241199001011234,男,1,1,镇,村\n"))
    assert roster["flag_text_encoding"].to_list() == [True, False]


def test_undecodable_bytes_become_replacement_characters_and_flag_the_row() -> None:
    data = _csv(GOOD, encoding="gb18030") + "王".encode("gb18030") + b"\x80\xff,500241199001011234,1,1,1,1,1\n"
    roster = read_roster(data)
    assert roster["flag_text_encoding"].to_list() == [False, True]
    assert roster["name"][0] == "张三"


def test_name_look_alike_dots_are_normalised_and_flagged() -> None:
    roster = read_roster(_csv("阿依古丽・买买提,500241199001011234,女,1,1,镇,村\n", GOOD))
    assert roster["name"].to_list() == ["阿依古丽·买买提", "张三"]
    assert roster["flag_name_normalised"].to_list() == [True, False]


def test_tab_separated_text_is_read() -> None:
    data = "姓名\t身份证号\t金额\n张三\t500241199001011234\t1,234.50\n".encode()
    row = _row(read_roster(data), 1)
    assert (row["name"], row["amount_fen"]) == ("张三", 123450)


def test_a_binary_file_object_is_read_like_bytes() -> None:
    assert read_roster(io.BytesIO(_csv(GOOD))).equals(read_roster(_csv(GOOD)))


def test_a_dataframe_in_gives_a_dataframe_and_a_lazyframe_in_gives_a_lazyframe() -> None:
    frame = pl.DataFrame({"姓名": ["张三", "李四"], "身份证号": ["50024119900101123x", "500241199001011234"]})
    eager = read_roster(frame)
    lazy = read_roster(frame.lazy())
    assert isinstance(eager, pl.DataFrame)
    assert isinstance(lazy, pl.LazyFrame)
    assert lazy.collect().equals(eager)
    assert eager["source_line"].to_list() == [2, 3]
    assert eager["flag_id_normalised"].to_list() == [True, False]


def test_a_float_id_column_in_a_frame_is_mangled_and_integer_fen_are_kept() -> None:
    frame = pl.DataFrame({"id_number": [5.002411990010112e17], "amount_fen": [12345]})
    row = _row(read_roster(frame), 1)
    assert row["flag_id_excel_mangled"]
    assert row["amount_fen"] == 12345
    assert row["amount_raw"] == "123.45"


def test_a_roster_read_again_is_unchanged() -> None:
    first = read_roster(_csv(GOOD, "李?,5.00241E+17,男,1,1,1\n"))
    assert read_roster(first).equals(first)


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (HEADER.encode(), "empty"),
        ("姓名,金额\n张三,1\n".encode(), "no_id_column"),
        ("姓名,身份证号,身份证\n张三,1,2\n".encode(), "bad_mapping"),
        (12345, "unknown_format"),
        (pl.DataFrame({"身份证号": [[1, 2]]}), "bad_mapping"),
    ],
)
def test_whole_file_problems_raise_one_error_naming_the_problem(source: object, problem: str) -> None:
    with pytest.raises(RosterFormatError) as info:
        read_roster(source)  # type: ignore[call-overload]
    assert info.value.problem == problem
    assert info.value.message_zh
    assert info.value.message_en


def test_an_unknown_format_name_is_refused() -> None:
    with pytest.raises(RosterFormatError) as info:
        read_roster(_csv(GOOD), format="json")  # type: ignore[call-overload]
    assert info.value.problem == "unknown_format"


def test_the_error_is_a_value_error_and_never_shows_row_values() -> None:
    with pytest.raises(ValueError, match="身份证号") as info:
        read_roster("姓名,电话\n张三,13800000000\n".encode())
    assert "13800000000" not in str(info.value)
    assert "张三" not in str(info.value)


def test_a_corrupt_spreadsheet_or_parquet_file_is_unreadable() -> None:
    cases: list[tuple[bytes, RosterFormat | None]] = [
        (b"PK\x03\x04 not a zip", None),
        (b"PAR1 broken", None),
        (b"abc", "xlsx"),
    ]
    for data, fmt in cases:
        with pytest.raises(RosterFormatError) as info:
            read_roster(data, format=fmt)
        assert info.value.problem == "unreadable"


def test_ingestion_flags_become_issues_when_validated(catalog: Catalog) -> None:
    data = _csv(
        GOOD,
        "李?,5.00241E+17,男,1,100,镇,村\n",
        "阿依・买买提,50024119900101123x,女,1,100,镇,村\n",
        "王五,500241199001011234\n",
    )
    roster = read_roster(data)
    report = yikatong.validate(roster, item=catalog["GLJT"], period="2026-11", rules=INGESTION)
    codes = report.issues.group_by("row_id").agg(pl.col("code").sort()).sort("row_id")
    assert codes.rows() == [
        (2, ["ID_EXCEL_MANGLED", "TEXT_ENCODING"]),
        (3, ["ID_NORMALISED", "NAME_NORMALISED"]),
        (4, ["ROW_MALFORMED"]),
    ]
    assert report.verdicts["verdict"].to_list() == ["pass", "block", "pass", "block"]
    assert "source line 5" in report.issues.filter(pl.col("code") == "ROW_MALFORMED")["evidence"][0]


def test_a_title_line_before_the_header_is_a_preamble_not_a_row() -> None:
    data = ("凤鸣村2026年11月高龄津贴发放花名册,,,,,,\n制表日期：2026-11-20\n" + HEADER + GOOD).encode("gb18030")
    roster = read_roster(data)
    assert roster["source_line"].to_list() == [4]
    assert roster["name"].to_list() == ["张三"]


def test_a_header_found_through_the_mapping_can_follow_a_title_line() -> None:
    data = "花名册\n户名,证件\n张三,500241199001011234\n".encode()
    roster = read_roster(data, mapping={"证件": "id_number", "户名": "name"})
    assert roster.select("source_line", "name").rows() == [(3, "张三")]


def test_an_all_null_frame_column_reads_as_missing_values() -> None:
    frame = pl.DataFrame({"身份证号": ["500241199001011234"], "姓名": [None], "金额": [None]})
    row = _row(read_roster(frame), 1)
    assert row["name"] is None
    assert row["amount_fen"] is None


def test_a_mapping_that_is_not_titles_to_names_is_refused() -> None:
    with pytest.raises(RosterFormatError) as info:
        read_roster(_csv(GOOD), mapping={1: "name"})  # type: ignore[dict-item]
    assert info.value.problem == "bad_mapping"


def test_float_noise_in_a_float_frame_column_is_read_as_whole_fen() -> None:
    frame = pl.DataFrame({"身份证号": ["1", "2", "3"], "金额": [0.1 + 0.2, 12.345, 1.1 * 3]})
    assert read_roster(frame)["amount_fen"].to_list() == [30, None, 330]


def test_a_unit_separator_in_the_text_and_old_mac_line_ends_still_give_one_row_per_line() -> None:
    with_separator = read_roster(_csv(GOOD.replace("凤鸣村", "凤鸣\x1f村"), GOOD))
    assert with_separator["village"].to_list() == ["凤鸣\x1f村", "凤鸣村"]
    carriage_returns = read_roster(_csv(GOOD, GOOD).replace(b"\n", b"\r"))
    assert carriage_returns["source_line"].to_list() == [2, 3]


def test_ids_kept_as_text_with_an_equals_sign_or_apostrophe_are_read_and_normalised() -> None:
    data = _csv(
        '张三,="500241199001011234",男,="6217000012345678",100,镇,村\n', "李四,'50024119900101123X,女,1,100,镇,村\n"
    )
    roster = read_roster(data)
    assert roster["id_number"].to_list() == ["500241199001011234", "50024119900101123X"]
    assert roster["account"][0] == "6217000012345678"
    assert roster["flag_id_normalised"].to_list() == [True, True]
    assert not roster["flag_row_malformed"].any()
