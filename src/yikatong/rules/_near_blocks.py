"""The blocks of ``DUP_NEAR`` as 64-bit integer keys, and the candidate pairs they give.

[`yikatong.rules.near`][] defines the block kinds and when a pair in them is reported; this module finds the pairs
that share a block, cheaply. Every part of a key is read once from columns parsed once per row: the ID body (the
first 17 characters) as one Int64, from which the birth date and the sequence digits follow by arithmetic, and a
64-bit hash of the name key, of its first character, of the village and of the household head. A block key is the
hash of its parts (a struct hash, seeded per kind), one UInt64 per row and kind, built without any string.

Most rows share no block with anyone: each kind's keys are first cut to those that occur at least twice
(``is_duplicated``, one hash pass per kind), and only those rows are sized, paired and compared. The self-join runs
on the key; every joined pair is then checked on the parts themselves (name key, birth date, village, household
head, the ID body with the masked digit), so a hash collision can cost a little work or make a block look larger
than it is, never yield a pair outside a block.
"""

from __future__ import annotations

from typing import Final

import polars as pl

__all__ = ["KINDS", "block_parts", "candidates", "part_of", "prepare"]

KINDS: Final = ("name+birth", "name+village+household", "region+birth", "region+birth", "region+birth")
"""The block kind of each key, by index: name and birth date; name, village and household head; region, birth date
and name initial with sequence digit 0, 1 or 2 masked (two IDs one sequence digit apart share exactly one of the
three)."""

_ID18 = r"^[0-9]{17}[0-9X]$"
_CARRIED: Final = ("row_id", "_id", "_nk", "village", "household_head_id", "_body")
"""What a block member carries into the self-join: everything the pair is checked and scored on."""


def prepare(lf: pl.LazyFrame, columns: frozenset[str], name_key: pl.Expr) -> pl.LazyFrame:
    """The rows that take part (a well-formed 18-character ID, a non-empty name key) with the parsed columns the
    keys read: ``row_id, _id, _nk, village, household_head_id`` (text), ``_body`` (ID characters 1–17 as Int64),
    ``_nkh``, ``_inh`` (hashes of the name key and of its first character)."""
    has_household = "village" in columns and "household_head_id" in columns
    extra = (
        [pl.col("village").cast(pl.String), pl.col("household_head_id").cast(pl.String)]
        if has_household
        else [pl.lit(None, pl.String).alias("village"), pl.lit(None, pl.String).alias("household_head_id")]
    )
    return (
        lf.select(pl.col("row_id"), name_key.alias("_nk"), pl.col("id_number").alias("_id"), *extra)
        .filter(pl.col("_id").str.contains(_ID18) & (pl.col("_nk").str.len_chars() > 0))
        .with_columns(
            pl.col("_id").str.slice(0, 17).cast(pl.Int64).alias("_body"),
            pl.col("_nk").hash(seed=11).alias("_nkh"),
            pl.col("_nk").str.head(1).hash(seed=12).alias("_inh"),
        )
        .cache()  # every block kind reads it: parse and hash once
    )


