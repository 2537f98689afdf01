"""``yikatong demo``: one county month end to end, and whether what it prints and leaves behind is true."""

from __future__ import annotations

import contextlib
import io
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from attrs import asdict
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.idnumbers import luhn_ok as _luhn_ok
from yikatong.adapters.clock import SystemClock
from yikatong.adapters.keys import keys_from_file
from yikatong.adapters.sqlite import SqliteRegistry, SqliteStore, check_registry
from yikatong.cli import main
from yikatong.demo import prepare_folder
from yikatong.demo._month import _luhn_card
from yikatong.money import format_yuan

ROWS = 400
_DIGITS = re.compile(r"[0-9]{6,}[0-9Xx]?")


class DemoRun:
    """One finished demo run: its folder, exit code, stdout, stderr and summary."""

    def __init__(self, out: Path, argv: list[str]) -> None:
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            self.code = main(argv)
        self.out = out
        self.stdout = stdout.getvalue()
        self.stderr = stderr.getvalue()

    @property
    def summary(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.out / "summary.json").read_text(encoding="utf-8"))
        return data


def _run(out: Path, *extra: str) -> DemoRun:
    return DemoRun(out, ["demo", "--out", str(out), "--rows", str(ROWS), *extra])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """The demo run once for the module (a small county month)."""
    run = _run(tmp_path_factory.mktemp("demo") / "out")
    assert run.code == 0, run.stderr
    return run


@pytest.fixture(scope="module")
def held(demo: DemoRun) -> Iterator[dict[str, pl.DataFrame]]:
    """What the store holds: batches, rows, ledger (read back independently of the demo's own summary)."""
    keys = keys_from_file(demo.out / "demo.key")
    with SqliteStore(demo.out / "yikatong.db", create=False, read_only=True, keys=keys) as store:
        batches = pl.DataFrame(
            [
                {
                    "batch_id": b.batch_id,
                    "item": b.item,
                    "state": b.state,
                    "corrects": b.corrects,
                    "town": b.town,
                    "prepared_by": b.prepared_by,
                    "funding_route": b.funding_route,
                    "funding_filed_by": b.funding_filed_by,
                    "funded_fen": b.funded_fen,
                }
                for b in store.batches()
            ]
        )
        rows = pl.concat([store.rows(b) for b in batches["batch_id"]], how="vertical_relaxed")
        yield {
            "batches": batches,
            "rows": rows,
            "ledger": store.ledger(),
            "audit": pl.DataFrame([asdict(e) for e in store.audit()]),
        }


def _sent(held: dict[str, pl.DataFrame]) -> pl.DataFrame:
    return (
        held["ledger"]
        .filter(pl.col("status") != "withdrawn")
        .join(held["rows"].select("batch_id", "row_id", "town"), on=["batch_id", "row_id"], how="left")
    )


def test_the_demo_leaves_the_store_bank_files_disclosure_files_and_summary(demo: DemoRun) -> None:
    out = demo.out
    assert (out / "yikatong.db").is_file()
    assert (out / "summary.json").is_file()
    batches = [b["batch_id"] for b in demo.summary["batches"]]
    results = sorted(p.name for p in (out / "bank" / "inbox").iterdir())
    for batch_id in batches:
        assert any(batch_id in name and name.startswith("RET") for name in results), batch_id
        assert any((out / "disclosure" / batch_id).glob("*.csv")), batch_id
        assert any((out / "disclosure" / batch_id).glob("*.html")), batch_id
        assert any((out / "disclosure" / batch_id).glob("*.xlsx")), batch_id
    assert any(p.name.startswith("PAY") for p in (out / "bank" / "bank" / "received").iterdir())
    assert not list((out / "bank" / "refused").iterdir())


def test_progress_goes_to_stderr_and_the_summary_to_stdout(demo: DemoRun) -> None:
    assert "validate" in demo.stderr
    assert "dispatch" in demo.stderr
    assert "validate" not in demo.stdout
    assert demo.stdout.startswith("秀山县")


