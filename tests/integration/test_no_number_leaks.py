"""No text the report or the CLI produces carries an ID or account number, whatever column it was put in."""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
import zipfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.idnumbers import with_check
from tests.unit.test_privacy_scrub import long_digit_run
from yikatong import read_roster, validate
from yikatong.catalog import Catalog
from yikatong.cli import main

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "src" / "yikatong" / "data" / "catalog.toml"
TITLES = ("姓名", "身份证号", "性别", "一卡通账号", "补贴金额", "数量", "类别", "乡镇", "村", "户主身份证号", "项目")
GOOD = (
    "张三",
    with_check("11010519491231002"),
    "女",
    "6217000000000000012",
    "100.00",
    "1",
    "一档",
    "镇",
    "村",
    "",
    "GLJT",
)

_ID = st.integers(0, 999).map(lambda n: with_check(f"50024119500707{n:03d}"))
_CARD = st.integers(10**15, 10**19 - 1).map(str)


def _form(number: str, how: int) -> str:
    if how == 1:
        return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else "Ｘ" for c in number)
    if how == 2:
        return " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    if how == 3:
        return f"{number[:6]}-{number[6:14]}-{number[14:]}"
    if how == 4:
        return f"{number[:6]} {number[6:]}"
    return number


_PLANT = st.tuples(st.integers(0, len(TITLES) - 1), st.one_of(_ID, _CARD), st.integers(0, 4), st.booleans())


def _roster(plants: list[tuple[int, str, int, bool]]) -> str:
    lines = [",".join(TITLES)]
    for column, number, how, drop_a_cell in plants:
        cells = list(GOOD)
        cells[column] = _form(number, how)
        if drop_a_cell:  # a missing cell shifts the number into the next column, as in a hand-made roster
            del cells[max(column - 1, 0)]
            cells.append("")
        lines.append(",".join(f'"{c}"' if "," in c else c for c in cells))
    return "\n".join(lines) + "\n"


def _leaks(texts: list[str]) -> list[str]:
    return [t for t in texts if long_digit_run(t) is not None]


def _frame_texts(frame: pl.DataFrame, skip: tuple[str, ...] = ()) -> list[str]:
    return [
        str(v)
        for name, dtype in frame.schema.items()
        if dtype == pl.String and name not in skip
        for v in frame[name].to_list()
        if v is not None
    ]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(_PLANT, min_size=1, max_size=6))
def test_no_report_text_or_cli_output_carries_a_long_number(plants: list[tuple[int, str, int, bool]]) -> None:
    text = _roster(plants)
    catalog = Catalog.from_toml(CATALOG)
    report = validate(read_roster(text.encode()), item=catalog["GLJT"], period="2026-11")
    texts = _frame_texts(report.issues) + _frame_texts(report.examples)
    texts.append(json.dumps(report.summary, ensure_ascii=False))
    assert _leaks(texts) == []

    with tempfile.TemporaryDirectory() as tmp:
        roster = Path(tmp) / "roster.csv"
        roster.write_text(text, encoding="utf-8")
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(
                [
                    "validate",
                    str(roster),
                    *("--catalog", str(CATALOG), "--item", "GLJT", "--period", "2026-11"),
                    *("--out", str(Path(tmp) / "out"), "--fail-on", "review"),
                ]
            )
        assert code in (0, 1)
        folder = Path(tmp) / "out"
        written = [(folder / "summary.json").read_text(encoding="utf-8")]
        written += [(folder / "report.html").read_text(encoding="utf-8")]
        with zipfile.ZipFile(folder / "report.xlsx") as book:
            written += [book.read(n).decode("utf-8") for n in book.namelist() if n.endswith(".xml")]
        written += _frame_texts(pl.read_parquet(folder / "issues.parquet"))
        assert _leaks([out.getvalue(), err.getvalue(), *written]) == []


def test_a_file_named_after_an_id_is_masked_in_the_error_and_the_summary(tmp_path: Path) -> None:
    named = tmp_path / "500241195007070060.csv"
    options = ["--catalog", str(CATALOG), "--item", "GLJT", "--period", "2026-11"]
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        assert main(["validate", str(named), *options]) == 2
    assert "500241********0060.csv" in err.getvalue()
    named.write_text(_roster([(9, "", 0, False)]), encoding="utf-8")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["validate", str(named), *options]) == 0
    assert _leaks([out.getvalue()]) == []
