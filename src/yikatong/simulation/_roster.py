"""Small synthetic worlds for the life-cycle simulation: people, their one-card accounts, rosters with defects.

Everything is built with Polars expressions keyed by seeded hashes, so a seed gives the same world and no row is
built by a Python loop. IDs carry valid GB 11643 check digits and card numbers valid Luhn digits unless a defect
says otherwise. This is deliberately small: [`yikatong.synth`][] is the full generator for benchmarks.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Final

import polars as pl

from yikatong.schema import ROSTER_SCHEMA

__all__ = ["DEFECTS", "bank_book", "population", "registry_snapshot", "roster"]

_REGIONS: Final = ("500241", "500242", "500243", "110105", "440524")
_TOWNS: Final = ("中和街道", "清溪场镇", "洪安镇", "梅江镇", "石耶镇")
_VILLAGES: Final = ("新华村", "红光村", "和平社区", "边城村", "平马村", "大寨村")
_SURNAMES: Final = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗彭田冉石"
_GIVEN: Final = "国华建明秀英玉兰永志德福春桂芳金海平红云清光荣"
_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK: Final = dict(enumerate("10X98765432"))
_EPOCH: Final = dt.date(1920, 1, 1)
_BIRTH_DAYS: Final = (dt.date(1945, 12, 31) - _EPOCH).days

DEFECTS: Final[tuple[str, ...]] = (
    "id_checksum",
    "amount_wrong",
    "duplicate_row",
    "account_mismatch",
    "sex_mismatch",
    "unregistered",
)
"""Defects a roster row may carry; each makes the rule engine block or flag the row for review."""


def _draw(key: pl.Expr, rng: random.Random, modulo: int) -> pl.Expr:
    return (key.hash(seed=rng.getrandbits(63)) % modulo).cast(pl.Int64)


def _pick(options: str | tuple[str, ...], index: pl.Expr) -> pl.Expr:
    return index.replace_strict(dict(enumerate(options)), return_dtype=pl.String)


def _id_check(body: pl.Expr) -> pl.Expr:
    total = pl.sum_horizontal([body.str.slice(i, 1).cast(pl.Int64) * w for i, w in enumerate(_WEIGHTS)])
    return (total % 11).replace_strict(_CHECK, return_dtype=pl.String)


def _luhn_digit(body: pl.Expr, length: int) -> pl.Expr:
    total = pl.lit(0, pl.Int64)
    for i in range(length):
        d = body.str.slice(length - 1 - i, 1).cast(pl.Int64)
        if i % 2 == 0:  # the rightmost body digit sits next to the check digit, so it is doubled
            d = pl.when(d * 2 > 9).then(d * 2 - 9).otherwise(d * 2)
        total = total + d
    return ((10 - total % 10) % 10).cast(pl.String)


def population(n: int, rng: random.Random) -> pl.DataFrame:
    """``n`` distinct people (fewer if IDs collide): ``id_number``, ``name``, ``sex``, ``account``, ``town``,
    ``village``, all born 1920–1945 so every item's age rule admits them."""
    k = pl.int_range(0, n, dtype=pl.Int64)
    base = pl.select(k.alias("k"))
    people = base.with_columns(
        region=_pick(_REGIONS, _draw(pl.col("k"), rng, len(_REGIONS))),
        birth=(pl.lit(_EPOCH) + pl.duration(days=_draw(pl.col("k"), rng, _BIRTH_DAYS))).dt.strftime("%Y%m%d"),
        seq=_draw(pl.col("k"), rng, 998) + 1,
        acct=(_draw(pl.col("k"), rng, 10**12)).cast(pl.String).str.zfill(12),
        town_i=_draw(pl.col("k"), rng, len(_TOWNS)),
        village=_pick(_VILLAGES, _draw(pl.col("k"), rng, len(_VILLAGES))),
        surname=_pick(_SURNAMES, _draw(pl.col("k"), rng, len(_SURNAMES))),
        g1=_pick(_GIVEN, _draw(pl.col("k"), rng, len(_GIVEN))),
        g2=_pick(_GIVEN, _draw(pl.col("k"), rng, len(_GIVEN))),
        two=_draw(pl.col("k"), rng, 3) > 0,
    ).with_columns(body=pl.concat_str("region", "birth", pl.col("seq").cast(pl.String).str.zfill(3)))
    acct_body = pl.concat_str(pl.lit("621700"), pl.col("acct"))
    return (
        people.select(
            pl.concat_str("body", _id_check(pl.col("body"))).alias("id_number"),
            pl.concat_str("surname", "g1", pl.when("two").then("g2").otherwise(pl.lit(""))).alias("name"),
            pl.when(pl.col("seq") % 2 == 1).then(pl.lit("男")).otherwise(pl.lit("女")).alias("sex"),
            pl.concat_str(acct_body, _luhn_digit(acct_body, 18)).alias("account"),
            _pick(_TOWNS, pl.col("town_i")).alias("town"),
            pl.col("village"),
        )
        .unique(subset="id_number", keep="first", maintain_order=True)
        .unique(subset="account", keep="first", maintain_order=True)
    )


