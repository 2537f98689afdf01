"""Purging a real store file: the payee detail is gone from the file, the audit still verifies, edits are caught.

The batches are walked through the workflow in 2019 on a fixed clock; ``yikatong purge`` then runs on today's
clock, past the five years of retention the test catalogue gives 高龄津贴.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from importlib import resources
from pathlib import Path

import polars as pl
import pytest

from tests.postgres import new_schema
from tests.unit._workflow_fakes import BANK, CHECKER, MAKER, World, make_roster, over_store
from yikatong.adapters.keys import SecretKeys
from yikatong.adapters.postgres import PostgresStore
from yikatong.adapters.sqlite import SqliteStore
from yikatong.catalog import Catalog
from yikatong.cli import main
from yikatong.records import FundingStatus
from yikatong.workflow.store_check import verify_store

SECRET = b"county finance bureau retention secret"
KEYS = SecretKeys(SECRET)
OLD = dt.datetime(2019, 11, 27, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def catalog_file(tmp_path: Path) -> Path:
    """The package's example catalogue, with GLJT's payee detail kept five years."""
    text = resources.files("yikatong").joinpath("data/catalog.toml").read_text(encoding="utf-8")
    path = tmp_path / "catalog.toml"
    path.write_text(text.replace('code = "GLJT"\n', 'code = "GLJT"\nretention_years = 5\n', 1), encoding="utf-8")
    return path


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "county.key"
    path.write_bytes(SECRET + b"\n")
    return path


def _walk(world: World, period: str, roster: pl.DataFrame, *, until: str = "published") -> str:
    s = world.service
    batch_id = s.create_batch(roster, item="GLJT", period=period, actor=MAKER).batch_id
    s.submit(batch_id, actor=MAKER)
    s.validate(batch_id)
    s.dispatch(batch_id)
    if until == "dispatched":
        return batch_id
    s.request_funding(batch_id, actor=CHECKER)
    world.treasury.status[batch_id] = FundingStatus("funded", world.treasury.requests[batch_id].amount_fen)
    s.poll_funding(batch_id)
    s.disburse(batch_id, actor=BANK)
    s.record_results(batch_id, world.bank.pay_all(batch_id), actor=BANK)
    s.publish(batch_id, actor=MAKER)
    return batch_id


def _store(path: Path, catalog_file: Path, *, sealed: bool, inline_rows_max: int = 5_000) -> dict[str, object]:
    """A store with a 2019 batch published, a 2019 batch left dispatched, and a 2026 batch published."""
    catalog = Catalog.from_toml(catalog_file)
    world = World(catalog, keys=KEYS)
    world.clock.set(OLD)
    old_roster = make_roster(4, birth="19300101", start=100)
    with SqliteStore(path, keys=KEYS if sealed else None, inline_rows_max=inline_rows_max) as store:
        over_store(world, store, catalog, keys=KEYS)
        old = _walk(world, "2019-11", old_roster)
        waiting = _walk(world, "2019-12", make_roster(2, birth="19300101", start=200), until="dispatched")
        world.clock.set(OLD.replace(year=2026))
        recent = _walk(world, "2026-11", make_roster(3, start=300))
    return {"old": old, "waiting": waiting, "recent": recent, "roster": old_roster}


def _purge(path: Path, catalog_file: Path, key_file: Path, *extra: str) -> int:
    args = ["purge", "--store", str(path), "--catalog", str(catalog_file), "--key-file", str(key_file), *extra]
    return main(args)


def _verify(path: Path, key_file: Path) -> int:
    return main(["audit", "verify", "--store", str(path), "--key-file", str(key_file)])


def _every_byte(path: Path) -> bytes:
    files = [path, *path.parent.glob(path.name + "-*"), *path.parent.glob(path.name + "-rows/*")]
    return b"".join(p.read_bytes() for p in files if p.is_file())


def test_purge_removes_the_old_batch_detail_from_the_file_and_the_store_still_verifies(
    tmp_path: Path, catalog_file: Path, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "county.yikatong"
    made = _store(path, catalog_file, sealed=False)
    roster = made["roster"]
    assert isinstance(roster, pl.DataFrame)
    before = _every_byte(path)
    assert any(i.encode() in before for i in roster["id_number"])  # a clear store: the ledger holds IDs as text
    capsys.readouterr()
    assert _purge(path, catalog_file, key_file) == 0
    out = capsys.readouterr().out
    assert f"已清除 purged: {made['old']} GLJT 2019-11" in out
    assert f"保留 kept: {made['waiting']}" in out
    assert f"保留 kept: {made['recent']}" in out
    after = _every_byte(path)
    for value in [*roster["id_number"], *roster["account"]]:
        assert value.encode() not in after
    assert _verify(path, key_file) == 0
    with SqliteStore(path, create=False, read_only=True) as store:
        assert store.rows(str(made["old"]))["id_number"].null_count() == 4
        assert store.rows(str(made["recent"]))["id_number"].null_count() == 0


@pytest.mark.parametrize("inline_rows_max", [5_000, 0], ids=["inline", "side-file"])
def test_a_sealed_store_is_purged_and_still_verifies(
    tmp_path: Path, catalog_file: Path, key_file: Path, inline_rows_max: int
) -> None:
    path = tmp_path / "county.yikatong"
    made = _store(path, catalog_file, sealed=True, inline_rows_max=inline_rows_max)
    assert _purge(path, catalog_file, key_file) == 0
    assert _verify(path, key_file) == 0
    with SqliteStore(path, create=False, read_only=True, keys=KEYS) as store:
        rows = store.rows(str(made["old"]))
        assert rows["name"].null_count() == rows["account"].null_count() == 4
        assert rows["amount_fen"].sum() == 40_000
    if inline_rows_max == 0:
        assert len(list(path.parent.glob(path.name + "-rows/*.parquet"))) == 3  # the old side file is gone


def test_a_dry_run_changes_nothing(
    tmp_path: Path, catalog_file: Path, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "county.yikatong"
    made = _store(path, catalog_file, sealed=True)
    before = path.read_bytes()
    capsys.readouterr()
    assert _purge(path, catalog_file, key_file, "--dry-run", "--json") == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {r["batch_id"]: r["action"] for r in lines} == {
        made["old"]: "purgeable",
        made["waiting"]: "kept",
        made["recent"]: "kept",
    }
    assert path.read_bytes() == before  # opened read-only (SQLite may leave its empty -wal/-shm beside it)


def test_before_limits_the_periods_looked_at(
    tmp_path: Path, catalog_file: Path, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "county.yikatong"
    _store(path, catalog_file, sealed=True)
    capsys.readouterr()
    assert _purge(path, catalog_file, key_file, "--before", "2019-12", "--json") == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["action"] for r in lines] == ["purged"]


def test_editing_a_purged_batch_totals_is_caught(
    tmp_path: Path, catalog_file: Path, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "county.yikatong"
    made = _store(path, catalog_file, sealed=False)
    assert _purge(path, catalog_file, key_file) == 0
    conn = sqlite3.connect(path)
    conn.execute("UPDATE ledger SET amount_fen = amount_fen + 100 WHERE batch_id = ? AND row_id = 1", (made["old"],))
    conn.commit()
    conn.close()
    capsys.readouterr()
    assert _verify(path, key_file) == 1
    out = capsys.readouterr().out
    assert "[ledger]" in out
    assert "[totals]" in out
    with SqliteStore(path, create=False, read_only=True) as store:
        kinds = {(p.kind, p.batch_id) for p in verify_store(store, key=KEYS.audit_key()).problems}
    assert ("totals", made["old"]) in kinds


def test_purge_without_the_secret_is_refused(
    tmp_path: Path, catalog_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("YIKATONG_AUDIT_KEY", raising=False)
    path = tmp_path / "county.yikatong"
    _store(path, catalog_file, sealed=False)
    capsys.readouterr()
    assert main(["purge", "--store", str(path), "--catalog", str(catalog_file)]) == 2
    err = capsys.readouterr().err
    assert "清除需要数据库密钥" in err
    assert "Traceback" not in err


def test_purge_runs_on_a_postgresql_store_and_audit_verify_still_passes(
    postgres_server: str, catalog_file: Path, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = new_schema()
    catalog = Catalog.from_toml(catalog_file)
    world = World(catalog, keys=KEYS)
    world.clock.set(OLD)
    with PostgresStore(postgres_server, schema=schema, keys=KEYS) as store:  # sealed, as the key's county keeps it
        over_store(world, store, catalog, keys=KEYS)
        old = _walk(world, "2019-11", make_roster(3, birth="19300101", start=100))
    where = ["--store", postgres_server, "--schema", schema, "--key-file", str(key_file)]
    capsys.readouterr()
    assert main(["purge", *where, "--catalog", str(catalog_file)]) == 0
    assert f"已清除 purged: {old}" in capsys.readouterr().out
    assert main(["audit", "verify", *where]) == 0
    with PostgresStore(postgres_server, schema=schema, read_only=True, keys=KEYS) as store:
        assert store.rows(old)["id_number"].null_count() == 3
