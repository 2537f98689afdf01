"""An insider with write access to the store file cannot change the money data unseen.

Each edit below is one someone with the file and the sqlite3 tool could make, recomputing every plain hash the store
keeps: swapping a payee's account in the stored rows, editing the ledger, a row status or a funded amount, deleting
the whole audit log, or rewriting the log and recomputing its chain. ``yikatong audit verify`` names each.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
from pathlib import Path

import attrs
import polars as pl
import pytest

from tests.unit._workflow_fakes import World, make_roster, over_store
from yikatong.adapters.keys import SecretKeys
from yikatong.adapters.sqlite import SqliteStore
from yikatong.catalog import Catalog
from yikatong.cli import main
from yikatong.errors import StoreError
from yikatong.workflow.audit import GENESIS_HASH, entry_hash
from yikatong.workflow.store_check import verify_store

SECRET = b"county finance bureau audit secret 2026"
KEYS = SecretKeys(SECRET)


def _world(catalog: Catalog, path: Path) -> tuple[World, SqliteStore]:
    world = World(catalog, keys=KEYS)
    store = SqliteStore(path)
    over_store(world, store, catalog, keys=KEYS)
    return world, store


@pytest.fixture
def store_file(tmp_path: Path, catalog: Catalog) -> Path:
    """A closed keyed store: one batch settled with a failure returned, one dispatched, one validated."""
    path = tmp_path / "county.yikatong"
    world, store = _world(catalog, path)
    with store:
        settled = world.to("settled", failed=(2,))
        world.service.return_failures(settled)
        world.to("dispatched", make_roster(5, start=20))
        world.to("validated", make_roster(5, start=40))
    return path


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "audit.key"
    path.write_bytes(SECRET + b"\n")
    return path


def _verify(path: Path, key_file: Path, *extra: str) -> int:
    return main(["audit", "verify", "--store", str(path), "--key-file", str(key_file), *extra])


def _problems(path: Path) -> set[tuple[str, str]]:
    with SqliteStore(path, create=False, read_only=True) as store:
        result = verify_store(store, key=KEYS.audit_key())
    return {(p.kind, p.batch_id) for p in result.problems}


def _sql(path: Path, *statements: str, params: tuple[object, ...] = ()) -> None:
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER IF EXISTS audit_no_update")
    conn.execute("DROP TRIGGER IF EXISTS audit_no_delete")
    for statement in statements:
        conn.execute(statement, params if "?" in statement else ())
    conn.commit()
    conn.close()


def _batch_ids(path: Path) -> list[str]:
    with SqliteStore(path, create=False, read_only=True) as store:
        return [b.batch_id for b in store.batches()]


def _swap_account(path: Path, batch_id: str, row_id: int, account: str) -> None:
    """Rewrite one stored account and recompute the blob's SHA-256, as the store itself would have."""
    conn = sqlite3.connect(path)
    (blob,) = conn.execute("SELECT inline FROM row_data WHERE batch_id = ?", (batch_id,)).fetchone()
    frame = pl.read_parquet(io.BytesIO(blob))
    frame = frame.with_columns(
        pl.when(pl.col("row_id") == row_id).then(pl.lit(account)).otherwise(pl.col("account")).alias("account")
    )
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="zstd", statistics=False)
    data = buffer.getvalue()
    conn.execute(
        "UPDATE row_data SET inline = ?, sha256 = ? WHERE batch_id = ?",
        (data, hashlib.sha256(data).hexdigest(), batch_id),
    )
    conn.commit()
    conn.close()


