"""The account registry in the store file behaves exactly like the in-memory one, and keeps what it wrote."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from yikatong.adapters.clock import FixedClock
from yikatong.adapters.keys import SecretKeys
from yikatong.adapters.memory_registry import MemoryRegistry
from yikatong.adapters.sqlite import SqliteRegistry, SqliteStore, check_registry
from yikatong.errors import YikatongError
from yikatong.ports import AccountRegistry
from yikatong.registry import Actor

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
TOWNS = ("中和街道", "清溪场镇")
CLERKS = [Actor(f"clerk-{t}-{i}", "town", town=t) for t in TOWNS for i in (1, 2)]
ACTORS = [*CLERKS, Actor("bank-1", "bank"), Actor("mz-1", "department")]


def _id(k: int) -> str:
    body = f"50024119500315{k:03d}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, _WEIGHTS, strict=True)) % 11]


PEOPLE = [_id(k) for k in range(1, 5)]
CARDS = [f"62179955500123456{k:02d}" for k in range(6)]


KEYED = pytest.mark.parametrize(
    "keys", [None, SecretKeys(b"county registry secret, long enough")], ids=["clear", "sealed"]
)


def _clock() -> FixedClock:
    return FixedClock(START, step=dt.timedelta(minutes=7))


_FITTING = {"review": "pending", "freeze": "active", "unfreeze": "frozen", "close": "active"}


def _operation(rng: random.Random, model: MemoryRegistry) -> tuple[str, dict[str, Any]]:
    """A random operation, mostly one that makes sense for the person's records so far (read from ``model``)."""
    person = rng.choice(PEOPLE)
    records = model.records(person)
    town = records[-1].town if records and rng.random() < 0.9 else rng.choice(TOWNS)
    actor = rng.choice([c for c in CLERKS if c.town == town]) if rng.random() < 0.9 else rng.choice(ACTORS)
    name = rng.choice(("declare", "change", "review", "review", "close", "freeze", "unfreeze"))
    fitting = [r.account for r in records if r.status == _FITTING.get(name)]
    card = fitting[-1] if fitting and rng.random() < 0.8 else rng.choice(CARDS)
    args: dict[str, Any] = {"actor": actor, "id_number": person, "account": card}
    if name in ("declare", "change"):
        args |= {"kind": "card", "bank": "重庆农商行", "holder_name": rng.choice(("张伟", "张 伟", "张伟", " "))}
        if name == "declare":
            args["town"] = town
    elif name == "review":
        args |= {"approve": rng.random() < 0.7, "note": rng.choice(("", "材料不全", "核实无误"))}
    else:
        args["note"] = rng.choice(("", "本人申请", "司法冻结"))
        if name != "close" and rng.random() < 0.5:
            args["actor"] = Actor("bank-1", "bank")
    return name, args


def _outcome(registry: AccountRegistry, name: str, args: dict[str, Any]) -> object:
    try:
        return getattr(registry, name)(args["actor"], **{k: v for k, v in args.items() if k != "actor"})
    except (YikatongError, ValueError) as exc:
        return type(exc)


def test_the_sqlite_registry_satisfies_the_port(tmp_path: Path) -> None:
    with SqliteRegistry(tmp_path / "store.yikatong", clock=_clock()) as registry:
        assert isinstance(registry, AccountRegistry)
        snap = registry.snapshot().collect()
        assert snap.schema == pl.Schema(MemoryRegistry(clock=_clock()).snapshot().collect().schema)
        assert snap.height == 0


@KEYED
@pytest.mark.parametrize("seed", range(8))
def test_random_operations_give_the_same_results_as_the_memory_registry(
    tmp_path: Path, seed: int, keys: SecretKeys | None
) -> None:
    rng = random.Random(seed)
    memory = MemoryRegistry(clock=_clock())
    path = tmp_path / "store.yikatong"
    with SqliteRegistry(path, clock=_clock(), keys=keys) as sqlite:
        for step in range(120):
            name, args = _operation(rng, memory)
            assert _outcome(sqlite, name, args) == _outcome(memory, name, args), f"seed {seed} step {step}: {name}"
    with SqliteRegistry(path, clock=_clock(), create=False, keys=keys) as reopened:
        order = ["id_number", "account"]
        assert_frame_equal(reopened.snapshot().collect().sort(order), memory.snapshot().collect().sort(order))
        for person in PEOPLE:
            assert reopened.history(person) == memory.history(person)
            assert reopened.records(person) == memory.records(person)
        assert check_registry(reopened) == []


@KEYED
def test_a_refused_operation_writes_nothing(tmp_path: Path, keys: SecretKeys | None) -> None:
    clerk, checker = CLERKS[0], CLERKS[1]
    with SqliteRegistry(tmp_path / "store.yikatong", clock=_clock(), keys=keys) as registry:
        registry.declare(
            clerk, id_number=PEOPLE[0], account=CARDS[0], kind="card", bank="农商行", holder_name="张伟", town=TOWNS[0]
        )
        with pytest.raises(PermissionError):
            registry.review(clerk, id_number=PEOPLE[0], account=CARDS[0], approve=True)  # maker cannot check
        with pytest.raises(ValueError, match="reason"):
            registry.review(checker, id_number=PEOPLE[0], account=CARDS[0], approve=False)
        assert [e.action for e in registry.history(PEOPLE[0])] == ["declare"]
        assert registry.snapshot().collect()["status"].to_list() == ["pending"]


def test_the_registry_lives_beside_the_store_in_one_file(tmp_path: Path) -> None:
    path = tmp_path / "county.yikatong"
    with SqliteStore(path) as store, SqliteRegistry(path, clock=_clock(), create=False) as registry:
        registry.declare(
            CLERKS[0],
            id_number=PEOPLE[0],
            account=CARDS[0],
            kind="card",
            bank="农商行",
            holder_name="张伟",
            town=TOWNS[0],
        )
        assert store.batches() == ()
        count = store.connection.execute("SELECT count(*) FROM accounts").fetchone()[0]
        assert count == 1


def test_the_database_refuses_two_active_accounts_and_edits_to_the_history(tmp_path: Path) -> None:
    clerk, checker = CLERKS[0], CLERKS[1]
    with SqliteRegistry(tmp_path / "store.yikatong", clock=_clock()) as registry:
        registry.declare(
            clerk, id_number=PEOPLE[0], account=CARDS[0], kind="card", bank="农商行", holder_name="张伟", town=TOWNS[0]
        )
        registry.review(checker, id_number=PEOPLE[0], account=CARDS[0], approve=True)
        conn = registry.connection
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
            conn.execute(
                "INSERT INTO accounts SELECT id_number, 2, ?, kind, bank, holder_name, town, 'active', declared_at, "
                "declared_by, reviewed_at, sealed FROM accounts",
                (CARDS[1],),
            )
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE account_events SET note = 'x'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM account_events")
