"""Benchmark the issue-3 rule set (identity, amounts, ``DUP_IN_BATCH``) against the same checks written row by row.

Run::

    .venv/bin/python -m benchmarks.bench_rules --rows 10000000 [--baseline-rows 200000] [--engine streaming]
        [--source numpy|synth]

Both run in the same process on the same synthetic roster (item ``GLJT`` of the example catalogue: fixed
100.00 yuan, age 80 and over, a cap per period; declared count and total given). The vectorized engine validates
all ``--rows`` rows; the row-wise baseline (:mod:`benchmarks.baseline_rowwise`: python-stdnum plus plain loops and
dicts) validates the first ``--baseline-rows`` rows and is reported in rows per second, which is how the speed-up is
computed. Converting the sample to Python dicts is not timed. The script also runs the engine on that same sample
and checks that both find exactly the same (row, code) pairs.

The roster carries realistic defects at known rates (wrong check characters, 15-digit IDs, impossible birth dates,
unknown region codes, sex mismatches, under-age payees, bad names, wrong or missing amounts, duplicated persons).
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import polars as pl
import psutil

from benchmarks.baseline_rowwise import validate_rows
from yikatong.catalog import Catalog
from yikatong.period import Period
from yikatong.regions import region_codes
from yikatong.rules import Rule, ValidationContext, amounts, duplicates, identity, ingestion, validate
from yikatong.rules._idparse import check_char_expr, check_value_expr

__all__ = ["ISSUE3_RULES", "main", "make_roster"]

ISSUE3_RULES: tuple[Rule, ...] = (*ingestion.RULES, *identity.RULES, *duplicates.RULES, *amounts.RULES)
_SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁冉")
_GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红梅鹏辉波宁建国志海云飞春燕凤琴斌浩东林亮成文")


def _days_to_ymd(days: np.ndarray) -> np.ndarray:
    dates = (np.datetime64("1970-01-01") + days.astype("timedelta64[D]")).astype("datetime64[D]")
    y = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    m = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    d = (dates - dates.astype("datetime64[M]")).astype(np.int64) + 1
    return np.asarray(y * 10000 + m * 100 + d, dtype=np.int64)


def make_roster(rows: int, seed: int = 7) -> pl.DataFrame:
    """A canonical-schema roster of ``rows`` rows for item GLJT with defects at known rates."""
    rng = np.random.default_rng(seed)
    n = rows
    table = region_codes()
    codes = table.filter(pl.col("valid_to").is_null() & (pl.col("region_code") % 100 != 0))["region_code"].to_numpy()
    codes = np.concatenate([codes, [500241, 512330]]).astype(np.int64)  # 512330: historical Xiushan code
    # Every row gets a distinct (region, birth day, sequence) triple, so IDs are unique unless a defect says not.
    idx = rng.permutation(n).astype(np.int64)
    days = 9800  # 1920-01-01 .. 1946-10-31
    region = codes[idx % len(codes)]
    birth = int(np.datetime64("1920-01-01", "D").astype(int)) + (idx // len(codes)) % days
    seq = (idx // (len(codes) * days)) % 1000
    region = np.where(rng.random(n) < 0.002, 123456, region)  # never existed
    under = rng.random(n) < 0.02
    birth = np.where(under, birth + 36500, birth)  # a century later: under 80
    ymd = _days_to_ymd(birth)
    bad_date = rng.random(n) < 0.002
    ymd = np.where(bad_date, (ymd // 10000) * 10000 + 231, ymd)  # 31 February
    body = region * 10**11 + ymd * 10**3 + seq
    surname = rng.integers(0, len(_SURNAMES), n)
    given1 = rng.integers(0, len(_GIVEN), n)
    given2 = np.where(rng.random(n) < 0.7, rng.integers(0, len(_GIVEN), n), -1)
    r = rng.random((8, n))
    frame = pl.DataFrame(
        {
            "body": body,
            "surname": surname,
            "given1": given1,
            "given2": given2,
            "bad_check": r[0] < 0.01,
            "fifteen": r[1] < 0.003,
            "sex_flip": r[2] < 0.005,
            "bad_name": r[3] < 0.003,
            "amount_kind": r[4],
            "dup": r[5] < 0.005,
            "missing_id": r[6] < 0.001,
            "hh": r[7],
        }
    )
    b = pl.col("body")
    check = check_value_expr(b)
    check = pl.when(pl.col("bad_check")).then((check + 1) % 11).otherwise(check).cast(pl.Int8)
    id18 = pl.concat_str(b.cast(pl.String).str.zfill(17), check_char_expr(check))
    id15 = pl.concat_str(
        (b // 10**11).cast(pl.String), (b % 10**9).cast(pl.String).str.zfill(9)
    )  # region + YYMMDD + sequence
    id_number = (
        pl.when(pl.col("missing_id"))
        .then(pl.lit(None, pl.String))
        .when(pl.col("fifteen") & ((b // 10**9) % 100 == 19))
        .then(id15)
        .otherwise(id18)
    )
    male = (b % 2) == 1
    sex = pl.when(male ^ pl.col("sex_flip")).then(pl.lit("男")).otherwise(pl.lit("女"))
    name = pl.concat_str(
        pl.lit(pl.Series(_SURNAMES)).gather(pl.col("surname")),
        pl.lit(pl.Series(_GIVEN)).gather(pl.col("given1")),
        pl.when(pl.col("given2") >= 0)
        .then(pl.lit(pl.Series(_GIVEN)).gather(pl.col("given2").clip(0)))
        .otherwise(pl.lit("")),
        pl.when(pl.col("bad_name")).then(pl.lit("2")).otherwise(pl.lit("")),
    )
    k = pl.col("amount_kind")
    amount = (
        pl.when(k < 0.001)
        .then(pl.lit(None, pl.Int64))
        .when(k < 0.006)
        .then(pl.lit(12000))
        .when(k < 0.0065)
        .then(pl.lit(50000))
        .otherwise(pl.lit(10000))
    )
    roster = frame.select(
        name.alias("name"),
        id_number.alias("id_number"),
        sex.alias("sex"),
        amount.cast(pl.Int64).alias("amount_fen"),
    )
    # Households of one to three consecutive rows; the first member is the head.
    head_of = np.maximum.accumulate(np.where(frame["hh"].to_numpy() < 0.5, np.arange(n), 0))
    roster = roster.with_columns(
        pl.col("id_number").gather(pl.Series(head_of)).alias("household_head_id"),
        pl.when(pl.col("amount_fen").is_null())
        .then(pl.lit(""))
        .otherwise((pl.col("amount_fen") // 100).cast(pl.String) + ".00")
        .alias("amount_raw"),
    )
    # Duplicated persons: copy the ID, name and sex of a random earlier row.
    dup_rows = np.flatnonzero(frame["dup"].to_numpy())
    sources = rng.integers(0, n, len(dup_rows))
    copied = roster[sources].select("name", "id_number", "sex")
    roster = roster.with_columns(pl.Series("_i", np.arange(n))).update(
        copied.with_columns(pl.Series("_i", dup_rows)), on="_i"
    )
    return roster.drop("_i").with_columns(
        pl.int_range(1, n + 1, dtype=pl.Int64).alias("row_id"),
        pl.int_range(2, n + 2, dtype=pl.Int64).alias("source_line"),
        pl.lit(None, pl.Decimal(38, 4)).alias("quantity"),
        pl.lit(None, pl.String).alias("category"),
        pl.lit(None, pl.String).alias("item"),
    )


def _rss_mb() -> float:
    return float(psutil.Process().memory_info().rss) / 2**20


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_mb() -> float:
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024  # kilobytes on Linux


def main(argv: list[str] | None = None) -> int:
    """Generate, validate both ways, compare and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--baseline-rows", type=int, default=200_000)
    parser.add_argument("--engine", choices=("in-memory", "streaming"), default="in-memory")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--source",
        choices=("numpy", "synth"),
        default="numpy",
        help="roster generator: this script's (fast) or yikatong.synth read through read_roster (slower to build)",
    )
    args = parser.parse_args(argv)
    catalog = Catalog.example()
    item = catalog["GLJT"]
    period = Period.parse("2026-11")

    t0 = time.perf_counter()
    if args.source == "synth":
        from yikatong.ingest import read_roster
        from yikatong.synth import generate

        roster = read_roster(generate(args.rows, catalog=catalog, period=period, item="GLJT", seed=args.seed).roster)
    else:
        roster = make_roster(args.rows, args.seed)
    t1 = time.perf_counter()
    total = int(roster["amount_fen"].sum())
    context = ValidationContext(declared_count=roster.height, declared_total_fen=total + 100)
    rss_before = _rss_mb()
    print(
        f"roster: {roster.height:,} rows generated in {t1 - t0:.1f}s; "
        f"RSS {rss_before:,.0f} MB; {psutil.cpu_count()} CPUs"
    )

    c2, t2 = _cpu_s(), time.perf_counter()
    report = validate(roster.lazy(), item=item, period=period, context=context, rules=ISSUE3_RULES, engine=args.engine)
    t3, c3 = time.perf_counter(), _cpu_s()
    vec_seconds = t3 - t2
    vec_rate = roster.height / vec_seconds
    peak_vec = _peak_mb()
    print(
        f"vectorized ({args.engine}): {vec_seconds:.2f}s wall, {c3 - c2:.2f}s CPU, {vec_rate:,.0f} rows/s, "
        f"process peak RSS {peak_vec:,.0f} MB (roster itself ~{roster.estimated_size('mb'):,.0f} MB)"
    )
    print(f"  verdicts {report.counts_by_verdict}; {report.issues.height:,} findings")
    for code, severity, _zh, _en, n in report.counts_by_code.iter_rows():
        print(f"    {code:<26} {severity:<6} {n:>10,}")

    sample = roster.head(args.baseline_rows)
    rows = sample.to_dicts()
    c4, t4 = _cpu_s(), time.perf_counter()
    found, batch = validate_rows(
        rows, item=item, period=period, declared_count=sample.height, declared_total_fen=total + 100
    )
    t5, c5 = time.perf_counter(), _cpu_s()
    base_seconds = t5 - t4
    base_rate = len(rows) / base_seconds
    print(
        f"row-wise baseline (python-stdnum + loops) on the first {len(rows):,} rows: {base_seconds:.2f}s wall, "
        f"{c5 - c4:.2f}s CPU, {base_rate:,.0f} rows/s, process peak RSS {_peak_mb():,.0f} MB"
    )
    per_cpu = (roster.height / (c3 - c2)) / (len(rows) / (c5 - c4))
    print(
        f"speed-up (rows/s, vectorized ÷ row-wise): {vec_rate / base_rate:,.1f}× wall, {per_cpu:,.1f}× per CPU second"
    )

    check = validate(
        sample,
        item=item,
        period=period,
        context=ValidationContext(declared_count=sample.height, declared_total_fen=total + 100),
        rules=ISSUE3_RULES,
    )
    vec_pairs = set(check.issues.filter(pl.col("row_id").is_not_null()).select("row_id", "code").iter_rows())
    base_pairs = {(rows[i]["row_id"], code) for i, codes in enumerate(found) for code in codes}
    same = vec_pairs == base_pairs and batch == check.batch_blocked
    print(
        f"agreement on the sample: {'identical' if same else 'DIFFERENT'} "
        f"({len(vec_pairs):,} findings vectorized, {len(base_pairs):,} row-wise; "
        f"{len(vec_pairs - base_pairs)} only vectorized, {len(base_pairs - vec_pairs)} only row-wise)"
    )
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
