"""The PostgreSQL store on a real server: what it refuses to open, how it migrates, what the database itself refuses."""

from __future__ import annotations

from collections.abc import Iterator

import attrs
import polars as pl
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from psycopg import sql

from tests.postgres import new_schema
from yikatong.adapters.postgres import MIGRATIONS, SCHEMA_VERSION, Migration, PostgresStore
from yikatong.adapters.postgres._schema import open_schema
from yikatong.errors import StoreError
from yikatong.records import Change
from yikatong.testing.store_data import audit_entries, header, ledger_frame, make_rows, state_updates


@pytest.fixture
def admin(postgres_server: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        yield conn


def _create(store: PostgresStore, batch_id: str, n: int = 3) -> None:
    store.commit(
        Change(
            batch=header(batch_id),
            expected_version=None,
            new_rows=make_rows(batch_id, n),
            audit=audit_entries(store.audit_head(), [("submit", batch_id, "draft", "submitted")]),
        )
    )


def _tables(admin: psycopg.Connection[tuple[object, ...]], schema: str) -> set[str]:
    rows = admin.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)).fetchall()
    return {str(r[0]) for r in rows}


# -- opening ----------------------------------------------------------------------------------------------------


def test_a_missing_store_is_refused_without_create_and_nothing_is_made(
    postgres_server: str, admin: psycopg.Connection[tuple[object, ...]]
) -> None:
    schema = new_schema()
    with pytest.raises(StoreError, match="no such store"):
        PostgresStore(postgres_server, schema=schema, create=False)
    with pytest.raises(StoreError, match="no such store"):
        PostgresStore(postgres_server, schema=schema, read_only=True)
    assert admin.execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone() == (0,)


def test_a_schema_of_another_application_is_refused_and_left_alone(
    postgres_server: str, admin: psycopg.Connection[tuple[object, ...]]
) -> None:
    schema = new_schema()
    admin.execute(sql.SQL("CREATE SCHEMA {0}; CREATE TABLE {0}.orders (id int)").format(sql.Identifier(schema)))
    with pytest.raises(StoreError, match="other tables"):
        PostgresStore(postgres_server, schema=schema)
    assert _tables(admin, schema) == {"orders"}


def test_a_store_written_by_a_newer_version_is_refused(
    postgres_server: str, admin: psycopg.Connection[tuple[object, ...]]
) -> None:
    schema = new_schema()
    PostgresStore(postgres_server, schema=schema).close()
    target = sql.Identifier(schema, "meta")
    admin.execute(sql.SQL("UPDATE {} SET value = '99' WHERE key = 'schema_version'").format(target))
    with pytest.raises(StoreError, match="newer yikatong"):
        PostgresStore(postgres_server, schema=schema)


def test_an_older_store_migrates_to_the_current_version_in_one_step(
    postgres_server: str, admin: psycopg.Connection[tuple[object, ...]]
) -> None:
    schema = new_schema()
    open_schema(admin, schema, create=True, migrations=MIGRATIONS[:1])
    assert "accounts" not in _tables(admin, schema)
    with pytest.raises(StoreError, match="needs migrating"):
        PostgresStore(postgres_server, schema=schema, read_only=True)
    with PostgresStore(postgres_server, schema=schema) as store:
        assert store.batches() == ()
        _create(store, "B1")
        current = store.batch("B1")
        store.commit(  # a status a later step added
            Change(
                batch=attrs.evolve(current, version=2),
                expected_version=1,
                row_updates=state_updates("B1", [1], "expired", deadline=True),
            )
        )
        assert store.rows("B1")["status"].to_list() == ["expired", "pending", "pending"]
        with pytest.raises(psycopg.errors.CheckViolation):
            store.connection.execute("UPDATE row_state SET status = 'lost' WHERE row_id = 2")
    assert {"accounts", "account_events", "batches", "audit"} <= _tables(admin, schema)
    version = admin.execute(sql.SQL("SELECT value FROM {}.meta WHERE key = 'schema_version'").format(
        sql.Identifier(schema)
    )).fetchone()  # fmt: skip
    assert version == (str(SCHEMA_VERSION),)


