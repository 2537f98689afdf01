"""A resident's look-up on a real, sealed store file: by the ledger's keyed hash, audited, and from the command line."""

from __future__ import annotations

import datetime as dt
import io
import json
import sqlite3
import sys
from pathlib import Path

import polars as pl
import pytest

from tests.postgres import new_schema
from tests.unit._workflow_fakes import World, make_id, make_roster, over_store
from yikatong.adapters.clock import FixedClock
from yikatong.adapters.keys import KEY_ENV, SecretKeys
from yikatong.adapters.postgres import PostgresStore
from yikatong.adapters.resident_lookup import StoreResidentLookup
from yikatong.adapters.sqlite import SqliteStore
from yikatong.catalog import Catalog
from yikatong.cli import main
from yikatong.errors import StoreError
from yikatong.workflow import verify_store

SECRET = b"county finance bureau data secret 2026"
KEYS = SecretKeys(SECRET)


@pytest.fixture
def store(tmp_path: Path, catalog: Catalog) -> tuple[Path, Path, pl.DataFrame]:
    """A sealed store with one settled batch of four rows, row 2 failed; its key file; the roster."""
    path = tmp_path / "county.yikatong"
    key_file = tmp_path / "county.key"
    key_file.write_bytes(SECRET)
    roster = make_roster(4)
    world = World(catalog)
    with SqliteStore(path, keys=KEYS) as opened:
        over_store(world, opened, catalog, keys=KEYS)
        world.to("settled", roster, failed=(2,))
    return path, key_file, roster


def _lookup(path: Path, key_file: Path | None, name: str, *extra: str, stdin: str | None = None) -> int:
    args = ["lookup", "--store", str(path), "--name", name, *extra]
    if key_file is not None:
        args += ["--key-file", str(key_file)]
    if stdin is None:
        return main(args)
    saved = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        return main(args)
    finally:
        sys.stdin = saved


