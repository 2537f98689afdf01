"""Holder names: how close the account holder's name in the registry is to the payee's name on the roster.

``HOLDER_NAME_MISMATCH`` (in [`yikatong.rules.accounts`][]) reads the score this derivation adds. Names are compared
on their keys (``yikatong.rules._names``) with ``rapidfuzz.fuzz.ratio``; for household items only the head's own
row is compared, since other members' names are not the holder's. The near-duplicate rule scores its pairs with the
same [`name_scores`][yikatong.rules.accounts.name_scores].
"""

from __future__ import annotations

import polars as pl
from rapidfuzz import fuzz
from rapidfuzz.process import cpdist

from yikatong.privacy import mask_name_expr
from yikatong.rules._keys import cached
from yikatong.rules._names import name_key_expr
from yikatong.rules._registry_join import REGISTRY_JOIN
from yikatong.rules._rule import Derivation, Finding, RuleEnv

__all__ = ["NAME_SCORE", "holder_name_finding", "name_scores"]


def name_scores(pairs: pl.Series) -> pl.Series:
    """``fuzz.ratio`` (0–100) of the two string fields of a struct Series; identical pairs score 100 without
    scoring, pairs with a null side give null. Used in one ``map_batches`` over the pair columns."""
    left, right = (pairs.struct.field(f) for f in pairs.struct.fields[:2])
    differ = (left != right).fill_null(False)
    index = differ.arg_true()
    scored = cpdist(
        left.gather(index).to_list(), right.gather(index).to_list(), scorer=fuzz.ratio, dtype="float64", workers=-1
    )
    out = pl.repeat(100.0, len(pairs), dtype=pl.Float64, eager=True).alias("score")
    if len(index):
        out = out.scatter(index, pl.Series(scored, dtype=pl.Float64))
    return pl.select(pl.when(left.is_null() | right.is_null()).then(None).otherwise(out)).to_series()


def _add_name_score(lf: pl.LazyFrame, env: RuleEnv) -> pl.LazyFrame:
    compare = pl.col("_holder").is_not_null() & pl.col("name").is_not_null()
    if env.item.unit == "household":
        compare = compare & (pl.col("_payee_id") == pl.col("id_number"))
    pair = pl.struct(
        pl.when(compare).then(name_key_expr(pl.col("name"))).alias("a"),
        pl.when(compare).then(name_key_expr(pl.col("_holder"))).alias("b"),
    )
    return lf.with_columns(
        pair.map_batches(name_scores, return_dtype=pl.Float64, is_elementwise=True).alias("_holder_score")
    )


NAME_SCORE = Derivation(name="holder_name_score", apply=cached(_add_name_score), after=(REGISTRY_JOIN,))


def holder_name_finding(env: RuleEnv) -> Finding:
    """``HOLDER_NAME_MISMATCH``: review below the item's review threshold, block below its block threshold."""
    score = pl.col("_holder_score")
    thresholds = env.item.holder_name
    return Finding(
        hit=score < thresholds.review_below,
        severity=pl.when(score < thresholds.block_below).then(pl.lit("block")).otherwise(pl.lit("review")),
        evidence=pl.concat_str(
            pl.lit("holder "),
            mask_name_expr(pl.col("_holder")),
            pl.lit(" vs roster "),
            mask_name_expr(pl.col("name")),
            pl.lit(", score "),
            score.round(1).cast(pl.String),
        ),
    )
