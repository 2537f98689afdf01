"""Order files: byte-exact fixed widths in GB18030, delimited records, control records, and refusals."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.bankfile_support import BATCH, DATE, layout, make_order, sample_rows
from yikatong.adapters.bankfile.layout import BankLayout
from yikatong.adapters.bankfile.reader import read_order
from yikatong.adapters.bankfile.writer import render_order
from yikatong.errors import BankFileError
from yikatong.records import DisbursementOrder


def _utf8(lay: BankLayout) -> BankLayout:
    return lay.model_copy(update={"order": lay.order.model_copy(update={"encoding": "utf-8"})})


def test_a_fixed_width_order_has_every_record_exactly_as_wide_as_the_layout_in_gb18030_bytes() -> None:
    lay = layout("fixed-width-gb18030")
    _, data, _ = render_order(make_order(), lay, date=DATE)
    lines = data.split(b"\r\n")
    assert lines[-1] == b""
    assert lay.order.header is not None
    assert len(lines[0]) == lay.order.header.width()
    assert {len(line) for line in lines[1:-2]} == {lay.order.detail.width()}
    assert lay.order.trailer is not None
    assert len(lines[-2]) == lay.order.trailer.width()


def test_a_chinese_name_takes_two_bytes_per_character_in_a_fixed_width_gb18030_field() -> None:
    lay = layout("fixed-width-gb18030")
    _, data, _ = render_order(make_order(), lay, date=DATE)
    detail = data.split(b"\r\n")[1]  # serial 1 is row 2: 王
    name_field = detail[2 + 8 + 25 : 2 + 8 + 25 + 40]
    assert name_field == "王".encode("gb18030") + b" " * 38
    record = data.split(b"\r\n")[3]  # serial 3 is row 5: 李四光
    assert record[35:75].decode("gb18030").rstrip() == "李四光"


def test_numbers_are_zero_filled_and_right_aligned() -> None:
    lay = layout("fixed-width-gb18030")
    _, data, _ = render_order(make_order(), lay, date=DATE)
    trailer = data.split(b"\r\n")[-2]
    assert trailer == b"03" + b"00000005" + str(make_order().total_fen).zfill(16).encode()


def test_a_delimited_order_has_a_header_a_record_per_row_and_a_trailer_with_the_control_total() -> None:
    lay = layout("delimited-gb18030")
    name, data, rows = render_order(make_order(), lay, date=DATE)
    assert name == f"DF_CQRCB_{BATCH}_20261127.txt"
    text = data.decode("gb18030").split("\r\n")
    assert text[0] == f"H|CQRCB|{BATCH}|20261127|5|1000223.95|GDLS|2026-11"
    assert text[1] == "1|6222021234567894|王|0.01|50024119700303442X|GDLS|GDLS 2026-11 惠民惠农补贴"
    assert text[-2] == "T|5|1000223.95"
    assert rows["serial"].to_list() == [1, 2, 3, 4, 5]
    assert rows["row_id"].to_list() == [2, 3, 5, 7, 11]


def test_a_name_too_wide_for_its_field_is_refused_not_cut() -> None:
    lay = layout("fixed-width-gb18030")
    rows = sample_rows().with_columns(name=pl.when(pl.col("row_id") == 5).then(pl.lit("阿" * 21)).otherwise("name"))
    with pytest.raises(BankFileError, match=r"line 4: field 'name' is 42 bytes in gb18030, wider than its 40"):
        render_order(make_order(rows), lay, date=DATE)


def test_twenty_chinese_characters_fill_a_forty_byte_field_exactly() -> None:
    lay = layout("fixed-width-gb18030")
    rows = sample_rows().with_columns(name=pl.lit("阿" * 20))
    _, data, _ = render_order(make_order(rows), lay, date=DATE)
    assert data.split(b"\r\n")[1][35:75] == ("阿" * 20).encode("gb18030")


def test_an_account_too_long_is_refused_without_printing_it() -> None:
    lay = layout("fixed-width-gb18030")
    long_account = "6" * 30
    rows = sample_rows().with_columns(account=pl.lit(long_account))
    with pytest.raises(BankFileError) as caught:
        render_order(make_order(rows), lay, date=DATE)
    assert long_account not in str(caught.value)
    assert "account" in str(caught.value)


def test_a_value_containing_the_separator_is_refused() -> None:
    lay = layout("delimited-gb18030")
    rows = sample_rows().with_columns(name=pl.when(pl.col("row_id") == 3).then(pl.lit("欧阳|娜娜")).otherwise("name"))
    with pytest.raises(BankFileError, match=r"line 3: field 'name' contains the separator"):
        render_order(make_order(rows), lay, date=DATE)


def test_an_order_whose_control_total_does_not_match_its_rows_is_refused() -> None:
    order = make_order()
    broken = DisbursementOrder(
        batch_id=order.batch_id,
        item=order.item,
        period=order.period,
        rows=order.rows,
        count=order.count,
        total_fen=order.total_fen + 1,
    )
    with pytest.raises(BankFileError, match="control total"):
        render_order(broken, layout("delimited-gb18030"), date=DATE)


def test_an_order_with_a_missing_or_zero_amount_is_refused() -> None:
    rows = sample_rows().with_columns(amount_fen=pl.when(pl.col("row_id") == 3).then(0).otherwise("amount_fen"))
    with pytest.raises(BankFileError, match="not positive"):
        render_order(make_order(rows), layout("delimited-gb18030"), date=DATE)


def test_an_order_with_a_repeated_row_id_is_refused() -> None:
    rows = pl.concat([sample_rows(), sample_rows().head(1).with_columns(account=pl.lit("6222000000000000"))])
    with pytest.raises(BankFileError, match="row_id twice"):
        render_order(make_order(rows), layout("delimited-gb18030"), date=DATE)


def test_a_batch_id_with_a_slash_gives_a_safe_file_name_and_keeps_the_real_id_inside() -> None:
    lay = layout("delimited-gb18030")
    name, data, _ = render_order(make_order(batch_id="XS/2026:11"), lay, date=DATE)
    assert name == "DF_CQRCB_XS_2026_11_20261127.txt"
    assert data.decode("gb18030").startswith("H|CQRCB|XS/2026:11|")


_NAME_CHARS = st.sampled_from(list("张王李赵欧阳司马娜丽华国强秀英买提古阿依𠀀鿕·"))
_NAMES = st.text(_NAME_CHARS, min_size=1, max_size=10).filter(lambda n: not n.startswith("·"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    names=st.lists(_NAMES, min_size=1, max_size=8),
    amounts=st.lists(st.integers(min_value=1, max_value=10**12), min_size=8, max_size=8),
    name=st.sampled_from(["delimited-gb18030", "fixed-width-gb18030", "delimited-utf8", "fixed-width-utf8"]),
)
def test_names_and_amounts_come_back_exactly_from_an_order_file(
    names: list[str], amounts: list[int], name: str
) -> None:
    lay = layout(name.replace("-utf8", "-gb18030"))
    if name.endswith("utf8"):
        lay = _utf8(lay)
    n = len(names)
    rows = pl.DataFrame(
        {
            "row_id": list(range(100, 100 + n)),
            "id_number": ["11010519491231002X"] * n,
            "name": names,
            "account": [f"62284800{i:011d}" for i in range(n)],
            "amount_fen": amounts[:n],
        },
        schema_overrides={"row_id": pl.Int64, "amount_fen": pl.Int64},
    )
    file_name, data, _ = render_order(make_order(rows), lay, date=DATE)
    back = read_order(data, lay, file=file_name)
    assert back["name"].to_list() == names
    assert back["amount_fen"].to_list() == amounts[:n]
    assert back["batch_id"].to_list() == [BATCH] * n


@pytest.mark.parametrize("names", [["司"], ["强"], ["司", "强"]])
def test_a_gb18030_file_whose_few_characters_are_also_valid_utf8_is_read_as_gb18030(names: list[str]) -> None:
    assert all(n.encode("gb18030").decode("utf-8") for n in names)  # 司 is CB BE in GB18030, U+02FE in UTF-8
    rows = sample_rows().head(len(names)).with_columns(name=pl.Series(names))
    file_name, data, _ = render_order(make_order(rows), layout("fixed-width-gb18030"), date=DATE)
    back = read_order(data, layout("fixed-width-gb18030"), file=file_name)
    assert sorted(back["name"].to_list()) == sorted(names)