def test_summary_json_figures_equal_what_the_store_holds(demo: DemoRun, held: dict[str, pl.DataFrame]) -> None:
    summary = demo.summary
    sent = _sent(held)
    paid = sent.filter(pl.col("status") == "paid")
    failed = sent.filter(pl.col("status") == "failed")
    totals = summary["totals"]
    assert totals["sent_rows"] == sent.height
    assert totals["sent_fen"] == sent["amount_fen"].sum()
    assert (totals["paid_rows"], totals["paid_fen"]) == (paid.height, paid["amount_fen"].sum())
    assert (totals["failed_rows"], totals["failed_fen"]) == (failed.height, failed["amount_fen"].sum())
    assert totals["funded_fen"] == held["batches"]["funded_fen"].sum()
    assert totals["batch_rows"] == held["rows"].height

    by_status = held["rows"].group_by("status").agg(pl.len(), pl.col("amount_fen").fill_null(0).sum())
    assert {s: (v["rows"], v["fen"]) for s, v in summary["by_status"].items()} == {
        s: (n, f) for s, n, f in by_status.iter_rows()
    }
    for key, groups in (("item", summary["by_item"]), ("town", summary["by_town"])):
        mine = paid.group_by(key).agg(pl.len(), pl.col("amount_fen").sum())
        assert {k: (g["paid_rows"], g["paid_fen"]) for k, g in groups.items() if g["paid_rows"]} == {
            k: (n, f) for k, n, f in mine.iter_rows()
        }
        queue = held["rows"].filter(pl.col("status") == "returned").group_by(key).len()
        assert {k: g["queue_rows"] for k, g in groups.items() if g["queue_rows"]} == dict(queue.iter_rows())
    states = dict(held["batches"].select("batch_id", "state").iter_rows())
    assert {b["batch_id"]: b["state"] for b in summary["batches"]} == states


def test_paid_and_failed_add_up_to_sent_and_funded_equals_sent_in_every_batch(demo: DemoRun) -> None:
    summary = demo.summary
    for b in summary["batches"]:
        assert b["paid_fen"] + b["failed_fen"] == b["sent_fen"], b["batch_id"]
        assert b["paid_rows"] + b["failed_rows"] == b["sent_rows"], b["batch_id"]
        assert b["funded_fen"] + b["drawn_fen"] == b["sent_fen"], b["batch_id"]
        assert b["drawn_fen"] == 0 or b["corrects"] is not None, b["batch_id"]
        assert b["state"] == "published", b["batch_id"]
    t = summary["totals"]
    assert t["paid_fen"] + t["failed_fen"] + t["reversed_fen"] == t["sent_fen"]
    drawn = sum(b["drawn_fen"] for b in summary["batches"])
    assert t["funded_fen"] + drawn == t["sent_fen"]
    m = summary["money"]
    assert m["funded_fen"] == t["funded_fen"]
    assert m["funded_fen"] == m["paid_fen"] - m["reversed_fen"] + m["held_fen"] + m["refunded_fen"]
    assert drawn > 0, "the month's corrections reuse money the bank held for the failed rows"
    assert "资金 money: 国库拨付 funded" in (demo.out / "summary.txt").read_text(encoding="utf-8")
    assert t["failed_rows"] > 0
    assert t["paid_rows"] > 0


def test_every_roster_row_is_in_exactly_one_original_batch(demo: DemoRun, held: dict[str, pl.DataFrame]) -> None:
    originals = held["batches"].filter(pl.col("corrects").is_null())["batch_id"]
    rows = held["rows"].filter(pl.col("batch_id").is_in(originals.implode()))
    assert rows.height == ROWS == demo.summary["totals"]["roster_rows"]
    assert sorted(rows["row_id"].to_list()) == list(range(1, ROWS + 1))


def test_the_printed_summary_shows_the_figures_of_summary_json(demo: DemoRun) -> None:
    summary, text = demo.summary, demo.stdout
    for key in ("sent_fen", "paid_fen", "failed_fen"):
        assert format_yuan(summary["totals"][key]) in text
    for code, item in summary["by_item"].items():
        assert f"{code} {item['name']}" in text
        assert format_yuan(item["paid_fen"]) in text
    for town in summary["by_town"]:
        assert town in text
    for status in summary["by_status"].values():
        assert status["label"] in text


