"""The embedded store against real files: refusing what is not a store, migrations, side files, SQL-level rules."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from yikatong.adapters.sqlite import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION, SqliteStore, _schema
from yikatong.errors import StoreError
from yikatong.records import Change
from yikatong.testing.store_data import audit_entries, header, ledger_frame, make_rows, snapshot


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _siblings(path: Path) -> set[str]:
    return {p.name for p in path.parent.iterdir()}


def _create_batch(store: SqliteStore, batch_id: str, n: int) -> None:
    store.commit(
        Change(
            batch=header(batch_id),
            expected_version=None,
            new_rows=make_rows(batch_id, n),
            audit=audit_entries(store.audit_head(), [("submit", batch_id, "draft", "submitted")]),
        )
    )


def _unrelated_database(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE people (name TEXT)")
    conn.execute("INSERT INTO people VALUES ('张三')")
    conn.commit()
    conn.close()


def _v1_store(path: Path) -> None:
    """A store as the first schema version wrote it, with one batch header in it."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("BEGIN")
    for statement in MIGRATIONS[0].statements:
        conn.execute(statement)
    conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    conn.execute(
        "INSERT INTO batches (batch_id, item, period, department, state, prepared_by, created_at, updated_at, "
        "version, funded_fen, reason) VALUES ('OLD', 'GDLS', '2025-11', '农业农村委', 'published', 'clerk-1', "
        "'2025-11-02T09:30:00+00:00', '2025-11-02T09:30:00+00:00', 9, 100, '')"
    )
    conn.execute("PRAGMA user_version = 1")
    conn.execute("COMMIT")
    conn.close()


# -- refusing files that are not a store ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b"", os.urandom(4096), b"SQLite format 3\x00" + os.urandom(4080), "姓名,身份证号\n张三,1\n".encode()],
    ids=["empty", "random-bytes", "sqlite-magic-then-garbage", "csv"],
)
def test_a_file_that_is_not_a_store_is_refused_and_left_untouched(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "store.yikatong"
    path.write_bytes(content)
    before, files = _digest(path), _siblings(path)
    with pytest.raises(StoreError, match="not a yikatong store") as info:
        SqliteStore(path)
    assert "不是 yikatong 数据库" in str(info.value)
    assert _digest(path) == before
    assert _siblings(path) == files


def test_another_programs_sqlite_database_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    _unrelated_database(path)
    before, files = _digest(path), _siblings(path)
    with pytest.raises(StoreError, match="another application") as info:
        SqliteStore(path)
    assert "其他程序" in str(info.value)
    assert _digest(path) == before
    assert _siblings(path) == files


def test_a_store_from_a_newer_yikatong_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "store.yikatong"
    SqliteStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before, files = _digest(path), _siblings(path)
    with pytest.raises(StoreError, match="newer yikatong") as info:
        SqliteStore(path)
    assert "请升级" in str(info.value)
    assert _digest(path) == before
    assert _siblings(path) == files


def test_a_missing_store_is_refused_when_creation_is_not_asked_for(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no such store file"):
        SqliteStore(tmp_path / "missing.yikatong", create=False)
    with pytest.raises(StoreError):
        SqliteStore(tmp_path / "missing.yikatong", read_only=True)
    assert list(tmp_path.iterdir()) == []


def test_a_store_that_cannot_be_created_is_refused_with_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot create the store"):
        SqliteStore(tmp_path / "no-such-folder" / "store.yikatong")


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="directory"):
        SqliteStore(tmp_path)


# -- identity and migrations ------------------------------------------------------------------------------------


def test_a_new_store_carries_the_application_id_and_the_current_schema_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "store.yikatong"
    SqliteStore(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert dict(conn.execute("SELECT key, value FROM meta").fetchall())["schema_version"] == str(SCHEMA_VERSION)
    conn.close()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".creating")]


