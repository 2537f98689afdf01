"""A service killed with SIGKILL at many points of a county month recovers on the embedded store, paying no one twice.

The child (:mod:`tests.integration._crash_worker`) runs the workflow service over a SQLite store; the parent kills
it at random moments, or lets it kill itself at the N-th commit or in the middle of writing a Parquet side file.
After every kill the parent reopens the store and checks: it opens; the audit chain verifies; no (person, item,
period) holds two active ledger entries; every batch's rows load and agree with the ledger and the batch state; the
workflow's invariant checker finds nothing. Then a new child continues the month. At the end the store must equal,
entry for entry and hash for hash, the store of a run that was never interrupted.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from tests.integration._crash_worker import PLAN, run
from yikatong.adapters.sqlite import SqliteStore
from yikatong.records import Change
from yikatong.testing.store_data import audit_entries, header, make_rows, snapshot, state_updates
from yikatong.workflow.audit import verify
from yikatong.workflow.invariants import check_invariants

ROOT = Path(__file__).resolve().parents[2]

_FILE_MODES = ("fsync", "rename", "renamed")


def _check_recovered(path: Path) -> None:
    """Check a store after a kill."""
    with SqliteStore(path, create=False) as store:
        verdict = verify(store.audit())
        assert verdict.ok, verdict.message
        ledger = store.ledger()
        active = ledger.filter(pl.col("status").is_in(["sent", "paid"]))
        assert not active.select(pl.struct("id_number", "item", "period").is_duplicated().any()).item()
        for record in store.batches():
            rows = store.rows(record.batch_id)  # loads: side file present and intact
            mine = ledger.filter(pl.col("batch_id") == record.batch_id)
            joined = rows.join(mine, on=["batch_id", "row_id"], how="full", suffix="_ledger", coalesce=True)
            moving = joined.filter(
                pl.col("status").is_in(["sent", "paid"]) | pl.col("status_ledger").is_in(["sent", "paid"])
            )
            agree = moving["status"].eq_missing(moving["status_ledger"]).all()
            assert agree, f"{record.batch_id}: rows and ledger disagree"
            if record.state in ("funded", "disbursing", "settled", "published"):
                sent = mine.filter(pl.col("status") != "withdrawn")["amount_fen"].sum()
                assert record.funded_fen + record.drawn_fen == sent, f"{record.batch_id}: funded + drawn ≠ Σ sent"
            if record.state in ("settled", "published"):
                assert not (rows["status"] == "sent").any(), f"{record.batch_id}: settled with rows still sent"
        assert check_invariants(store) == []
        leftovers = [p.name for p in store.files.directory.glob(".tmp-*")] if store.files.directory.exists() else []
        assert leftovers == []


def _round(path: Path, mode: str, n: int, rng: random.Random) -> int:
    """One child life: returns its exit code (``-SIGKILL`` when killed).

    ``start`` kills at a random moment after the child starts (opening the store included), ``none`` at a random
    moment after it reports ready; the other modes let the child kill itself at its ``n``-th such event.
    """
    env = {**os.environ, "POLARS_MAX_THREADS": "1"}
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.integration._crash_worker",
            str(path),
            "none" if mode == "start" else mode,
            str(n),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    if mode == "start":
        time.sleep(rng.uniform(0.0, 0.6))
        child.send_signal(signal.SIGKILL)
    elif mode == "none":
        child.stdout.readline()
        time.sleep(rng.uniform(0.0, 0.15))
        child.send_signal(signal.SIGKILL)
    _, err = child.communicate(timeout=120)
    assert child.returncode in (0, -signal.SIGKILL), f"worker failed ({child.returncode}):\n{err[-3000:]}"
    return child.returncode


def _campaign(path: Path, seed: int) -> Counter[str]:
    """Run the month to its end under kills; returns the kills per mode.

    While the month's batches are being created (each writes a side file), every creation is killed before the
    file is flushed, before its rename, after its rename and as its transaction commits, and once more somewhere
    after the child starts; afterwards the kills fall at a random commit or a random moment.
    """
    rng = random.Random(seed)
    kills: Counter[str] = Counter()
    schedule = [("fsync", 1), ("rename", 1), ("renamed", 1), ("start", 0), ("commit", 2)] * len(PLAN)
    while True:
        if schedule:
            mode, n = schedule.pop(0)
        else:
            mode, n = rng.choice(("commit", "commit", "none")), rng.randint(2, 5)
        code = _round(path, mode, n, rng)
        if code != 0:
            kills[mode] += 1
        if path.exists():
            _check_recovered(path)
        if code == 0:
            return kills


def _kill_and_compare(tmp_path: Path, seeds: range) -> Counter[str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    reference = tmp_path / "reference.yikatong"
    run(reference)
    with SqliteStore(reference, create=False) as store:
        expected = snapshot(store)
        assert check_invariants(store, final=True) == []
        # The month must go the whole way (paid, failed, corrected, published): a month that stops at validation
        # would leave nothing to kill after it, and the test would pass without testing recovery.
        assert {b.state for b in store.batches()} == {"published"}
        assert any(b.corrects is not None for b in store.batches())
        assert set(store.ledger()["status"]) == {"paid", "failed"}
    kills: Counter[str] = Counter()
    for seed in seeds:
        crashed = tmp_path / f"crashed-{seed}.yikatong"
        kills += _campaign(crashed, seed)
        with SqliteStore(crashed, create=False) as store:
            assert snapshot(store) == expected
            assert check_invariants(store, final=True) == []
    return kills


def test_the_recovery_check_catches_rows_sent_without_their_ledger_entry(tmp_path: Path) -> None:
    path = tmp_path / "torn.yikatong"
    with SqliteStore(path) as store:
        head = store.audit_head()
        create = audit_entries(head, [("create", "B1", "", "draft")])
        store.commit(
            Change(batch=header("B1", state="draft"), expected_version=None, new_rows=make_rows("B1", 3), audit=create)
        )
        _check_recovered(path)  # a consistent store passes
        torn = Change(
            batch=header("B1", version=2, state="dispatched"),
            expected_version=1,
            row_updates=state_updates("B1", [1], "sent"),
            audit=audit_entries(store.audit_head(), [("dispatch", "B1", "draft", "dispatched")]),
        )
        store.commit(torn)  # half a dispatch: what a store without transactions could leave behind
    with pytest.raises(AssertionError, match="rows and ledger disagree"):
        _check_recovered(path)


def test_months_killed_at_thirty_or_more_points_end_exactly_like_an_uninterrupted_one(tmp_path: Path) -> None:
    # How far a child gets before a timed kill depends on the machine, so one month may end before thirty kills:
    # further months (new seeds) are run until thirty kills of every kind have been survived.
    kills: Counter[str] = Counter()
    for seed in range(1, 9):
        kills += _kill_and_compare(tmp_path / f"seed-{seed}", range(seed, seed + 1))
        if sum(kills.values()) >= 30 and all(kills[mode] for mode in ("commit", "none", "start", *_FILE_MODES)):
            break
    print(f"kill points: {sum(kills.values())} {dict(kills)}")
    assert sum(kills.values()) >= 30, kills
    assert all(kills[mode] for mode in ("commit", "none", "start", *_FILE_MODES)), kills


@pytest.mark.slow
def test_many_months_killed_at_hundreds_of_points_end_like_an_uninterrupted_one(tmp_path: Path) -> None:
    # As above, how many timed kills land in a month depends on the machine: months are run until 150 kills.
    kills: Counter[str] = Counter()
    for seed in range(2, 42):
        kills += _kill_and_compare(tmp_path / f"seed-{seed}", range(seed, seed + 1))
        if sum(kills.values()) >= 150:
            break
    print(f"kill points: {sum(kills.values())} {dict(kills)}")
    assert sum(kills.values()) >= 150, kills
