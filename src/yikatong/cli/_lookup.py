"""``yikatong lookup --store FILE --name 张三 [--id-number ID]``: a resident's payments, the look-up audited.

The ID number comes from ``--id-number`` or, when that is not given, from the first line of standard input (a
prompt that does not echo when standard input is a terminal): a number typed on the command line stays in the
shell's history and the process list, so prefer standard input. The number is never printed back, not even masked.

The answer lists the person's payments (item, period, amount, pay date, status, the masked account) and where to
raise an objection; a name that does not go with the ID number gets the same "nothing found" answer as a number
never paid. Each look-up appends one entry to the store's audit log (who asked, the channel, a keyed hash of the ID
number, how many payments were found), so the store is opened for writing and the key is required
(``--key-file`` or ``YIKATONG_AUDIT_KEY``), sealed store or not.

Exit codes: 0 answered (found or not), 2 the question, the store or the key cannot be used (one line on stderr).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

import polars as pl

from yikatong.adapters.clock import SystemClock
from yikatong.adapters.keys import KEY_ENV
from yikatong.adapters.resident_lookup import StoreResidentLookup
from yikatong.cli._catalog import load_catalog
from yikatong.cli._common import CliInputError, fail, say
from yikatong.cli._store import add_store_options, one_line, open_store, read_keys, shown
from yikatong.errors import StoreError
from yikatong.money import format_yuan

__all__ = ["register", "run_lookup"]


def _default_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "cli"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``lookup`` sub-command."""
    p = sub.add_parser("lookup", help="a resident's own payments by name and ID number (each look-up audited)")
    add_store_options(p)
    p.add_argument("--name", required=True, help="the person's name")
    p.add_argument(
        "--id-number",
        help="the person's ID number (default: read from standard input, which keeps it out of the shell history)",
    )
    p.add_argument("--channel", default="cli", help="the channel the question came through (recorded; default cli)")
    p.add_argument("--asked-by", help="who asks (recorded; default: the login name)")
    p.add_argument("--catalog", type=Path, help="subsidy catalogue (TOML; default: the example shipped in the package)")
    p.add_argument("--contact", default="", help="where to raise objections when an item's catalogue entry names none")
    p.add_argument("--json", action="store_true", help="print the payments as JSON lines instead of text")
    p.set_defaults(handler=run_lookup)


def _id_number(given: str | None) -> str:
    if given is not None:
        return given
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass("身份证号 ID number: ")
    line = sys.stdin.readline() if sys.stdin is not None else ""
    return line.rstrip("\r\n")


def run_lookup(args: argparse.Namespace) -> int:
    """Answer the look-up; return 0 when answered, 2 when the question, the store or the key cannot be used."""
    try:
        keys = read_keys(args.key_file)
        if keys is None:
            raise CliInputError(
                "查询须提供密钥（--key-file 或 YIKATONG_AUDIT_KEY）",
                f"a look-up needs the key (--key-file or {KEY_ENV}): the audit log records a keyed hash of the ID",
            )
        catalog = load_catalog(args.catalog)
        id_number = _id_number(args.id_number)
        with open_store(args.store, keys, schema=args.schema, read_only=False) as store:
            lookup = StoreResidentLookup(
                store, keys=keys, catalog=catalog, clock=SystemClock(), default_contact=args.contact
            )
            try:
                answer = lookup.payments(
                    name=args.name,
                    id_number=id_number,
                    asked_by=args.asked_by or _default_user(),
                    channel=args.channel,
                )
            except ValueError as exc:
                return fail(one_line(exc))
            except StoreError as exc:
                raise CliInputError(
                    f"无法查询数据库 {shown(args.store)}", f"cannot answer from {shown(args.store)}", [one_line(exc)]
                ) from None
    except CliInputError as exc:
        return exc.report()
    if args.json:
        for row in answer.with_columns(pl.col("pay_date").cast(pl.String)).iter_rows(named=True):
            print(json.dumps(row, ensure_ascii=False))
        return 0
    _print(answer)
    return 0


def _print(answer: pl.DataFrame) -> None:
    if answer.is_empty():
        say(
            "未查到发放记录。如认为应当享受补贴，请向户籍所在乡镇(街道)或补贴主管部门咨询",
            "no payments found for this name and ID number; if you believe one is due, ask your town or the "
            "department of the subsidy",
        )
        return
    say(f"查到 {answer.height} 笔发放记录", f"{answer.height} payments found")
    for r in answer.iter_rows(named=True):
        paid = r["pay_date"].isoformat() if r["pay_date"] is not None else "-"
        print(
            f"  {r['item_name']} ({r['item']}) {r['period']}  {format_yuan(r['amount_fen'])} 元  "
            f"{r['status_zh']} ({r['status']})  发放日期 pay date {paid}  账户 account {r['account_masked'] or '-'}"
        )
        where = " · ".join(x for x in (r["department"], r["town"], r["objection_contact"]) if x)
        print(f"    异议受理 objections: {where}  批次 batch {r['batch_id']}")
