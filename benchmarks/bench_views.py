"""Timings of what people read from a store: a work view per town, and residents' look-ups.

Run on the demo's store (``make demo`` first)::

    python -m benchmarks.bench_views --store demo-output/yikatong.db --key-file demo-output/demo.key [--lookups 300]

The store is copied into a temporary folder first (each look-up appends an audit entry, and the copy keeps the
demo's store as it was). It prints the time of `work_view` for every town of the
store (as ``yikatong queue --town`` builds it, store already open), then the median, 95th percentile and maximum of
``--lookups`` look-ups of distinct people through `StoreResidentLookup` (ledger entries
found by the keyed hash, their batches' rows opened, one audit entry appended with ``synchronous=FULL``), and checks
the copy with ``verify_store`` afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import polars as pl

from yikatong.actors import Actor
from yikatong.adapters import SqliteStore, StoreResidentLookup, SystemClock, keys_from_file
from yikatong.catalog import Catalog
from yikatong.workflow import verify_store
from yikatong.workflow.lookup import parse_query
from yikatong.workflow.work_views import work_view

__all__ = ["main"]


def _people(store: SqliteStore, limit: int) -> list[tuple[str, str]]:
    """Up to ``limit`` distinct people with a well-formed name and ID, in ID order."""
    rows = pl.concat([store.rows(b.batch_id).select("name", "id_number") for b in store.batches()])
    chosen: list[tuple[str, str]] = []
    for name, id_number in rows.unique("id_number").sort("id_number").iter_rows():
        try:
            parse_query(name or "", id_number or "")
        except ValueError:
            continue
        chosen.append((name, id_number))
        if len(chosen) == limit:
            break
    return chosen


def main(argv: list[str] | None = None) -> None:
    """Run the timings and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--key-file", type=Path, required=True)
    parser.add_argument("--lookups", type=int, default=300)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2026, 12, 5))
    args = parser.parse_args(argv)
    keys = keys_from_file(args.key_file)
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / args.store.name
        shutil.copy(args.store, copy)
        rows_dir = args.store.with_name(args.store.name + "-rows")
        if rows_dir.is_dir():
            shutil.copytree(rows_dir, copy.with_name(copy.name + "-rows"))
        with SqliteStore(copy, keys=keys) as store:
            towns = sorted({t for b in store.batches() for t in store.rows(b.batch_id)["town"].drop_nulls().unique()})
            for town in towns:
                start = time.perf_counter()
                view = work_view(store, actor=Actor("bench", "town", town=town), as_of=args.as_of)
                took = time.perf_counter() - start
                print(
                    f"work view {town}: {took * 1000:.0f} ms ({view.queue.height} to correct, "
                    f"{view.batches.height} batches, {view.held.height} held)"
                )
            lookup = StoreResidentLookup(store, keys=keys, catalog=Catalog.example(), clock=SystemClock())
            times: list[float] = []
            found = 0
            for name, id_number in _people(store, args.lookups):
                start = time.perf_counter()
                answer = lookup.payments(name=name, id_number=id_number, asked_by="bench", channel="bench")
                times.append(time.perf_counter() - start)
                found += answer.height > 0
            ranked = sorted(times)
            print(
                f"{len(times)} look-ups ({found} with payments) over {store.ledger().height} ledger entries: "
                f"median {statistics.median(times) * 1000:.1f} ms, p95 {ranked[int(len(ranked) * 0.95)] * 1000:.1f} "
                f"ms, max {ranked[-1] * 1000:.1f} ms"
            )
            result = verify_store(store, key=keys.audit_key())
            print(f"verify_store after the look-ups: {'intact' if result.ok else 'BROKEN'}, {result.entries} entries")


if __name__ == "__main__":
    main()
