"""``yikatong synth``: write a synthetic roster with known defects, its truth, and the matching context files."""

from __future__ import annotations

import argparse
import datetime as dt
import re
import time
from pathlib import Path

from yikatong.cli._catalog import load_catalog
from yikatong.cli._common import CliInputError, at_least, between, fail, say
from yikatong.errors import UnknownItem
from yikatong.period import Period

__all__ = ["register"]

_ITEM_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,31}$")


def _items(value: str) -> tuple[str, ...]:
    codes = tuple(code.strip() for code in value.split(",") if code.strip())
    if not codes or any(not _ITEM_CODE.match(code) for code in codes):
        raise argparse.ArgumentTypeError(
            f"须为项目代码，如 GLJT 或 GLJT,DB：{value!r} / must be item codes such as GLJT or GLJT,DB, got {value!r}"
        )
    return codes


def _period(value: str) -> Period:
    try:
        return Period.parse(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"期间须为 YYYY-MM / {exc}") from None


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``synth`` sub-command."""
    p = sub.add_parser(
        "synth",
        help="generate a synthetic roster with known defects, its truth file and matching registry, lists, ledger",
    )
    p.add_argument("--rows", required=True, type=at_least(1, "行数", "--rows"), help="number of roster rows")
    p.add_argument("--out", required=True, type=Path, help="output folder")
    p.add_argument(
        "--seed", default=0, type=at_least(0, "随机种子", "--seed"), help="seed (same seed, same data; default 0)"
    )
    p.add_argument(
        "--defect-rate",
        default=0.05,
        type=between(0.0, 0.5, "缺陷比例", "--defect-rate"),
        help="share of rows with an injected defect, 0–0.5 (default 0.05)",
    )
    p.add_argument(
        "--item",
        default=("GLJT",),
        type=_items,
        help="item code, or several separated by commas for a multi-item roster (default GLJT)",
    )
    p.add_argument(
        "--catalog", type=Path, help="catalogue TOML (default: the example catalogue shipped in the package)"
    )
    p.add_argument("--period", type=_period, help="payment period, YYYY-MM (default: the current month)")
    p.add_argument("--format", default="csv", choices=("csv", "parquet", "xlsx"), help="roster format (default csv)")
    p.add_argument("--encoding", default="gb18030", choices=("gb18030", "utf-8"), help="CSV encoding (default gb18030)")
    p.add_argument(
        "--context-format",
        default="parquet",
        choices=("parquet", "csv"),
        help="registry/lists/ledger format (default parquet)",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Generate and write; print the files and the defect counts. Exit 2 on a bad option or catalogue."""
    rows: int = args.rows
    codes: tuple[str, ...] = args.item
    period: Period = args.period or Period.parse(dt.date.today().strftime("%Y-%m"))
    try:
        catalog = load_catalog(args.catalog)
    except CliInputError as exc:
        return exc.report()

    from yikatong.synth import XLSX_MAX_ROWS, generate

    if args.format == "xlsx" and rows > XLSX_MAX_ROWS:
        return fail(
            f"xlsx 格式最多 {XLSX_MAX_ROWS:,} 行，请用 csv 或 parquet",
            f"--format xlsx is limited to {XLSX_MAX_ROWS:,} rows; use csv or parquet",
        )
    started = time.perf_counter()
    try:
        data = generate(rows, catalog=catalog, period=period, items=codes, seed=args.seed, defect_rate=args.defect_rate)
    except UnknownItem as exc:
        return fail("清单中无此补贴项目", "the catalogue has no such item", [str(exc)])
    except ValueError as exc:
        return fail("无法生成合成名单", "cannot generate the roster", [str(exc)])
    generated = time.perf_counter() - started
    try:
        paths = data.write(args.out, format=args.format, encoding=args.encoding, context_format=args.context_format)
    except OSError as exc:
        return fail(f"无法写入 {args.out}", f"cannot write to {args.out}", [str(exc)])
    written = time.perf_counter() - started - generated
    say(
        f"合成名单：{rows:,} 行，项目 {', '.join(codes)}，期间 {period}，种子 {args.seed}",
        f"synthetic roster: {rows:,} rows, items {', '.join(codes)}, period {period}, seed {args.seed}",
    )
    for key, path in paths.items():
        print(f"  {key:<28} {path}")
    say(
        f"生成 {generated:.1f} 秒，写出 {written:.1f} 秒", f"generated in {generated:.1f} s, written in {written:.1f} s"
    )
    truth = data.truth_for(args.format)
    by_code = truth.filter(truth["expected"] == "must").group_by("defect").len().sort("defect")
    total = by_code["len"].sum()
    say(
        f"注入缺陷（必须触发各规则的行数，共 {total:,} 行）",
        f"injected defects (rows that must trigger each rule; {total:,} in all):",
    )
    for code, count in zip(by_code["defect"].to_list(), by_code["len"].to_list(), strict=True):
        print(f"  {code:<28} {count:>10,}")
    return 0