def test_a_failing_migration_step_leaves_the_old_version_whole(
    postgres_server: str, admin: psycopg.Connection[tuple[object, ...]]
) -> None:
    schema = new_schema()
    open_schema(admin, schema, create=True, migrations=MIGRATIONS[:1])
    broken = Migration(2, "half a step", ("CREATE TABLE half_made (id int)", "SELECT * FROM no_such_table"))
    with pytest.raises(StoreError, match="cannot create or migrate"):
        open_schema(admin, schema, create=True, migrations=(MIGRATIONS[0], broken))
    assert "half_made" not in _tables(admin, schema)
    with PostgresStore(postgres_server, schema=schema) as store:  # the real step 2 still applies afterwards
        _create(store, "B1")
        assert store.batch("B1").version == 1


# -- what the database refuses on its own -----------------------------------------------------------------------


def test_the_database_refuses_a_second_active_ledger_entry_whatever_the_client(postgres_server: str) -> None:
    with PostgresStore(postgres_server, schema=new_schema()) as store:
        conn = store.connection
        insert = (
            "INSERT INTO ledger (batch_id, row_id, id_number, item, period, amount_fen, status) "
            "VALUES (%s, %s, 'ID-P1', 'GDLS', '2026-11', 100, %s)"
        )
        conn.execute(insert, ("B1", 1, "paid"))
        conn.execute(insert, ("B2", 1, "failed"))  # a failed entry holds no key
        with pytest.raises(psycopg.errors.UniqueViolation, match="ledger_one_active_payment"):
            conn.execute(insert, ("B3", 1, "sent"))


def test_the_audit_log_refuses_update_delete_and_truncate(postgres_server: str) -> None:
    with PostgresStore(postgres_server, schema=new_schema()) as store:
        _create(store, "B1")
        for statement in ("UPDATE audit SET reason = 'x'", "DELETE FROM audit", "TRUNCATE audit"):
            with pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="append-only"):
                store.connection.execute(statement.encode())
        assert len(store.audit()) == 1


def test_a_double_payment_is_refused_with_the_other_holder_named_and_the_id_masked(postgres_server: str) -> None:
    with PostgresStore(postgres_server, schema=new_schema()) as store:
        _create(store, "B1")
        _create(store, "B2")
        for batch_id in ("B1", "B2"):
            current = store.batch(batch_id)
            change = Change(
                batch=attrs.evolve(current, version=current.version + 1),
                expected_version=current.version,
                ledger=ledger_frame([(batch_id, 1, "P1234567890123", "sent")]),
                audit=audit_entries(store.audit_head(), [("dispatch", batch_id, "validated", "dispatched")]),
            )
            if batch_id == "B1":
                store.commit(change)
                continue
            with pytest.raises(StoreError, match=r"batch B1, row 1") as refused:
                store.commit(change)
            assert "P1234567890123" not in str(refused.value)
        assert store.batch("B2").version == 1
        assert store.ledger().height == 1


def test_a_read_only_store_refuses_to_commit(postgres_server: str) -> None:
    schema = new_schema()
    PostgresStore(postgres_server, schema=schema).close()
    with PostgresStore(postgres_server, schema=schema, read_only=True) as store:
        with pytest.raises(StoreError, match="read-only"):
            _create(store, "B1")
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            store.connection.execute("INSERT INTO meta VALUES ('x', 'y')")


def test_an_unreachable_server_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="cannot connect"):
        PostgresStore("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")


# -- values come back as they went in ---------------------------------------------------------------------------

_TEXT = st.one_of(st.none(), st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00")))


@pytest.fixture(scope="module")
def shared_store(postgres_server: str) -> Iterator[PostgresStore]:
    with PostgresStore(postgres_server, schema=new_schema()) as store:
        yield store


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(_TEXT, min_size=1, max_size=6), notes=st.lists(_TEXT, min_size=1, max_size=6))
def test_any_text_reloads_exactly_empty_strings_and_nulls_apart(
    shared_store: PostgresStore, names: list[str | None], notes: list[str | None]
) -> None:
    n = min(len(names), len(notes))
    batch_id = f"B{len(shared_store.batches()) + 1}"
    rows = make_rows(batch_id, n).with_columns(
        pl.Series("name", names[:n], dtype=pl.String), pl.Series("note", notes[:n], dtype=pl.String)
    )
    shared_store.commit(Change(batch=header(batch_id), expected_version=None, new_rows=rows))
    assert_frame_equal(shared_store.rows(batch_id), rows)
