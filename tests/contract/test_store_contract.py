"""The project's own stores pass the Store contract kit: in memory, SQLite and PostgreSQL, each clear and sealed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.postgres import new_schema
from yikatong.adapters.keys import SecretKeys
from yikatong.adapters.memory_store import MemoryStore
from yikatong.adapters.postgres import PostgresStore
from yikatong.adapters.sqlite import SqliteStore
from yikatong.ports import Store
from yikatong.testing.lookup_store_contract import LookupStoreContract
from yikatong.testing.store_contract import StoreContract

KEYS = SecretKeys(b"a contract-test secret of enough length")


class TestMemoryStore(StoreContract):
    @pytest.fixture
    def store(self) -> Store:
        return MemoryStore()


class TestSqliteStore(StoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Store:
        return SqliteStore(tmp_path / "store.yikatong")

    @pytest.fixture
    def reopen(self, tmp_path: Path) -> Callable[[Store], Store]:
        def _reopen(old: Store) -> Store:
            assert isinstance(old, SqliteStore)
            old.close()
            return SqliteStore(tmp_path / "store.yikatong", create=False)

        return _reopen


class TestSqliteStoreWithSideFiles(TestSqliteStore):
    """The same contract when every batch's row data lives in a Parquet side file."""

    @pytest.fixture
    def store(self, tmp_path: Path) -> Store:
        return SqliteStore(tmp_path / "store.yikatong", inline_rows_max=0)

    @pytest.fixture
    def reopen(self, tmp_path: Path) -> Callable[[Store], Store]:
        def _reopen(old: Store) -> Store:
            assert isinstance(old, SqliteStore)
            old.close()
            return SqliteStore(tmp_path / "store.yikatong", create=False, inline_rows_max=0)

        return _reopen


class TestSealedSqliteStore(TestSqliteStore):
    """The same contract when the store seals personal data at rest (created with keys)."""

    @pytest.fixture
    def store(self, tmp_path: Path) -> Store:
        return SqliteStore(tmp_path / "store.yikatong", keys=KEYS)

    @pytest.fixture
    def reopen(self, tmp_path: Path) -> Callable[[Store], Store]:
        def _reopen(old: Store) -> Store:
            assert isinstance(old, SqliteStore)
            old.close()
            return SqliteStore(tmp_path / "store.yikatong", create=False, keys=KEYS)

        return _reopen


class TestPostgresStore(StoreContract):
    """The same contract on a PostgreSQL schema of the session's throwaway server."""

    @pytest.fixture
    def schema(self) -> str:
        return new_schema()

    @pytest.fixture
    def store(self, postgres_server: str, schema: str) -> Iterator[Store]:
        store = PostgresStore(postgres_server, schema=schema)
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, postgres_server: str, schema: str) -> Iterator[Callable[[Store], Store]]:
        opened: list[PostgresStore] = []

        def _reopen(old: Store) -> Store:
            assert isinstance(old, PostgresStore)
            old.close()
            opened.append(PostgresStore(postgres_server, schema=schema, create=False))
            return opened[-1]

        yield _reopen
        for store in opened:
            store.close()


class TestSealedPostgresStore(TestPostgresStore):
    """The same contract when the PostgreSQL store seals personal data at rest (created with keys)."""

    @pytest.fixture
    def store(self, postgres_server: str, schema: str) -> Iterator[Store]:
        store = PostgresStore(postgres_server, schema=schema, keys=KEYS)
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, postgres_server: str, schema: str) -> Iterator[Callable[[Store], Store]]:
        opened: list[PostgresStore] = []

        def _reopen(old: Store) -> Store:
            assert isinstance(old, PostgresStore)
            old.close()
            opened.append(PostgresStore(postgres_server, schema=schema, create=False, keys=KEYS))
            return opened[-1]

        yield _reopen
        for store in opened:
            store.close()


class TestMemoryStoreLookups(LookupStoreContract):
    @pytest.fixture
    def store(self) -> Store:
        return MemoryStore()


class TestSqliteStoreLookups(LookupStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Store:
        return SqliteStore(tmp_path / "store.yikatong")


class TestSealedSqliteStoreLookups(LookupStoreContract):
    """A sealed store finds a person's entries by the ID's keyed look-up hash."""

    @pytest.fixture
    def store(self, tmp_path: Path) -> Store:
        return SqliteStore(tmp_path / "store.yikatong", keys=KEYS)


class TestPostgresStoreLookups(LookupStoreContract):
    @pytest.fixture
    def store(self, postgres_server: str) -> Iterator[Store]:
        store = PostgresStore(postgres_server, schema=new_schema())
        yield store
        store.close()


class TestSealedPostgresStoreLookups(LookupStoreContract):
    """A sealed PostgreSQL store finds a person's entries by the ID's keyed look-up hash."""

    @pytest.fixture
    def store(self, postgres_server: str) -> Iterator[Store]:
        store = PostgresStore(postgres_server, schema=new_schema(), keys=KEYS)
        yield store
        store.close()
