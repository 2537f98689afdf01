"""Result files are read whole and refused whole: every way a bank file can fail to add up."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.bankfile_support import BATCH, layout, make_order, result_bytes
from yikatong.adapters.bankfile.layout import BankLayout
from yikatong.adapters.bankfile.reader import RESULT_SCHEMA, read_result
from yikatong.errors import BankFileError, ReconciliationError

LAYOUT_NAMES = ["delimited-gb18030", "fixed-width-gb18030"]


def _read(lay: BankLayout, data: bytes, sent: pl.DataFrame) -> pl.DataFrame:
    return read_result(data, lay, file="RESULT.txt", batch_id=BATCH, sent=sent)


def _refusal(lay: BankLayout, data: bytes, sent: pl.DataFrame) -> BankFileError:
    with pytest.raises(BankFileError) as caught:
        _read(lay, data, sent)
    return caught.value


def _edit_serial(which: int, /, **changes: pl.Expr) -> Callable[[pl.DataFrame], pl.DataFrame]:
    def edit(rows: pl.DataFrame) -> pl.DataFrame:
        hit = pl.col("serial") == which
        return rows.with_columns(**{k: pl.when(hit).then(v).otherwise(pl.col(k)) for k, v in changes.items()})

    return edit


@pytest.mark.parametrize("name", LAYOUT_NAMES)
def test_a_good_result_file_gives_one_result_per_row(name: str) -> None:
    lay = layout(name)
    order = make_order()
    data, sent = result_bytes(lay, order, failed_serials=(2, 4))
    frame = _read(lay, data, sent)
    assert frame.schema == pl.Schema(RESULT_SCHEMA)
    assert sorted(frame["row_id"].to_list()) == sorted(order.rows["row_id"].to_list())
    by_row = {r["row_id"]: r for r in frame.iter_rows(named=True)}
    assert by_row[3]["outcome"] == "failed"  # serial 2 is the second smallest row_id
    assert by_row[3]["reason_code"] is not None
    assert by_row[3]["reason"]
    assert by_row[2]["outcome"] == "paid"
    assert by_row[2]["reason_code"] is None
    assert frame["amount_fen"].sum() == order.total_fen


@pytest.mark.parametrize("name", LAYOUT_NAMES)
def test_a_wrong_control_total_is_refused(name: str) -> None:
    lay = layout(name)
    key = "paid_total"
    data, sent = result_bytes(lay, make_order(), overrides={key: 12344})
    error = _refusal(lay, data, sent)
    assert "paid_total" in str(error)
    assert error.file == "RESULT.txt"
    assert error.line is not None


def test_a_wrong_grand_total_in_the_trailer_is_refused() -> None:
    lay = layout("fixed-width-gb18030")
    order = make_order()
    data, sent = result_bytes(lay, order, overrides={"total": order.total_fen + 1})
    error = _refusal(lay, data, sent)
    assert "total" in str(error)
    assert error.line == order.count + 2


@pytest.mark.parametrize(("name", "key"), [("delimited-gb18030", "count"), ("fixed-width-gb18030", "count")])
def test_a_wrong_record_count_is_refused(name: str, key: str) -> None:
    lay = layout(name)
    data, sent = result_bytes(lay, make_order(), overrides={key: 4})
    error = _refusal(lay, data, sent)
    assert "count says 4, the file has 5" in str(error)


@pytest.mark.parametrize("name", LAYOUT_NAMES)
def test_a_row_not_in_the_order_is_refused(name: str) -> None:
    lay = layout(name)
    data, sent = result_bytes(lay, make_order(), edit=_edit_serial(3, serial=pl.lit(99, dtype=pl.Int64)))
    error = _refusal(lay, data, sent)
    assert "serial 99 is not in the order" in str(error)


@pytest.mark.parametrize("name", LAYOUT_NAMES)
def test_a_row_given_twice_is_refused(name: str) -> None:
    lay = layout(name)
    data, sent = result_bytes(
        lay, make_order(), edit=lambda rows: pl.concat([rows, rows.filter(pl.col("serial") == 4)])
    )
    error = _refusal(lay, data, sent)
    assert "serial 4 appears twice" in str(error)
    assert error.line == 7  # header, five rows, then the repeat


@pytest.mark.parametrize("name", LAYOUT_NAMES)
def test_an_amount_other_than_the_order_is_refused(name: str) -> None:
    lay = layout(name)
    data, sent = result_bytes(lay, make_order(), edit=_edit_serial(1, amount_fen=pl.col("amount_fen") + 1))
    error = _refusal(lay, data, sent)
    assert "amount differs" in str(error)
    assert error.line == 2


@pytest.mark.parametrize("name", LAYOUT_NAMES)
def test_an_account_other_than_the_order_is_refused_without_printing_it(name: str) -> None:
    lay = layout(name)
    other = "6228480099998887776"
    data, sent = result_bytes(lay, make_order(), edit=_edit_serial(1, account=pl.lit(other)))
    error = _refusal(lay, data, sent)
    assert "account ****7776 differs" in str(error)
    assert other not in str(error)


@pytest.mark.parametrize("name", LAYOUT_NAMES)
def test_an_unknown_status_code_is_refused(name: str) -> None:
    lay = layout(name)
    data, sent = result_bytes(lay, make_order(), edit=_edit_serial(5, status=pl.lit("X")))
    error = _refusal(lay, data, sent)
    assert "unknown status code" in str(error)
    assert error.line == 6


def test_a_header_naming_another_batch_is_refused() -> None:
    lay = layout("delimited-gb18030")
    data, sent = result_bytes(lay, make_order(), overrides={"batch_id": "XS-2026-11-OTHER"})
    error = _refusal(lay, data, sent)
    assert "another batch" in str(error)
    assert error.line == 1


@pytest.mark.parametrize("name", LAYOUT_NAMES)
@pytest.mark.parametrize("cut", [1, 2, 9])
def test_a_truncated_last_line_is_refused(name: str, cut: int) -> None:
    lay = layout(name)
    data, sent = result_bytes(lay, make_order())
    error = _refusal(lay, data[:-cut], sent)
    assert "truncated" in str(error) or "not CRLF" in str(error)
    assert error.line == 7


def test_a_file_cut_inside_a_chinese_character_is_refused() -> None:
    lay = layout("delimited-gb18030")
    data, sent = result_bytes(lay, make_order(), failed_serials=(5,))
    cut = data.rindex("账户".encode("gb18030")) + 1
    error = _refusal(lay, data[:cut], sent)
    assert "not valid gb18030" in str(error)


@pytest.mark.parametrize("name", LAYOUT_NAMES)
def test_a_utf8_file_where_gb18030_is_expected_is_refused(name: str) -> None:
    lay = layout(name)
    data, sent = result_bytes(lay, make_order())
    error = _refusal(lay, data.decode("gb18030").encode("utf-8"), sent)
    assert "UTF-8" in str(error)


def test_a_gb18030_file_where_utf8_is_expected_is_refused() -> None:
    base = layout("delimited-gb18030")
    lay = base.model_copy(update={"result": base.result.model_copy(update={"encoding": "utf-8"})})
    data, sent = result_bytes(base, make_order())
    error = _refusal(lay, data, sent)
    assert "not valid utf-8" in str(error)
    assert error.line == 2


def test_a_byte_order_mark_is_accepted_in_utf8_files() -> None:
    base = layout("delimited-gb18030")
    lay = base.model_copy(update={"result": base.result.model_copy(update={"encoding": "utf-8"})})
    data, sent = result_bytes(lay, make_order())
    assert _read(lay, b"\xef\xbb\xbf" + data, sent).height == 5


@pytest.mark.parametrize("name", LAYOUT_NAMES)
def test_a_bare_line_feed_in_a_crlf_file_is_refused(name: str) -> None:
    lay = layout(name)
    data, sent = result_bytes(lay, make_order())
    broken = data.replace(b"\r\n", b"\n", 3).replace(b"\n", b"\r\n", 2)
    error = _refusal(lay, broken, sent)
    assert "not CRLF" in str(error)
    assert error.line == 3


@pytest.mark.parametrize("name", LAYOUT_NAMES)
def test_a_blank_line_is_refused(name: str) -> None:
    lay = layout(name)
    data, sent = result_bytes(lay, make_order())
    lines = data.split(b"\r\n")
    broken = b"\r\n".join([*lines[:3], b"", *lines[3:]])
    error = _refusal(lay, broken, sent)
    assert "blank line" in str(error)
    assert error.line == 4


def test_a_delimited_record_with_a_missing_field_is_refused() -> None:
    lay = layout("delimited-gb18030")
    data, sent = result_bytes(lay, make_order())
    lines = data.split(b"\r\n")
    lines[2] = lines[2].rsplit(b"|", 1)[0]
    error = _refusal(lay, b"\r\n".join(lines), sent)
    assert "expected 7 fields, found 6" in str(error)
    assert error.line == 3


def test_a_fixed_width_record_of_the_wrong_length_is_refused() -> None:
    lay = layout("fixed-width-gb18030")
    data, sent = result_bytes(lay, make_order())
    lines = data.split(b"\r\n")
    lines[3] = lines[3][:-1]
    error = _refusal(lay, b"\r\n".join(lines), sent)
    assert "the layout says 136" in str(error)
    assert error.line == 4


def test_a_fixed_width_field_that_cuts_a_chinese_character_is_refused() -> None:
    lay = layout("fixed-width-gb18030")
    full_name = "阿" * 20  # exactly the 40 bytes of the name field
    order = make_order(
        pl.DataFrame({"row_id": [1], "id_number": ["X"], "name": [full_name], "account": ["1"]}).with_columns(
            amount_fen=pl.lit(100, dtype=pl.Int64)
        )
    )
    data, sent = result_bytes(lay, order, failed_serials=())
    lines = data.split(b"\r\n")
    start = 2 + 8 + 25
    # Shift the name one byte right: its last character now straddles the boundary with the amount field.
    lines[1] = lines[1][:start] + b" " + lines[1][start:-1]
    error = _refusal(lay, b"\r\n".join(lines), sent)
    assert "cuts a character in half" in str(error)
    assert error.line == 2


def test_a_literal_record_type_that_does_not_match_is_refused() -> None:
    lay = layout("fixed-width-gb18030")
    data, sent = result_bytes(lay, make_order())
    lines = data.split(b"\r\n")
    lines[2] = b"09" + lines[2][2:]
    error = _refusal(lay, b"\r\n".join(lines), sent)
    assert "expected '02'" in str(error)
    assert error.line == 3


def test_an_amount_with_one_decimal_is_refused_in_a_yuan_layout() -> None:
    lay = layout("delimited-gb18030")
    data, sent = result_bytes(lay, make_order())
    broken = data.replace(b"|100.00|", b"|100.0|")
    error = _refusal(lay, broken, sent)
    assert "not an amount in yuan" in str(error)


def test_an_empty_file_is_refused() -> None:
    lay = layout("delimited-gb18030")
    _, sent = result_bytes(lay, make_order())
    assert "empty" in str(_refusal(lay, b"", sent))


def test_a_bank_file_error_is_a_reconciliation_error_and_a_value_error() -> None:
    lay = layout("delimited-gb18030")
    _, sent = result_bytes(lay, make_order())
    with pytest.raises(ReconciliationError):
        _read(lay, b"", sent)
    with pytest.raises(ValueError, match=r"RESULT\.txt"):
        _read(lay, b"", sent)


def test_a_result_file_with_only_some_rows_is_read() -> None:
    lay = layout("fixed-width-gb18030")
    data, sent = result_bytes(lay, make_order(), edit=lambda rows: rows.filter(pl.col("serial") <= 2))
    frame = _read(lay, data, sent)
    assert frame["row_id"].to_list() == [2, 3]


def test_a_layout_keyed_by_row_id_reads_results_and_refuses_unknown_rows() -> None:
    base = layout("delimited-gb18030")
    keyed = {
        where: getattr(base, where).model_copy(
            update={
                "detail": getattr(base, where).detail.model_copy(
                    update={
                        "fields": [
                            f.model_copy(update={"name": "row_id"}) if f.name == "serial" else f
                            for f in getattr(base, where).detail.fields
                        ]
                    }
                )
            }
        )
        for where in ("order", "result")
    }
    lay = base.model_copy(update=keyed)
    assert lay.result.key == "row_id"
    order = make_order()
    good, sent = result_bytes(lay, order)
    assert sorted(_read(lay, good, sent)["row_id"].to_list()) == [2, 3, 5, 7, 11]
    bad, _ = result_bytes(lay, order, edit=lambda r: r.with_columns(row_id=pl.col("row_id") + 1000))
    assert "row_id 1002 is not in the order" in str(_refusal(lay, bad, sent))


def test_a_failed_row_without_a_reason_code_or_text_is_named_by_its_status_code() -> None:
    lay = layout("delimited-gb18030")
    data, sent = result_bytes(
        lay, make_order(), edit=_edit_serial(2, reason_code=pl.lit(""), reason=pl.lit("")), failed_serials=(2,)
    )
    failed = _read(lay, data, sent).filter(pl.col("outcome") == "failed").row(0, named=True)
    assert failed["reason_code"] == "F"
    assert failed["reason"] == "F"


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(LAYOUT_NAMES),
    failed=st.sets(st.integers(min_value=1, max_value=5)),
    keep=st.sets(st.integers(min_value=1, max_value=5), min_size=1),
)
def test_any_subset_of_paid_and_failed_rows_reads_back_as_sent(name: str, failed: set[int], keep: set[int]) -> None:
    lay = layout(name)
    order = make_order()
    data, sent = result_bytes(
        lay, order, failed_serials=tuple(failed), edit=lambda rows: rows.filter(pl.col("serial").is_in(list(keep)))
    )
    frame = _read(lay, data, sent).join(sent.select("row_id", "serial"), on="row_id")
    assert set(frame["serial"].to_list()) == keep
    assert set(frame.filter(pl.col("outcome") == "failed")["serial"].to_list()) == failed & keep
    ordered = frame.join(sent.select("serial", pl.col("amount_fen").alias("sent_fen")), on="serial")
    assert (ordered["amount_fen"] == ordered["sent_fen"]).all()


def test_an_amount_too_large_for_any_batch_is_refused_as_not_an_amount() -> None:
    lay = layout("delimited-gb18030")
    data, sent = result_bytes(lay, make_order())
    error = _refusal(lay, data.replace(b"|100.00|", b"|" + b"9" * 20 + b".00|"), sent)
    assert "not an amount in yuan" in str(error)
    assert error.line == 5
