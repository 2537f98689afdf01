"""``yikatong audit verify --store FILE``: check the audit hash chain of a store and name the first broken entry.

The store is opened read-only, so an audit office can run the check on a copy, or on the live file, without
changing its content (SQLite may leave its empty ``-wal``/``-shm`` companion files beside it).

Exit codes: 0 the chain is intact (and matches ``--anchor`` when given), 1 it is broken, 2 the file is not a
yikatong store (missing, another program's database, a newer schema).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from yikatong.adapters.sqlite import SqliteStore
from yikatong.cli._common import fail
from yikatong.errors import StoreError
from yikatong.workflow.audit import AuditVerification, verify

__all__ = ["register", "run_verify"]

_PROBLEM_ZH = {
    "edited": "内容被修改",
    "removed": "有条目被删除",
    "reordered": "条目顺序被打乱",
    "broken_link": "哈希链接断开",
    "anchor_mismatch": "末条哈希与留存的锚值不符（日志尾部被截断或替换）",
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``audit`` sub-command with its ``verify`` action."""
    p = sub.add_parser("audit", help="check a store's audit log")
    actions = p.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    v = actions.add_parser("verify", help="verify the audit hash chain and name the first broken entry")
    v.add_argument("--store", type=Path, required=True, help="the store file (SQLite)")
    v.add_argument("--anchor", help="the head hash recorded elsewhere; the log's last entry must carry it")
    v.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    v.set_defaults(handler=run_verify)


def _report(result: AuditVerification, head: str | None) -> dict[str, object]:
    return {
        "ok": result.ok,
        "entries": result.checked,
        "head_hash": head,
        "first_broken_seq": result.seq,
        "position": result.index,
        "problem": result.problem,
        "message": result.message,
    }


def run_verify(args: argparse.Namespace) -> int:
    """Verify the chain; print the result; return 0 intact, 1 broken, 2 not a store."""
    path: Path = args.store
    try:
        with SqliteStore(path, create=False, read_only=True) as store:
            entries = store.audit()
    except StoreError as exc:
        return fail(str(exc))
    result = verify(entries, anchor=args.anchor)
    head = entries[-1].hash if entries else None
    if args.json:
        print(json.dumps(_report(result, head), ensure_ascii=False))
    elif result.ok:
        where = f", head {head}" if head else ""
        print(f"审计链完整：{len(entries)} 条 / audit chain intact: {len(entries)} entries{where}")
    else:
        zh = _PROBLEM_ZH.get(result.problem or "", "校验失败")
        print(
            f"审计链在第 {result.seq} 条处断开（{zh}） / audit chain broken at entry {result.seq} "
            f"(position {result.index}, {result.problem}): {result.message}"
        )
    return 0 if result.ok else 1
