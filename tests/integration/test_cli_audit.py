"""``yikatong audit verify --store FILE`` on real store files: intact, tampered, and files that are not stores."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path

import pytest

from tests.unit._workflow_fakes import MAKER, World, make_roster, over_store
from yikatong.adapters.sqlite import SqliteStore
from yikatong.catalog import Catalog
from yikatong.cli import main


@pytest.fixture
def store_file(tmp_path: Path, catalog: Catalog) -> Path:
    """A closed store written without keys, with four audit entries over two batches (created, submitted)."""
    path = tmp_path / "county.yikatong"
    world = World(catalog)
    with SqliteStore(path) as store:
        service = over_store(world, store, catalog)
        for start in (1, 10):
            batch = service.create_batch(make_roster(3, start=start), item="GLJT", period="2026-11", actor=MAKER)
            service.submit(batch.batch_id, actor=MAKER)
    return path


def _tamper(path: Path, *statements: str) -> None:
    """Edit the audit table behind the store's back, as someone with the file and the sqlite3 tool could."""
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("DROP TRIGGER audit_no_delete")
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()


def _verify(path: Path, *extra: str) -> int:
    return main(["audit", "verify", "--store", str(path), *extra])


def test_an_intact_chain_passes_and_the_file_is_not_touched(
    store_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = hashlib.sha256(store_file.read_bytes()).hexdigest()
    assert _verify(store_file) == 0
    out = capsys.readouterr().out
    assert "audit chain intact: 4 entries, 2 batches" in out
    assert "审计链完整" in out
    assert hashlib.sha256(store_file.read_bytes()).hexdigest() == before


def test_an_edited_entry_is_named(store_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _tamper(store_file, "UPDATE audit SET reason = '已核实' WHERE seq = 3")
    assert _verify(store_file) == 1
    out = capsys.readouterr().out
    assert "broken at entry 3" in out
    assert "edited" in out
    assert "内容被修改" in out


def test_a_removed_entry_is_named(store_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _tamper(store_file, "DELETE FROM audit WHERE seq = 2")
    assert _verify(store_file) == 1
    assert "broken at entry 2 (position 1, removed)" in capsys.readouterr().out


def test_reordered_entries_are_named(store_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _tamper(
        store_file,
        "UPDATE audit SET seq = 1000 WHERE seq = 2",
        "UPDATE audit SET seq = 2 WHERE seq = 3",
        "UPDATE audit SET seq = 3 WHERE seq = 1000",
    )
    assert _verify(store_file) == 1
    assert "broken at entry 2" in capsys.readouterr().out


def test_a_cut_tail_is_found_with_the_anchor_kept_elsewhere(
    store_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _verify(store_file, "--json") == 0
    anchor = json.loads(capsys.readouterr().out)["head_hash"]
    _tamper(store_file, "DELETE FROM audit WHERE seq = 4")
    assert _verify(store_file, "--json") == 1  # a shorter chain is still a chain, but B2 is not as it recorded…
    report = json.loads(capsys.readouterr().out)
    assert report["problem"] is None
    assert [p["kind"] for p in report["problems"]] == ["header", "invariant"]
    assert _verify(store_file, "--anchor", anchor, "--json") == 1  # …and not the chain that was recorded
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert report["problem"] == "anchor_mismatch"


def test_the_json_report_names_the_first_broken_entry(store_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _tamper(store_file, "UPDATE audit SET actor = 'someone-else' WHERE seq = 2")
    assert _verify(store_file, "--json") == 1
    report = json.loads(capsys.readouterr().out)
    assert report["first_broken_seq"] == 2
    assert report["problem"] == "edited"
    assert report["entries"] == 1


@pytest.mark.parametrize("content", [b"", os.urandom(2048)], ids=["empty", "random-bytes"])
def test_a_file_that_is_not_a_store_exits_2(tmp_path: Path, content: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "not-a-store.db"
    path.write_bytes(content)
    assert _verify(path) == 2
    assert "not a yikatong store" in capsys.readouterr().err


def test_another_programs_database_and_a_missing_file_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    assert _verify(other) == 2
    assert "another application" in capsys.readouterr().err
    assert _verify(tmp_path / "missing.yikatong") == 2
    assert "no such store file" in capsys.readouterr().err
