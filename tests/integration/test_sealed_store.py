"""Personal data at rest: a store created with keys keeps no ID number, account or name in clear on disk."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import polars as pl
import pytest

from tests.unit._workflow_fakes import World, make_roster, over_store
from yikatong.adapters.keys import SecretKeys
from yikatong.adapters.sqlite import SqliteStore
from yikatong.catalog import Catalog
from yikatong.cli import main
from yikatong.errors import StoreError
from yikatong.records import Change
from yikatong.testing.store_data import audit_entries, header, ledger_frame, make_rows
from yikatong.workflow import verify_store

KEYS = SecretKeys(b"county finance bureau data secret 2026")
OTHER = SecretKeys(b"another county's secret, same length!")


def _walk(catalog: Catalog, path: Path, *, inline_rows_max: int = 5_000) -> tuple[pl.DataFrame, str]:
    """A sealed store with one settled batch; returns the roster and the batch id."""
    world = World(catalog, keys=KEYS)
    roster = make_roster(6, start=300)
    with SqliteStore(path, keys=KEYS, inline_rows_max=inline_rows_max) as store:
        over_store(world, store, catalog, keys=KEYS)
        batch_id = world.to("settled", roster, failed=(3,))
    return roster, batch_id


def _every_byte(path: Path) -> bytes:
    files = [path, *path.parent.glob(path.name + "-*"), *path.parent.glob(path.name + "-rows/*")]
    return b"".join(p.read_bytes() for p in files if p.is_file())


@pytest.mark.parametrize("inline_rows_max", [5_000, 0], ids=["inline", "side-file"])
def test_no_id_account_or_name_is_on_disk_in_clear(tmp_path: Path, catalog: Catalog, inline_rows_max: int) -> None:
    path = tmp_path / "county.yikatong"
    roster, _ = _walk(catalog, path, inline_rows_max=inline_rows_max)
    raw = _every_byte(path)
    for value in [*roster["id_number"], *roster["account"], *roster["name"]]:
        assert value.encode("utf-8") not in raw
        assert value.encode("utf-16-le") not in raw


def test_the_sealed_store_reads_back_what_was_written(tmp_path: Path, catalog: Catalog) -> None:
    path = tmp_path / "county.yikatong"
    roster, batch_id = _walk(catalog, path)
    with SqliteStore(path, create=False, read_only=True, keys=KEYS) as store:
        rows = store.rows(batch_id)
        assert rows["id_number"].to_list() == roster["id_number"].to_list()
        assert rows["account"].to_list() == roster["account"].to_list()
        assert sorted(store.ledger()["id_number"]) == sorted(roster["id_number"])
        assert verify_store(store, key=KEYS.audit_key()).ok


def test_without_the_key_batches_open_but_personal_data_does_not(tmp_path: Path, catalog: Catalog) -> None:
    path = tmp_path / "county.yikatong"
    _, batch_id = _walk(catalog, path)
    with SqliteStore(path, create=False, read_only=True) as store:
        assert store.batch(batch_id).state == "settled"
        with pytest.raises(StoreError, match="encrypted"):
            store.rows(batch_id)
        with pytest.raises(StoreError, match="encrypted"):
            store.ledger()


def test_a_wrong_key_is_refused_at_open(tmp_path: Path, catalog: Catalog) -> None:
    path = tmp_path / "county.yikatong"
    _walk(catalog, path)
    with pytest.raises(StoreError, match="not this store's key"):
        SqliteStore(path, create=False, keys=OTHER)


def test_a_sealed_id_moved_to_another_ledger_row_no_longer_opens(tmp_path: Path, catalog: Catalog) -> None:
    path = tmp_path / "county.yikatong"
    _walk(catalog, path)
    conn = sqlite3.connect(path)
    first, second = conn.execute("SELECT row_id, id_sealed FROM ledger ORDER BY row_id LIMIT 2").fetchall()
    conn.execute("UPDATE ledger SET id_sealed = ? WHERE row_id = ?", (second[1], first[0]))
    conn.commit()
    conn.close()
    with (
        SqliteStore(path, create=False, read_only=True, keys=KEYS) as store,
        pytest.raises(StoreError, match="decrypt"),
    ):
        store.ledger()


def test_values_opened_once_are_still_refused_when_moved_while_the_store_is_open(
    tmp_path: Path, catalog: Catalog
) -> None:
    path = tmp_path / "county.yikatong"
    _, batch_id = _walk(catalog, path)
    with SqliteStore(path, create=False, read_only=True, keys=KEYS) as store:
        ledger, rows = store.ledger(), store.rows(batch_id)  # every sealed value opened once
        assert store.ledger().equals(ledger)
        assert store.rows(batch_id).equals(rows)
        conn = sqlite3.connect(path)
        first, second = conn.execute("SELECT row_id, id_sealed FROM ledger ORDER BY row_id LIMIT 2").fetchall()
        conn.execute("UPDATE ledger SET id_sealed = ? WHERE row_id = ?", (second[1], first[0]))
        one, two = conn.execute(
            "SELECT row_id, pay_account FROM row_state WHERE pay_account IS NOT NULL ORDER BY row_id LIMIT 2"
        ).fetchall()
        conn.execute("UPDATE row_state SET pay_account = ? WHERE row_id = ?", (two[1], one[0]))
        conn.commit()
        conn.close()
        with pytest.raises(StoreError, match="decrypt"):
            store.ledger()
        with pytest.raises(StoreError, match="decrypt"):
            store.rows(batch_id)


def test_one_active_payment_per_person_still_holds_on_the_look_up_hash(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "county.yikatong", keys=KEYS) as store:
        store.commit(Change(batch=header("B1"), expected_version=None, new_rows=make_rows("B1", 2)))
        store.commit(Change(batch=header("B2"), expected_version=None, new_rows=make_rows("B2", 2)))
        store.commit(
            Change(batch=header("B1", version=2), expected_version=1, ledger=ledger_frame([("B1", 1, "P-1", "sent")]))
        )
        with pytest.raises(StoreError, match="already has an active payment"):
            store.commit(
                Change(
                    batch=header("B2", version=2), expected_version=1, ledger=ledger_frame([("B2", 1, "P-1", "sent")])
                )
            )


def test_a_sealed_store_opened_without_its_key_writes_nothing_in_clear(tmp_path: Path) -> None:
    path = tmp_path / "county.yikatong"
    SqliteStore(path, keys=KEYS).close()
    with SqliteStore(path, create=False) as store:
        with pytest.raises(StoreError, match="encrypted"):
            store.commit(
                Change(
                    batch=header("B1"),
                    expected_version=None,
                    new_rows=make_rows("B1", 2),
                    audit=audit_entries(None, [("submit", "B1", "draft", "submitted")]),
                )
            )
        assert store.batches() == ()


def test_keys_cannot_turn_a_clear_store_with_batches_into_a_half_sealed_one(tmp_path: Path) -> None:
    path = tmp_path / "county.yikatong"
    with SqliteStore(path) as store:
        store.commit(Change(batch=header("B1"), expected_version=None, new_rows=make_rows("B1", 2)))
    with pytest.raises(StoreError, match="created without encryption"):
        SqliteStore(path, create=False, keys=KEYS)
    with SqliteStore(path, create=False, read_only=True, keys=KEYS) as store:
        assert store.rows("B1").height == 2


def test_audit_verify_on_a_sealed_store_needs_the_key(
    tmp_path: Path, catalog: Catalog, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "county.yikatong"
    _walk(catalog, path)
    key_file = tmp_path / "county.key"
    key_file.write_bytes(b"county finance bureau data secret 2026")
    assert main(["audit", "verify", "--store", str(path), "--key-file", str(key_file)]) == 0
    capsys.readouterr()
    other = tmp_path / "other.key"
    other.write_bytes(b"another county's secret, same length!")
    assert main(["audit", "verify", "--store", str(path), "--key-file", str(other)]) == 2
    assert "not this store's key" in capsys.readouterr().err
