"""``yikatong report --store FILE --period P --out FILE.xlsx|.html``: the 汇总表 (汇总上报) of a period.

Summarises the batches sent to the bank within the period (``2026``, ``2026-Q4``, ``2026-11``), per item × town ×
month by default or per ``--by`` (any of ``item, town, village, department, month, period``), with the waivers and
extensions of the period and the audit log's head at the foot ([`yikatong.workflow.summary.summarise_period`][]).
``--out`` may be given more than once (one ``.xlsx`` and one ``.html``). ``--store`` is an SQLite file or a
``postgresql://`` URL (the store in schema ``--schema``). The store is opened read-only; a sealed store needs its
secret (``--key-file`` or ``YIKATONG_AUDIT_KEY``, as for ``audit verify``). The report is run as
finance by default, or as audit with ``--role audit``.

Exit codes: 0 written (a period with no batch gives an empty report and a warning), 2 the store cannot be read
(missing, not a store, a sealed store without its key or with another), an invalid period, grouping or file kind.
"""

from __future__ import annotations

import argparse
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from yikatong.adapters.store_location import ClosableStore, is_server_url, safe_location
from yikatong.adapters.summary_report import SUFFIXES, write_summary_report
from yikatong.cli._catalog import load_catalog
from yikatong.cli._common import CliInputError, fail, say, warn
from yikatong.cli._store import add_store_options, one_line, open_store, read_keys, shown
from yikatong.errors import StoreError
from yikatong.money import format_yuan
from yikatong.period import Period
from yikatong.workflow.roles import Actor
from yikatong.workflow.summary import DEFAULT_GROUPS, PeriodSummary, parse_groups, summarise_period

__all__ = ["read_store", "register", "run"]

_T = TypeVar("_T")


def read_store(args: argparse.Namespace, read: Callable[[ClosableStore], _T]) -> _T:
    """``read`` over the store of ``--store``, opened read-only with the key of ``--key-file`` or the environment.

    Raises:
        CliInputError: the store is missing or cannot be opened (not a store, a sealed store without its key or
            with another, a server that does not answer), or cannot be read, or ``read`` refused a value
            (``ValueError``).
    """
    where = shown(args.store)
    if is_server_url(args.store):
        where = f"{where} (schema {args.schema})"
    with open_store(args.store, read_keys(args.key_file), schema=args.schema) as store:
        try:
            return read(store)
        except (StoreError, OSError, sqlite3.Error, ValueError) as exc:
            raise CliInputError(f"无法读取 {where}", f"cannot read {where}", [safe_location(one_line(exc))]) from None


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``report`` sub-command."""
    p = sub.add_parser("report", help="write the period's summary (汇总表) as XLSX or HTML")
    add_store_options(p)
    p.add_argument("--period", required=True, help="YYYY, YYYY-Qn or YYYY-MM: batches sent to the bank within it")
    p.add_argument(
        "--by",
        default=",".join(DEFAULT_GROUPS),
        help="grouping, comma-separated: item, town, village, department, month, period (default item,town,month)",
    )
    p.add_argument(
        "--out", type=Path, action="append", required=True, help="file to write, .xlsx or .html (may be repeated)"
    )
    p.add_argument("--role", choices=("finance", "audit"), default="finance", help="run as (default finance)")
    p.add_argument("--user", default="yikatong-cli", help="the user named as reader (default yikatong-cli)")
    p.add_argument("--catalog", type=Path, help="catalogue TOML for item names (default: the example catalogue)")
    p.set_defaults(handler=run)


def _summarise(args: argparse.Namespace) -> PeriodSummary:
    try:
        period = Period.parse(args.period)
    except ValueError as exc:
        raise CliInputError("期间无效", "invalid --period", [str(exc)]) from None
    try:
        groups = parse_groups(args.by)
    except ValueError as exc:
        raise CliInputError("汇总维度无效", "invalid --by", [str(exc)]) from None
    for out in args.out:
        if out.suffix.lower() not in SUFFIXES:
            raise CliInputError(
                f"输出文件须为 .xlsx 或 .html：{out.name}", f"--out must end in .xlsx or .html, got {out.name}"
            )
    catalog = load_catalog(args.catalog)
    actor = Actor(user=args.user, role=args.role)
    return read_store(args, lambda store: summarise_period(store, period, actor=actor, groups=groups, catalog=catalog))


def run(args: argparse.Namespace) -> int:
    """Summarise the period, write the files, print the totals; return 0, or 2 when it cannot."""
    try:
        summary = _summarise(args)
    except CliInputError as exc:
        return exc.report()
    if summary.batches.is_empty():
        warn(
            f"{summary.period.label} 期间没有报盘的批次，汇总表为空",
            f"no batch was sent to a bank in {summary.period.label}; the summary is empty",
        )
    written = []
    for out in args.out:
        try:
            written.append(write_summary_report(summary, out))
        except OSError as exc:
            return fail(f"无法写入 {out}", f"cannot write {out}", [str(exc)])
    t = {name: summary.total(name) for name in summary.totals.columns}
    say(
        f"汇总表 {summary.period.label}：{summary.batches.height} 个批次，{t['payees']} 人",
        f"summary {summary.period.label}: {summary.batches.height} batches, {t['payees']} payees",
    )
    for zh, en, key in (
        ("报盘", "sent", "sent_fen"),
        ("财政拨付", "funded", "funded_fen"),
        ("已发放", "paid", "paid_fen"),
        ("发放失败", "failed", "failed_fen"),
        ("退汇", "reversed", "reversed_fen"),
        ("缴回国库", "refunded", "refunded_fen"),
        ("银行留存", "outstanding", "outstanding_fen"),
    ):
        print(f"  {zh} {en}: {format_yuan(t[key])} 元")
    head = summary.head
    print(f"  审计链末条 audit head: {head.seq} {head.hash}" if head else "  审计日志为空 / the audit log is empty")
    for path in written:
        say(f"已写入 {path}", f"wrote {path}")
    return 0