def test_a_version_1_store_is_migrated_to_the_current_schema_keeping_its_data(tmp_path: Path) -> None:
    path = tmp_path / "store.yikatong"
    _v1_store(path)
    with SqliteStore(path) as store:
        assert store.batch("OLD").version == 9
        tables = {r[0] for r in store.connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"accounts", "account_events", "batches", "ledger", "audit"} <= tables
        assert store.connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        _create_batch(store, "NEW", 3)
    with SqliteStore(path, create=False) as again:
        assert [b.batch_id for b in again.batches()] == ["OLD", "NEW"]


def test_a_version_2_store_keeps_its_row_states_and_learns_the_expired_status(tmp_path: Path) -> None:
    path = tmp_path / "store.yikatong"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("BEGIN")
    for step in MIGRATIONS[:2]:
        for statement in step.statements:
            conn.execute(statement)
    conn.execute("INSERT INTO row_state (batch_id, row_id, status, deadline) VALUES ('OLD', 1, 'returned', 20000)")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO row_state (batch_id, row_id, status) VALUES ('OLD', 2, 'expired')")
    conn.execute("PRAGMA user_version = 2")
    conn.execute("COMMIT")
    conn.close()
    with SqliteStore(path) as store:
        db = store.connection
        assert db.execute("SELECT status, deadline FROM row_state").fetchall() == [("returned", 20000)]
        db.execute("UPDATE row_state SET status = 'expired'")
        assert db.execute("SELECT status FROM row_state").fetchall() == [("expired",)]
        with pytest.raises(sqlite3.IntegrityError):
            db.execute("UPDATE row_state SET status = 'lost'")


def test_read_only_opening_refuses_a_store_that_needs_migrating_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "store.yikatong"
    _v1_store(path)
    before = _digest(path)
    with pytest.raises(StoreError, match="needs migrating"):
        SqliteStore(path, read_only=True)
    assert _digest(path) == before


def test_a_read_only_store_reads_but_refuses_to_commit(tmp_path: Path) -> None:
    path = tmp_path / "store.yikatong"
    with SqliteStore(path) as store:
        _create_batch(store, "B1", 3)
    with SqliteStore(path, read_only=True) as reader:
        assert reader.rows("B1").height == 3
        with pytest.raises(StoreError, match="read-only"):
            _create_batch(reader, "B2", 1)


# -- side files -------------------------------------------------------------------------------------------------


def test_large_batches_keep_their_row_data_in_a_checked_side_file(tmp_path: Path) -> None:
    path = tmp_path / "store.yikatong"
    with SqliteStore(path, inline_rows_max=10) as store:
        _create_batch(store, "SMALL", 10)
        _create_batch(store, "LARGE", 11)
        files = list(store.files.directory.iterdir())
        assert len(files) == 1
        assert store.rows("LARGE").height == 11
        files[0].write_bytes(files[0].read_bytes()[:-10] + b"0123456789")
        with pytest.raises(StoreError, match="damaged"):
            store.rows("LARGE")
        files[0].unlink()
        with pytest.raises(StoreError, match="missing"):
            store.rows("LARGE")
        assert store.rows("SMALL").height == 10


def test_leftovers_of_an_interrupted_write_are_removed_when_the_store_opens(tmp_path: Path) -> None:
    path = tmp_path / "store.yikatong"
    with SqliteStore(path, inline_rows_max=0) as store:
        _create_batch(store, "B1", 4)
        kept = {p.name for p in store.files.directory.iterdir()}
        orphan = store.files.directory / ("ab" * 32 + ".parquet")
        orphan.write_bytes(b"written, renamed, never committed")
        torn = store.files.directory / ".tmp-0123.parquet"
        torn.write_bytes(b"half a fi")
    with SqliteStore(path, create=False) as reopened:
        assert {p.name for p in reopened.files.directory.iterdir()} == kept
        assert reopened.rows("B1").height == 4


# -- rules the database itself enforces --------------------------------------------------------------------------


