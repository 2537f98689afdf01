"""``yikatong demo [--out DIR] [--rows N] [--seed S] [--store URL [--schema S]] [--force] [--quiet]``: one month.

Runs ``yikatong.demo.run_demo`` on the example catalogue: progress lines on stderr, the summary on stdout, and
in DIR the store (``yikatong.db``), the bank files (``bank/``), the public lists (``disclosure/``), the generated
input (``input/``) and ``summary.json``. Re-running into a DIR that holds an earlier demo's outputs replaces them
(``make demo`` can be run again); a DIR holding other files is refused unless ``--force``, which replaces only the
demo's own outputs there and keeps the rest. ``--store postgresql://…`` runs the month in a PostgreSQL store (schema
``--schema``, default ``yikatong``, created when missing, holding no batches yet) instead of ``DIR/yikatong.db``,
sealed with the same key (``demo.key`` in DIR unless ``YIKATONG_AUDIT_KEY`` is set). Exit codes: 0 ran, 2 usage
errors (a non-empty DIR, bad sizes, a store that cannot be used: a bad URL, no server, psycopg not installed, a
schema that holds batches), one line on stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from yikatong.adapters.store_location import DEFAULT_SCHEMA, is_server_url
from yikatong.cli._catalog import load_catalog
from yikatong.cli._common import CliInputError, at_least, fail
from yikatong.demo import DEFAULT_ROWS, DEFAULT_SEED, Progress, run_demo
from yikatong.errors import StoreError

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``demo`` sub-command."""
    p = sub.add_parser("demo", help="run one county month end to end and print a summary")
    p.add_argument("--out", type=Path, default=Path("demo-output"), help="folder for the outputs (default demo-output)")
    p.add_argument(
        "--rows",
        type=at_least(1, "行数", "--rows"),
        default=DEFAULT_ROWS,
        help=f"roster rows over all items (default {DEFAULT_ROWS})",
    )
    p.add_argument(
        "--seed",
        type=at_least(0, "随机种子", "--seed"),
        default=DEFAULT_SEED,
        help=f"seed; same seed, same month (default {DEFAULT_SEED})",
    )
    p.add_argument("--force", action="store_true", help="run even if --out holds other files (they are kept)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument(
        "--catalog", type=Path, help="catalogue TOML (default: the example catalogue shipped in the package)"
    )
    p.add_argument(
        "--store", help="a postgresql:// URL to run the month in (default: the SQLite file yikatong.db in --out)"
    )
    p.add_argument(
        "--schema",
        default=DEFAULT_SCHEMA,
        help=f"the PostgreSQL schema of --store, empty or missing (default {DEFAULT_SCHEMA})",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the month; print the summary; return 0, or 2 for a usage error."""
    if args.store is not None and not is_server_url(args.store):
        return fail(
            "--store 只接受 postgresql:// 地址（SQLite 数据库写在 --out 中）",
            f"--store takes a postgresql:// URL (the SQLite store goes in --out), got {args.store!r}",
        )
    try:
        catalog = load_catalog(args.catalog)
    except CliInputError as exc:
        return exc.report()
    try:
        result = run_demo(
            args.out,
            catalog=catalog,
            rows=args.rows,
            seed=args.seed,
            force=args.force,
            progress=Progress(None if args.quiet else sys.stderr),
            store=args.store,
            schema=args.schema,
        )
    except FileExistsError as exc:
        return fail("输出目录不可用", "the output folder cannot be used", [str(exc)])
    except StoreError as exc:
        return fail(f"数据库不可用 / the store cannot be used: {' '.join(str(exc).split())}")  # one line
    except (ValueError, OSError) as exc:
        return fail("演示无法运行", "the demo cannot run", [str(exc)])
    print(result.text)
    return 0
