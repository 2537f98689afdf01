"""Line ends in text rosters: outside quotes CR, LF and CRLF each end a record, mixed freely in one file."""

from __future__ import annotations

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.idnumbers import with_check
from yikatong import read_roster

_HEADER = "姓名,身份证号,补贴金额,村(社区)"
_SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _ids(n: int) -> list[str]:
    return [with_check(f"50024119500101{i:03d}") for i in range(n)]


def _roster(ends: list[str]) -> tuple[bytes, list[str]]:
    """A header and one payee per entry of ``ends``, each record ended by that line end."""
    ids = _ids(len(ends))
    body = "".join(f"张{i},{pid},100,凤鸣村{end}" for i, (pid, end) in enumerate(zip(ids, ends, strict=True)))
    return (_HEADER + "\n" + body).encode("utf-8"), ids


def test_an_lf_file_with_one_row_ending_in_a_bare_cr_keeps_all_100_rows() -> None:
    ends = ["\n"] * 100
    ends[41] = "\r"
    data, ids = _roster(ends)
    roster = read_roster(data)
    assert roster.height == 100
    assert roster["id_number"].to_list() == ids
    assert not roster["flag_row_malformed"].any()


def test_a_cr_file_with_one_lf_keeps_all_100_rows_apart() -> None:
    ends = ["\r"] * 100
    ends[57] = "\n"
    data, ids = _roster(ends)
    roster = read_roster(data.replace(b"\n", b"\r", 1))
    assert roster.height == 100
    assert roster["id_number"].to_list() == ids
    assert roster["village"].to_list() == ["凤鸣村"] * 100


def test_a_cr_file_ending_in_crlf_is_read_row_for_row() -> None:
    ends = ["\r"] * 99 + ["\r\n"]
    data, ids = _roster(ends)
    roster = read_roster(data.replace(b"\n", b"\r", 1))
    assert roster["id_number"].to_list() == ids
    assert roster["source_line"].to_list() == list(range(2, 102))


def test_a_quoted_cell_keeps_its_line_break_whatever_the_line_ends_around_it() -> None:
    pid = _ids(1)[0]
    data = f'{_HEADER}\r"Ahmat\r\nAli",{pid},100,"凤\n鸣村"\r张三,{pid},1,村\n'.encode()
    roster = read_roster(data)
    assert roster["name"].to_list() == ["Ahmat\nAli", "张三"]
    assert roster["village"].to_list() == ["凤\n鸣村", "村"]
    assert roster["source_line"].to_list() == [2, 5]


_END = st.sampled_from(["\n", "\r", "\r\n"])
_BREAK_IN_CELL = st.sampled_from(["", "\n", "\r\n", "\r"])


@_SETTINGS
@given(
    st.lists(st.tuples(_END, _BREAK_IN_CELL, st.booleans()), min_size=1, max_size=40),
    st.sampled_from(["utf-8", "gb18030", "utf-8-sig"]),
    st.sampled_from(["", "\n", "\r", "\r\n"]),
)
def test_mixed_line_ends_and_quoted_breaks_keep_every_row_and_every_id(
    records: list[tuple[str, str, bool]], encoding: str, final: str
) -> None:
    ids = _ids(len(records))
    parts = [_HEADER, "\r\n"]
    line, starts = 2, []
    for i, ((end, inner, quote_name), pid) in enumerate(zip(records, ids, strict=True)):
        starts.append(line)
        name = f'"李{inner}{i}"' if quote_name or inner else f"李{i}"
        parts += [f"{name},{pid},{i + 1}.50,村{i}"]
        line += 1 + (1 if inner else 0)
        parts.append(end if i < len(records) - 1 else final)
    roster = read_roster("".join(parts).encode(encoding))
    assert roster.height == len(records)
    assert roster["id_number"].to_list() == ids
    assert roster["source_line"].to_list() == starts
    assert roster["amount_fen"].to_list() == [100 * (i + 1) + 50 for i in range(len(records))]
    assert not roster["flag_row_malformed"].any()
    assert roster.filter(pl.col("village").is_null()).height == 0
