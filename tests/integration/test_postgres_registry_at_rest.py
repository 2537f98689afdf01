"""The account registry at rest on PostgreSQL: with keys no ID number, account or holder name is readable in its
tables, and an insider's edit done with SQL (an account changed, an event edited, deleted with its trigger disabled,
events reordered) is found by the check and by ``yikatong audit verify --store postgresql://…``."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.integration.test_registry_at_rest import (
    CARDS,
    CLERK,
    KEYS,
    NAMES,
    OTHER,
    PEOPLE,
    SECRET,
    TOWN,
    _clock,
    _fill,
)
from tests.postgres import new_schema
from yikatong.adapters.keys import KEY_ENV, SecretKeys
from yikatong.adapters.postgres import MIGRATIONS, SCHEMA_VERSION, PostgresRegistry, PostgresStore, check_registry
from yikatong.adapters.postgres._schema import open_schema
from yikatong.cli import main
from yikatong.errors import StoreError


@pytest.fixture
def sealed(postgres_server: str) -> str:
    """A schema with a sealed store and a sealed registry in it, filled and closed."""
    schema = new_schema()
    with (
        PostgresStore(postgres_server, schema=schema, keys=KEYS),
        PostgresRegistry(postgres_server, clock=_clock(), schema=schema, keys=KEYS, create=False) as registry,
    ):
        _fill(registry)
    return schema


@pytest.fixture
def clear(postgres_server: str) -> str:
    """A schema with a registry written without keys, filled and closed."""
    schema = new_schema()
    with PostgresRegistry(postgres_server, clock=_clock(), schema=schema) as registry:
        _fill(registry)
    return schema


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "county.key"
    path.write_bytes(SECRET + b"\n")
    return path


def _cells(url: str, schema: str) -> str:
    """Every value of the registry's tables, as PostgreSQL prints them."""
    with psycopg.connect(url) as conn:
        return "\n".join(
            str(row[0])
            for table in ("accounts", "account_events")
            for row in conn.execute(sql.SQL("SELECT t::text FROM {} t").format(sql.Identifier(schema, table)))
        )