def _lookups(path: Path) -> list[tuple[str, str, str]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(
            "SELECT actor, role, details FROM audit WHERE action = 'resident_lookup' ORDER BY seq"
        ).fetchall()
    finally:
        conn.close()


# -- the library on a sealed store ----------------------------------------------------------------------------------


def test_a_sealed_store_finds_the_person_by_the_ledgers_keyed_hash(
    store: tuple[Path, Path, pl.DataFrame], catalog: Catalog
) -> None:
    path, _, roster = store
    name, id_number = roster["name"][0], roster["id_number"][0]
    with SqliteStore(path, keys=KEYS) as opened:
        assert opened.ledger_of(id_number).equals(opened.ledger().filter(pl.col("id_number") == id_number))
        stored = opened.connection.execute("SELECT DISTINCT id_number FROM ledger").fetchall()
        assert all(str(v).startswith("k1:") for (v,) in stored)  # no ID in clear to search by
        service = StoreResidentLookup(
            opened, keys=KEYS, catalog=catalog, clock=FixedClock(dt.datetime(2026, 12, 2, 9, tzinfo=dt.UTC))
        )
        answer = service.payments(name=name, id_number=id_number, asked_by="ykb-1", channel="渝快办")
        assert answer.select("item", "status", "amount_fen").rows() == [("GLJT", "paid", 10_000)]
        result = verify_store(opened, key=KEYS.audit_key())
        assert result.ok, result.problems


def test_a_sealed_store_opened_without_its_keys_cannot_be_searched(store: tuple[Path, Path, pl.DataFrame]) -> None:
    path, _, roster = store
    with SqliteStore(path, read_only=True) as opened, pytest.raises(StoreError, match="encrypted"):
        opened.ledger_of(roster["id_number"][0])


# -- the command line -----------------------------------------------------------------------------------------------


def test_the_id_from_standard_input_is_never_echoed(
    store: tuple[Path, Path, pl.DataFrame], capsys: pytest.CaptureFixture[str]
) -> None:
    path, key_file, roster = store
    id_number = roster["id_number"][1]
    assert _lookup(path, key_file, roster["name"][1], "--channel", "乡镇便民服务中心", stdin=id_number + "\n") == 0
    captured = capsys.readouterr()
    assert "1 payments found" in captured.out
    assert "未发放成功，待更正 (failed)" in captured.out
    assert "异议受理 objections: 民政局 · 中和街道 · 秀山县民政局" in captured.out
    for shown in (captured.out, captured.err):
        assert id_number not in shown
        assert id_number[-4:] not in shown  # not even masked
        assert roster["account"][1] not in shown
    ((actor, role, details),) = _lookups(path)
    assert role == "channel"
    assert actor
    recorded = json.loads(details)
    assert recorded["channel"] == "乡镇便民服务中心"
    assert recorded["found"] == 1
    assert recorded["id_hash"].startswith("l1:")


def test_a_mismatched_name_gets_the_same_answer_as_no_payments(
    store: tuple[Path, Path, pl.DataFrame], capsys: pytest.CaptureFixture[str]
) -> None:
    path, key_file, roster = store
    assert _lookup(path, key_file, roster["name"][1], "--id-number", roster["id_number"][0]) == 0
    mismatch = capsys.readouterr().out
    assert _lookup(path, key_file, roster["name"][1], "--id-number", make_id("19300101", 777)) == 0
    never_paid = capsys.readouterr().out
    assert mismatch == never_paid
    assert "no payments found for this name and ID number" in mismatch
    assert [json.loads(d)["found"] for _, _, d in _lookups(path)] == [0, 0]


def test_json_lines_carry_the_answers_columns(
    store: tuple[Path, Path, pl.DataFrame], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _, roster = store
    monkeypatch.setenv(KEY_ENV, SECRET.decode())
    assert _lookup(path, None, roster["name"][0], "--id-number", roster["id_number"][0], "--json") == 0
    (line,) = capsys.readouterr().out.splitlines()
    row = json.loads(line)
    assert (row["item_name"], row["amount_fen"], row["status"], row["account_masked"]) == (
        "高龄津贴",
        10_000,
        "paid",
        "****0001",
    )
    assert row["pay_date"] == "2026-11-27"


@pytest.mark.parametrize(
    ("name", "id_number", "message"),
    [
        ("张三", "11010519491231002Y", "not 18 digits"),
        ("张三", "110105194912310021", "check character is wrong"),
        ("   ", "11010519491231002X", "name must not be blank"),
        ("张三", "", "ID number must not be blank"),
    ],
)
def test_a_malformed_question_is_refused_and_not_recorded(
    store: tuple[Path, Path, pl.DataFrame],
    capsys: pytest.CaptureFixture[str],
    name: str,
    id_number: str,
    message: str,
) -> None:
    path, key_file, _ = store
    assert _lookup(path, key_file, name, stdin=id_number + "\n") == 2
    err = capsys.readouterr().err
    assert message in err
    if id_number:
        assert id_number not in err
    assert _lookups(path) == []


def test_a_look_up_needs_the_key_even_on_a_clear_store(
    tmp_path: Path, catalog: Catalog, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "clear.yikatong"
    world = World(catalog)
    with SqliteStore(path) as opened:
        over_store(world, opened, catalog)
        world.to("settled", make_roster(2))
    assert _lookup(path, None, "张三", "--id-number", make_id("19400101", 1)) == 2
    assert "a look-up needs the key" in capsys.readouterr().err


def test_another_key_is_refused(
    store: tuple[Path, Path, pl.DataFrame], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _, roster = store
    wrong = tmp_path / "wrong.key"
    wrong.write_bytes(b"another county's secret, same length!")
    assert _lookup(path, wrong, roster["name"][0], "--id-number", roster["id_number"][0]) == 2
    assert "the key is not this store's key" in capsys.readouterr().err


def test_a_missing_store_is_refused_and_not_created(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key_file = tmp_path / "county.key"
    key_file.write_bytes(SECRET)
    missing = tmp_path / "none.yikatong"
    assert _lookup(missing, key_file, "张三", "--id-number", make_id("19400101", 1)) == 2
    assert "no store file at" in capsys.readouterr().err
    assert not missing.exists()


def test_a_clear_store_stays_clear_and_its_unkeyed_chain_still_verifies(
    tmp_path: Path, catalog: Catalog, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "clear.yikatong"
    key_file = tmp_path / "county.key"
    key_file.write_bytes(SECRET)
    roster = make_roster(2)
    world = World(catalog)
    with SqliteStore(path) as opened:
        over_store(world, opened, catalog)
        world.to("settled", roster)
    assert _lookup(path, key_file, roster["name"][0], "--id-number", roster["id_number"][0]) == 0
    assert "1 payments found" in capsys.readouterr().out
    assert main(["audit", "verify", "--store", str(path)]) == 0
    with SqliteStore(path, read_only=True) as opened:
        assert not opened.sealing.sealed
        assert opened.audit_head() is not None
        assert opened.audit_head().action == "resident_lookup"  # type: ignore[union-attr]


def test_a_store_on_a_postgresql_server_is_looked_up_by_its_url(
    postgres_server: str, catalog: Catalog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = new_schema()
    key_file = tmp_path / "county.key"
    key_file.write_bytes(SECRET)
    roster = make_roster(3)
    world = World(catalog)
    with PostgresStore(postgres_server, schema=schema, keys=KEYS) as opened:
        over_store(world, opened, catalog, keys=KEYS)
        world.to("settled", roster, failed=(3,))
    name, id_number = roster["name"][2], roster["id_number"][2]
    store = ["--store", postgres_server, "--schema", schema, "--key-file", str(key_file)]
    code = main(["lookup", *store, "--name", name, "--id-number", id_number, "--json"])
    assert code == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["status"] == "failed"
    with PostgresStore(postgres_server, schema=schema, keys=KEYS, read_only=True) as opened:
        assert verify_store(opened, key=KEYS.audit_key()).ok
        assert opened.audit_head().action == "resident_lookup"  # type: ignore[union-attr]
