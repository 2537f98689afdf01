"""The people behind the rows: sex, birth date, region code, name, ID number, household, village and accounts.

Everything is a column expression over the row index. IDs are unique by construction: the 3-digit sequence is the
person's rank among everybody (roster and list-only people together) who shares region, birth date and sex, doubled
and made odd for men. Clean sequences stay below 500; a near-duplicate's second ID adds 500 to its twin's, so it can
never equal anybody's real ID.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Final

import polars as pl

from yikatong.period import Period
from yikatong.synth._frame import patch, patch_many
from yikatong.synth._ids import BANKS, CHECK_CHARS, account_number, check_index, id_body, id_string
from yikatong.synth._names import person_names, uyghur_names, with_rare_char
from yikatong.synth._places import (
    NEIGHBOURS,
    OTHER_CHONGQING,
    XIUSHAN_CURRENT,
    XIUSHAN_HISTORICAL,
    national_codes,
    unknown_region_map,
    village_table,
)
from yikatong.synth._rng import Rng, take
from yikatong.synth._spec import ItemSpec, by_item, epoch_days

__all__ = [
    "add_accounts",
    "add_birth_and_sex",
    "add_households",
    "add_identity",
    "add_names",
    "add_regions",
    "assign_sequences",
    "others_frame",
]

_DAYS_PER_YEAR: Final = 365.2425
_XIUSHAN_POPULATION: Final = 650_000
_SEQ_CAPACITY: Final = 250
# People drawn from the neighbouring counties: 6% of a roster of up to 12.5M people (rows and list-only people),
# a fixed number beyond, so a province-scale roster does not overflow the neighbours' sequence numbers either.
_NEIGHBOUR_PEOPLE: Final = 750_000
_ACCOUNT_KINDS: Final = ("card", "passbook", "social_security")


def _sequence_table() -> pl.Series:
    """Sequence numbers in the order they are handed out, per sex (women first, then men; 250 each).

    The first 25 of each sex differ pairwise in at least two digits (first digit ``a``, third digit ``2j`` plus the
    sex bit, second digit ``a + 2j``), so people who share region, birth date and sex do not get IDs one digit
    apart — that is the mark of a near-duplicate. All stay below 500; a near-duplicate's second ID adds 500.
    """
    table: list[int] = []
    for male in (0, 1):
        first = [a * 100 + (a + 2 * j) % 10 * 10 + 2 * j + male for a in range(5) for j in range(5)]
        rest = [v for v in range(male, 500, 2) if v not in set(first)]
        table.extend(first + rest)
    return pl.Series(table, dtype=pl.Int64)


_SEQUENCES: Final = _sequence_table()
_CHONGQING_CAPACITY: Final = 8_000_000


def add_birth_and_sex(
    frame: pl.DataFrame, specs: Sequence[ItemSpec], periods: Sequence[Period], rng: Rng
) -> pl.DataFrame:
    """Add ``_male`` and ``_birth`` (epoch days) with the age mix each item needs for its period (``periods``, one
    per item of ``specs``)."""
    start = by_item([epoch_days(p.start) for p in periods], pl.Int64())
    bounds = [spec.birth_bounds(p) for spec, p in zip(specs, periods, strict=True)]
    lo = by_item([b[0] for b in bounds], pl.Int64())
    hi = by_item([b[1] for b in bounds], pl.Int64())
    age_min = by_item([spec.item.age_min if spec.item.age_min is not None else -1 for spec in specs], pl.Int64())
    has_max = by_item([spec.item.age_max is not None for spec in specs], pl.Boolean())
    household = by_item([spec.household for spec in specs], pl.Boolean())
    u = rng.uniform("birth.age")
    # Older than the minimum age by a truncated exponential (most recipients of an old-age item are in their
    # eighties, a few over a hundred), or by up to 30 years; births counted back from the latest eligible day.
    span = (105 - age_min).clip(lower_bound=1).cast(pl.Float64)
    extra = -5.5 * (1 - u * (1 - (-span / 5.5).exp())).log()
    above = pl.when(age_min >= 60).then(extra).otherwise(30 * u)
    general = (
        pl.when(household)
        .then(25 + 60 * u)
        .when(rng.uniform("birth.child") < 0.08)
        .then(1 + 17 * u)
        .otherwise(18 + 72 * u)
    )
    clean = (
        pl.when(age_min >= 0)
        .then(hi - (above * _DAYS_PER_YEAR).floor().cast(pl.Int64))
        .otherwise(start - (general * _DAYS_PER_YEAR).floor().cast(pl.Int64))
        .clip(lo, hi)
    )
    young = (
        hi + 1 + (rng.uniform("birth.young") * (pl.min_horizontal(hi + 20 * 365, start - 2) - hi - 1)).cast(pl.Int64)
    )
    old = lo - 1 - (rng.uniform("birth.old") * 3650).cast(pl.Int64)
    ineligible = pl.when(age_min >= 0).then(young).when(has_max).then(old).otherwise(clean)
    kind = pl.col("_kind")
    birth = pl.when(kind == "AGE_NOT_ELIGIBLE").then(ineligible).otherwise(clean)
    first_gen = birth.clip(epoch_days(dt.date(1900, 1, 1)), epoch_days(dt.date(1999, 12, 31)))
    birth = pl.when(kind == "ID_15_DIGIT").then(first_gen).otherwise(birth)
    female_share = pl.when(age_min >= 60).then(0.58).otherwise(0.5)
    return frame.with_columns(
        (rng.uniform("sex") >= female_share).alias("_male"),
        birth.cast(pl.Int32).alias("_birth"),
    )


def add_regions(frame: pl.DataFrame, rng: Rng, population: int) -> pl.DataFrame:
    """Add ``_region``: Xiushan's codes for most people of a county-sized roster, neighbours, then other counties.

    Xiushan's share shrinks as the population grows beyond the county's, and the neighbours' beyond 12.5M people,
    so a province-scale roster spreads over Chongqing's other districts (and beyond) instead of overflowing a
    county's sequence numbers.
    """
    xiushan = min(0.9, _XIUSHAN_POPULATION / max(population, 1))
    neighbours = min(0.06, 1.0 - xiushan, _NEIGHBOUR_PEOPLE / max(population, 1))
    group = rng.choice("region.group", [xiushan, neighbours, max(1.0 - xiushan - neighbours, 0.0)])
    year = pl.col("_birth").cast(pl.Date).dt.year()
    home = (
        pl.when((year <= 1996) & (rng.uniform("region.historical") < 0.6))
        .then(pl.lit(XIUSHAN_HISTORICAL))
        .otherwise(pl.lit(XIUSHAN_CURRENT))
    )
    n_index = rng.choice("region.neighbour", [w for _, w, _ in NEIGHBOURS])
    n_code = pl.lit(pl.Series([c for c, _, _ in NEIGHBOURS], dtype=pl.Int64)).gather(n_index)
    n_last = pl.lit(pl.Series([y if y is not None else 9999 for _, _, y in NEIGHBOURS], dtype=pl.Int64)).gather(n_index)
    neighbour = pl.when(year <= n_last).then(n_code).otherwise(pl.lit(XIUSHAN_CURRENT))
    # Beyond what Chongqing's counties can hold with unique numbers, people come from the whole country.
    rest = OTHER_CHONGQING if population <= _CHONGQING_CAPACITY else (*OTHER_CHONGQING, *national_codes())
    other = pl.lit(pl.Series(rest, dtype=pl.Int64)).gather(rng.integers("region.other", len(rest)))
    region = pl.when(group == 0).then(home).when(group == 1).then(neighbour).otherwise(other)
    return frame.with_columns(region.cast(pl.Int64).alias("_region"))


def add_names(frame: pl.DataFrame, rng: Rng, *, minority: pl.Expr, rare: pl.Expr) -> pl.DataFrame:
    """Add ``_name``: the person's true name (as the household register and the bank hold it).

    Rows where ``minority`` holds get a Uyghur name with ``·``; rows where ``rare`` holds (and not ``minority``) a
    last character GBK cannot encode.
    """
    year = pl.col("_birth").cast(pl.Date).dt.year()
    sex = pl.when(pl.col("_male")).then(pl.lit("男")).otherwise(pl.lit("女"))
    frame = frame.with_columns(
        person_names(rng, birth_year=year, sex=sex).alias("_name"),
        minority.fill_null(False).alias("_minority"),
        (rare.fill_null(False) & ~minority.fill_null(False)).alias("_rare"),
    )
    frame = patch(frame, "_name", pl.col("_minority"), uyghur_names(rng))
    frame = patch(frame, "_name", pl.col("_rare"), with_rare_char(rng, pl.col("_name")))
    return frame.drop("_minority", "_rare")


def others_frame(count: int, period: Period, rng: Rng, population: int) -> pl.DataFrame:
    """People who are on reference lists or in the registry but not on the roster (all ages)."""
    start = epoch_days(period.start)
    frame = pl.select(pl.int_range(count, dtype=pl.Int64).alias("_o"))
    frame = frame.with_columns(
        (rng.uniform("sex") >= 0.5).alias("_male"),
        (start - 200 - (rng.uniform("birth") * 95 * _DAYS_PER_YEAR).cast(pl.Int64)).cast(pl.Int32).alias("_birth"),
    )
    frame = add_regions(frame, rng, population)
    return add_names(frame, rng, minority=rng.uniform("minority") < 0.003, rare=pl.lit(False))


def _ymd(birth: pl.Expr) -> pl.Expr:
    day = birth.cast(pl.Date)
    return (day.dt.year().cast(pl.Int64) * 10000 + day.dt.month().cast(pl.Int64) * 100 + day.dt.day()).cast(pl.Int64)


def _all_regions() -> tuple[int, ...]:
    return (XIUSHAN_CURRENT, XIUSHAN_HISTORICAL, *(c for c, _, _ in NEIGHBOURS), *OTHER_CHONGQING, *national_codes())


def assign_sequences(
    roster: pl.DataFrame, others: pl.DataFrame, *, part: int = 0, parts: int = 1
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Add ``_body`` (the 17 leading digits of the true ID) to both frames, unique across both.

    The person's rank among the people sharing region, birth date and sex (one sort, no grouping; the row order is
    itself random with respect to region and birth date) picks the sequence from ``_sequence_table``.

    A roster generated in ``parts`` separate calls uses every ``parts``-th sequence, offset by ``part``, so IDs
    of different parts never coincide.

    Raises:
        ValueError: when more people share a region, birth date and sex than sequence numbers exist.
    """
    # One Int64 sort key: region index (12 bits), birth day (17 bits), sex (1 bit), then the person's position (31
    # bits) so equal people keep their order and the result is deterministic.
    regions = _all_regions()
    group = (
        pl.col("_region").replace_strict(regions, list(range(len(regions))), return_dtype=pl.Int64) * (1 << 17)
        + (pl.col("_birth").cast(pl.Int64) + 40_000)
    ) * 2 + pl.col("_male").cast(pl.Int64)
    both = pl.concat(
        [
            roster.select(group.alias("_g"), _ymd(pl.col("_birth")).alias("_ymd"), "_region", "_male"),
            others.select(group.alias("_g"), _ymd(pl.col("_birth")).alias("_ymd"), "_region", "_male"),
        ]
    )
    keys = both.select(pl.col("_g") * (1 << 31) + pl.int_range(pl.len(), dtype=pl.Int64)).to_series()
    order = keys.arg_sort().cast(pl.Int64)
    position = pl.int_range(pl.len(), dtype=pl.Int64)
    run_start = pl.when(pl.col("_g") != pl.col("_g").shift(1)).then(position).forward_fill().fill_null(0)
    ranked = (
        pl.DataFrame({"_g": keys.gather(order) // (1 << 31)}).select((position - run_start).alias("_rank")).to_series()
    )
    if ranked.len() and int(ranked.max()) * parts + part >= _SEQ_CAPACITY:  # type: ignore[arg-type]
        raise ValueError("too many people share a region code, birth date and sex for unique ID numbers")
    rank = pl.select(pl.repeat(0, keys.len(), dtype=pl.Int64)).to_series().scatter(order, ranked * parts + part)
    body = both.select(
        id_body(
            pl.col("_region"),
            pl.col("_ymd"),
            pl.lit(_SEQUENCES).gather(pl.col("_male").cast(pl.Int64) * _SEQ_CAPACITY + pl.lit(rank)),
        )
    ).to_series()
    return (
        roster.with_columns(body.slice(0, roster.height).alias("_body")),
        others.with_columns(body.slice(roster.height).alias("_body")),
    )


def add_identity(frame: pl.DataFrame, rng: Rng) -> pl.DataFrame:
    """Add ``_id`` (the person's ID as every system holds it) and ``_id_clean`` (its valid form before any damage).

    ``ID_CHECKSUM``, ``ID_BIRTH_DATE`` and ``ID_REGION_UNKNOWN`` are properties of the person's number itself (the
    same wrong number is in the registry and on the lists); a near-duplicate gets its twin's number with 500 added
    to the sequence and the check character recomputed.
    """
    kind = pl.col("_kind")
    body = pl.col("_body")
    bad_date = pl.when(rng.uniform("id.birth_variant") < 0.5).then(body + 1200 * 1000).otherwise(body + 31 * 1000)
    unknown = (body // 10**11).replace_strict(unknown_region_map(), default=None, return_dtype=pl.Int64)
    frame = patch_many(
        frame,
        "_body",
        [
            (kind == "ID_BIRTH_DATE", bad_date),
            (kind == "ID_REGION_UNKNOWN", unknown * 10**11 + body % 10**11),
            (kind == "DUP_NEAR", body + 500),
        ],
    )
    frame = frame.with_columns(id_string(body).alias("_id"))
    wrong = take(CHECK_CHARS, (check_index(body) + 1 + rng.integers("id.wrong_check", 10)) % 11)
    return patch(frame, "_id", kind == "ID_CHECKSUM", pl.concat_str(body.cast(pl.String).str.zfill(17), wrong))


def add_households(frame: pl.DataFrame, specs: Sequence[ItemSpec], rng: Rng) -> pl.DataFrame:
    """Add ``_head`` (household head's ID), ``_town`` and ``_village``.

    A household is a run of consecutive rows (an elderly couple, a parent and a grown child); for per-household
    items every row is its own household's head. Villages follow the row order, so the roster comes grouped by town
    and village as departments export it.
    """
    starts = by_item([spec.start for spec in specs], pl.Int64())
    sizes = by_item([spec.rows for spec in specs], pl.Int64())
    household = by_item([spec.household for spec in specs], pl.Boolean())
    is_head = household | (pl.col("_i") == starts) | (rng.uniform("household") < 0.72)
    villages = village_table()
    fraction = (pl.col("_i") - starts).cast(pl.Float64).add(0.5) / sizes.cast(pl.Float64)
    village_index = pl.lit(villages["cum"]).search_sorted(fraction, side="right").clip(upper_bound=villages.height - 1)
    frame = frame.with_columns(
        pl.when(is_head).then(pl.col("_id")).forward_fill().alias("_head"),
        pl.when(is_head).then(village_index.cast(pl.Int64)).forward_fill().alias("_vidx"),
    )
    frame = frame.with_columns(
        take(tuple(villages["town"].to_list()), pl.col("_vidx")).alias("_town"),
        take(tuple(villages["village"].to_list()), pl.col("_vidx")).alias("_village"),
    ).drop("_vidx")
    return frame.with_columns(pl.when(household).then(pl.col("_id")).otherwise(pl.col("_head")).alias("_head"))


def add_accounts(
    frame: pl.DataFrame,
    rng: Rng,
    *,
    serial: pl.Expr,
    alt_serial: pl.Expr | None = None,
    force_card: pl.Expr | None = None,
) -> pl.DataFrame:
    """Add ``_acct_kind``, ``_bank`` (name), ``_acct`` (the person's one-card account, Luhn-valid) and, when
    ``alt_serial`` is given, ``_acct_alt`` (another valid account of the same kind and bank). Rows where
    ``force_card`` is true get a bank card (the kind the Luhn check applies to)."""
    kind = take(_ACCOUNT_KINDS, rng.choice("account.kind", [0.86, 0.09, 0.05]))
    if force_card is not None:
        kind = pl.when(force_card).then(pl.lit("card")).otherwise(kind)
    bank = rng.choice("account.bank", [b[1] for b in BANKS])
    frame = frame.with_columns(kind.alias("_acct_kind"), bank.alias("_bank_i"))
    columns = [account_number(pl.col("_acct_kind"), pl.col("_bank_i"), serial).alias("_acct")]
    if alt_serial is not None:
        columns.append(account_number(pl.col("_acct_kind"), pl.col("_bank_i"), alt_serial).alias("_acct_alt"))
    return frame.with_columns(*columns, take(tuple(b[0] for b in BANKS), pl.col("_bank_i")).alias("_bank")).drop(
        "_bank_i"
    )
