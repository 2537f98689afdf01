"""Personal data at rest in PostgreSQL: a store created with keys keeps no ID or account readable in any table."""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl
import psycopg
import pytest
from psycopg import sql

from tests.postgres import new_schema
from tests.unit._workflow_fakes import World, make_roster, over_store
from yikatong.adapters.keys import SecretKeys
from yikatong.adapters.postgres import MIGRATIONS, PostgresStore
from yikatong.adapters.postgres._schema import open_schema
from yikatong.catalog import Catalog
from yikatong.errors import StoreError
from yikatong.records import Change
from yikatong.testing.store_data import audit_entries, header, make_rows
from yikatong.workflow import verify_store

KEYS = SecretKeys(b"county finance bureau data secret 2026")
OTHER = SecretKeys(b"another county's secret, same length!")

Admin = psycopg.Connection[tuple[object, ...]]


@pytest.fixture
def admin(postgres_server: str) -> Iterator[Admin]:
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        yield conn


def _walk(catalog: Catalog, url: str, schema: str, *, keys: SecretKeys | None = KEYS) -> tuple[pl.DataFrame, str]:
    """A store with one settled batch (one row failed); returns the roster and the batch id."""
    world = World(catalog, keys=keys)
    roster = make_roster(6, start=300)
    with PostgresStore(url, schema=schema, keys=keys) as store:
        over_store(world, store, catalog, keys=keys)
        batch_id = world.to("settled", roster, failed=(3,))
    return roster, batch_id


def _every_cell(admin: Admin, schema: str) -> str:
    """Every value of every table in ``schema``, as PostgreSQL prints it (bytea as hex), in one text."""
    tables = admin.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)).fetchall()
    texts = []
    for (table,) in tables:
        query = sql.SQL("SELECT t::text FROM {} t").format(sql.Identifier(schema, str(table)))
        texts += [str(r[0]) for r in admin.execute(query).fetchall()]
    return "\n".join(texts)


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def test_no_full_id_or_account_is_readable_in_any_table_of_a_sealed_store(
    postgres_server: str, admin: Admin, catalog: Catalog
) -> None:
    schema = new_schema()
    roster, _ = _walk(catalog, postgres_server, schema)
    every = _every_cell(admin, schema)
    assert "\\x" in every  # the sealed values are there, as bytea
    for value in [*roster["id_number"], *roster["account"]]:
        assert value not in every
        assert value.encode("utf-8").hex() not in every  # nor as the hex of its bytes
    assert all(_digits(v)[:14] not in _digits(every) for v in roster["id_number"])


def test_the_same_month_unsealed_shows_ids_and_accounts_in_the_tables(
    postgres_server: str, admin: Admin, catalog: Catalog
) -> None:
    schema = new_schema()
    roster, _ = _walk(catalog, postgres_server, schema, keys=None)
    every = _every_cell(admin, schema)
    assert all(value in every for value in [*roster["id_number"], *roster["account"]])


def test_the_sealed_store_reads_back_what_was_written_and_verifies(postgres_server: str, catalog: Catalog) -> None:
    schema = new_schema()
    roster, batch_id = _walk(catalog, postgres_server, schema)
    with PostgresStore(postgres_server, schema=schema, create=False, read_only=True, keys=KEYS) as store:
        rows = store.rows(batch_id)
        assert rows["id_number"].to_list() == roster["id_number"].to_list()
        assert rows["account"].to_list() == roster["account"].to_list()
        assert rows["pay_account"].drop_nulls().len() > 0
        assert sorted(store.ledger()["id_number"]) == sorted(roster["id_number"])
        assert verify_store(store, key=KEYS.audit_key()).ok


def test_a_sealed_store_refuses_another_key_and_reads_nothing_without_one(
    postgres_server: str, catalog: Catalog
) -> None:
    schema = new_schema()
    _, batch_id = _walk(catalog, postgres_server, schema)
    with pytest.raises(StoreError, match="not this store's key"):
        PostgresStore(postgres_server, schema=schema, create=False, keys=OTHER)
    with PostgresStore(postgres_server, schema=schema, create=False, read_only=True) as store:
        assert store.batch(batch_id).state == "settled"  # headers are not personal data
        with pytest.raises(StoreError, match="encrypted"):
            store.rows(batch_id)
        with pytest.raises(StoreError, match="encrypted"):
            store.ledger()


def test_a_sealed_store_opened_without_its_key_writes_nothing_in_clear(postgres_server: str) -> None:
    schema = new_schema()
    PostgresStore(postgres_server, schema=schema, keys=KEYS).close()
    with PostgresStore(postgres_server, schema=schema, create=False) as store:
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


def test_a_sealed_id_moved_to_another_ledger_row_no_longer_opens(
    postgres_server: str, admin: Admin, catalog: Catalog
) -> None:
    schema = new_schema()
    _walk(catalog, postgres_server, schema)
    ledger = sql.Identifier(schema, "ledger")
    first, second = admin.execute(
        sql.SQL("SELECT row_id, id_sealed FROM {} ORDER BY row_id LIMIT 2").format(ledger)
    ).fetchall()
    admin.execute(sql.SQL("UPDATE {} SET id_sealed = %s WHERE row_id = %s").format(ledger), (second[1], first[0]))
    with (
        PostgresStore(postgres_server, schema=schema, create=False, read_only=True, keys=KEYS) as store,
        pytest.raises(StoreError, match="cannot decrypt"),
    ):
        store.ledger()


def test_keys_cannot_turn_a_clear_store_with_batches_into_a_half_sealed_one(
    postgres_server: str, catalog: Catalog
) -> None:
    schema = new_schema()
    roster, batch_id = _walk(catalog, postgres_server, schema, keys=None)
    with pytest.raises(StoreError, match="created without encryption"):
        PostgresStore(postgres_server, schema=schema, create=False, keys=KEYS)
    with PostgresStore(postgres_server, schema=schema, create=False, read_only=True, keys=KEYS) as store:
        assert store.rows(batch_id)["id_number"].to_list() == roster["id_number"].to_list()


def test_a_store_of_schema_5_migrates_to_6_and_gains_the_sealed_columns(postgres_server: str, admin: Admin) -> None:
    schema = new_schema()
    open_schema(admin, schema, create=True, migrations=MIGRATIONS[:5])
    with PostgresStore(postgres_server, schema=schema, create=False) as store:  # migrates to 6
        store.commit(
            Change(
                batch=header("B1"),
                expected_version=None,
                new_rows=make_rows("B1", 3),
                audit=audit_entries(None, [("submit", "B1", "draft", "submitted")]),
            )
        )
        assert store.rows("B1").height == 3
    columns = {
        str(r[0])
        for r in admin.execute(
            "SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = %s",
            (schema,),
        ).fetchall()
    }
    assert {"row_data.sealed", "row_state.pay_account_sealed", "ledger.id_sealed"} <= columns