def test_the_database_itself_refuses_a_second_active_payment(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "store.yikatong") as store:
        insert = "INSERT INTO ledger VALUES (?, ?, 'ID-P1', 'GDLS', '2026-11', 100, ?, 0, NULL)"
        store.connection.execute(insert, ("B1", 1, "failed"))
        store.connection.execute(insert, ("B1", 2, "paid"))
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
            store.connection.execute(insert, ("B2", 1, "sent"))


def test_the_database_itself_refuses_editing_or_deleting_audit_entries(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "store.yikatong") as store:
        _create_batch(store, "B1", 1)
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            store.connection.execute("UPDATE audit SET reason = 'nothing happened'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            store.connection.execute("DELETE FROM audit")
        assert len(store.audit()) == 1


def test_a_second_writer_working_from_a_stale_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "store.yikatong"
    with SqliteStore(path) as first, SqliteStore(path) as second:
        _create_batch(first, "B1", 2)
        step = Change(batch=header("B1", version=2), expected_version=1)
        first.commit(step)
        before = snapshot(second)
        with pytest.raises(StoreError, match="version 2"):
            second.commit(step)
        assert snapshot(second) == before


def test_a_double_payment_refusal_masks_the_id_number(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "store.yikatong") as store:
        _create_batch(store, "B1", 2)
        _create_batch(store, "B2", 2)
        person = "500241199001011234"
        first = ledger_frame([("B1", 1, "P", "paid")]).with_columns(id_number=pl.lit(person))
        store.commit(Change(batch=header("B1", version=2), expected_version=1, ledger=first))
        again = ledger_frame([("B2", 1, "P", "sent")]).with_columns(id_number=pl.lit(person))
        with pytest.raises(StoreError) as info:
            store.commit(Change(batch=header("B2", version=2), expected_version=1, ledger=again))
        assert person not in str(info.value)
        assert "500241********1234" in str(info.value)


# -- a migration killed half-way ----------------------------------------------------------------------------------

_KILL_AT_STATEMENT = """
import os, signal, sys
from pathlib import Path
from yikatong.adapters.sqlite import SqliteStore, _schema

target, n, seen = Path(sys.argv[1]), int(sys.argv[2]), [0]
connect = _schema._connect

def tracing(where, *, uri=False):
    conn = connect(where, uri=uri)
    def trace(statement):
        seen[0] += 1
        if seen[0] == n:
            os.kill(os.getpid(), signal.SIGKILL)
    conn.set_trace_callback(trace)
    return conn

_schema._connect = tracing
SqliteStore(target).close()
"""


def _migration_statements(path: Path) -> list[int]:
    """Positions (1-based) of the statements of the migration transaction when ``path`` is opened."""
    statements: list[str] = []
    connect = _schema._connect

    def tracing(where: str, *, uri: bool = False) -> sqlite3.Connection:
        conn = connect(where, uri=uri)
        conn.set_trace_callback(statements.append)
        return conn

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_schema, "_connect", tracing)
        SqliteStore(path).close()
    begin = statements.index("BEGIN IMMEDIATE")
    end = statements.index("COMMIT", begin)
    return list(range(begin + 1, end + 2))


def test_a_migration_killed_at_any_statement_leaves_the_old_or_the_new_version(tmp_path: Path) -> None:
    probe = tmp_path / "probe.yikatong"
    _v1_store(probe)
    positions = _migration_statements(probe)
    assert len(positions) >= len(MIGRATIONS[-1].statements) + 2
    for n in sorted({*positions[:: max(1, len(positions) // 4)], positions[-1]}):  # BEGIN … COMMIT
        path = tmp_path / f"killed-{n}.yikatong"
        _v1_store(path)
        child = subprocess.run(
            [sys.executable, "-c", _KILL_AT_STATEMENT, str(path), str(n)], capture_output=True, text=True, check=False
        )
        assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
        conn = sqlite3.connect(path)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        conn.close()
        assert (version, "accounts" in tables) in ((1, False), (SCHEMA_VERSION, True)), f"statement {n}"
        with SqliteStore(path, create=False) as store:
            assert store.batch("OLD").version == 9
            assert store.connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
