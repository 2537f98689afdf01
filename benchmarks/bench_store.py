"""Timings of the embedded store on one large batch: create, move every row's status, dispatch, record results.

Run: ``python -m benchmarks.bench_store [--rows 100000] [--dir DIR]``. Each figure is one :meth:`SqliteStore.commit`
(one transaction, fsynced) or one load; the store file is written in a temporary folder unless ``--dir`` is given.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl

from yikatong.adapters.sqlite import SqliteStore
from yikatong.records import Change
from yikatong.testing.store_data import audit_entries, header, make_rows, state_updates

__all__ = ["main", "run"]


def _timed(label: str, action: Callable[[], object]) -> None:
    start = time.perf_counter()
    action()
    print(f"{label:<52} {time.perf_counter() - start:6.2f} s")


def run(folder: Path, rows: int) -> None:
    """Print the timings for a batch of ``rows`` rows in a new store in ``folder``."""
    store = SqliteStore(folder / "bench.yikatong")
    frame = make_rows("B1", rows)
    ids = list(range(1, rows + 1))

    def step(version: int, action: str, **fields: object) -> Change:
        audit = audit_entries(store.audit_head(), [(action, "B1", "", "")])
        return Change(batch=header("B1", version=version), expected_version=version - 1, audit=audit, **fields)  # type: ignore[arg-type]

    created = Change(
        batch=header("B1"), expected_version=None, new_rows=frame, audit=audit_entries(None, [("create", "B1", "", "")])
    )
    _timed(f"create a batch of {rows} rows (side file)", lambda: store.commit(created))
    _timed(
        f"move {rows} row statuses",
        lambda: store.commit(step(2, "validate", row_updates=state_updates("B1", ids, "passed"))),
    )
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
    _timed(f"dispatch: {rows} statuses + {rows} ledger entries", lambda: store.commit(dispatch))
    paid = step(
        4,
        "record_results",
        row_updates=state_updates("B1", ids, "paid"),
        ledger=ledger.with_columns(status=pl.lit("paid")),
    )
    _timed(f"results: {rows} statuses + {rows} ledger updates", lambda: store.commit(paid))
    _timed(f"load {rows} rows", lambda: store.rows("B1"))
    _timed(f"load {rows} ledger entries", lambda: store.ledger())
    store.close()


def main(argv: list[str] | None = None) -> int:
    """Command line of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)
        run(args.dir, args.rows)
    else:
        with tempfile.TemporaryDirectory() as folder:
            run(Path(folder), args.rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
