"""``yikatong report`` and ``yikatong export supervision`` on a real demo store (sealed, keyed): totals equal to the
demo's ``summary.json`` to the fen, files a person can open, and every malformed call refused with exit code 2."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

from yikatong.adapters.keys import keys_from_file
from yikatong.adapters.sqlite import SqliteStore
from yikatong.catalog import Catalog
from yikatong.cli import main
from yikatong.demo import run_demo, summary_report_names
from yikatong.money import format_yuan
from yikatong.workflow.roles import Actor
from yikatong.workflow.summary import summarise_period

ROWS = 120


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo month: a sealed store, its key file and ``summary.json``."""
    out = tmp_path_factory.mktemp("report") / "demo"
    run_demo(out, catalog=Catalog.example(), rows=ROWS)
    return out


def _summary(demo: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((demo / "summary.json").read_text(encoding="utf-8"))
    return data


def _report(demo: Path, *extra: str, key: bool = True) -> int:
    args = ["report", "--store", str(demo / "yikatong.db"), *extra]
    return main([*args, "--key-file", str(demo / "demo.key")] if key else args)


def test_report_totals_equal_the_demo_summary_to_the_fen(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    expected = _summary(demo)
    t, money = expected["totals"], expected["money"]
    with SqliteStore(
        demo / "yikatong.db", create=False, read_only=True, keys=keys_from_file(demo / "demo.key")
    ) as store:
        summary = summarise_period(store, expected["period"], actor=Actor(user="sj-1", role="audit"))
    got = summary.totals.row(0, named=True)
    for figure in ("sent_rows", "sent_fen", "paid_rows", "paid_fen", "failed_rows", "failed_fen", "reversed_fen"):
        assert got[figure] == t[figure], figure
    assert got["funded_fen"] == t["funded_fen"] == money["funded_fen"]
    assert got["outstanding_fen"] == money["held_fen"]
    assert got["refunded_fen"] == money["refunded_fen"]
    assert summary.head is not None
    assert summary.head.hash == expected["audit"]["head_hash"]
    assert sorted(summary.batches["batch_id"]) == sorted(b["batch_id"] for b in expected["batches"])
    out = demo / "check.xlsx"
    assert _report(demo, "--period", expected["period"], "--out", str(out)) == 0
    printed = capsys.readouterr().out
    assert f"已发放 paid: {format_yuan(t['paid_fen'])} 元" in printed
    assert f"财政拨付 funded: {format_yuan(t['funded_fen'])} 元" in printed
    assert f"银行留存 outstanding: {format_yuan(money['held_fen'])} 元" in printed
    assert expected["audit"]["head_hash"] in printed


def test_the_demo_writes_its_months_summary_in_both_forms(demo: Path) -> None:
    xlsx, html = (demo / name for name in summary_report_names(_summary(demo)["period"]))
    with zipfile.ZipFile(xlsx) as book:
        names = book.namelist()
        workbook = book.read("xl/workbook.xml").decode("utf-8")
    assert all(f'name="{sheet}"' in workbook for sheet in ("汇总", "分月分项目", "批次", "豁免", "延期"))
    assert "xl/worksheets/sheet5.xml" in names
    page = html.read_text(encoding="utf-8")
    assert "<svg" in page
    assert "@media print" in page
    assert "<script" not in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page
    assert _summary(demo)["audit"]["head_hash"] in page


def test_the_report_opens_the_store_read_only(demo: Path, tmp_path: Path) -> None:
    store = demo / "yikatong.db"
    before = hashlib.sha256(store.read_bytes()).hexdigest()
    assert _report(demo, "--period", "2026", "--by", "department,village", "--out", str(tmp_path / "y.html")) == 0
    assert hashlib.sha256(store.read_bytes()).hexdigest() == before


def test_audit_may_run_it_with_another_grouping(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "by-village.xlsx"
    assert _report(demo, "--period", "2026-Q4", "--by", "town,village", "--role", "audit", "--out", str(out)) == 0
    assert out.stat().st_size > 0


def test_a_period_with_nothing_sent_writes_an_empty_report_and_warns(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "empty.html"
    assert _report(demo, "--period", "2025-03", "--out", str(out)) == 0
    assert "no batch was sent to a bank in 2025-03" in capsys.readouterr().err
    assert "本期没有报盘" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--period", "2026-13"), "invalid --period"),
        (("--period", "11/2026"), "invalid --period"),
        (("--period", "2026", "--by", "item,bank"), "invalid --by"),
        (("--period", "2026", "--out-kind"), "unrecognized arguments"),
    ],
)
def test_a_malformed_call_is_refused_with_exit_code_2(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: tuple[str, ...], message: str
) -> None:
    assert _report(demo, *extra, "--out", str(tmp_path / "x.xlsx")) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.xlsx").exists()


def test_an_output_that_is_neither_xlsx_nor_html_is_refused(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _report(demo, "--period", "2026", "--out", str(tmp_path / "x.csv")) == 2
    assert ".xlsx or .html" in capsys.readouterr().err


def test_a_missing_store_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["report", "--store", str(tmp_path / "none.db"), "--period", "2026", "--out", str(tmp_path / "x.html")])
    assert code == 2
    assert "no store file at" in capsys.readouterr().err


def test_a_sealed_store_without_its_key_or_with_another_is_refused(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("YIKATONG_AUDIT_KEY", raising=False)
    out = tmp_path / "x.html"
    assert _report(demo, "--period", "2026", "--out", str(out), key=False) == 2
    assert "cannot read yikatong.db" in capsys.readouterr().err
    wrong = tmp_path / "wrong.key"
    wrong.write_text("another county's secret, long enough to be a key\n", encoding="utf-8")
    code = main(
        [
            "report",
            "--store",
            str(demo / "yikatong.db"),
            "--key-file",
            str(wrong),
            "--period",
            "2026",
            "--out",
            str(out),
        ]
    )
    assert code == 2
    assert "the key is not this store's key" in capsys.readouterr().err
    assert not out.exists()


def _export(demo: Path, *extra: str, key: bool = True) -> int:
    args = ["export", "supervision", "--store", str(demo / "yikatong.db"), *extra]
    return main([*args, "--key-file", str(demo / "demo.key")] if key else args)


def test_the_supervision_export_lists_the_demos_month_masked(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "监督检查-2026-11.xlsx"
    assert _export(demo, "--period", "2026-11", "--out", str(out), "--user", "sj-1") == 0
    printed = capsys.readouterr().out
    expected = _summary(demo)
    assert f"批次 batches: {len(expected['batches'])}" in printed
    assert f"人工复核 reviews: {expected['reviews']['rows']}" in printed
    with zipfile.ZipFile(out) as book:
        text = "".join(book.read(n).decode("utf-8") for n in book.namelist() if n.endswith(".xml"))
    assert expected["audit"]["head_hash"] in text
    roster = (demo / "input" / "roster.csv").read_bytes().decode("gb18030")
    numbers = set(re.findall(r"[0-9]{15,19}[0-9Xx]?", roster))
    assert numbers  # the scan finds what it looks for in the private roster
    assert not {n for n in numbers if n in text}


def test_the_supervision_export_of_an_empty_period_warns(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _export(demo, "--period", "2024", "--out", str(tmp_path / "x.xlsx")) == 0
    assert "nothing happened in 2024" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--period", "2026-00", "--out", "x.xlsx"), "invalid --period"),
        (("--period", "2026", "--out", "x.html"), "--out must end in .xlsx"),
        (("--period", "2026"), "required: --out"),
    ],
)
def test_a_malformed_export_is_refused_with_exit_code_2(
    demo: Path, capsys: pytest.CaptureFixture[str], extra: tuple[str, ...], message: str
) -> None:
    assert _export(demo, *extra) == 2
    assert message in capsys.readouterr().err


def test_the_export_of_a_missing_store_or_with_the_wrong_key_is_refused(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("YIKATONG_AUDIT_KEY", raising=False)
    out = tmp_path / "x.xlsx"
    missing = ["export", "supervision", "--store", str(tmp_path / "none.db"), "--period", "2026", "--out", str(out)]
    assert main(missing) == 2
    assert "no store file at" in capsys.readouterr().err
    assert _export(demo, "--period", "2026", "--out", str(out), key=False) == 2
    assert "cannot read yikatong.db" in capsys.readouterr().err
    wrong = tmp_path / "wrong.key"
    wrong.write_text("another county's secret, long enough to be a key\n", encoding="utf-8")
    argv = ["export", "supervision", "--store", str(demo / "yikatong.db"), "--key-file", str(wrong)]
    assert main([*argv, "--period", "2026", "--out", str(out)]) == 2
    assert "the key is not this store's key" in capsys.readouterr().err
    assert not out.exists()