def test_audit_verify_passes_on_the_demo_store(demo: DemoRun) -> None:
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        store, key = str(demo.out / "yikatong.db"), str(demo.out / "demo.key")
        code = main(["audit", "verify", "--store", store, "--key-file", key, "--json"])
    assert code == 0
    report = json.loads(stdout.getvalue())
    assert report["ok"] is True
    assert report["entries"] == demo.summary["audit"]["entries"]
    assert report["head_hash"] == demo.summary["audit"]["head_hash"]


def test_the_towns_new_cards_are_in_the_sealed_registry_of_the_demo_store(demo: DemoRun) -> None:
    keys = keys_from_file(demo.out / "demo.key")
    path = demo.out / "yikatong.db"
    with SqliteRegistry(path, clock=SystemClock(), create=False, read_only=True, keys=keys) as registry:
        assert registry.sealing.sealed
        snapshot = registry.snapshot().collect()
        assert snapshot.height > 0
        assert set(snapshot["status"]) == {"active"}
        assert check_registry(registry) == []
        cells = registry.connection.execute("SELECT id_number, account, holder_name FROM accounts").fetchall()
    clear = set(snapshot["id_number"]) | set(snapshot["account"]) | set(snapshot["holder_name"])
    assert not clear & {value for row in cells for value in row}


def _texts(out: Path, stdout: str) -> dict[str, str]:
    texts = {"stdout": stdout, "summary.json": (out / "summary.json").read_text(encoding="utf-8")}
    texts["summary.txt"] = (out / "summary.txt").read_text(encoding="utf-8")
    for path in [*sorted((out / "disclosure").rglob("*")), *sorted(out.glob("汇总表-*"))]:
        if path.suffix in (".csv", ".html"):
            texts[str(path)] = path.read_text(encoding="utf-8-sig")
        elif path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as book:
                texts[str(path)] = "".join(book.read(n).decode("utf-8") for n in book.namelist() if n.endswith(".xml"))
    return texts


def test_no_full_id_or_account_in_stdout_summary_or_disclosure_files(
    demo: DemoRun, held: dict[str, pl.DataFrame]
) -> None:
    rows = held["rows"]
    registry = pl.read_parquet(demo.out / "input" / "registry.parquet")
    secrets = {
        s
        for s in pl.concat([rows["id_number"], rows["account"], registry["id_number"], registry["account"]])
        .drop_nulls()
        .to_list()
        if len(s) >= 10
    }
    texts = _texts(demo.out, demo.stdout)
    assert len(texts) > 10
    # The scan finds what it looks for: the private input roster holds full IDs.
    roster = (demo.out / "input" / "roster.csv").read_bytes().decode("gb18030")
    assert set(_DIGITS.findall(roster)) & secrets
    for name, text in texts.items():
        leaked = {token.upper() for token in _DIGITS.findall(text)} & secrets
        leaked |= set(_DIGITS.findall(text)) & secrets
        assert not leaked, f"{name} shows {len(leaked)} full ID or account numbers"


def test_reviews_are_decided_by_a_checker_who_is_not_the_maker(demo: DemoRun, held: dict[str, pl.DataFrame]) -> None:
    makers = dict(held["batches"].select("batch_id", "prepared_by").iter_rows())
    reviews = held["audit"].filter(pl.col("action") == "confirm_reviews")
    assert reviews.height > 0
    decisions: list[dict[str, Any]] = []
    for batch_id, actor, details in reviews.select("batch_id", "actor", "details").iter_rows():
        assert actor != makers[batch_id]
        decisions += json.loads(details)["decisions"]
    assert {d["to"] for d in decisions} == {"passed", "blocked"}
    assert all(d["note"] for d in decisions)
    assert demo.summary["reviews"]["rows"] == len(decisions)


def test_funding_goes_through_the_treasury_a_zero_balance_account_and_a_town(held: dict[str, pl.DataFrame]) -> None:
    batches = held["batches"]
    assert {"treasury", "zero_balance"} <= set(batches["funding_route"].to_list())
    by_town = batches.filter(pl.col("funding_filed_by") == "town")
    assert by_town.height >= 1
    assert by_town["town"].null_count() == 0
    assert by_town["corrects"].null_count() == 0


