"""Fuzzing read_roster: any input gives the documented error or exactly one row per data row."""

from __future__ import annotations

import codecs
import csv
import io

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yikatong import RosterFormatError, read_roster
from yikatong.schema import ROSTER_SCHEMA

_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _is_roster(result: object) -> pl.DataFrame:
    assert isinstance(result, pl.DataFrame)
    assert result.schema == pl.Schema(ROSTER_SCHEMA)
    assert result["row_id"].to_list() == list(range(1, result.height + 1))
    return result


_BOMS = st.sampled_from([b"", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, "身份证号,".encode()])


@_SETTINGS
@given(_BOMS, st.binary(max_size=400))
def test_arbitrary_bytes_give_the_documented_error_or_a_roster(prefix: bytes, tail: bytes) -> None:
    data = prefix + tail
    problem = None
    try:
        result = read_roster(data)
    except RosterFormatError as exc:
        problem = exc.problem
    if problem is not None:
        assert problem in {"unknown_format", "empty", "no_id_column", "unreadable", "bad_mapping"}
        return
    roster = _is_roster(result)
    lines = data.count(b"\n") + data.count(b"\r") + 1
    assert roster.height <= lines
    assert roster["source_line"].is_sorted()


_LINE_BYTES = st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"").replace(b"\r", b"").replace(b'"', b""))


@_SETTINGS
@given(st.lists(_LINE_BYTES, min_size=1, max_size=25), st.sampled_from(["utf-8", "gb18030"]))
def test_every_line_of_arbitrary_bytes_after_a_header_is_exactly_one_row(lines: list[bytes], encoding: str) -> None:
    header = "身份证号,姓名,补贴金额\n".encode(encoding)
    body = b"".join(f"r{i},".encode() + line + b"\n" for i, line in enumerate(lines))
    roster = _is_roster(read_roster(header + body))
    assert roster["source_line"].to_list() == list(range(2, len(lines) + 2))
    assert roster["id_number"].to_list() == [f"r{i}" for i in range(len(lines))]


_CELL = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\x00"),
    max_size=12,
)


@_SETTINGS
@given(st.lists(st.tuples(_CELL, _CELL), min_size=1, max_size=20))
def test_arbitrary_cell_text_written_as_csv_reads_back_row_for_row(rows: list[tuple[str, str]]) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["身份证号", "姓名", "补贴金额"])
    starts = []
    line = 2
    for i, (name, amount) in enumerate(rows):
        starts.append(line)
        record = [f"r{i}", name, amount]
        writer.writerow(record)
        line += sum(cell.count("\n") for cell in record) + 1
    roster = _is_roster(read_roster(out.getvalue().encode("utf-8")))
    assert roster["source_line"].to_list() == starts
    assert not roster["flag_row_malformed"].any()
    expected_amounts = [amount if amount.strip(" \t\n\v\f\x85\xa0\u3000") else None for _, amount in rows]
    for got, want in zip(roster["amount_raw"].to_list(), expected_amounts, strict=True):
        if want is not None:
            assert got == want


@_SETTINGS
@given(
    st.lists(
        st.lists(st.sampled_from(["a", "1", '"', '""', ",", " ", "张", "\t"]), max_size=8).map("".join),
        min_size=1,
        max_size=15,
    )
)
def test_broken_quoting_never_loses_a_line(bodies: list[str]) -> None:
    text = "身份证号,姓名,金额\n" + "".join(f"r{i},{body}\n" for i, body in enumerate(bodies))
    rows = _is_roster(read_roster(text.encode("utf-8"))).rows(named=True)
    starts = [row["source_line"] for row in rows]
    assert starts[0] == 2
    assert starts == sorted(set(starts))
    for row in rows:
        assert row["id_number"] == f"r{row['source_line'] - 2}"
    for i in range(len(bodies)):
        if i + 2 in starts:
            continue
        # Not a row of its own: the line must sit inside a quoted cell of the row that starts before it.
        before = [row for row in rows if row["source_line"] < i + 2][-1]
        assert f"r{i}," in f"{before['name']}{before['amount_raw']}"
