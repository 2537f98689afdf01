"""Integer join keys for ID numbers: joins against registries and lists of millions of rows run on Int64.

An 18-character ID ``d1…d17 c`` maps to ``int(d1…d17) * 11 + v(c)`` with ``v("X") = 10``: exact, one-to-one,
and below 2^63. Anything not of the form ``\\d{17}[\\dX]`` maps to null and therefore matches nothing (the identity
rules report such IDs).
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
from attrs import frozen

from yikatong.rules._rule import Derivation, RuleEnv

__all__ = ["ID_KEY", "cached", "id_key_expr"]


def id_key_expr(expr: pl.Expr) -> pl.Expr:
    """The Int64 join key of an ID column (null when the ID is not well formed)."""
    well_formed = expr.str.contains(r"^[0-9]{17}[0-9X]$")
    last = expr.str.slice(17, 1)
    check = pl.when(last == "X").then(pl.lit(10, pl.Int64)).otherwise(last.cast(pl.Int64, strict=False))
    return pl.when(well_formed).then(expr.str.slice(0, 17).cast(pl.Int64, strict=False) * 11 + check)


@frozen
class _Cached:
    """A derivation's step followed by a cache point; equal to another when the step is the same function, so a
    rule set sent to another process (pickled, functions by reference) still sees one derivation per name."""

    apply: Callable[[pl.LazyFrame, RuleEnv], pl.LazyFrame]

    def __call__(self, lf: pl.LazyFrame, env: RuleEnv) -> pl.LazyFrame:
        return self.apply(lf, env).cache()


def cached(apply: Callable[[pl.LazyFrame, RuleEnv], pl.LazyFrame]) -> Callable[[pl.LazyFrame, RuleEnv], pl.LazyFrame]:
    """Make a derivation's result a cache point of the plan.

    The engine's verdicts, issues (one branch per rule) and examples all read the prepared frame. Joins against the
    registry, lists and ledger, and the self-joins of the cross-row rules, must run once for all of them, not once
    per branch: a cache node guarantees that where common-subplan elimination cannot prove two branches equal
    (as with the rapidfuzz ``map_batches`` steps).
    """
    return _Cached(apply)


def _add_id_key(lf: pl.LazyFrame, env: RuleEnv) -> pl.LazyFrame:
    return lf.with_columns(id_key_expr(pl.col("id_number")).alias("_id_key"))


ID_KEY = Derivation(name="id_key", apply=_add_id_key)
"""Adds ``_id_key`` (Int64, see :func:`id_key_expr`) for the row's own ID."""
