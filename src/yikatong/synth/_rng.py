"""Counter-based pseudo-random numbers as Polars expressions.

Every random value is a seeded hash of the row (or person) number: ``hash(index, key)``, with ``key`` derived from
the seed and a stream name. No state is carried from row to row, so a whole column is one vectorized expression,
the same seed gives the same data, and adding a stream never shifts the values of the others. The hash is Polars'
own (fast, and stable within a Polars version; a different Polars version may draw different — equally valid —
data for the same seed).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import polars as pl

__all__ = ["Rng", "choice", "take"]

_TWO_32 = float(1 << 32)
_SEED_MASK = (1 << 63) - 1


class Rng:
    """Named random streams over an index column.

    Args:
        seed: The generator's seed.
        index: The expression numbering the rows (any integer type); defaults to ``pl.col("_i")``.
    """

    def __init__(self, seed: int, index: pl.Expr | None = None) -> None:
        self._seed = seed
        self._index = (index if index is not None else pl.col("_i")).cast(pl.UInt64)

    def key(self, stream: str) -> int:
        """The 64-bit key of ``stream`` under this seed (stable: a hash of the two, not Python's ``hash``)."""
        digest = hashlib.blake2b(f"{self._seed}\x1f{stream}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "little")

    def bits(self, stream: str) -> pl.Expr:
        """Uniform 64-bit unsigned integers."""
        key = self.key(stream)
        return self._index.hash(key & _SEED_MASK)

    def uniform(self, stream: str) -> pl.Expr:
        """Uniform floats in ``[0, 1)`` with 32 random bits."""
        return (self.bits(stream) % (1 << 32)).cast(pl.Float64) / _TWO_32

    def integers(self, stream: str, high: int | pl.Expr) -> pl.Expr:
        """Uniform integers in ``[0, high)`` (``high`` ≥ 1; the modulo bias is below 2⁻⁴⁰ for any table here)."""
        if isinstance(high, int):
            return (self.bits(stream) % high).cast(pl.Int64)
        return (self.bits(stream) % high.cast(pl.UInt64)).cast(pl.Int64)

    def choice(self, stream: str, weights: Sequence[float]) -> pl.Expr:
        """Indices ``0 … len(weights) - 1`` drawn with the given (unnormalised) weights."""
        return choice(self.uniform(stream), weights)


def choice(u: pl.Expr, weights: Sequence[float]) -> pl.Expr:
    """Map uniform ``u`` in ``[0, 1)`` to an index drawn with ``weights`` (inverse of the cumulative weights)."""
    total = float(sum(weights))
    if total <= 0 or any(w < 0 for w in weights):
        raise ValueError("weights must be non-negative with a positive sum")
    cumulative: list[float] = []
    running = 0.0
    for w in weights:
        running += w
        cumulative.append(running / total)
    cumulative[-1] = 1.0
    bounds = pl.Series(cumulative[:-1], dtype=pl.Float64)
    if bounds.len() == 0:
        return (u * 0).cast(pl.Int64)
    return pl.lit(bounds).search_sorted(u, side="right").cast(pl.Int64)


def take(table: Sequence[str], index: pl.Expr) -> pl.Expr:
    """The strings of ``table`` at ``index`` (a gather from a literal, no per-row Python)."""
    return pl.lit(pl.Series(list(table), dtype=pl.String)).gather(index)
