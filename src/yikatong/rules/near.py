"""``DUP_NEAR``: likely the same person under two IDs, found by blocking, never by comparing every pair.

Rows are grouped on equality keys (blocks); only rows sharing a block are paired (a lazy self-join per block kind),
and only those pairs are scored with rapidfuzz (``process.cpdist`` over the pair columns, in ``map_batches``). Name
comparison uses the name keys of ``yikatong.rules._names`` (minority-name dots and traditional forms removed);
birth date is ID characters 7–14, region characters 1–6. Only well-formed 18-character IDs take part.

Block kinds and when a pair in them is reported:

``name+birth``
    same name and birth date, different IDs: reported when the ID bodies (first 17 characters; the check character
    follows from them) are at most ``id_max`` edits apart, or both rows name the same village. Namesakes born the
    same day elsewhere in a county of a million are expected and are not reported.
``name+village+household``
    same name, village and household head, different IDs: always reported (twins do not share a name).
``region+birth``
    same region code and birth date: reported when the ID bodies are at most ``id_max`` edits apart and the names
    score at least ``name_min`` (``fuzz.ratio``); twins with different given names score below it. Since such IDs
    differ in one sequence digit at most, the block is split by the sequence with one digit masked (three keys), which
    finds exactly these pairs without pairing every birth-date namesake of a county (about 30 people per day and
    region code in a county of a million). The key also carries the name's first character: two names of up to six
    characters whose first characters differ cannot reach ``name_min``, so this loses no pair the rule would keep
    and spares scoring the birth-date namesakes of an elderly roster (about 1.3 million candidate pairs per million
    rows of a 高龄津贴 roster without it).

A block larger than ``max_block`` rows is not paired (it would cost its square);
[`near_duplicates`][yikatong.rules.near.near_duplicates] reports such blocks so that a user can look at them. Severity
is review.
"""

from __future__ import annotations

from typing import Final

import polars as pl
from attrs import frozen
from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import cpdist

from yikatong.rules._holder_names import name_scores
from yikatong.rules._keys import cached
from yikatong.rules._names import name_key_expr
from yikatong.rules._near_blocks import block_parts, candidates, prepare
from yikatong.rules._rule import Derivation, Finding, Rule, RuleEnv

__all__ = [
    "ID_MAX",
    "MAX_BLOCK",
    "NAME_MIN",
    "RULES",
    "NearDuplicates",
    "id_distances",
    "merge_pairs",
    "near_duplicates",
    "near_pairs",
    "near_parts",
    "near_per_row",
]

MAX_BLOCK: Final = 100
"""Blocks with more rows than this are not paired, only reported."""
ID_MAX: Final = 1
"""Largest edit distance between the ID bodies (the first 17 characters) taken as "one digit apart". The check
character is left out: it follows from the body, and any one-digit change of a valid ID changes it too."""
NAME_MIN: Final = 85.0
"""Smallest name score for a ``region+birth`` pair with different names."""


@frozen
class NearDuplicates:
    """What [`near_duplicates`][yikatong.rules.near.near_duplicates] found.

    Attributes:
        pairs: ``row_id``, ``other_row_id`` (``row_id < other_row_id``), ``blocks`` (the block kinds that paired
            them, ``;``-joined), ``name_score`` (0–100), ``id_distance`` (edits): one row per reported pair.
        oversize: ``block``, ``blocks`` (how many blocks of that kind were too large), ``rows`` (their rows):
            work skipped by the block-size guard.
    """

    pairs: pl.DataFrame
    oversize: pl.DataFrame


def id_distances(pairs: pl.Series) -> pl.Series:
    """Levenshtein distance between the two string fields of a struct Series (``cpdist`` in one call)."""
    left, right = (pairs.struct.field(f) for f in pairs.struct.fields[:2])
    if len(pairs) == 0:
        return pl.Series("distance", [], dtype=pl.Int64)
    scored = cpdist(
        left.fill_null("").to_list(),
        right.fill_null("").to_list(),
        scorer=Levenshtein.distance,
        dtype="int32",
        workers=-1,
    )
    return pl.Series("distance", scored, dtype=pl.Int64)


def _scored(pairs: pl.LazyFrame) -> pl.LazyFrame:
    return pairs.with_columns(
        pl.struct(pl.col("_id").str.slice(0, 17).alias("a"), pl.col("_id_r").str.slice(0, 17).alias("b"))
        .map_batches(id_distances, return_dtype=pl.Int64, is_elementwise=True)
        .alias("id_distance"),
        pl.struct(pl.col("_nk").alias("a"), pl.col("_nk_r").alias("b"))
        .map_batches(name_scores, return_dtype=pl.Float64, is_elementwise=True)
        .alias("name_score"),
    )