def test_a_keyed_store_verifies_and_the_anchor_is_its_head(
    store_file: Path, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _verify(store_file, key_file, "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    assert report["batches"] == 3
    assert main(["audit", "anchor", "--store", str(store_file), "--key-file", str(key_file)]) == 0
    seq, head = capsys.readouterr().out.split()
    assert (int(seq), head) == (report["head_seq"], report["head_hash"])
    assert _verify(store_file, key_file, "--anchor", head) == 0


def test_the_key_can_come_from_the_environment(
    store_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("YIKATONG_AUDIT_KEY", SECRET.decode())
    assert main(["audit", "verify", "--store", str(store_file)]) == 0
    assert "audit chain intact" in capsys.readouterr().out


def test_a_keyed_store_checked_without_its_key_is_not_intact(
    store_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("YIKATONG_AUDIT_KEY", raising=False)
    assert main(["audit", "verify", "--store", str(store_file)]) == 1
    assert "wrong or missing key" in capsys.readouterr().out


def test_an_account_swapped_in_the_stored_rows_with_the_blob_hash_recomputed_is_caught(
    store_file: Path, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, dispatched, validated = _batch_ids(store_file)
    _swap_account(store_file, validated, 1, "6228480000000000666")
    _swap_account(store_file, dispatched, 3, "6228480000000000777")
    found = _problems(store_file)
    assert ("rows", validated) in found
    assert ("rows", dispatched) in found
    assert ("order", dispatched) in found
    assert _verify(store_file, key_file) == 1
    out = capsys.readouterr().out
    assert "payee rows" in out
    assert "6228480000000000666" not in out


def test_dispatch_refuses_rows_changed_behind_the_audit_log(store_file: Path, catalog: Catalog) -> None:
    validated = _batch_ids(store_file)[2]
    _swap_account(store_file, validated, 1, "6228480000000000666")
    world, store = _world(catalog, store_file)
    with store, pytest.raises(StoreError, match="differ from what the audit log recorded"):
        world.service.dispatch(validated)
    assert validated not in world.bank.orders


@pytest.mark.parametrize(
    ("statement", "kind"),
    [
        ("UPDATE ledger SET amount_fen = amount_fen + 100 WHERE batch_id = ? AND row_id = 1", "ledger"),
        ("UPDATE ledger SET status = 'failed' WHERE batch_id = ? AND row_id = 1", "ledger"),
        ("UPDATE row_state SET status = 'paid' WHERE batch_id = ? AND row_id = 2", "rows"),
        ("UPDATE batches SET funded_fen = funded_fen + 100 WHERE batch_id = ?", "header"),
        ("UPDATE batches SET state = 'published' WHERE batch_id = ?", "header"),
    ],
    ids=["ledger-amount", "ledger-status", "row-status", "funded-amount", "batch-state"],
)
def test_edits_of_the_money_data_are_caught(store_file: Path, key_file: Path, statement: str, kind: str) -> None:
    settled = _batch_ids(store_file)[0]
    _sql(store_file, statement, params=(settled,))
    assert (kind, settled) in _problems(store_file)
    assert _verify(store_file, key_file) == 1


def test_deleting_every_audit_entry_of_a_store_with_batches_is_caught(
    store_file: Path, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _sql(store_file, "DELETE FROM audit")
    assert _verify(store_file, key_file) == 1
    assert "audit log is empty" in capsys.readouterr().out


def test_a_whole_chain_recomputed_after_an_edit_is_caught_without_an_anchor(store_file: Path, key_file: Path) -> None:
    conn = sqlite3.connect(store_file)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET reason = '已核实' WHERE seq = 2")
    with SqliteStore(store_file, create=False, read_only=True) as store:
        entries = store.audit()
    prev = GENESIS_HASH
    for entry in entries:  # plain SHA-256, the best an insider without the key can do
        fixed = entry_hash(attrs.evolve(entry, prev_hash=prev))
        conn.execute("UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, fixed, entry.seq))
        prev = fixed
    conn.commit()
    conn.close()
    assert ("chain", "") in _problems(store_file)
    assert _verify(store_file, key_file) == 1


def test_a_store_without_its_audit_table_cannot_be_read(
    store_file: Path, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _sql(store_file, "DROP TABLE audit")
    assert _verify(store_file, key_file) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert "cannot read" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_an_unreadable_store_file_cannot_be_read(
    store_file: Path, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store_file.chmod(0)
    try:
        assert _verify(store_file, key_file) == 2
    finally:
        store_file.chmod(0o600)
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_a_missing_or_short_key_file_cannot_be_read(
    store_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _verify(store_file, tmp_path / "no.key") == 2
    short = tmp_path / "short.key"
    short.write_bytes(b"123")
    assert _verify(store_file, short) == 2
    assert capsys.readouterr().err.count("\n") == 2


def test_the_verdict_runs_without_touching_the_store_or_any_batch(
    store_file: Path, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = hashlib.sha256(store_file.read_bytes()).hexdigest()
    assert _verify(store_file, key_file) == 0
    assert hashlib.sha256(store_file.read_bytes()).hexdigest() == before
    assert "3 batches" in capsys.readouterr().out