def _insider(url: str, schema: str, *statements: str) -> None:
    """Run ``statements`` as the server's superuser could, the history's append-only triggers disabled first."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        with conn.transaction():
            conn.execute("ALTER TABLE account_events DISABLE TRIGGER USER")
            for statement in statements:
                assert conn.execute(statement.encode()).rowcount != 0, statement
            conn.execute("ALTER TABLE account_events ENABLE TRIGGER USER")


def _kinds(url: str, schema: str, keys: SecretKeys | None = KEYS) -> set[str]:
    with PostgresRegistry(url, clock=_clock(), schema=schema, create=False, read_only=True, keys=keys) as registry:
        return {p.kind for p in check_registry(registry)}


def _verify(url: str, schema: str, key_file: Path) -> tuple[int, str]:
    stdout = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stdout):
        mp.delenv(KEY_ENV, raising=False)
        code = main(["audit", "verify", "--store", url, "--schema", schema, "--key-file", str(key_file)])
    return code, stdout.getvalue()


def test_no_full_id_account_or_holder_name_is_in_the_sealed_registry_tables(postgres_server: str, sealed: str) -> None:
    text = _cells(postgres_server, sealed)
    assert text.count("\n") >= 10  # the scan read the rows
    for value in [*PEOPLE, *CARDS, *NAMES]:
        assert value not in text


def test_a_registry_without_keys_keeps_them_in_clear_and_checks_clean(postgres_server: str, clear: str) -> None:
    text = _cells(postgres_server, clear)
    assert all(person in text for person in PEOPLE)
    assert _kinds(postgres_server, clear, None) == set()


def test_the_sealed_registry_reads_back_what_was_written(postgres_server: str, sealed: str) -> None:
    with PostgresRegistry(
        postgres_server, clock=_clock(), schema=sealed, create=False, read_only=True, keys=KEYS
    ) as registry:
        snap = registry.snapshot().collect()
        assert sorted(snap["id_number"].unique()) == sorted(PEOPLE)
        assert set(snap["holder_name"]) == set(NAMES)
        history = registry.history(PEOPLE[0])
        assert [e.action for e in history][-1] == "freeze"
        assert history[-1].account == CARDS[6]
        assert check_registry(registry) == []


def test_the_sealed_registry_needs_its_own_key(postgres_server: str, sealed: str) -> None:
    with pytest.raises(StoreError, match="not this registry's key"):
        PostgresRegistry(postgres_server, clock=_clock(), schema=sealed, create=False, keys=OTHER)
    with (
        PostgresRegistry(postgres_server, clock=_clock(), schema=sealed, create=False, read_only=True) as registry,
        pytest.raises(StoreError, match="encrypted"),
    ):
        registry.history(PEOPLE[0])


def test_keys_cannot_turn_a_clear_registry_with_accounts_into_a_half_sealed_one(
    postgres_server: str, clear: str
) -> None:
    with pytest.raises(StoreError, match="without encryption"):
        PostgresRegistry(postgres_server, clock=_clock(), schema=clear, create=False, keys=KEYS)


def test_the_sealed_history_is_still_append_only(postgres_server: str, sealed: str) -> None:
    with PostgresRegistry(postgres_server, clock=_clock(), schema=sealed, create=False, keys=KEYS) as registry:
        conn = registry.connection
        for statement in ("UPDATE account_events SET note = 'x'", "DELETE FROM account_events"):
            with pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="append-only"):
                conn.execute(statement.encode())
        assert check_registry(registry) == []


_SWAP = (
    "UPDATE account_events SET seq = -1 WHERE seq = 2",
    "UPDATE account_events SET seq = 2 WHERE seq = 3",
    "UPDATE account_events SET seq = 3 WHERE seq = -1",
)

_EDITS = {
    "account status changed": (("UPDATE accounts SET status = 'active' WHERE status = 'frozen'",), {"records"}),
    "account moved to another person": (
        (
            "UPDATE accounts SET (account, sealed) = (SELECT account, sealed FROM accounts ORDER BY id_number DESC "
            "LIMIT 1) WHERE status = 'frozen'",
        ),
        {"unreadable"},
    ),
    "event edited": (("UPDATE account_events SET note = '本人申请' WHERE note = '司法冻结'",), {"chain"}),
    "event deleted": (("DELETE FROM account_events WHERE seq = 3",), {"chain"}),
    "last event deleted": (
        ("DELETE FROM account_events WHERE seq = (SELECT max(seq) FROM account_events)",),
        {"records"},
    ),
    "events reordered": (_SWAP, {"unreadable"}),
}


@pytest.mark.parametrize("what", sorted(_EDITS))
def test_an_insider_edit_of_the_sealed_registry_is_found_by_the_check_and_by_audit_verify(
    postgres_server: str, sealed: str, key_file: Path, what: str
) -> None:
    assert _verify(postgres_server, sealed, key_file)[0] == 0
    statements, kinds = _EDITS[what]
    _insider(postgres_server, sealed, *statements)
    assert _kinds(postgres_server, sealed) == kinds
    code, printed = _verify(postgres_server, sealed, key_file)
    assert code == 1, printed
    assert "[registry]" in printed
    for person in PEOPLE:
        assert person not in printed


def test_reordered_events_of_a_clear_registry_are_found(postgres_server: str, clear: str) -> None:
    _insider(postgres_server, clear, *_SWAP)
    assert _kinds(postgres_server, clear, None) == {"chain"}


def test_a_changed_account_of_a_clear_registry_is_found(postgres_server: str, clear: str) -> None:
    _insider(postgres_server, clear, f"UPDATE accounts SET account = '{CARDS[7]}' WHERE status = 'frozen'")
    assert _kinds(postgres_server, clear, None) == {"records"}


def test_audit_verify_on_a_postgres_store_without_a_registry_checks_only_the_store(
    postgres_server: str, key_file: Path
) -> None:
    schema = new_schema()
    with PostgresStore(postgres_server, schema=schema, keys=KEYS):
        pass
    assert _verify(postgres_server, schema, key_file)[0] == 0


def test_a_schema_7_registry_with_history_migrates_and_its_older_events_count_as_history_before_the_chain(
    postgres_server: str,
) -> None:
    schema = new_schema()
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        open_schema(admin, schema, create=True, migrations=MIGRATIONS[:7])
        admin.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        admin.execute(
            "INSERT INTO accounts VALUES (%s, 1, %s, 'card', '农商行', %s, '中和街道', 'active', "
            "'2026-10-01T09:00:00+00:00', 'clerk-1', '2026-10-01T10:00:00+00:00')",
            (PEOPLE[3], CARDS[3], NAMES[3]),
        )
        admin.execute(
            'INSERT INTO account_events (id_number, account, action, status, at, "user", role, town, note) VALUES '
            "(%s, %s, 'declare', 'pending', '2026-10-01T09:00:00+00:00', 'clerk-1', 'town', '中和街道', ''), "
            "(%s, %s, 'approve', 'active', '2026-10-01T10:00:00+00:00', 'clerk-2', 'town', '中和街道', '')",
            (PEOPLE[3], CARDS[3], PEOPLE[3], CARDS[3]),
        )
    with PostgresRegistry(postgres_server, clock=_clock(), schema=schema, create=False) as registry:
        assert [e.action for e in registry.history(PEOPLE[3])] == ["declare", "approve"]
        for person, card, name in zip(PEOPLE[:3], CARDS[:3], NAMES[:3], strict=True):
            registry.declare(CLERK, id_number=person, account=card, kind="card", bank="农商行", holder_name=name,
                             town=TOWN)  # fmt: skip
        seqs = registry.connection.execute("SELECT seq, hash IS NULL FROM account_events ORDER BY seq").fetchall()
        assert seqs == [(1, True), (2, True), (3, False), (4, False), (5, False)]
        assert check_registry(registry) == []
    with psycopg.connect(postgres_server) as admin:
        version = admin.execute(
            sql.SQL("SELECT value FROM {}.meta WHERE key = 'schema_version'").format(sql.Identifier(schema))
        ).fetchone()
    assert version == (str(SCHEMA_VERSION),)
