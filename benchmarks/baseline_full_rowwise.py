"""The full rule set written row by row in plain Python: the yardstick for :mod:`benchmarks.full_rules`.

The roster-only checks (identity, names, amounts, ``DUP_IN_BATCH``, outliers, batch totals) are
:func:`benchmarks.baseline_rowwise.validate_rows` (python-stdnum, regular expressions, loops, dicts). On top of
them, per row: the account registry as a dict by ID (registered, active, the account named, its kind, Luhn, the
holder's name scored with ``rapidfuzz.fuzz.ratio``, an account registered to somebody else, an account paying
several people of the batch), the deceased list as a dict (before or during the period), and the ledger as a dict
of (ID, item, period) entries that were sent or paid. ``DUP_NEAR`` is not part of it (its cost is measured by
``benchmarks/bench_near.py``), and the vectorized side of the comparison runs without it too.

Building the dicts from the registry, lists and ledger is timed separately from the per-row pass, and only the
entries of the sampled people (and of the accounts the sample names) become dicts: a sample of the roster needs
only part of the work a full roster would, and ten million registry entries as Python dicts would not fit.
"""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import polars as pl
from rapidfuzz import fuzz

from benchmarks._data import PERIOD, Dataset, context
from benchmarks.baseline_rowwise import validate_rows
from yikatong.period import Period

__all__ = ["luhn_ok", "run"]


def luhn_ok(digits: str) -> bool:
    """The Luhn check of a digit string."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return total % 10 == 0


def _context_rows(rows: list[dict[str, Any]], lookups: dict[str, Any], period: Period) -> None:
    registry: dict[str, list[dict[str, Any]]] = lookups["registry"]
    owners: dict[str, set[str]] = lookups["owners"]
    deceased: dict[str, Any] = lookups["deceased"]
    paid: set[tuple[str, str, str]] = lookups["paid"]
    payees: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        if row.get("account"):
            payees[row["account"]].add(row.get("id_number") or "")
    for row in rows:
        codes: set[str] = row["_codes"]
        number = row.get("id_number") or ""
        entries = registry.get(number)
        account = row.get("account")
        if not entries:
            codes.add("ACCOUNT_NOT_REGISTERED")
        else:
            active = sorted((e for e in entries if e["status"] == "active"), key=lambda e: e["account"])
            named = next((e for e in entries if e["account"] == account), None) if account else None
            if account and named is None:
                codes.add("ACCOUNT_MISMATCH")
            chosen = named or (active[0] if active else None)
            if (named is not None and named["status"] != "active") or not active:
                codes.add("ACCOUNT_INACTIVE")
            if chosen is not None and fuzz.ratio(row.get("name") or "", chosen["holder_name"] or "") < 85:
                codes.add("HOLDER_NAME_MISMATCH")
        pay = account or (entries[0]["account"] if entries else None)
        if pay:
            if not pay.isdigit() or not 10 <= len(pay) <= 19:
                codes.add("ACCOUNT_FORMAT")
            elif len(pay) >= 13 and not luhn_ok(pay):
                codes.add("ACCOUNT_LUHN")
            if len(payees.get(pay, ())) > 1 or owners.get(pay, {number}) - {number}:
                codes.add("ACCOUNT_SHARED")
        died = deceased.get(number)
        if died is not None:
            codes.add("DECEASED" if died < period.start else "DECEASED_DURING_PERIOD")
        if (number, row.get("item") or lookups["item"], period.label) in paid:
            codes.add("DUP_ALREADY_PAID")


def run(folder: str, sample_rows: int = 200_000) -> dict[str, Any]:
    """Check the first ``sample_rows`` rows row by row; returns the timings (rows per second from the sample)."""
    data = Dataset(Path(folder))
    ctx = context(data, lazy_files=False)
    assert ctx.catalog is not None
    assert ctx.registry is not None
    assert ctx.ledger is not None
    item = ctx.catalog[data.manifest["item"]]
    period = Period.parse(PERIOD)
    sample = data.read("roster").head(sample_rows)
    rows = sample.to_dicts()
    # Only the context entries of the sample's people become dicts: the whole registry of a 10-million-row roster
    # as Python dicts would not fit in memory, and building the lookups is not part of the per-row figure.
    ids = sample.select(pl.col("id_number").drop_nulls().unique()).lazy()

    def entries(frame: pl.LazyFrame) -> list[dict[str, Any]]:
        return frame.join(ids, on="id_number", how="semi").collect().to_dicts()

    registry_rows = entries(ctx.registry)
    sample_accounts = sample.select(pl.col("account").drop_nulls().unique()).lazy()
    registry_rows += ctx.registry.join(sample_accounts, on="account", how="semi").collect().to_dicts()
    deceased_rows = entries(ctx.reference["deceased"]) if "deceased" in ctx.reference else []
    ledger_rows = entries(ctx.ledger)

    start = time.perf_counter()
    registry: dict[str, list[dict[str, Any]]] = defaultdict(list)
    owners: dict[str, set[str]] = defaultdict(set)
    for entry in registry_rows:
        if entry not in registry[entry["id_number"]]:
            registry[entry["id_number"]].append(entry)
        owners[entry["account"]].add(entry["id_number"])
    deceased: dict[str, Any] = {}
    for entry in deceased_rows:
        known = deceased.get(entry["id_number"])
        deceased[entry["id_number"]] = entry["death_date"] if known is None else min(known, entry["death_date"])
    paid = {
        (e["id_number"], e["item"], e["period"]) for e in ledger_rows if e["status"] in ("sent", "paid", "reissued")
    }
    build_seconds = time.perf_counter() - start

    start = time.perf_counter()
    found, _batch = validate_rows(
        rows, item=item, period=period, declared_count=data.rows, declared_total_fen=data.manifest["total_fen"]
    )
    roster_seconds = time.perf_counter() - start
    for row, codes in zip(rows, found, strict=True):
        row["_codes"] = codes
    lookups = {"registry": registry, "owners": owners, "deceased": deceased, "paid": paid, "item": item.code}
    _context_rows(rows, lookups, period)
    seconds = time.perf_counter() - start
    return {
        "rows": len(rows),
        "seconds": seconds,
        "rows_per_s": len(rows) / seconds,
        "lookup_build_seconds": build_seconds,
        "roster_only_seconds": roster_seconds,
        "roster_only_rows_per_s": len(rows) / roster_seconds,
        "findings": sum(len(r["_codes"]) for r in rows),
    }
