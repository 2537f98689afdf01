"""What a misbehaving bank does to the results one call releases: wrong amounts, rows twice, contradictions of
earlier results, rows never sent.

Each function takes the rows the call would show, draws with the bank's seeded random generator, counts what it
injected in ``injected`` and returns the extra rows (in
[`RESULT_SCHEMA`][yikatong.adapters.simulated_bank.RESULT_SCHEMA]) the call adds or substitutes.
"""

from __future__ import annotations

import random
from collections import Counter

import polars as pl

from yikatong.adapters._bank_book import PAID_REASON, reason_text
from yikatong.adapters.faults import Faults, uniform

__all__ = ["RESULT_SCHEMA", "contradictions", "duplicates", "phantoms", "wrong_amounts"]

RESULT_SCHEMA: dict[str, pl.DataType] = {
    "row_id": pl.Int64(),
    "outcome": pl.String(),
    "amount_fen": pl.Int64(),
    "reason_code": pl.String(),
    "reason": pl.String(),
}
"""The columns of ``SimulatedBank.results``, as [`yikatong.ports.Bank`][] documents them."""


def wrong_amounts(release: pl.DataFrame, faults: Faults, rng: random.Random, injected: Counter[str]) -> pl.DataFrame:
    """Some rows released by this call, with another amount (their true result comes with the next call)."""
    if not faults.amount_mismatch or not release.height:
        return release.clear()
    wrong = release.filter(uniform(pl.col("row_id"), rng) < faults.amount_mismatch).with_columns(
        amount_fen=pl.when(pl.col("row_id") % 2 == 0).then(pl.col("amount_fen") * 2).otherwise(pl.col("amount_fen") + 1)
    )
    injected["amount_mismatch"] += wrong.height
    return wrong


def duplicates(shown: pl.DataFrame, faults: Faults, rng: random.Random, injected: Counter[str]) -> pl.DataFrame:
    """Known results that appear twice in this call."""
    if not faults.duplicate or not shown.height:
        return shown.clear()
    dup = shown.filter(uniform(pl.col("row_id"), rng) < faults.duplicate)
    injected["duplicate"] += dup.height
    return dup


def contradictions(seen: pl.DataFrame, faults: Faults, rng: random.Random, injected: Counter[str]) -> pl.DataFrame:
    """Reversals of results an earlier call showed: paid then failed (退汇), or failed then paid."""
    if not faults.contradiction or not seen.height:
        return seen.clear()
    flip = seen.filter(uniform(pl.col("row_id"), rng) < faults.contradiction)
    paid = pl.col("outcome") == "paid"
    flipped = flip.with_columns(
        outcome=pl.when(paid).then(pl.lit("failed")).otherwise(pl.lit("paid")),
        reason_code=pl.when(paid).then(pl.lit("PAYMENT_RETURNED")).otherwise(pl.lit(None, dtype=pl.String)),
    ).with_columns(reason=reason_text(pl.col("reason_code")))
    injected["contradiction"] += flipped.height
    return flipped


def phantoms(truth: pl.DataFrame, rng: random.Random, injected: Counter[str]) -> pl.DataFrame:
    """One to three results for rows that were never in the order."""
    n = rng.randint(1, 3)
    top = int(truth.get_column("row_id").max() or 0)  # type: ignore[arg-type]
    start = top + 1 + rng.randint(0, 1000)
    injected["phantom"] += n
    return pl.DataFrame(
        {
            "row_id": list(range(start, start + n)),
            "outcome": ["paid"] * n,
            "amount_fen": [rng.randint(100, 50_000) for _ in range(n)],
            "reason_code": [None] * n,
            "reason": [PAID_REASON] * n,
        },
        schema=RESULT_SCHEMA,
    )
