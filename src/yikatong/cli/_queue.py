"""``yikatong queue --store FILE --town T | --department D``: a town's or department's work view.

Prints the correction queue with its deadlines (未到期 due, 即将到期 due soon, 已过期限 overdue, 已逾期失效 expired),
the results of the batches and the rows still held, read from the store opened read-only
([`yikatong.workflow.work_views.work_view`][]); ``--out FILE.xlsx|.csv`` also writes them
([`yikatong.adapters.work_view_files.write_work_view`][]). IDs and accounts are masked. A sealed store needs its
key (``--key-file`` or ``YIKATONG_AUDIT_KEY``), as for ``yikatong audit verify``.

With ``--town`` the view is the town's: its residents' rows, of every department, or of ``--department`` when
both are given; with ``--department`` alone, the department's batches. A town or department the store holds no
row or batch of is refused (a typing mistake must not look like an empty desk).

Exit codes: 0 printed, 2 the store or an option cannot be used (one line on stderr).
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from yikatong.actors import Actor
from yikatong.adapters.work_view_files import WORK_VIEW_SUFFIXES, write_work_view
from yikatong.cli._common import CliInputError, at_least, fail, say, text
from yikatong.cli._store import add_store_options, one_line, open_store, read_keys, shown
from yikatong.errors import PermissionDenied, StoreError
from yikatong.localtime import COUNTY_ZONE, local_date
from yikatong.money import format_yuan
from yikatong.workflow.work_views import DUE_SOON_DAYS, WorkView, work_view

__all__ = ["register", "run_queue"]

_READER = "yikatong-queue"
_STATE_ZH = {"due": "未到期", "due_soon": "即将到期", "overdue": "已过期限", "expired": "已逾期失效"}


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            text(f"日期格式错误：{value!r}（应为 YYYY-MM-DD）", f"not a date (YYYY-MM-DD): {value!r}")
        ) from None


def _name(value: str) -> str:
    name = value.strip()
    if not name:
        raise argparse.ArgumentTypeError(text("名称不能为空", "must not be blank"))
    return name


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``queue`` sub-command."""
    p = sub.add_parser(
        "queue", help="a town's or department's work: correction queue with deadlines, batch results, rows held"
    )
    add_store_options(p)
    p.add_argument("--town", type=_name, help="the town (乡镇/街道): its residents' rows")
    p.add_argument("--department", type=_name, help="the department (业务主管部门): its batches")
    p.add_argument("--as-of", type=_date, help="the county date of the view, YYYY-MM-DD (default: today)")
    p.add_argument(
        "--due-soon-days",
        type=at_least(0, "临近期限天数", "--due-soon-days"),
        default=DUE_SOON_DAYS,
        help=f"days before a deadline from which a row is due soon (default {DUE_SOON_DAYS})",
    )
    p.add_argument("--out", type=Path, help="also write the view: FILE.xlsx (three sheets) or FILE.csv (three files)")
    p.set_defaults(handler=run_queue)


def _reader(args: argparse.Namespace) -> Actor:
    if args.town is not None:
        return Actor(_READER, "town", town=args.town)
    if args.department is not None:
        return Actor(_READER, "department", department=args.department)
    raise CliInputError("须指定 --town 或 --department", "give --town or --department (or both)")


def run_queue(args: argparse.Namespace) -> int:
    """Build the view, print it and write ``--out``; return 0, or 2 when the store or an option cannot be used."""
    try:
        reader = _reader(args)
        if args.out is not None and args.out.suffix.lower() not in WORK_VIEW_SUFFIXES:
            raise CliInputError(
                f"不支持的输出文件类型：{args.out.name}（可用 .xlsx 或 .csv）",
                f"unsupported output file {args.out.name}: use .xlsx or .csv",
            )
        keys = read_keys(args.key_file)
        as_of = args.as_of or local_date(dt.datetime.now(dt.UTC), COUNTY_ZONE)
        with open_store(args.store, keys, schema=args.schema) as store:
            try:
                view = work_view(
                    store,
                    actor=reader,
                    as_of=as_of,
                    department=args.department,
                    town=args.town,
                    due_soon_days=args.due_soon_days,
                    strict=True,
                )
            except StoreError as exc:
                raise CliInputError(
                    f"无法读取数据库 {shown(args.store)}", f"cannot read the store {shown(args.store)}", [one_line(exc)]
                ) from None
            except (ValueError, PermissionDenied) as exc:
                return fail(one_line(exc))
        _print(view)
        if args.out is not None:
            try:
                written = write_work_view(view, args.out)
            except OSError as exc:
                raise CliInputError(f"无法写入 {args.out}", f"cannot write {args.out}", [one_line(exc)]) from None
            say(f"已写入：{', '.join(map(str, written))}", f"written: {', '.join(map(str, written))}")
    except CliInputError as exc:
        return exc.report()
    return 0


def _yuan(fen: int | None) -> str:
    return format_yuan(int(fen or 0))


def _print(view: WorkView) -> None:
    scope = " · ".join(x for x in (view.town, view.department) if x) or "全部 all"
    counts = view.counts()
    print(f"工作视图 work view: {scope}  {view.as_of.isoformat()}")
    say(
        f"更正队列 {view.queue.height} 行：即将到期 {counts['due_soon']}，已过期限 {counts['overdue']}，"
        f"已逾期失效 {counts['expired']}，未到期 {counts['due']}",
        f"correction queue {view.queue.height} rows: due soon {counts['due_soon']}, overdue {counts['overdue']}, "
        f"expired {counts['expired']}, due {counts['due']}",
    )
    for r in view.queue.iter_rows(named=True):
        deadline = r["deadline"].isoformat() if r["deadline"] is not None else "-"
        print(
            f"  {deadline} {_STATE_ZH[r['deadline_state']]:<6} {r['batch_id']} 行{r['row_id']} {r['item']} "
            f"{r['period']} {r['village'] or ''} {r['name'] or ''} {r['id_masked'] or ''} {_yuan(r['amount_fen'])} "
            f"{r['reason_code'] or ''} {r['note'] or ''}".rstrip()
        )
    say(f"批次结果 {view.batches.height} 个批次", f"batch results: {view.batches.height} batches")
    for b in view.batches.iter_rows(named=True):
        print(
            f"  {b['batch_id']} {b['item']} {b['period']} {b['state']}: {b['rows']} 行 rows, "
            f"已发放 paid {b['paid_rows']} ({_yuan(b['paid_fen'])}), 待更正 to correct {b['returned_rows']}, "
            f"逾期 expired {b['expired_rows']}, 暂缓 held {b['held_rows']}, 已补发 reissued {b['reissued_rows']}"
        )
    say(f"暂缓发放 {view.held.height} 行", f"rows still held: {view.held.height}")
    held = view.held.sort("batch_id", "row_id")
    for r in held.iter_rows(named=True):
        print(
            f"  {r['batch_id']} 行{r['row_id']} {r['status']} {r['village'] or ''} {r['name'] or ''} "
            f"{r['id_masked'] or ''} {r['account_masked'] or ''} {_yuan(r['amount_fen'])} "
            f"{r['reason_code'] or ''} {r['note'] or ''}".rstrip()
        )
    if view.queue.is_empty() and view.held.is_empty():
        say("没有待办", "nothing to do")
