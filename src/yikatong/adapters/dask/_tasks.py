"""What the cluster's workers run: plain functions over Polars frames, no Dask in sight.

Every function here is a task of [`validate_distributed`][yikatong.adapters.dask.validate_distributed]. Frames travel
between workers as Polars DataFrames (pickled as Arrow IPC); no task converts the data to pandas.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl
from attrs import evolve

from yikatong.rules._rule import Rule, RuleEnv
from yikatong.rules.engine import prepare_roster
from yikatong.rules.near import near_parts
from yikatong.rules.routing import (
    PART,
    Routing,
    Split,
    account_holders,
    account_issues,
    account_part_expr,
    context_part_expr,
    near_part_pairs,
    part_context,
    roster_part_expr,
    run_part,
)

__all__ = [
    "account_stage",
    "amount_total",
    "concat",
    "context_pieces",
    "facts_columns",
    "height",
    "item",
    "near_pieces",
    "near_stage",
    "pick",
    "prepare_piece",
    "prepared_schema",
    "read_piece",
    "rows_with_ids",
    "split_pieces",
    "split_stage",
]

Source = tuple[Any, str] | pl.DataFrame
"""Where a roster piece comes from: a Parquet file (an fsspec file system and a path on it) or a frame."""


def read_piece(source: Source) -> pl.DataFrame:
    """A roster piece as stored (a Parquet file read by the worker, through fsspec for a URL)."""
    if isinstance(source, pl.DataFrame):
        return source
    fs, path = source
    with fs.open(path, "rb") as handle:
        return pl.read_parquet(handle)


def height(piece: pl.DataFrame) -> int:
    """The rows of a piece."""
    return piece.height


def prepared_schema(piece: pl.DataFrame) -> pl.Schema:
    """The schema every piece is given: the first piece's, prepared (``row_id``, the flag columns)."""
    return prepare_roster(piece.head(0)).collect_schema()


def prepare_piece(piece: pl.DataFrame, offset: int, schema: pl.Schema) -> pl.DataFrame:
    """A roster piece as the rules read it: ``row_id`` numbered from ``offset + 1`` when the roster has none (so
    the numbers are those of the whole roster in piece order), the missing flag columns false, cast to
    ``schema``.

    Raises:
        ValueError: when the piece lacks a column of ``schema`` (the pieces of one roster differ).
    """
    if "row_id" not in piece.columns:
        piece = piece.with_row_index("row_id", offset=offset + 1).with_columns(pl.col("row_id").cast(pl.Int64))
    prepared = prepare_roster(piece).collect()
    missing = [c for c in schema.names() if c not in prepared.columns]
    if missing:
        raise ValueError(
            f"名单分块缺少列 {', '.join(missing)} / a roster piece lacks column(s) {', '.join(missing)}"
            " that the first piece has"
        )
    return prepared.select(schema.names()).cast(schema)


def facts_columns(piece: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """The few columns the whole-roster facts and the batch rules read."""
    return piece.select(columns)


def _by_part(frame: pl.DataFrame, n: int) -> list[pl.DataFrame]:
    """``frame`` cut by its ``_part`` column into ``n`` frames (empty ones where no row goes)."""
    groups = frame.partition_by(PART, as_dict=True, include_key=False)
    empty = frame.drop(PART).clear()
    return [groups.get((k,), empty) for k in range(n)]


def split_pieces(piece: pl.DataFrame, split: Split, env: RuleEnv, n: int) -> list[pl.DataFrame]:
    """One roster piece cut into the ``n`` parts of ``split``."""
    return _by_part(piece.with_columns(roster_part_expr(split, env, n)), n)


def context_pieces(frame: pl.LazyFrame, n: int, by: str = "person") -> list[pl.DataFrame]:
    """A context frame (read here, on the worker) cut into ``n`` parts by person, or by ``"account"`` for the
    registry's holders in the ``account`` split."""
    if by == "account":
        return _by_part(account_holders(frame).with_columns(account_part_expr(n)).collect(), n)
    return _by_part(frame.with_columns(context_part_expr(n)).collect(), n)


def near_pieces(piece: pl.DataFrame, columns: frozenset[str], n: int) -> list[pl.DataFrame]:
    """One roster piece's rows sent to the parts of their near-duplicate blocks."""
    return _by_part(near_parts(piece.lazy(), columns, n).collect(), n)


def pick(pieces: Sequence[pl.DataFrame], k: int) -> pl.DataFrame:
    """Part ``k`` of a cut piece (a task of its own, so only that part travels to where it is needed)."""
    return pieces[k]


def concat(frames: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """One part of a split, gathered from the cuts of every piece: the end of the shuffle."""
    return pl.concat(frames, how="vertical", rechunk=False)


def split_stage(
    rows: pl.DataFrame,
    context: dict[str, pl.DataFrame],
    env: RuleEnv,
    routing: Routing,
    split: Split,
    n: int,
) -> tuple[pl.DataFrame | None, pl.DataFrame, list[pl.DataFrame] | None]:
    """Validate one part of ``split``: its roster rows and its context frames.

    Returns:
        The ranks (main split only), the issues, and for the ``account`` split the handed-over keys cut by account.
    """
    frames = {name: frame.lazy() for name, frame in context.items()}
    part_env = evolve(env, context=part_context(env.context, frames)) if frames else env
    main = split == routing.main
    ranks, issues, keys = run_part(
        rows.lazy(), part_env, routing.splits[split], main=main, handover=routing.handover if main else ()
    )
    cut = None if keys is None else _by_part(keys.with_columns(account_part_expr(n)), n)
    return ranks, issues, cut


def item(output: Sequence[Any], k: int) -> Any:
    """Element ``k`` of a task's tuple (so that only it travels)."""
    return output[k]


def account_stage(
    keys: pl.DataFrame, holders: pl.DataFrame | None, env: RuleEnv, rules: Sequence[Rule]
) -> pl.DataFrame:
    """The ``account`` rules over one part of the split by account."""
    return account_issues(keys.lazy(), None if holders is None else holders.lazy(), env, rules)


def near_stage(rows: pl.DataFrame, env: RuleEnv, k: int, n: int) -> pl.DataFrame:
    """The near-duplicate pairs of the blocks of part ``k``."""
    return near_part_pairs(rows.lazy(), env, k, n)


def amount_total(piece: pl.DataFrame) -> int:
    """The sum of a piece's ``amount_fen`` (nulls left out), for the report's roster total."""
    return int(piece["amount_fen"].sum() or 0)


def rows_with_ids(piece: pl.DataFrame, row_ids: pl.Series) -> pl.DataFrame:
    """The rows of a piece whose ``row_id`` is in ``row_ids`` (the examples' rows)."""
    return piece.filter(pl.col("row_id").is_in(row_ids.implode()))
