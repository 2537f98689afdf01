"""The account registry on PostgreSQL behaves exactly like the in-memory one, and the database guards its rules."""

from __future__ import annotations

import random

import polars as pl
import psycopg
import pytest
from polars.testing import assert_frame_equal

from tests.integration.test_registry_at_rest import KEYS
from tests.integration.test_sqlite_registry import CARDS, CLERKS, PEOPLE, TOWNS, _clock, _operation, _outcome
from tests.postgres import new_schema
from yikatong.adapters.keys import SecretKeys
from yikatong.adapters.memory_registry import MemoryRegistry
from yikatong.adapters.postgres import PostgresRegistry, PostgresStore, check_registry
from yikatong.errors import StoreError
from yikatong.ports import AccountRegistry


def test_the_postgres_registry_satisfies_the_port(postgres_server: str) -> None:
    with PostgresRegistry(postgres_server, clock=_clock(), schema=new_schema()) as registry:
        assert isinstance(registry, AccountRegistry)
        snap = registry.snapshot().collect()
        assert snap.schema == pl.Schema(MemoryRegistry(clock=_clock()).snapshot().collect().schema)
        assert snap.height == 0


@pytest.mark.parametrize("keys", [None, KEYS], ids=["clear", "sealed"])
@pytest.mark.parametrize("seed", range(4))
def test_random_operations_give_the_same_results_as_the_memory_registry(
    postgres_server: str, seed: int, keys: SecretKeys | None
) -> None:
    rng = random.Random(seed)
    memory = MemoryRegistry(clock=_clock())
    schema = new_schema()
    with PostgresRegistry(postgres_server, clock=_clock(), schema=schema, keys=keys) as registry:
        assert registry.sealing.sealed is (keys is not None)
        for step in range(120):
            name, args = _operation(rng, memory)
            assert _outcome(registry, name, args) == _outcome(memory, name, args), f"seed {seed} step {step}: {name}"
    with PostgresRegistry(postgres_server, clock=_clock(), schema=schema, create=False, keys=keys) as reopened:
        assert check_registry(reopened) == []
        order = ["id_number", "account"]
        assert_frame_equal(reopened.snapshot().collect().sort(order), memory.snapshot().collect().sort(order))
        for person in PEOPLE:
            assert reopened.history(person) == memory.history(person)
            assert reopened.records(person) == memory.records(person)


def test_a_refused_operation_writes_nothing(postgres_server: str) -> None:
    clerk, checker = CLERKS[0], CLERKS[1]
    with PostgresRegistry(postgres_server, clock=_clock(), schema=new_schema()) as registry:
        registry.declare(
            clerk, id_number=PEOPLE[0], account=CARDS[0], kind="card", bank="农商行", holder_name="张伟", town=TOWNS[0]
        )
        with pytest.raises(PermissionError):
            registry.review(clerk, id_number=PEOPLE[0], account=CARDS[0], approve=True)  # maker cannot check
        with pytest.raises(ValueError, match="reason"):
            registry.review(checker, id_number=PEOPLE[0], account=CARDS[0], approve=False)
        assert [e.action for e in registry.history(PEOPLE[0])] == ["declare"]
        assert registry.snapshot().collect()["status"].to_list() == ["pending"]


def test_the_registry_lives_beside_the_store_in_one_schema(postgres_server: str) -> None:
    schema = new_schema()
    with (
        PostgresStore(postgres_server, schema=schema) as store,
        PostgresRegistry(postgres_server, clock=_clock(), schema=schema, create=False) as registry,
    ):
        clerk = CLERKS[0]
        registry.declare(
            clerk, id_number=PEOPLE[0], account=CARDS[0], kind="card", bank="农商行", holder_name="张伟", town=TOWNS[0]
        )
        assert store.batches() == ()
        assert store.connection.execute("SELECT count(*) FROM accounts").fetchone() == (1,)


def test_the_database_refuses_two_active_accounts_and_edits_to_the_history(postgres_server: str) -> None:
    clerk, checker = CLERKS[0], CLERKS[1]
    with PostgresRegistry(postgres_server, clock=_clock(), schema=new_schema()) as registry:
        registry.declare(
            clerk, id_number=PEOPLE[0], account=CARDS[0], kind="card", bank="农商行", holder_name="张伟", town=TOWNS[0]
        )
        registry.review(checker, id_number=PEOPLE[0], account=CARDS[0], approve=True)
        conn = registry.connection
        with pytest.raises(psycopg.errors.UniqueViolation, match="accounts_one_active"):
            conn.execute(
                "INSERT INTO accounts SELECT id_number, 2, %s, kind, bank, holder_name, town, 'active', declared_at, "
                "declared_by, reviewed_at FROM accounts",
                (CARDS[1],),
            )
        edits = ("UPDATE account_events SET note = 'x'", "DELETE FROM account_events", "TRUNCATE account_events")
        for statement in edits:
            with pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="append-only"):
                conn.execute(statement.encode())
        assert len(registry.history(PEOPLE[0])) == 2


def test_a_closed_registry_refuses_further_use(postgres_server: str) -> None:
    registry = PostgresRegistry(postgres_server, clock=_clock(), schema=new_schema())
    registry.release()
    with pytest.raises(StoreError, match="closed"):
        registry.snapshot()
