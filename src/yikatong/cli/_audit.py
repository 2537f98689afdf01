"""``yikatong audit verify|anchor --store FILE|URL``: check a store against its keyed audit log; print its head.

``verify`` checks the audit chain (HMAC-SHA256 under the key from ``--key-file`` or ``YIKATONG_AUDIT_KEY``), the
digests its entries carry of every batch's header, payee rows, ledger entries and pay order, recomputed from the
store, and the workflow's invariants ([`yikatong.workflow.store_check.verify_store`][yikatong.workflow.verify_store]).
``anchor`` prints the log's head (``seq`` and hash) to record outside the store: a report, the bank, the treasury, a
notary.

``--store`` takes an SQLite store file or a ``postgresql://`` URL (the store in schema ``--schema``, default
``yikatong``). The account registry is checked too (its event chain and records, ``check_registry``): the store's own
when it holds one (in the store file, or in the PostgreSQL schema), or ``--registry FILE``.
The store is opened read-only, so an audit office can run the check on a copy, or on the live store,
without changing its content (SQLite may leave its empty ``-wal``/``-shm`` companion files beside it).

Exit codes: 0 intact (and matching ``--anchor`` when given), 1 broken (each problem named), 2 the store cannot be
read (missing, unreadable, not a yikatong store, no audit table, a newer schema, a bad key file, a sealed store
without its key or with another, a URL that does not parse, a server that cannot be reached, psycopg not installed):
one line on stderr. The same secret opens a sealed store's personal data.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from pathlib import Path

from attrs import evolve

from yikatong.adapters._registry_check import CheckedRegistry, check_registry
from yikatong.adapters.clock import SystemClock
from yikatong.adapters.keys import KEY_ENV, SecretKeys, keys_from_env, keys_from_file
from yikatong.adapters.sqlite import SqliteRegistry
from yikatong.adapters.store_location import is_server_url, open_store, safe_location
from yikatong.cli._common import fail
from yikatong.cli._store import add_store_options
from yikatong.errors import StoreError
from yikatong.workflow.store_check import StoreProblem, StoreVerification, verify_store

__all__ = ["register", "run_anchor", "run_verify"]

_PROBLEM_ZH = {
    "edited": "内容被修改",
    "removed": "有条目被删除",
    "reordered": "条目顺序被打乱",
    "broken_link": "哈希链接断开",
    "anchor_mismatch": "末条哈希与留存的锚值不符（日志尾部被截断或替换）",
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``audit`` sub-command with its ``verify`` and ``anchor`` actions."""
    p = sub.add_parser("audit", help="check a store against its audit log")
    actions = p.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    v = actions.add_parser(
        "verify", help="verify the audit chain, the digests of the stored data it carries, and the invariants"
    )
    a = actions.add_parser("anchor", help="print the audit log's head to record outside the store")
    for action in (v, a):
        add_store_options(action)
        action.add_argument("--json", action="store_true", help="print one JSON object instead of text")
        action.add_argument(
            "--registry",
            type=Path,
            help="the account registry's SQLite file (default: the store's own registry, when it holds one)",
        )
    v.add_argument("--anchor", help="the head hash recorded elsewhere; the log's last entry must carry it")
    v.set_defaults(handler=run_verify)
    a.set_defaults(handler=run_anchor)


def _keys(args: argparse.Namespace) -> SecretKeys | None:
    if args.key_file is not None:
        return keys_from_file(args.key_file)
    return keys_from_env()


def _check(args: argparse.Namespace, anchor: str | None) -> StoreVerification | int:
    """Open the store read-only and verify it; an int is the exit code of a store that cannot be read."""
    where = Path(args.store).name
    if is_server_url(args.store):
        where = f"{safe_location(args.store)} (schema {args.schema})"
    try:
        keys = _keys(args)
        store = open_store(args.store, keys=keys, schema=args.schema, create=False, read_only=True)
        try:
            result = verify_store(store, key=keys.audit_key() if keys else None, anchor=anchor)
        finally:
            store.close()
        extra = _registry_problems(args, keys)
        return evolve(result, problems=(*result.problems, *extra)) if extra else result
    except (StoreError, OSError, sqlite3.Error, ValueError) as exc:
        text = " ".join(str(exc).split()) or type(exc).__name__
        return fail(f"无法读取 {where} / cannot read {where}: {text}")  # one line, as documented


