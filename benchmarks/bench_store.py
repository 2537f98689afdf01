"""Timings of the stores on one large batch: create, move every row's status, dispatch, record results, load.

Run::

    python -m benchmarks.bench_store [--rows 100000] [--dir DIR]              # the embedded SQLite store
    python -m benchmarks.bench_store --rows 1000000 --postgres throwaway       # SQLite, then PostgreSQL, compared
    python -m benchmarks.bench_store --rows 1000000 --postgres postgresql://… # the same on a server of your own
    python -m benchmarks.bench_store --rows 100000 --postgres throwaway --sealed  # both stores sealed with keys

Each figure is one ``commit`` (one transaction) or one load. The SQLite file is written in a temporary folder
unless ``--dir`` is given. ``--postgres throwaway`` starts a private server from the machine's PostgreSQL binaries
with durable settings (``fsync`` and ``synchronous_commit`` on, as a production server runs) and removes it
afterwards; a URL uses that server (a new schema is made and dropped). The last lines compare the three steps a batch
takes before the bank has it (create, validate, dispatch) on both stores. ``--sealed`` creates both stores with keys,
so they seal row data, approved accounts and ledger IDs at rest (AES-256-GCM) as the demo's stores do.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import polars as pl

from yikatong.adapters.keys import SecretKeys
from yikatong.adapters.sqlite import SqliteStore
from yikatong.ports import Keys, Store
from yikatong.records import Change
from yikatong.testing.store_data import audit_entries, header, make_rows, state_updates

__all__ = ["main", "run"]

_BEFORE_BANK = ("create", "validate", "dispatch")
_BENCH_KEYS = SecretKeys(b"benchmark secret, never for real money")


def _timed(label: str, action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    seconds = time.perf_counter() - start
    print(f"{label:<60} {seconds:7.2f} s", flush=True)
    return seconds


def run(store: Store, rows: int) -> dict[str, float]:
    """Time the life of one batch of ``rows`` rows in an empty ``store``; print and return the figures (seconds)."""
    frame = make_rows("B1", rows)
    ids = list(range(1, rows + 1))

    def step(version: int, action: str, **fields: object) -> Change:
        audit = audit_entries(store.audit_head(), [(action, "B1", "", "")])
        return Change(batch=header("B1", version=version), expected_version=version - 1, audit=audit, **fields)  # type: ignore[arg-type]

    times: dict[str, float] = {}
    created = Change(
        batch=header("B1"), expected_version=None, new_rows=frame, audit=audit_entries(None, [("create", "B1", "", "")])
    )
    times["create"] = _timed(f"create a batch of {rows} rows", lambda: store.commit(created))
    validated = step(2, "validate", row_updates=state_updates("B1", ids, "passed"))
    times["validate"] = _timed(f"validate: move {rows} row statuses", lambda: store.commit(validated))
    ledger = frame.select(
        "batch_id",
        "row_id",
        "id_number",
        "item",
        pl.lit("2026-11").alias("period"),
        "amount_fen",
        pl.lit("sent").alias("status"),
        "updated_at",
    )
    dispatch = step(3, "dispatch", row_updates=state_updates("B1", ids, "sent"), ledger=ledger)
    times["dispatch"] = _timed(f"dispatch: {rows} statuses + {rows} ledger entries", lambda: store.commit(dispatch))
    paid = step(
        4,
        "record_results",
        row_updates=state_updates("B1", ids, "paid"),
        ledger=ledger.with_columns(status=pl.lit("paid")),
    )
    times["results"] = _timed(f"results: {rows} statuses + {rows} ledger updates", lambda: store.commit(paid))
    times["load_rows"] = _timed(f"load {rows} rows", lambda: store.rows("B1"))
    times["load_ledger"] = _timed(f"load {rows} ledger entries", lambda: store.ledger())
    total = sum(times[k] for k in _BEFORE_BANK)
    print(f"{'create + validate + dispatch':<60} {total:7.2f} s", flush=True)
    return times


def _sqlite(folder: Path, rows: int, keys: Keys | None) -> dict[str, float]:
    print(f"SQLite ({folder}){' sealed' if keys else ''}", flush=True)
    store = SqliteStore(folder / "bench.yikatong", keys=keys)
    try:
        return run(store, rows)
    finally:
        store.close()


def _postgres(url: str, rows: int, keys: Keys | None) -> dict[str, float]:
    from yikatong.adapters.postgres import PostgresStore

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    print(f"PostgreSQL (schema {schema}){' sealed' if keys else ''}", flush=True)
    store = PostgresStore(url, schema=schema, keys=keys)
    try:
        version = store.connection.execute("SHOW server_version").fetchone()
        print(f"server {version[0] if version else '?'}", flush=True)
        return run(store, rows)
    finally:
        store.connection.execute(f"DROP SCHEMA {schema} CASCADE".encode())
        store.close()


def _compare(sqlite: dict[str, float], postgres: dict[str, float]) -> None:
    for key in (*_BEFORE_BANK, "results", "load_rows", "load_ledger"):
        print(f"{key:<12} SQLite {sqlite[key]:7.2f} s   PostgreSQL {postgres[key]:7.2f} s   "
              f"ratio {postgres[key] / sqlite[key]:5.2f}")  # fmt: skip
    a, b = (sum(t[k] for k in _BEFORE_BANK) for t in (sqlite, postgres))
    print(f"create + validate + dispatch: SQLite {a:.2f} s, PostgreSQL {b:.2f} s, ratio {b / a:.2f}")


def main(argv: list[str] | None = None) -> int:
    """Command line of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=None, help="folder for the SQLite file (default a temporary one)")
    parser.add_argument("--postgres", default=None, help="'throwaway' or a postgresql:// URL: also time PostgreSQL")
    parser.add_argument("--sealed", action="store_true", help="create the stores with keys (personal data sealed)")
    args = parser.parse_args(argv)
    keys = _BENCH_KEYS if args.sealed else None
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.dir or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        sqlite = _sqlite(folder, args.rows, keys)
    if args.postgres is None:
        return 0
    if args.postgres == "throwaway":
        from yikatong.testing.postgres_server import DEFAULT_SETTINGS, throwaway_server

        with throwaway_server(settings=DEFAULT_SETTINGS) as url:
            postgres = _postgres(url, args.rows, keys)
    else:
        postgres = _postgres(args.postgres, args.rows, keys)
    _compare(sqlite, postgres)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
