"""``yikatong purge --store FILE|URL``: remove the payee detail of finished batches past their retention.

Each catalogue item may set ``retention_years`` (``--catalog``; without it the example catalogue, whose items set
none, so nothing is purged). A batch is purged when it is over, no money of it is held at the bank, its retention
has passed, and the store still holds what the audit log last recorded of it (see
[`yikatong.workflow.Purger`][]). ``--before PERIOD`` looks only at batches of earlier periods; ``--dry-run``
lists what would go without changing anything. ``--store`` takes an SQLite store file or a ``postgresql://`` URL
(the store in schema ``--schema``).

The store's secret (``--key-file`` or ``YIKATONG_AUDIT_KEY``) is required: purged ledger entries keep a keyed hash
of the ID number so that a second payment to the same person is still caught.

Exit codes: 0 ran (batches kept are listed with the reason), 2 the store, the catalogue or the key cannot be used,
or a purge was refused by the store (one line, no traceback).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from pathlib import Path

from yikatong.adapters.clock import SystemClock
from yikatong.adapters.keys import KEY_ENV
from yikatong.adapters.store_location import is_server_url, safe_location
from yikatong.cli._catalog import load_catalog
from yikatong.cli._common import CliInputError, fail, say
from yikatong.cli._store import add_store_options, open_store, read_keys
from yikatong.errors import IllegalTransition, StoreError
from yikatong.period import Period
from yikatong.workflow import Purger

__all__ = ["register", "run_purge"]

_ACTIONS_ZH = {"purged": "已清除", "purgeable": "可清除", "kept": "保留", "already_purged": "此前已清除"}


def _period(text: str) -> str:
    try:
        return Period.parse(text).label
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"invalid period value: {text!r}") from exc


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``purge`` sub-command."""
    p = sub.add_parser(
        "purge", help="remove the payee detail of finished batches past their retention, keeping totals and audit"
    )
    add_store_options(p)
    p.add_argument(
        "--catalog", type=Path, help="subsidy catalogue (TOML) whose items set retention_years (default: the example)"
    )
    p.add_argument("--before", type=_period, metavar="PERIOD", help="only batches of periods ending before PERIOD")
    p.add_argument("--dry-run", action="store_true", help="list what would be purged; change nothing")
    p.add_argument("--json", action="store_true", help="print one JSON object per batch instead of text")
    p.set_defaults(handler=run_purge)


def run_purge(args: argparse.Namespace) -> int:
    """Purge (or list, with ``--dry-run``); print one line per batch; return the exit code."""
    try:
        catalog = load_catalog(args.catalog)
        keys = read_keys(args.key_file)
        if keys is None:
            raise CliInputError(
                f"清除需要数据库密钥（--key-file 或 {KEY_ENV}）",
                f"purging needs the store's secret (--key-file or {KEY_ENV})",
            )
        with open_store(args.store, keys, schema=args.schema, read_only=args.dry_run) as store:
            purger = Purger(store=store, catalog=catalog, clock=SystemClock(), keys=keys)
            plan = purger.purge(before=args.before, dry_run=args.dry_run)
    except CliInputError as exc:
        return exc.report()
    except (StoreError, IllegalTransition, OSError, sqlite3.Error, ValueError) as exc:
        text = " ".join(str(exc).split()) or type(exc).__name__
        where = safe_location(args.store) if is_server_url(args.store) else Path(args.store).name
        return fail(f"清除未完成 {where} / purge of {where} stopped: {text}")
    for row in plan.iter_rows(named=True):
        kept = row["kept_until"].isoformat() if row["kept_until"] else None
        if args.json:
            print(json.dumps({**row, "kept_until": kept}, ensure_ascii=False))
            continue
        line = f"{_ACTIONS_ZH[row['action']]} {row['action']}: {row['batch_id']} {row['item']} {row['period']}"
        print(f"{line} — {row['reason']}" if row["reason"] and row["action"] == "kept" else line)
    if not args.json:
        counts = plan["action"].value_counts().sort("action").rows()
        summary = ", ".join(f"{action} {n}" for action, n in counts) or "0"
        say(f"共查看 {plan.height} 个批次", f"{plan.height} batches looked at: {summary}")
    return 0