def _registry_problems(args: argparse.Namespace, keys: SecretKeys | None) -> list[StoreProblem]:
    """The account registry's problems: the ``--registry`` file, else the store's own registry if it has one (in
    the store file, or in the store's PostgreSQL schema)."""
    if args.registry is None and is_server_url(args.store):
        from yikatong.adapters.postgres import PostgresRegistry  # only with the [postgres] extra, as open_store

        with PostgresRegistry(
            args.store, clock=SystemClock(), schema=args.schema, create=False, read_only=True, keys=keys
        ) as server:
            return _problems(server) if server.holds_accounts() else []
    path = Path(args.store) if args.registry is None else Path(args.registry)
    with SqliteRegistry(path, clock=SystemClock(), create=False, read_only=True, keys=keys) as registry:
        if args.registry is None and not registry.holds_accounts():
            return []
        return _problems(registry)


def _problems(registry: CheckedRegistry) -> list[StoreProblem]:
    return [StoreProblem("registry", "", p.message) for p in check_registry(registry)]


def _report(result: StoreVerification) -> dict[str, object]:
    chain = result.chain
    return {
        "ok": result.ok,
        "entries": chain.checked,
        "log_entries": result.entries,
        "batches": result.batches,
        "head_seq": result.head.seq if result.head else None,
        "head_hash": result.head.hash if result.head else None,
        "first_broken_seq": chain.seq,
        "position": chain.index,
        "problem": chain.problem,
        "message": chain.message,
        "problems": [{"kind": p.kind, "batch_id": p.batch_id, "message": p.message} for p in result.problems],
    }


def run_verify(args: argparse.Namespace) -> int:
    """Verify the store; print the result; return 0 intact, 1 broken, 2 cannot read."""
    result = _check(args, args.anchor)
    if isinstance(result, int):
        return result
    if args.json:
        print(json.dumps(_report(result), ensure_ascii=False))
        return 0 if result.ok else 1
    if result.ok:
        where = f", head {result.head.seq} {result.head.hash}" if result.head else ""
        print(
            f"审计链完整，数据与摘要一致：{result.entries} 条，{result.batches} 个批次 / audit chain intact: "
            f"{result.entries} entries, {result.batches} batches, digests and invariants hold{where}"
        )
        return 0
    chain = result.chain
    if not chain.ok:
        zh = _PROBLEM_ZH.get(chain.problem or "", "校验失败")
        hint = ""
        if chain.seq == 1 and chain.problem == "edited":
            hint = f" (wrong or missing key? pass --key-file or set {KEY_ENV} / 密钥是否正确？)"
        print(
            f"审计链在第 {chain.seq} 条处断开（{zh}） / audit chain broken at entry {chain.seq} "
            f"(position {chain.index}, {chain.problem}): {chain.message}{hint}"
        )
    for problem in result.problems:
        if problem.kind != "chain":
            print(f"[{problem.kind}] {problem.message}")
    return 1


def run_anchor(args: argparse.Namespace) -> int:
    """Print the head of an intact log; return 0, 1 when the store does not verify, 2 when it cannot be read."""
    result = _check(args, None)
    if isinstance(result, int):
        return result
    if not result.ok:
        print(
            f"数据库未通过校验，不输出锚值 / the store does not verify ({len(result.problems)} problems): run "
            "'yikatong audit verify' to see them; no anchor printed"
        )
        return 1
    head = result.head
    if args.json:
        print(json.dumps({"seq": head.seq if head else 0, "hash": head.hash if head else None}))
    elif head is None:
        print("审计日志为空 / the audit log is empty")
    else:
        print(f"{head.seq} {head.hash}")
    return 0