def near_pairs(
    lf: pl.LazyFrame,
    columns: frozenset[str],
    *,
    max_block: int = MAX_BLOCK,
    id_max: int = ID_MAX,
    name_min: float = NAME_MIN,
    part: tuple[int, int] | None = None,
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """The reported pairs and the oversize-block summary, as lazy frames (see
    [`NearDuplicates`][yikatong.rules.near.NearDuplicates]).

    Every row's block keys are 64-bit integers (see ``yikatong.rules._near_blocks``); only rows whose key occurs
    twice are paired, by a single self-join on the key, checked on the key's parts, scored, and filtered by the rule
    of the pair's block kind; the kept pairs are then merged, naming every kind that found them.

    With ``part=(k, n)`` only the blocks of part ``k`` of ``n`` are paired (see
    [`near_parts`][yikatong.rules.near.near_parts]): a runner that sent every row to the parts of its blocks gets every
    pair from exactly the parts of the blocks that found it, and [`merge_pairs`][yikatong.rules.near.merge_pairs] of all
    parts' pairs is the pairs of the whole roster.
    """
    pairs, big = candidates(prepare(lf, columns, name_key_expr(pl.col("name"))), max_block, part)
    block = pl.col("_block")
    close_ids = pl.col("id_distance") <= id_max
    same_village = (pl.col("village") == pl.col("_village_r")).fill_null(False)
    keep = (
        (block == "name+village+household")
        | ((block == "name+birth") & (close_ids | same_village))
        | ((block == "region+birth") & close_ids & (pl.col("name_score") >= name_min))
    )
    merged = (
        _scored(pairs)
        .filter(keep)
        .group_by("row_id", "other_row_id")
        .agg(
            pl.col("_block").unique().sort().str.join(";").alias("blocks"),
            pl.col("name_score").max(),
            pl.col("id_distance").min(),
        )
    )
    summary = big.group_by("block").agg(pl.len().cast(pl.Int64).alias("blocks"), pl.col("rows").sum().cast(pl.Int64))
    return merged, summary


def near_duplicates(
    roster: pl.DataFrame | pl.LazyFrame,
    /,
    *,
    max_block: int = MAX_BLOCK,
    id_max: int = ID_MAX,
    name_min: float = NAME_MIN,
) -> NearDuplicates:
    """Find likely duplicates of one person under two IDs in a roster (``row_id``, ``name``, ``id_number`` and
    optionally ``village``, ``household_head_id``).

    Args:
        roster: The roster, eager or lazy.
        max_block: Blocks larger than this are reported in ``oversize`` instead of paired.
        id_max: Largest ID edit distance counted as "one digit apart".
        name_min: Smallest name score for pairs of different names in a ``region+birth`` block.

    Returns:
        The reported pairs and the blocks skipped for size.
    """
    lf = roster.lazy()
    if "row_id" not in lf.collect_schema().names():
        lf = lf.with_row_index("row_id", offset=1).with_columns(pl.col("row_id").cast(pl.Int64))
    columns = frozenset(lf.collect_schema().names())
    pairs, oversize = near_pairs(lf, columns, max_block=max_block, id_max=id_max, name_min=name_min)
    got_pairs, got_oversize = pl.collect_all([pairs.sort("row_id", "other_row_id"), oversize.sort("block")])
    return NearDuplicates(pairs=got_pairs, oversize=got_oversize)


def near_parts(lf: pl.LazyFrame, columns: frozenset[str], n: int) -> pl.LazyFrame:
    """The roster's rows as the blocks route them among ``n`` parts: the columns the pairing reads (``row_id``,
    ``name``, ``id_number``, and ``village``, ``household_head_id`` when present) and ``_part``, one row per
    distinct part of the row's blocks. Rows that take part in no block are left out (they pair with no one)."""
    kept = [c for c in ("row_id", "name", "id_number", "village", "household_head_id") if c in columns]
    parts = block_parts(prepare(lf, columns, name_key_expr(pl.col("name"))), n)
    return lf.select(kept).join(parts, on="row_id", how="inner")


def merge_pairs(pairs: pl.LazyFrame) -> pl.LazyFrame:
    """Pairs found in several parts ([`near_pairs`][yikatong.rules.near.near_pairs] with ``part``) as one row per pair,
    naming every block kind that found it; the scores are the pair's own, the same in every part."""
    return pairs.group_by("row_id", "other_row_id").agg(
        pl.col("blocks").str.split(";").explode().unique().sort().str.join(";"),
        pl.col("name_score").max(),
        pl.col("id_distance").min(),
    )


def near_per_row(pairs: pl.LazyFrame) -> pl.LazyFrame:
    """Per row with a reported pair: ``row_id, _near_n`` (its pairs) and ``_near_evidence`` (the first five other
    rows by ``row_id``, with the blocks and scores that paired them)."""
    note = pl.concat_str(
        pl.lit("row "),
        pl.col("other").cast(pl.String),
        pl.lit(" ("),
        pl.col("blocks"),
        pl.lit(", ID distance "),
        pl.col("id_distance").cast(pl.String),
        pl.lit(", name score "),
        pl.col("name_score").round(0).cast(pl.Int64).cast(pl.String),
        pl.lit(")"),
    )
    # Both directions of every pair from one pass over the pairs (reading them twice would score them twice).
    both_ways = pairs.select(
        pl.concat_list("row_id", "other_row_id").alias("row_id"),
        pl.concat_list("other_row_id", "row_id").alias("other"),
        "blocks",
        "id_distance",
        "name_score",
    ).explode("row_id", "other")
    return (
        both_ways.sort("row_id", "other")
        .group_by("row_id")
        .agg(pl.len().cast(pl.Int64).alias("_near_n"), note.head(5).str.join("; ").alias("_near_evidence"))
    )


def _join_near(lf: pl.LazyFrame, env: RuleEnv) -> pl.LazyFrame:
    pairs, _ = near_pairs(lf, env.columns)
    return lf.join(near_per_row(pairs), on="row_id", how="left", maintain_order="left")


NEAR_JOIN = Derivation(name="near_duplicates", apply=cached(_join_near))


def _near(env: RuleEnv) -> Finding:
    return Finding(
        hit=pl.col("_near_n") > 0,
        evidence=pl.concat_str(pl.lit("possibly the same person as "), pl.col("_near_evidence")),
    )


RULES: tuple[Rule, ...] = (
    Rule(
        code="DUP_NEAR",
        family="duplicates",
        severity="review",
        message_zh="疑似同一人使用不同身份证号（姓名、出生日期或户相同，身份证号仅差一位）",
        message_en="likely the same person under two IDs (same name and birth date or household; IDs one digit apart)",
        build=_near,
        columns=("id_number", "name"),
        derivations=(NEAR_JOIN,),
        key="near",
    ),
)