def registry_snapshot(
    people: pl.DataFrame, rng: random.Random, *, inactive_rate: float = 0.02, second_bank: str | None = None
) -> pl.DataFrame:
    """The one-card registry for ``people``: ``id_number, account, account_kind, bank, holder_name, status``;
    a small share of accounts frozen or closed. Accounts are at the rural commercial bank (``CQRCB``); with
    ``second_bank``, about 40% of them are at that bank instead."""
    u = (pl.col("id_number").hash(seed=rng.getrandbits(63)) % 10_000).cast(pl.Float64) / 10_000
    return people.select(
        "id_number",
        "account",
        pl.lit("card").alias("account_kind"),
        pl.when(pl.lit(second_bank is not None) & (u >= 0.6))
        .then(pl.lit(second_bank, pl.String))
        .otherwise(pl.lit("CQRCB"))
        .alias("bank"),
        pl.col("name").alias("holder_name"),
        pl.when(u < inactive_rate / 2)
        .then(pl.lit("frozen"))
        .when(u < inactive_rate)
        .then(pl.lit("closed"))
        .otherwise(pl.lit("active"))
        .alias("status"),
        "town",
    )


def bank_book(registry: pl.DataFrame, rng: random.Random, *, drift_rate: float = 0.02) -> pl.DataFrame:
    """The paying bank's own account book for the registry's accounts: mostly the same, but a few accounts were
    closed or frozen at the bank, or are held under another name, since the registry last heard of them."""
    u = (pl.col("account").hash(seed=rng.getrandbits(63)) % 10_000).cast(pl.Float64) / 10_000
    third = drift_rate / 3
    return registry.select(
        "account",
        "id_number",
        pl.when(u < third)
        .then(pl.concat_str(pl.col("holder_name"), pl.lit("某")))
        .otherwise("holder_name")
        .alias("name"),
        pl.when(u.is_between(third, 2 * third, closed="left"))
        .then(pl.lit("closed"))
        .when(u.is_between(2 * third, drift_rate, closed="left"))
        .then(pl.lit("frozen"))
        .otherwise("status")
        .alias("status"),
    )


def roster(
    people: pl.DataFrame,
    rows: int,
    rng: random.Random,
    *,
    amount_fen: int,
    item: str,
    defect_rate: float = 0.08,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A roster of ``rows`` rows for ``item`` drawn from ``people``, with defects at ``defect_rate``.

    Returns:
        The roster in [`ROSTER_SCHEMA`][yikatong.schema.ROSTER_SCHEMA], and the truth: ``row_id, defect`` (null when
        clean).
    """
    take = min(rows, people.height)
    picked = people.sample(n=take, seed=rng.getrandbits(32), shuffle=True).with_row_index("row_id", offset=1)
    picked = picked.with_columns(pl.col("row_id").cast(pl.Int64))
    u = (pl.col("row_id").hash(seed=rng.getrandbits(63)) % 1_000_000).cast(pl.Float64) / 1_000_000
    kind = _draw(pl.col("row_id"), rng, len(DEFECTS))
    marked = picked.with_columns(
        defect=pl.when(u < defect_rate).then(_pick(DEFECTS, kind)).otherwise(pl.lit(None, pl.String))
    )
    d = pl.col("defect")
    last = pl.col("id_number").str.slice(17, 1)
    wrong_check = pl.when(last == "0").then(pl.lit("1")).otherwise(pl.lit("0"))
    unregistered = pl.concat_str(
        pl.col("id_number").str.slice(0, 14), pl.lit("99"), pl.col("id_number").str.slice(16, 1)
    )
    out = marked.with_columns(
        id_number=pl.when(d == "id_checksum")
        .then(pl.concat_str(pl.col("id_number").str.slice(0, 17), wrong_check))
        .when(d == "unregistered")
        .then(pl.concat_str(unregistered, _id_check(unregistered)))
        .otherwise("id_number"),
        account=pl.when(d == "account_mismatch")
        .then(pl.concat_str(pl.col("account").str.slice(0, 10), pl.col("account").str.slice(10).str.reverse()))
        .otherwise("account"),
        sex=pl.when(d == "sex_mismatch")
        .then(pl.when(pl.col("sex") == "男").then(pl.lit("女")).otherwise(pl.lit("男")))
        .otherwise("sex"),
        amount_fen=pl.when(d == "amount_wrong").then(pl.lit(amount_fen + 1000)).otherwise(pl.lit(amount_fen)),
    )
    dup = out.filter(d == "duplicate_row").with_columns(defect=pl.lit("duplicate_row"))
    full = pl.concat([out.with_columns(pl.when(d == "duplicate_row").then(None).otherwise(d).alias("defect")), dup])
    full = full.with_columns(row_id=pl.int_range(1, full.height + 1, dtype=pl.Int64))
    frame = full.select(
        "row_id",
        (pl.col("row_id") + 1).alias("source_line"),
        "name",
        "id_number",
        "sex",
        "account",
        pl.col("amount_fen").cast(pl.Int64),
        pl.concat_str(
            (pl.col("amount_fen") // 100).cast(pl.String),
            pl.lit("."),
            (pl.col("amount_fen") % 100).cast(pl.String).str.zfill(2),
        ).alias("amount_raw"),
        pl.lit(None, pl.Decimal(38, 4)).alias("quantity"),
        pl.lit(None, pl.String).alias("category"),
        "town",
        "village",
        pl.lit(None, pl.String).alias("household_head_id"),
        pl.lit(item).alias("item"),
        *[pl.lit(False).alias(c) for c in ROSTER_SCHEMA if c.startswith("flag_")],
    ).cast(ROSTER_SCHEMA)  # type: ignore[arg-type]
    return frame, full.select("row_id", "defect")