def test_correction_batches_reissue_returned_rows_and_the_rest_wait_in_the_queue(
    held: dict[str, pl.DataFrame],
) -> None:
    rows, batches = held["rows"], held["batches"]
    corrections = batches.filter(pl.col("corrects").is_not_null())
    assert corrections.height >= 1
    correction_rows = rows.filter(pl.col("batch_id").is_in(corrections["batch_id"].implode()))
    assert correction_rows["corrects_row_id"].null_count() == 0
    reissued = rows.filter(pl.col("status") == "reissued")
    assert reissued.height == correction_rows.filter(pl.col("status") == "paid").height > 0
    originals = rows.filter(pl.col("batch_id").is_in(corrections["corrects"].implode()))
    assert set(originals["status"].unique().to_list()) <= {"paid", "returned", "reissued"}
    assert originals.filter(pl.col("status") == "returned").height > 0


def test_a_folder_with_other_files_is_refused_without_force_and_keeps_them_with_force(
    demo: DemoRun, tmp_path: Path
) -> None:
    out = tmp_path / "again"
    out.mkdir()
    (out / "notes.txt").write_text("kept", encoding="utf-8")
    (out / "summary.json").write_text("{}", encoding="utf-8")  # an earlier run's outputs
    (out / "bank").mkdir()
    (out / "bank" / "PAY_old.dat").write_text("old", encoding="utf-8")
    refused = _run(out, "--quiet")
    assert refused.code == 2
    assert "--force" in refused.stderr
    assert sorted(p.name for p in out.iterdir()) == ["bank", "notes.txt", "summary.json"]
    again = _run(out, "--quiet", "--force")
    assert again.code == 0, again.stderr
    assert again.stderr == ""
    assert (out / "notes.txt").read_text(encoding="utf-8") == "kept"
    assert not (out / "bank" / "PAY_old.dat").exists()
    # The same seed gives the same month: the same figures, the same printed summary, the same audit head.
    assert again.summary == demo.summary
    assert again.stdout == demo.stdout


def test_an_earlier_demos_outputs_are_replaced_so_make_demo_runs_again(tmp_path: Path) -> None:
    out = tmp_path / "demo-output"
    (out / "bank" / "inbox").mkdir(parents=True)
    (out / "bank" / "inbox" / "RET_old.dat").write_text("old", encoding="utf-8")
    (out / "yikatong.db").write_bytes(b"old store")
    (out / "summary.json").write_text("{}", encoding="utf-8")
    (out / "汇总表-2026-10.xlsx").write_bytes(b"an earlier month's summary")
    prepare_folder(out, force=False)
    assert list(out.iterdir()) == []


def test_a_file_in_place_of_the_folder_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "out"
    path.write_text("x", encoding="utf-8")
    with pytest.raises(FileExistsError, match="not a folder"):
        prepare_folder(path, force=True)


def test_fewer_rows_than_items_is_a_usage_error(tmp_path: Path) -> None:
    run = DemoRun(tmp_path / "x", ["demo", "--out", str(tmp_path / "x"), "--rows", "3", "--quiet"])
    assert run.code == 2
    assert "--rows" in run.stderr


@settings(deadline=None)  # the first example compiles the Polars expression: no time limit on a busy machine
@given(st.lists(st.integers(min_value=0, max_value=2**64 - 1), min_size=1, max_size=50))
def test_new_card_numbers_for_corrections_are_19_digit_luhn_valid_unionpay_cards(keys: list[int]) -> None:
    cards = pl.DataFrame({"k": keys}, schema={"k": pl.UInt64}).select(_luhn_card(pl.col("k"))).to_series().to_list()
    for card in cards:
        assert len(card) == 19
        assert card.startswith("62")
        assert _luhn_ok(card), card
    assert not _luhn_ok(cards[0][:-1] + str((int(cards[0][-1]) + 1) % 10))


def test_the_demo_store_keeps_no_id_account_or_name_in_clear(demo: DemoRun, held: dict[str, pl.DataFrame]) -> None:
    store = demo.out / "yikatong.db"
    files = [store, *demo.out.glob("yikatong.db-*"), *demo.out.glob("yikatong.db-rows/*")]
    raw = b"".join(p.read_bytes() for p in files if p.is_file())
    rows = held["rows"].head(200)
    values = [*rows["id_number"].drop_nulls(), *rows["account"].drop_nulls(), *rows["name"].drop_nulls()]
    assert values
    assert not [v for v in values if len(v) >= 3 and v.encode("utf-8") in raw]
