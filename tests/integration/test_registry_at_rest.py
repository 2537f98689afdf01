"""The account registry at rest: with keys no ID number, account or holder name is readable in its tables, and an
insider's edit of its tables (an account changed, an event deleted, edited or moved) is found by the check and by
``yikatong audit verify``."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from yikatong.adapters.clock import FixedClock
from yikatong.adapters.keys import SecretKeys
from yikatong.adapters.sqlite import SqliteRegistry, SqliteStore, check_registry
from yikatong.cli import main
from yikatong.errors import StoreError
from yikatong.ports import AccountRegistry
from yikatong.registry import Actor

SECRET = b"county registry secret, long enough"
KEYS = SecretKeys(SECRET)
OTHER = SecretKeys(b"another county's registry secret!!")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
TOWN = "中和街道"
CLERK = Actor("clerk-1", "town", town=TOWN)
CHECKER = Actor("clerk-2", "town", town=TOWN)


def _id(k: int) -> str:
    body = f"50024119500315{k:03d}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, _WEIGHTS, strict=True)) % 11]


PEOPLE = [_id(k) for k in range(1, 5)]
CARDS = [f"62179955500123456{k:02d}" for k in range(8)]
NAMES = ["张伟", "李秀英", "王芳", "刘洋"]


def _clock() -> FixedClock:
    return FixedClock(dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC), step=dt.timedelta(minutes=7))


def _fill(registry: AccountRegistry) -> None:
    """Four people declared and approved; the first changes card (approved) and is then frozen."""
    for person, card, name in zip(PEOPLE, CARDS, NAMES, strict=False):
        registry.declare(CLERK, id_number=person, account=card, kind="card", bank="农商行", holder_name=name, town=TOWN)
        registry.review(CHECKER, id_number=person, account=card, approve=True)
    registry.change(CLERK, id_number=PEOPLE[0], account=CARDS[6], kind="card", bank="农商行", holder_name=NAMES[0])
    registry.review(CHECKER, id_number=PEOPLE[0], account=CARDS[6], approve=True)
    registry.freeze(CHECKER, id_number=PEOPLE[0], account=CARDS[6], note="司法冻结")


@pytest.fixture
def sealed(tmp_path: Path) -> Path:
    """A store file with a sealed store and a sealed registry inside, filled and closed."""
    path = tmp_path / "county.yikatong"
    with SqliteStore(path, keys=KEYS), SqliteRegistry(path, clock=_clock(), keys=KEYS, create=False) as registry:
        _fill(registry)
    return path


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "county.key"
    path.write_bytes(SECRET + b"\n")
    return path


def _cells(path: Path) -> list[str]:
    """Every value of the registry's tables, as text."""
    conn = sqlite3.connect(path)
    try:
        cells = []
        for table in ("accounts", "account_events"):
            for row in conn.execute(f"SELECT * FROM {table}"):
                cells += [v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in row]
        return cells
    finally:
        conn.close()


