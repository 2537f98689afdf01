"""Writers racing on one PostgreSQL store, and a connection killed in the middle of a commit.

Races are made certain, not likely: a third connection holds the lock every commit takes first, both writers are
started, the test waits until the server reports both waiting on that lock, and only then lets them go.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Iterator
from typing import Any

import attrs
import psycopg
import pytest
from psycopg import sql

from tests.postgres import new_schema
from yikatong.adapters.postgres import PostgresStore
from yikatong.errors import StoreError
from yikatong.records import Change
from yikatong.testing.store_data import audit_entries, header, ledger_frame, make_rows, snapshot, state_updates

Admin = psycopg.Connection[tuple[object, ...]]
_WAIT_SECONDS = 180  # a limit for a machine under load, not a duration: the waits end on events


@pytest.fixture
def admin(postgres_server: str) -> Iterator[Admin]:
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        yield conn


@pytest.fixture
def store(postgres_server: str) -> Iterator[PostgresStore]:
    with PostgresStore(postgres_server, schema=new_schema()) as store:
        store.commit(
            Change(
                batch=header("B1"),
                expected_version=None,
                new_rows=make_rows("B1", 4),
                audit=audit_entries(None, [("submit", "B1", "draft", "submitted")]),
            )
        )
        yield store


def _step(store: PostgresStore, status: str, **fields: Any) -> Change:
    """The next step of B1 moving every row to ``status``, computed from what the store holds now."""
    current = store.batch("B1")
    return Change(
        batch=attrs.evolve(current, version=current.version + 1, reason=status),
        expected_version=current.version,
        row_updates=state_updates("B1", [1, 2, 3, 4], status),
        audit=audit_entries(store.audit_head(), [(status, "B1", current.state, current.state)]),
        **fields,
    )


def _wait_until_waiting_on_a_lock(admin: Admin, count: int) -> list[int]:
    """The backend ids of ``count`` yikatong connections, once the server reports all of them waiting on a lock."""
    deadline = time.monotonic() + _WAIT_SECONDS
    while True:
        admin.execute("SELECT pg_stat_clear_snapshot()")  # inside a transaction the activity view is a snapshot
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'yikatong' AND wait_event_type = 'Lock'"
        ).fetchall()
        if len(rows) >= count:
            return [int(str(r[0])) for r in rows]
        assert time.monotonic() < deadline, f"only {len(rows)} of {count} writers reached the lock"
        time.sleep(0.02)


def _lock(admin: Admin, schema: str, table: str, mode: str) -> None:
    statement = sql.SQL("LOCK TABLE {} IN {} MODE").format(sql.Identifier(schema, table), sql.SQL(mode))
    admin.execute(statement)


def _commit_in_child(url: str, schema: str, change: Change, results: Any) -> None:
    """A second process: open the store, commit, report ``ok`` or the refusal's message."""
    try:
        with PostgresStore(url, schema=schema, create=False) as store:
            store.commit(change)
        results.put("ok")
    except StoreError as exc:
        results.put(str(exc))


def test_two_processes_firing_the_same_step_one_wins_and_the_other_is_refused_cleanly(
    postgres_server: str, store: PostgresStore, admin: Admin
) -> None:
    passed, blocked = _step(store, "passed"), _step(store, "blocked")  # both computed from version 1
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    children = [
        context.Process(target=_commit_in_child, args=(postgres_server, store.schema, change, results))
        for change in (passed, blocked)
    ]
    with admin.transaction():
        _lock(admin, store.schema, "audit", "SHARE ROW EXCLUSIVE")
        for child in children:
            child.start()
        _wait_until_waiting_on_a_lock(admin, 2)
    outcomes = sorted(results.get(timeout=_WAIT_SECONDS) for _ in children)
    for child in children:
        child.join(_WAIT_SECONDS)
        assert child.exitcode == 0
    assert outcomes[1] == "ok"
    assert "is at version 2, the change was made from 1" in outcomes[0]
    assert "批次已被他人修改" in outcomes[0]
    batch = store.batch("B1")
    winner = passed if batch.reason == "passed" else blocked
    assert batch == winner.batch
    assert store.rows("B1")["status"].to_list() == [winner.batch.reason] * 4
    assert store.audit()[-1] == winner.audit[0]
    assert len(store.audit()) == 2


def test_two_connections_creating_the_same_batch_make_it_once(
    postgres_server: str, store: PostgresStore, admin: Admin
) -> None:
    head = store.audit_head()
    creations = [
        Change(
            batch=header("B2"),
            expected_version=None,
            new_rows=make_rows("B2", n),
            audit=audit_entries(head, [("submit", "B2", "draft", "submitted")]),
        )
        for n in (2, 5)
    ]
    writers = [PostgresStore(postgres_server, schema=store.schema, create=False) for _ in creations]
    outcomes: list[str] = []

    def run(writer: PostgresStore, change: Change) -> None:
        try:
            writer.commit(change)
            outcomes.append("ok")
        except StoreError as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=run, args=pair) for pair in zip(writers, creations, strict=True)]
    with admin.transaction():
        _lock(admin, store.schema, "audit", "SHARE ROW EXCLUSIVE")
        for thread in threads:
            thread.start()
        _wait_until_waiting_on_a_lock(admin, 2)
    for thread in threads:
        thread.join(_WAIT_SECONDS)
    for writer in writers:
        writer.close()
    assert sorted(outcomes)[1] == "ok"
    assert "batch B2 already exists" in sorted(outcomes)[0]
    assert store.rows("B2").height in (2, 5)
    assert [b.batch_id for b in store.batches()] == ["B1", "B2"]
    assert len(store.audit()) == 2


def test_a_connection_killed_mid_commit_leaves_nothing_partial_and_the_store_goes_on(
    postgres_server: str, store: PostgresStore, admin: Admin
) -> None:
    before = snapshot(store)
    dispatch = _step(store, "sent", ledger=ledger_frame([("B1", r, f"P{r}", "sent") for r in (1, 2, 3, 4)]))
    victim = PostgresStore(postgres_server, schema=store.schema, create=False)
    failures: list[BaseException] = []

    def run() -> None:
        try:
            victim.commit(dispatch)
        except StoreError as exc:
            failures.append(exc)

    thread = threading.Thread(target=run)
    with admin.transaction():
        # The victim has moved the row states, the header and the audit log when it reaches the ledger and waits.
        _lock(admin, store.schema, "ledger", "SHARE")
        thread.start()
        (pid,) = _wait_until_waiting_on_a_lock(admin, 1)
        assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)
        thread.join(_WAIT_SECONDS)
    assert len(failures) == 1
    assert "nothing was applied" in str(failures[0])
    assert snapshot(store) == before
    victim.commit(dispatch)  # a new connection; the same change now applies whole
    assert store.batch("B1").version == 2
    assert store.ledger()["status"].to_list() == ["sent"] * 4
    victim.close()


def test_a_read_on_a_dropped_connection_is_a_store_error_and_the_next_read_reconnects(
    store: PostgresStore, admin: Admin
) -> None:
    pid = store.connection.info.backend_pid
    assert admin.execute("SELECT pg_terminate_backend(%s, %s)", (pid, _WAIT_SECONDS * 1000)).fetchone() == (True,)
    with pytest.raises(StoreError, match="read failed"):
        store.batches()
    assert [b.batch_id for b in store.batches()] == ["B1"]
    assert store.connection.info.backend_pid != pid
