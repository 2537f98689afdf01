"""``report.html`` and the 汇总表 page opened in a real headless Chromium: they render, log no console error and
request nothing; the 汇总表 page prints.

Chromium comes from Debian's ``chromium`` package (``.ci/run`` installs it when missing). Outside CI a machine
without it skips these tests; in CI (``CI=true``) a missing browser is a failure, never a skip.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import polars as pl
import pytest
from PIL import Image, ImageStat

import yikatong
from tests.unit._workflow_fakes import AUDITOR, World, make_roster
from yikatong.adapters.summary_report import write_summary_report
from yikatong.adapters.validation_report import write_validation_report
from yikatong.workflow.summary import summarise_period

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--no-first-run",
    "--no-default-browser-check",
    "--no-pings",
    "--disable-quic",
    "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,Translate,MediaRouter",
    # Nothing a page asks for may leave the machine: every host name fails to resolve. The request is still
    # recorded in the net log, which is what the test reads.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--window-size=1200,1600",
    "--enable-logging=stderr",
    "--v=0",
)
BROWSER_OWN_HOSTS = ("google.com",)
"""Chromium's own account and search services still start a request or two at launch; a page never names them."""

if CHROMIUM is None:
    pytestmark = pytest.mark.skipif(
        os.environ.get("CI") != "true", reason="Debian's chromium is not installed (CI installs it)"
    )


def _open(page: Path, tmp_path: Path) -> tuple[Path, list[str], set[str]]:
    """Screenshot ``page``; return the PNG, the console lines Chromium logged and the URLs it requested."""
    assert CHROMIUM is not None, "chromium is required in CI: .ci/run installs Debian's chromium package"
    shot, netlog = tmp_path / "shot.png", tmp_path / "net.json"
    done = subprocess.run(
        [
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            f"--log-net-log={netlog}",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    urls = {
        str(event["params"]["url"])
        for event in json.loads(netlog.read_text(encoding="utf-8"))["events"]
        if "url" in event.get("params", {})
    }
    requested = {
        url
        for url in urls
        if not url.startswith(("file:", "data:", "about:", "chrome:"))
        and not (urlsplit(url).hostname or "").endswith(BROWSER_OWN_HOSTS)
    }
    return shot, console, requested


def test_the_report_page_renders_without_console_errors_or_requests(tmp_path: Path) -> None:
    roster = yikatong.read_roster(ROOT / "examples" / "roster.csv")
    catalog = yikatong.Catalog.example()
    report = yikatong.validate(roster, item=catalog["GLJT"], period="2026-11")
    write_validation_report(report, roster, tmp_path / "out")

    shot, console, requested = _open(tmp_path / "out" / "report.html", tmp_path)

    assert console == []
    assert requested == set()
    with Image.open(shot) as image:
        assert image.size == (1200, 1600)
        grey = image.convert("L")
        assert ImageStat.Stat(grey).stddev[0] > 10  # text, tables and bars, not a blank page
        dark = sum(grey.histogram()[:128])
        assert dark > 5_000  # thousands of dark pixels: the headings and the Chinese text were drawn


def test_the_browser_check_does_see_a_console_error_and_a_request(tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><html><body><p>x</p><img src="http://example.invalid/x.png">'
        '<script>console.error("marker-7f3a")</script></body></html>',
        encoding="utf-8",
    )
    _, console, requested = _open(page, tmp_path)
    assert any("marker-7f3a" in line for line in console)
    assert requested == {"http://example.invalid/x.png"}


def test_the_report_page_is_the_same_for_the_same_report(tmp_path: Path) -> None:
    roster = yikatong.read_roster(ROOT / "examples" / "roster.csv")
    catalog = yikatong.Catalog.example()
    report = yikatong.validate(roster, item=catalog["GLJT"], period="2026-11")
    first = write_validation_report(report, roster, tmp_path / "a")
    second = write_validation_report(report, roster, tmp_path / "b")
    assert first[4].read_bytes() == second[4].read_bytes()
    assert pl.read_parquet(first[1]).equals(pl.read_parquet(second[1]))


def test_the_summary_page_renders_and_prints_without_console_errors_or_requests(
    tmp_path: Path, catalog: yikatong.Catalog
) -> None:
    world = World(catalog)
    world.to("settled", make_roster(6), failed=(2,))
    summary = summarise_period(world.store, "2026-11", actor=AUDITOR, catalog=catalog)
    page = write_summary_report(summary, tmp_path / "汇总表-2026-11.html")

    shot, console, requested = _open(page, tmp_path)

    assert console == []
    assert requested == set()
    with Image.open(shot) as image:
        grey = image.convert("L")
        assert ImageStat.Stat(grey).stddev[0] > 10
        assert sum(grey.histogram()[:128]) > 5_000
    assert CHROMIUM is not None
    pdf = tmp_path / "printed.pdf"
    printed = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'print'}", f"--print-to-pdf={pdf}", page.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert printed.returncode == 0, printed.stderr[-2000:]
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    box = re.search(rb"MediaBox \[0 0 ([0-9.]+) ([0-9.]+)\]", data)
    assert box is not None
    assert round(float(box[1])) == 842  # A4 landscape, as the page's print style asks
    assert round(float(box[2])) == 595