def _sql(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER IF EXISTS account_events_no_update")
    conn.execute("DROP TRIGGER IF EXISTS account_events_no_delete")
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()


def _kinds(path: Path, keys: SecretKeys | None = KEYS) -> set[str]:
    with SqliteRegistry(path, clock=_clock(), create=False, read_only=True, keys=keys) as registry:
        return {p.kind for p in check_registry(registry)}


def _every_byte(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in [path, *path.parent.glob(path.name + "-*")] if p.is_file())


def test_no_full_id_account_or_holder_name_is_in_the_sealed_registry_tables(sealed: Path) -> None:
    text = "\n".join(_cells(sealed))
    raw = _every_byte(sealed)
    for value in [*PEOPLE, *CARDS, *NAMES]:
        assert value not in text
        assert value.encode("utf-8") not in raw


def test_a_registry_without_keys_keeps_them_in_clear(tmp_path: Path) -> None:
    path = tmp_path / "county.yikatong"
    with SqliteRegistry(path, clock=_clock()) as registry:
        _fill(registry)
    text = "\n".join(_cells(path))
    assert all(person in text for person in PEOPLE)
    assert _kinds(path, None) == set()


def test_the_sealed_registry_reads_back_what_was_written(sealed: Path) -> None:
    with SqliteRegistry(sealed, clock=_clock(), create=False, read_only=True, keys=KEYS) as registry:
        snap = registry.snapshot().collect()
        assert sorted(snap["id_number"].unique()) == sorted(PEOPLE)
        assert set(snap["holder_name"]) == set(NAMES)
        history = registry.history(PEOPLE[0])
        assert [e.action for e in history][-1] == "freeze"
        assert history[-1].account == CARDS[6]
        assert check_registry(registry) == []


def test_the_sealed_registry_needs_its_own_key(sealed: Path) -> None:
    with pytest.raises(StoreError, match="not this registry's key"):
        SqliteRegistry(sealed, clock=_clock(), create=False, keys=OTHER)
    with (
        SqliteRegistry(sealed, clock=_clock(), create=False, read_only=True) as registry,
        pytest.raises(StoreError, match="encrypted"),
    ):
        registry.history(PEOPLE[0])


def test_keys_cannot_turn_a_clear_registry_with_accounts_into_a_half_sealed_one(tmp_path: Path) -> None:
    path = tmp_path / "county.yikatong"
    with SqliteRegistry(path, clock=_clock()) as registry:
        _fill(registry)
    with pytest.raises(StoreError, match="without encryption"):
        SqliteRegistry(path, clock=_clock(), create=False, keys=KEYS)


def test_a_changed_account_status_is_found(sealed: Path) -> None:
    _sql(sealed, "UPDATE accounts SET status = 'active' WHERE status = 'frozen'")
    assert _kinds(sealed) == {"records"}


def test_an_account_moved_to_another_person_is_found(sealed: Path) -> None:
    # the insider copies another person's sealed card and look-up hash onto the first person's active record
    _sql(
        sealed,
        "UPDATE accounts SET (account, sealed) = (SELECT account, sealed FROM accounts ORDER BY id_number DESC "
        "LIMIT 1) WHERE status = 'frozen'",
    )
    assert _kinds(sealed) == {"unreadable"}


def test_a_deleted_event_is_found(sealed: Path) -> None:
    _sql(sealed, "DELETE FROM account_events WHERE seq = 3")
    assert _kinds(sealed) == {"chain"}


def test_the_last_event_deleted_with_the_change_it_recorded_is_found(sealed: Path) -> None:
    _sql(sealed, "DELETE FROM account_events WHERE seq = (SELECT max(seq) FROM account_events)")
    assert _kinds(sealed) == {"records"}  # the freeze's event is gone but the frozen record is not


_SWAP = (
    "UPDATE account_events SET seq = -1 WHERE seq = 2",
    "UPDATE account_events SET seq = 2 WHERE seq = 3",
    "UPDATE account_events SET seq = 3 WHERE seq = -1",
)


def test_reordered_events_are_found(sealed: Path) -> None:
    _sql(sealed, *_SWAP)
    assert _kinds(sealed) == {"unreadable"}  # a sealed event opens only at its own place


def test_reordered_events_of_a_clear_registry_are_found(tmp_path: Path) -> None:
    path = tmp_path / "county.yikatong"
    with SqliteRegistry(path, clock=_clock()) as registry:
        _fill(registry)
    _sql(path, *_SWAP)
    assert _kinds(path, None) == {"chain"}


def test_a_changed_account_of_a_clear_registry_is_found(tmp_path: Path) -> None:
    path = tmp_path / "county.yikatong"
    with SqliteRegistry(path, clock=_clock()) as registry:
        _fill(registry)
    _sql(path, f"UPDATE accounts SET account = '{CARDS[7]}' WHERE status = 'frozen'")
    assert _kinds(path, None) == {"records"}


def test_an_edited_event_is_found(sealed: Path) -> None:
    _sql(sealed, "UPDATE account_events SET note = '本人申请' WHERE note = '司法冻结'")
    assert _kinds(sealed) == {"chain"}


def test_a_record_written_around_the_registry_is_found(sealed: Path) -> None:
    _sql(
        sealed,
        "INSERT INTO accounts SELECT 'k1:forged', 1, account, kind, bank, holder_name, town, status, declared_at, "
        "declared_by, reviewed_at, NULL FROM accounts LIMIT 1",
    )
    assert _kinds(sealed) == {"unreadable"}


def test_audit_verify_checks_the_registry_in_the_store_file(
    sealed: Path, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["audit", "verify", "--store", str(sealed), "--key-file", str(key_file)]
    assert main(args) == 0
    _sql(sealed, "UPDATE accounts SET status = 'active' WHERE status = 'frozen'")
    capsys.readouterr()
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "[registry]" in out
    for person in PEOPLE:
        assert person not in out


def test_audit_verify_checks_a_registry_named_apart(tmp_path: Path, key_file: Path) -> None:
    store, apart = tmp_path / "county.yikatong", tmp_path / "registry.yikatong"
    with SqliteStore(store, keys=KEYS), SqliteRegistry(apart, clock=_clock(), keys=KEYS) as registry:
        _fill(registry)
    args = ["audit", "verify", "--store", str(store), "--key-file", str(key_file), "--registry", str(apart)]
    assert main(args) == 0
    _sql(apart, "DELETE FROM account_events WHERE seq = 2")
    assert main(args) == 1
