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

__all__ = ["ID_KEY", "cached", "canonical_id_expr", "id_key_expr"]

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def canonical_id_expr(id_col: pl.Expr) -> pl.Expr:
    """The 18-character form of an ID: a first-generation 15-digit number is upgraded (``19`` inserted, check
    character computed); anything else is kept as it is. The ledger keys payments by this form, so one person
    under both forms is still one key."""
    body = pl.concat_str(id_col.str.slice(0, 6), pl.lit("19"), id_col.str.slice(6, 9))
    total = pl.sum_horizontal([body.str.slice(i, 1).cast(pl.Int64, strict=False) * w for i, w in enumerate(_WEIGHTS)])
    check = pl.lit("10X98765432").str.slice(total % 11, 1)
    fifteen = id_col.str.contains(r"^[0-9]{15}$").fill_null(False)
    return pl.when(fifteen).then(pl.concat_str(body, check)).otherwise(id_col)


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
"""Adds ``_id_key`` (Int64, see ``id_key_expr``) for the row's own ID."""
