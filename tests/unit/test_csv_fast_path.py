"""The fast path for clean CSV gives exactly the robust splitter's records, form lines and errors, for any text."""

from __future__ import annotations

import codecs

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from yikatong import RosterFormatError, read_roster
from yikatong.ingest._csvtext import ParsedText, parse_text
from yikatong.ingest._fastcsv import read_lines, records

_SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_ANY_CELL = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "\u3000",
            "\u200b",
            "\ufeff",
            "张三",
            "王 秀英",
            "500241199001011234",
            "50024119900101123X",
            "5.00241E+17",
            "100.00",
            "１００元",
            "合计",
            "合计：35人",
            "制表人：李四",
            "身份证号",
            "备注",
            "1",
            "#",
            '"',
            '"张三"',
            '"a,b"',
            '"两\n行"',
            '"x""y"',
            '="5002"',
            "a\tb",
            "a;b",
            "a|b",
        ]
    ),
    st.text(alphabet="ab1 \t,;|\u3000\u00a0\"'\n\r\x1f·", max_size=6),
)
_CLEAN_CELL = _ANY_CELL.map(lambda cell: cell.translate({ord(c): None for c in '"\n\r\x1f'}))


@st.composite
def _rosters(draw: st.DrawFn) -> bytes:
    """Roster text with the usual header and lines of every shape: ragged, blank, quoted, CR/CRLF, a BOM, bad bytes."""
    d = draw(st.sampled_from([",", ",", "\t", ";", "|"]))
    titles = draw(st.sampled_from([["姓名", "身份证号", "补贴金额"], ["序号", "姓名", "身份证号", "卡号", "金额"]]))
    width = len(titles)
    cells = draw(st.sampled_from([_ANY_CELL, _CLEAN_CELL, _CLEAN_CELL]))
    lines = []
    if draw(st.booleans()):
        lines.append(draw(st.sampled_from(["某某镇高龄津贴发放花名册", "", "单位：元", '"标题"'])))
    quote_titles = draw(st.booleans())
    header = d.join(f'"{t}"' if quote_titles else t for t in titles)
    lines.append(header)
    for _ in range(draw(st.integers(0, 12))):
        n = draw(st.sampled_from([width, width, width, 0, 1, width - 1, width + 1, width + 3]))
        lines.append(d.join(draw(cells) for _ in range(n)))
    ends = draw(st.sampled_from(["\n", "\n", "\r\n", "\r\n", "mixed"]))
    if ends == "mixed":
        text = "".join(line + draw(st.sampled_from(["\n", "\r\n", "\r"])) for line in lines)
    else:
        text = ends.join(lines) + (ends if draw(st.booleans()) else "")
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "gb18030", "utf-16"]))
    data = text.encode(encoding, "replace")
    if draw(st.integers(0, 7)) == 0:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from([b"\xff", b"\x80", b"\xe4\xb8", codecs.BOM_UTF8])) + data[at:]
    return data


def _parse(data: bytes, fast: bool) -> ParsedText | str:
    try:
        return parse_text(data, None, fast=fast)
    except RosterFormatError as exc:
        return exc.problem


@_SETTINGS
@given(_rosters())
def test_fast_path_gives_exactly_the_robust_records_for_any_text(data: bytes) -> None:
    fast = _parse(data, fast=True)
    robust = _parse(data, fast=False)
    if isinstance(robust, str) or isinstance(fast, str):
        assert fast == robust
        return
    assert fast.titles == robust.titles
    assert fast.columns == robust.columns
    assert_frame_equal(fast.records, robust.records)
    assert_frame_equal(fast.form.lines, robust.form.lines)
    assert fast.form.declared_total_fen == robust.form.declared_total_fen
    assert fast.form.declared_count == robust.form.declared_count
    assert fast.form.declared_line == robust.form.declared_line


def _body(text: str) -> tuple[bytes, pl.DataFrame]:
    data = text.encode("utf-8")
    lines = read_lines(data)
    assert lines is not None
    offset = data.index(b"\n") + 1
    return data[offset:], lines.filter(pl.col("line") > 1)


def test_clean_body_with_ragged_and_blank_lines_takes_the_fast_path() -> None:
    rows = ["张三,500241199001011234,100", ",,", "李四,1", "王五,2,3,,\u3000", "赵六,3,4,x"]
    body, lines = _body("\r\n".join(["姓名,身份证号,补贴金额", *rows, ""]))
    result = records(body, lines, ",", 3)
    assert result is not None
    found, blank = result
    assert blank.to_list() == [3]
    assert found["line"].to_list() == [2, 4, 5, 6]
    assert found["malformed"].to_list() == [False, True, False, True]
    assert found.row(1) == (4, True, "李四", "1", None)


@pytest.mark.parametrize(
    "text",
    [
        '姓名,身份证号,补贴金额\n"张三",500241199001011234,100\n',
        "姓名,身份证号,补贴金额\n\ufeff张三,500241199001011234,100\n",
    ],
)
def test_quoted_body_or_a_leading_byte_order_mark_is_left_to_the_robust_path(text: str) -> None:
    body, lines = _body(text)
    assert records(body, lines, ",", 3) is None


@pytest.mark.parametrize("data", [b"\xef\xbb\xbfa\n", b"a\rb\n", b"a,\xff\n", b"a\x1fb\n"])
def test_lines_are_left_to_the_decoder_for_a_bom_a_bare_cr_bad_bytes_or_the_unit_separator(data: bytes) -> None:
    assert read_lines(data) is None


def test_a_roster_read_by_the_fast_path_keeps_every_row_and_its_malformed_flag() -> None:
    text = "姓名,身份证号,补贴金额\n张三,500241199001011234,100\n李四,500241199001011234\n\n合计,,100\n"
    roster = read_roster(text.encode("utf-8"))
    assert roster["source_line"].to_list() == [2, 3]
    assert roster["flag_row_malformed"].to_list() == [False, True]