def _birth(body: pl.Expr) -> pl.Expr:
    return (body // 1_000) % 100_000_000


def _masked(body: pl.Expr, k: int) -> pl.Expr:
    """The ID body with sequence digit ``k`` (0–2, ID characters 15–17) set to zero."""
    place = (100, 10, 1)[k]
    return body - body // place % 10 * place


def _key(kind: int) -> pl.Expr:
    body = pl.col("_body")
    if kind == 0:
        parts = [pl.col("_nkh"), _birth(body).alias("_birth")]
    elif kind == 1:
        parts = [pl.col("_nkh"), pl.col("village"), pl.col("household_head_id")]
    else:
        parts = [_masked(body, kind - 2).alias("_masked"), pl.col("_inh")]
    key = pl.struct(parts).hash(seed=kind)
    if kind == 1:
        key = pl.when(pl.col("village").is_not_null() & pl.col("household_head_id").is_not_null()).then(key)
    return key.alias("_key")


def part_of(key: pl.Expr, n: int) -> pl.Expr:
    """The part among ``n`` of a block (by its key): all members of a block meet in it."""
    return (key % n).cast(pl.Int64)


def block_parts(prepared: pl.LazyFrame, n: int) -> pl.LazyFrame:
    """``row_id, _part``: one row per distinct part among ``n`` of a row's blocks (every kind, every block)."""
    keys = [prepared.select("row_id", _key(kind)).drop_nulls("_key") for kind in range(len(KINDS))]
    return pl.concat(keys).select("row_id", part_of(pl.col("_key"), n).alias("_part")).unique()


def _same_block(kind: int) -> pl.Expr:
    """The two rows of a joined pair really share a block of ``kind`` (the parts, not the hash)."""
    body, other = pl.col("_body"), pl.col("_body_r")
    if kind == 0:
        return (pl.col("_nk") == pl.col("_nk_r")) & (_birth(body) == _birth(other))
    if kind == 1:
        return (
            (pl.col("_nk") == pl.col("_nk_r"))
            & (pl.col("village") == pl.col("_village_r"))
            & (pl.col("household_head_id") == pl.col("_household_r"))
        )
    return (_masked(body, kind - 2) == _masked(other, kind - 2)) & (
        pl.col("_nk").str.head(1) == pl.col("_nk_r").str.head(1)
    )


def _members(prepared: pl.LazyFrame, kind: int, part: tuple[int, int] | None) -> pl.LazyFrame:
    """The rows of one kind whose key occurs at least twice (in part ``part`` when given)."""
    keyed = prepared.select(*_CARRIED, _key(kind)).drop_nulls("_key")
    if part is not None:
        keyed = keyed.filter(part_of(pl.col("_key"), part[1]) == part[0])
    return keyed.filter(pl.col("_key").is_duplicated()).with_columns(pl.lit(kind, pl.UInt8).alias("_kind"))


def candidates(
    prepared: pl.LazyFrame, max_block: int, part: tuple[int, int] | None = None
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Every pair of rows with different IDs sharing a block of at most ``max_block`` rows (``row_id <
    other_row_id``; the pair's columns and ``_id_r``, ``_nk_r``, ``_village_r``, ``_block``: one row per block kind
    that pairs them), and ``block, rows``: one row per block too large to pair."""
    shared = pl.concat([_members(prepared, kind, part) for kind in range(len(KINDS))])
    shared = shared.with_columns(pl.len().over("_kind", "_key").alias("_size")).cache()
    members = shared.filter(pl.col("_size") <= max_block).drop("_size")
    right = members.select(
        "_key",
        pl.col("_kind").alias("_kind_r"),
        pl.col("row_id").alias("other_row_id"),
        pl.col("_id").alias("_id_r"),
        pl.col("_nk").alias("_nk_r"),
        pl.col("village").alias("_village_r"),
        pl.col("household_head_id").alias("_household_r"),
        pl.col("_body").alias("_body_r"),
    )
    kind = pl.col("_kind")
    same_block = pl.lit(False)
    for k in range(len(KINDS)):
        same_block = same_block | ((kind == k) & _same_block(k))
    names = dict(enumerate(KINDS))
    pairs = (
        members.join(right, on="_key", how="inner")
        .filter(
            (pl.col("row_id") < pl.col("other_row_id"))
            & (pl.col("_kind") == pl.col("_kind_r"))
            & (pl.col("_id") != pl.col("_id_r"))
        )
        .filter(same_block.fill_null(False))
        .with_columns(kind.replace_strict(names, return_dtype=pl.String).alias("_block"))
    )
    oversize = (
        shared.filter(pl.col("_size") > max_block)
        .group_by("_kind", "_key")
        .agg(pl.len().cast(pl.Int64).alias("rows"))
        .select(kind.replace_strict(names, return_dtype=pl.String).alias("block"), "rows")
    )
    return pairs, oversize
