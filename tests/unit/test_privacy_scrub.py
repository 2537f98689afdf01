"""scrub: no long number leaves in free text, whatever its form; short numbers stay readable."""

from __future__ import annotations

import re
import unicodedata

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.idnumbers import with_check
from yikatong.privacy import scrub, scrub_expr, scrub_series

ID = "500241195007070060"
CARD = "6217000012345678901"


def long_digit_run(text: str) -> str | None:
    """The first run of 12 or more digits in ``text`` in any form (full-width, split by single spaces or dashes)."""
    folded = unicodedata.normalize("NFKC", text)
    joined = re.sub(r"(?<=\d)[ \u00a0\u3000\t\-\u2010-\u2014\u2212](?=\d)", "", folded)
    found = re.search(r"\d{12,}", joined)
    return found.group(0) if found else None


def _forms(number: str) -> list[str]:
    wide = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else "Ｘ" for c in number)
    fours = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    return [
        number,
        wide,
        f"{number[:6]} {number[6:14]} {number[14:]}",
        f"{number[:6]}-{number[6:14]}-{number[14:]}",
        fours,
        fours.replace(" ", "\u3000"),
        fours.replace(" ", "-"),
    ]


@pytest.mark.parametrize("text", _forms(ID) + _forms(CARD) + _forms(with_check("11010519491231002")))
def test_every_form_of_an_id_or_card_number_is_masked(text: str) -> None:
    out = scrub(f"原因：{text}号码有误")
    assert long_digit_run(out) is None
    assert out.startswith("原因：")
    assert out.endswith("号码有误")


def test_an_id_keeps_its_first_six_and_last_four_and_a_card_its_last_four() -> None:
    assert scrub(f"身份证{ID}错误") == "身份证500241********0060错误"
    assert scrub("身份证11010519491231002X错误") == "身份证110105********002X错误"
    assert scrub(f"账户 {CARD[:4]} {CARD[4:8]} {CARD[8:12]} {CARD[12:16]} {CARD[16:]}") == "账户 ****8901"


@pytest.mark.parametrize(
    "text",
    ["第3行", "2026-11-20 14:30", "amount 12345678901.50 yuan", "rows 3, 7, 12", "1,234,567,890.00", "批次 XS-2026-11"],
)
def test_short_numbers_amounts_and_dates_are_kept(text: str) -> None:
    assert scrub(text) == text


def test_a_mobile_phone_number_written_together_is_masked() -> None:
    assert scrub("电话13812345678") == "电话****5678"


_PIECES = st.one_of(
    st.text(max_size=6),
    st.sampled_from(_forms(ID) + _forms(CARD)),
    st.from_regex(r"[0-9０-９ \-]{0,30}", fullmatch=True),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECES, max_size=6).map("".join))
def test_no_text_keeps_a_run_of_twelve_digits_and_the_column_form_agrees(text: str) -> None:
    out = scrub(text)
    assert long_digit_run(out) is None
    assert scrub(out) == out
    series = pl.Series("t", [text, None, "plain"], dtype=pl.String)
    assert scrub_series(series).to_list() == [out, None, "plain"]
    assert pl.select(scrub_expr(pl.lit(text))).item() == out
