"""``yikatong synth``: write a synthetic roster with known defects, its truth, and the matching context files."""

from __future__ import annotations

import argparse
import datetime as dt
import re
import time
from pathlib import Path

from yikatong.catalog import Catalog
from yikatong.cli._common import fail
from yikatong.errors import CatalogError, UnknownItem
from yikatong.period import Period

__all__ = ["register"]

_ITEM_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,31}$")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``synth`` sub-command."""
    p = sub.add_parser(
        "synth",
        help="generate a synthetic roster with known defects, its truth file and matching registry, lists, ledger",
    )
    p.add_argument("--rows", required=True, help="number of roster rows")
    p.add_argument("--out", required=True, type=Path, help="output folder")
    p.add_argument("--seed", default="0", help="seed (same seed, same data; default 0)")
    p.add_argument("--defect-rate", default="0.05", help="share of rows with an injected defect, 0–0.5 (default 0.05)")
    p.add_argument(
        "--item",
        default="GLJT",
        help="item code, or several separated by commas for a multi-item roster (default GLJT)",
    )
    p.add_argument(
        "--catalog",
        type=Path,
        default=None,
        help="catalogue TOML (default: the example catalogue shipped in the package)",
    )
    p.add_argument("--period", default=None, help="payment period, YYYY-MM (default: the current month)")
    p.add_argument("--format", default="csv", help="roster format: csv, parquet or xlsx (default csv)")
    p.add_argument("--encoding", default="gb18030", help="CSV encoding: gb18030 or utf-8 (default gb18030)")
    p.add_argument("--context-format", default="parquet", help="registry/lists/ledger format: parquet or csv")
    p.set_defaults(handler=run)


def _positive_int(text: str, option: str) -> int:
    if not re.fullmatch(r"[0-9][0-9_]*", text.strip()):
        raise ValueError(f"{option} must be a whole number, got {text!r}")
    return int(text.strip().replace("_", ""))


def run(args: argparse.Namespace) -> int:
    """Generate and write; print the files and the defect counts. Exit 2 on a bad option or catalogue."""
    try:
        rows = _positive_int(args.rows, "--rows")
        seed = _positive_int(args.seed, "--seed")
        rate = float(args.defect_rate)
    except ValueError as exc:
        return fail(str(exc) if "--" in str(exc) else f"--defect-rate must be a number, got {args.defect_rate!r}")
    if rows < 1:
        return fail("--rows must be at least 1")
    if not 0.0 <= rate <= 0.5:
        return fail(f"--defect-rate must be between 0 and 0.5, got {args.defect_rate}")
    if args.format not in ("csv", "parquet", "xlsx"):
        return fail(f"--format must be csv, parquet or xlsx, got {args.format!r}")
    if args.encoding not in ("gb18030", "utf-8"):
        return fail(f"--encoding must be gb18030 or utf-8, got {args.encoding!r}")
    if args.context_format not in ("parquet", "csv"):
        return fail(f"--context-format must be parquet or csv, got {args.context_format!r}")
    codes = tuple(code.strip() for code in str(args.item).split(",") if code.strip())
    if not codes or any(not _ITEM_CODE.match(code) for code in codes):
        return fail(f"--item must be item codes such as GLJT or GLJT,DB, got {args.item!r}")
    try:
        period = Period.parse(args.period or dt.date.today().strftime("%Y-%m"))
    except ValueError as exc:
        return fail(f"--period: {exc}")
    catalog_path = args.catalog
    try:
        catalog = Catalog.from_toml(catalog_path) if catalog_path is not None else Catalog.example()
    except FileNotFoundError:
        return fail(f"catalogue not found: {catalog_path} (pass --catalog FILE)")
    except CatalogError as exc:
        return fail(f"{catalog_path}: {exc}")

    from yikatong.synth import XLSX_MAX_ROWS, generate

    if args.format == "xlsx" and rows > XLSX_MAX_ROWS:
        return fail(f"--format xlsx is limited to {XLSX_MAX_ROWS:,} rows; use csv or parquet")
    started = time.perf_counter()
    try:
        data = generate(
            rows,
            catalog=catalog,
            period=period,
            items=codes,
            seed=seed,
            defect_rate=rate,
        )
    except UnknownItem as exc:
        return fail(str(exc))
    except ValueError as exc:
        return fail(str(exc))
    generated = time.perf_counter() - started
    paths = data.write(args.out, format=args.format, encoding=args.encoding, context_format=args.context_format)
    written = time.perf_counter() - started - generated
    print(f"合成名单 / synthetic roster: {rows:,} rows, items {', '.join(codes)}, period {period}, seed {seed}")
    for key, path in paths.items():
        print(f"  {key:<28} {path}")
    print(f"generated in {generated:.1f} s, written in {written:.1f} s")
    counts = data.truth_for(args.format).filter(data.truth_for(args.format)["expected"] == "must")
    by_code = counts.group_by("defect").len().sort("defect")
    print(f"injected defects / 注入缺陷 (rows that must trigger each rule; {by_code['len'].sum():,} in all):")
    for code, count in zip(by_code["defect"].to_list(), by_code["len"].to_list(), strict=True):
        print(f"  {code:<28} {count:>10,}")
    return 0
