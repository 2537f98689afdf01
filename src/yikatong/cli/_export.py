"""``yikatong export supervision --store FILE --period P --out FILE.xlsx``: the audit office's supervision export.

Writes the period's batches, exception rows, refused bank results, reviews, waivers, extensions, withdrawals and
reversals ([`yikatong.workflow.supervision.supervision_tables`][]) as one read-only workbook with the audit log's
head on its cover ([`yikatong.adapters.supervision_export.write_supervision_export`][]), every ID number, account
and name masked. It runs as the audit role (``--user`` names the auditor). ``--store`` is an SQLite file or a
``postgresql://`` URL (schema ``--schema``). The store is opened read-only; a sealed store needs its secret
(``--key-file`` or ``YIKATONG_AUDIT_KEY``).

Exit codes: 0 written (a period with nothing in it gives empty sheets and a warning), 2 the store cannot be read
(missing, not a store, a sealed store without its key or with another), an invalid period, or an output that is
not ``.xlsx``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from yikatong.adapters.supervision_export import SHEET_TITLES, write_supervision_export
from yikatong.cli._common import CliInputError, fail, say, warn
from yikatong.cli._report import read_store
from yikatong.cli._store import add_store_options
from yikatong.period import Period
from yikatong.workflow.roles import Actor
from yikatong.workflow.supervision import SupervisionExport, supervision_tables

__all__ = ["register", "run_supervision"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``export`` sub-command with its ``supervision`` action."""
    p = sub.add_parser("export", help="export what a role supervises")
    actions = p.add_subparsers(dest="export_command", required=True, metavar="WHAT")
    s = actions.add_parser("supervision", help="the audit office's read-only workbook of a period (masked)")
    add_store_options(s)
    s.add_argument("--period", required=True, help="YYYY, YYYY-Qn, YYYY-MM or YYYY-MM-DD")
    s.add_argument("--out", type=Path, required=True, help="the workbook to write (.xlsx)")
    s.add_argument("--user", default="yikatong-cli", help="the auditor named as reader (default yikatong-cli)")
    s.set_defaults(handler=run_supervision)


def _tables(args: argparse.Namespace) -> SupervisionExport:
    try:
        period = Period.parse(args.period)
    except ValueError as exc:
        raise CliInputError("期间无效", "invalid --period", [str(exc)]) from None
    if args.out.suffix.lower() != ".xlsx":
        raise CliInputError(f"输出文件须为 .xlsx：{args.out.name}", f"--out must end in .xlsx, got {args.out.name}")
    actor = Actor(user=args.user, role="audit")
    return read_store(args, lambda store: supervision_tables(store, period, actor=actor))


def run_supervision(args: argparse.Namespace) -> int:
    """Export the period; print what each sheet holds; return 0, or 2 when it cannot."""
    try:
        export = _tables(args)
    except CliInputError as exc:
        return exc.report()
    if all(frame.is_empty() for frame in export.sheets().values()):
        warn(f"{export.period.label} 期间没有记录", f"nothing happened in {export.period.label}; the sheets are empty")
    try:
        path = write_supervision_export(export, args.out)
    except OSError as exc:
        return fail(f"无法写入 {args.out}", f"cannot write {args.out}", [str(exc)])
    for name, frame in export.sheets().items():
        print(f"  {SHEET_TITLES[name]} {name}: {frame.height}")
    head = export.head
    print(f"  审计链末条 audit head: {head.seq} {head.hash}" if head else "  审计日志为空 / the audit log is empty")
    say(f"已写入 {path}", f"wrote {path}")
    return 0
