"""Duplicates against the payment ledger: the same payment made twice, or two mutually exclusive items at once.

The ledger (``id_number, item, period, amount_fen, status``) holds one row per payment made or in flight, with its
current status. A payment counts for the period validated when its own period covers a day of it (a quarterly
payment counts against each of its months, and a month against the quarter it lies in), and when its status is
``paid`` or ``sent`` (sent and not failed yet); ``failed``, ``returned`` and ``reissued`` rows do not count, so a
row whose earlier payment failed and was returned may be paid again. Both rules are left joins on the integer ID
key against the ledger reduced to one row per person.
"""

from __future__ import annotations

import polars as pl

from yikatong.rules._keys import ID_KEY, cached, id_key_expr
from yikatong.rules._rule import Derivation, Finding, Rule, RuleEnv

__all__ = ["COUNTING_STATUSES", "RULES", "exclusive_items", "period_bounds"]

COUNTING_STATUSES: tuple[str, ...] = ("paid", "sent")
"""Ledger statuses that mean the money went, or is going, to the person."""


def period_bounds(label: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """First and last day of canonical period labels (``2026-11``, ``2026-Q4``, ``2026``, ``2026-11-27``), as
    expressions; null for a label of no known form."""
    year = label.str.slice(0, 4).cast(pl.Int32, strict=False)
    is_month = label.str.contains(r"^\d{4}-\d{2}$")
    is_quarter = label.str.contains(r"^\d{4}-Q[1-4]$")
    is_year = label.str.contains(r"^\d{4}$")
    is_day = label.str.contains(r"^\d{4}-\d{2}-\d{2}$")
    month = (
        pl.when(is_month | is_day)
        .then(label.str.slice(5, 2).cast(pl.Int32, strict=False))
        .when(is_quarter)
        .then(label.str.slice(6, 1).cast(pl.Int32, strict=False) * 3 - 2)
        .when(is_year)
        .then(pl.lit(1, pl.Int32))
    )
    day = pl.when(is_day).then(label.str.slice(8, 2).cast(pl.Int32, strict=False)).otherwise(pl.lit(1, pl.Int32))
    start = pl.date(year, month, day)
    span = (
        pl.when(is_month)
        .then(pl.lit("1mo"))
        .when(is_quarter)
        .then(pl.lit("3mo"))
        .when(is_year)
        .then(pl.lit("1y"))
        .otherwise(pl.lit("1d"))
    )
    end = start.dt.offset_by(span).dt.offset_by("-1d")
    return start, end


def _yuan(fen: pl.Expr) -> pl.Expr:
    return pl.concat_str((fen // 100).cast(pl.String), pl.lit("."), (fen % 100).cast(pl.String).str.zfill(2))


def _ledger(env: RuleEnv) -> pl.LazyFrame:
    assert env.context.ledger is not None  # the rules declare the ledger input
    return env.context.ledger.filter(pl.col("status").is_in(COUNTING_STATUSES)).with_columns(
        id_key_expr(pl.col("id_number")).alias("_id_key")
    )


def _overlapping(env: RuleEnv) -> pl.Expr:
    """Ledger rows whose period covers at least one day of the period validated: a quarter overlaps its three
    months, a year its twelve, a one-off payment the period it falls in."""
    start, end = period_bounds(pl.col("period"))
    return (start <= pl.lit(env.period.end)) & (end >= pl.lit(env.period.start))


def _join_already_paid(lf: pl.LazyFrame, env: RuleEnv) -> pl.LazyFrame:
    same = (
        _ledger(env)
        .filter((pl.col("item") == env.item.code) & _overlapping(env))
        .group_by("_id_key")
        .agg(
            pl.concat_str(pl.col("period"), pl.lit(" already "), pl.col("status"))
            .unique()
            .sort()
            .str.join("; ")
            .alias("_paid_what"),
            pl.col("amount_fen").sum().alias("_paid_fen"),
            pl.len().alias("_paid_count"),
        )
    )
    return lf.join(same, on="_id_key", how="left", maintain_order="left")


def exclusive_items(env: RuleEnv) -> tuple[str, ...]:
    """Items exclusive with this one: its own ``exclusive_with``, plus (when the catalogue is supplied) every item
    that names this one in its ``exclusive_with`` — exclusion goes both ways even if only one side declares it."""
    codes = list(env.item.exclusive_with)
    if env.context.catalog is not None:
        codes.extend(other.code for other in env.context.catalog if env.item.code in other.exclusive_with)
    return tuple(dict.fromkeys(codes))


def _join_exclusive(lf: pl.LazyFrame, env: RuleEnv) -> pl.LazyFrame:
    other = (
        _ledger(env)
        .filter(pl.col("item").is_in(exclusive_items(env)))
        .filter(_overlapping(env))
        .select(
            "_id_key",
            pl.concat_str(
                pl.col("item"), pl.lit(" "), pl.col("period"), pl.lit(" ("), pl.col("status"), pl.lit(")")
            ).alias("_what"),
        )
        .group_by("_id_key")
        .agg(pl.col("_what").unique().sort().str.join("; ").alias("_exclusive_paid"))
    )
    return lf.join(other, on="_id_key", how="left", maintain_order="left")


ALREADY_PAID_JOIN = Derivation(name="ledger_already_paid", apply=cached(_join_already_paid), after=(ID_KEY,))
EXCLUSIVE_JOIN = Derivation(name="ledger_exclusive", apply=cached(_join_exclusive), after=(ID_KEY,))


def _already_paid(env: RuleEnv) -> Finding:
    return Finding(
        hit=pl.col("_paid_count") > 0,
        evidence=pl.concat_str(
            pl.lit(f"ledger: {env.item.code} "),
            pl.col("_paid_what"),
            pl.lit(", "),
            _yuan(pl.col("_paid_fen")),
            pl.lit(" yuan"),
        ),
    )


def _exclusive(env: RuleEnv) -> Finding:
    return Finding(
        hit=pl.col("_exclusive_paid").is_not_null(),
        evidence=pl.concat_str(pl.lit("ledger: also receives "), pl.col("_exclusive_paid")),
    )


def _has_exclusive(env: RuleEnv) -> str | None:
    return None if exclusive_items(env) else f"item {env.item.code} has no mutually exclusive item"


RULES: tuple[Rule, ...] = (
    Rule(
        code="DUP_ALREADY_PAID",
        family="duplicates",
        severity="block",
        message_zh="该人员本项目本期已发放（或已发送银行且未失败），不得重复发放",
        message_en="already paid (or sent and not failed) for this item and period in an earlier batch",
        build=_already_paid,
        columns=("id_number",),
        inputs=("ledger",),
        derivations=(ALREADY_PAID_JOIN,),
        key="person",
    ),
    Rule(
        code="DUP_EXCLUSIVE_ITEMS",
        family="duplicates",
        severity="block",
        message_zh="该人员本期已享受与本项目互斥的补贴项目",
        message_en="already receives, for this period, an item the catalogue marks mutually exclusive",
        build=_exclusive,
        columns=("id_number",),
        inputs=("ledger",),
        derivations=(EXCLUSIVE_JOIN,),
        applies=_has_exclusive,
        key="person",
    ),
)
