"""Verifying a whole store against its audit log: the chain, the digests it carries, and the invariants.

[`verify_store`][yikatong.workflow.verify_store] is what ``yikatong audit verify`` runs. It checks, through the
[`Store`][yikatong.ports.Store] port only (so every adapter can be checked the same way):

* the keyed hash chain (and the anchor, when one is given);
* that a store holding batches has a log at all, and that every batch has an entry recording its current header;
* that each batch's header, payee rows and ledger entries, as stored now, have the digests the last entry recording
  them carries, and that the rows a dispatch sent have the digest of the order the bank received;
* for a purged batch ([`yikatong.workflow.purge`][]), whose order can no longer be recomputed (its names, IDs and
  accounts are gone): that its rows and ledger still add up to the totals its purge entry recorded, and that it
  holds no payee detail any more;
* the invariants of [`check_invariants`][yikatong.workflow.invariants.check_invariants].

Problems name batches and what differs, never personal data.
"""

from __future__ import annotations

from typing import Literal

import polars as pl
from attrs import frozen

from yikatong.errors import StoreError
from yikatong.ports import Store
from yikatong.records import PURGED_COLUMNS, AuditEntry, BatchRecord
from yikatong.workflow.audit import AuditVerification, verify
from yikatong.workflow.digests import batch_digest, ledger_digest, order_digest, recorded_digests, rows_digest
from yikatong.workflow.invariants import check_invariants
from yikatong.workflow.purge import purge_entries, purge_totals, recorded_totals

__all__ = ["StoreProblem", "StoreVerification", "batch_problems", "verify_store"]

ProblemKind = Literal[
    "chain", "empty_log", "unrecorded", "header", "rows", "ledger", "order", "totals", "purge", "invariant", "registry"
]


@frozen
class StoreProblem:
    """One thing found wrong in a store.

    Attributes:
        kind: ``chain`` (the audit chain is broken), ``empty_log`` (batches but no log), ``unrecorded`` (a batch,
            its rows or its ledger entries have no digest in the log), ``header``/``rows``/``ledger``/``order``
            (stored data differs from the digest the log carries), ``totals`` (a purged batch's row or ledger
            count or sum differs from what its purge recorded), ``purge`` (a purged batch still holds payee
            detail), ``invariant`` (an invariant is broken), ``registry`` (the account registry kept beside the
            store: its history chain or records, checked by ``yikatong audit verify``).
        batch_id: The batch concerned ("" when none).
        message: What is wrong, in Chinese then English; never a full ID or account number.
    """

    kind: ProblemKind
    batch_id: str
    message: str


@frozen
class StoreVerification:
    """The result of [`verify_store`][yikatong.workflow.verify_store].

    Attributes:
        chain: The chain's own verification.
        entries: Number of audit entries.
        head: The last entry (None on an empty log): record its ``seq`` and ``hash`` outside the store.
        batches: Number of batches checked.
        problems: Everything found wrong, chain first.
    """

    chain: AuditVerification
    entries: int
    head: AuditEntry | None
    batches: int
    problems: tuple[StoreProblem, ...]

    @property
    def ok(self) -> bool:
        """True when nothing was found wrong."""
        return not self.problems

    def __bool__(self) -> bool:
        return self.ok


@frozen
class _Recorded:
    """The last digests the log holds for each batch."""

    header: dict[str, str]
    rows: dict[str, str]
    ledger: dict[str, str]
    order: dict[str, str]
    purges: dict[str, AuditEntry]


def _recorded(entries: tuple[AuditEntry, ...]) -> _Recorded:
    header: dict[str, str] = {}
    rows: dict[str, str] = {}
    ledger: dict[str, str] = {}
    order: dict[str, str] = {}
    for entry in entries:
        digests = recorded_digests(entry)
        if entry.batch_id and isinstance(digests.get("batch"), str):
            header[entry.batch_id] = digests["batch"]
        for target, name in ((rows, "rows"), (ledger, "ledger")):
            part = digests.get(name)
            if isinstance(part, dict):
                target.update({str(k): str(v) for k, v in part.items()})
        if entry.batch_id and isinstance(digests.get("order"), str):
            order[entry.batch_id] = digests["order"]
    return _Recorded(header, rows, ledger, order, purge_entries(entries))


def verify_store(store: Store, *, key: bytes | None = None, anchor: str | None = None) -> StoreVerification:
    """Check a store against its audit log (see the module text for what is checked).

    Args:
        store: The store to check (open it read-only: nothing is written).
        key: The audit key the store was written with ([`yikatong.ports.Keys.audit_key`][]); None for a store
            written without keys. Without the key, a rewrite that recomputed every hash cannot be told apart.
        anchor: The head hash recorded outside the store (``yikatong audit anchor``); a cut tail is then found.

    Returns:
        A [`StoreVerification`][yikatong.workflow.StoreVerification]; never raises for a tampered store.

    Raises:
        StoreError: the store cannot be read at all.
    """
    entries = store.audit()
    chain = verify(entries, key=key, anchor=anchor)
    problems: list[StoreProblem] = []
    if not chain.ok:
        problems.append(StoreProblem("chain", "", f"审计链断开 / audit chain broken: {chain.message}"))
    batches = store.batches()
    if batches and not entries:
        problems.append(
            StoreProblem(
                "empty_log",
                "",
                f"数据库有 {len(batches)} 个批次但审计日志为空 / the store holds {len(batches)} batches "
                "but its audit log is empty",
            )
        )
    recorded = _recorded(entries)
    ledger = store.ledger()
    for record in batches:
        problems += _check_batch(store, record.batch_id, batch_digest(record, key=key), recorded, ledger, key)
    known = {b.batch_id for b in batches}
    for orphan in sorted(set(ledger["batch_id"].unique().to_list()) - known):
        problems.append(
            StoreProblem(
                "unrecorded", orphan, f"台账中有不存在的批次 {orphan} / ledger entries of an unknown batch {orphan}"
            )
        )
    if entries or batches:
        problems += [
            StoreProblem(
                "invariant", v.batch_id, f"不变量 {v.invariant}（{v.name}）被破坏 / invariant broken: {v.detail}"
            )
            for v in check_invariants(store, audit_key=key)
            if v.invariant != 5 or chain.ok  # a broken chain is reported once, above
        ]
    return StoreVerification(chain, len(entries), entries[-1] if entries else None, len(batches), tuple(problems))


def batch_problems(store: Store, record: BatchRecord, *, key: bytes | None) -> list[StoreProblem]:
    """What [`verify_store`][yikatong.workflow.verify_store] finds wrong with one batch's header, rows, ledger entries
    and order (not the chain or the invariants): what a step that rewrites the batch, such as a purge, checks first."""
    ledger = store.ledger(item=record.item, period=record.period)
    return _check_batch(store, record.batch_id, batch_digest(record, key=key), _recorded(store.audit()), ledger, key)


def _check_batch(
    store: Store, batch_id: str, header: str, recorded: _Recorded, ledger: pl.DataFrame, key: bytes | None
) -> list[StoreProblem]:
    out: list[StoreProblem] = []
    if batch_id not in recorded.header:
        out.append(
            StoreProblem(
                "unrecorded", batch_id, f"批次 {batch_id} 在审计日志中无记录 / batch {batch_id} has no audit record"
            )
        )
    elif recorded.header[batch_id] != header:
        out.append(
            StoreProblem(
                "header",
                batch_id,
                f"批次 {batch_id} 的批次信息（状态、金额等）与审计记录不符 / batch {batch_id}: the stored header "
                "(state, funded amount, …) differs from what the audit log recorded",
            )
        )
    try:
        rows = store.rows(batch_id)
    except StoreError as exc:
        return [*out, StoreProblem("rows", batch_id, f"批次 {batch_id} 的行数据无法读取 / rows unreadable: {exc}")]
    if batch_id not in recorded.rows:
        out.append(StoreProblem("unrecorded", batch_id, f"批次 {batch_id} 的行无摘要 / no digest of its rows"))
    elif recorded.rows[batch_id] != rows_digest(rows, key=key):
        out.append(
            StoreProblem(
                "rows",
                batch_id,
                f"批次 {batch_id} 的收款人行（身份证、账号、金额、状态）与审计记录不符 / batch {batch_id}: the stored "
                "payee rows (ID, account, amount, status) differ from what the audit log recorded",
            )
        )
    entries = ledger.filter(pl.col("batch_id") == batch_id)
    if entries.height and batch_id not in recorded.ledger:
        out.append(StoreProblem("unrecorded", batch_id, f"批次 {batch_id} 的台账无摘要 / no digest of its ledger"))
    elif batch_id in recorded.ledger and recorded.ledger[batch_id] != ledger_digest(entries, key=key):
        out.append(
            StoreProblem(
                "ledger",
                batch_id,
                f"批次 {batch_id} 的发放台账与审计记录不符 / batch {batch_id}: the payment ledger differs from what "
                "the audit log recorded",
            )
        )
    purge = recorded.purges.get(batch_id)
    if purge is not None:
        return out + _check_purged(batch_id, purge, rows, entries)
    if batch_id in recorded.order:
        sent = rows.join(entries.select("row_id"), on="row_id", how="semi")
        if recorded.order[batch_id] != order_digest(sent, key=key):
            out.append(
                StoreProblem(
                    "order",
                    batch_id,
                    f"批次 {batch_id} 的已发送行与发给银行的代发指令不符 / batch {batch_id}: the rows sent differ from "
                    "the pay order the bank received",
                )
            )
    return out


def _check_purged(batch_id: str, purge: AuditEntry, rows: pl.DataFrame, ledger: pl.DataFrame) -> list[StoreProblem]:
    """A purged batch: its totals as its purge recorded them, and no payee detail left."""
    out: list[StoreProblem] = []
    recorded = recorded_totals(purge)
    now = purge_totals(rows, ledger)
    differ = sorted(k for k, v in now.items() if recorded.get(k) != v)
    if differ:
        out.append(
            StoreProblem(
                "totals",
                batch_id,
                f"已清除批次 {batch_id} 的合计与清除时记录不符（{', '.join(differ)}） / purged batch {batch_id}: "
                f"{', '.join(differ)} differ from what its purge recorded",
            )
        )
    left = [c for c in PURGED_COLUMNS if c in rows.columns and rows[c].drop_nulls().len()]
    if left:
        out.append(
            StoreProblem(
                "purge",
                batch_id,
                f"已清除批次 {batch_id} 仍有收款人明细（{', '.join(left)}） / purged batch {batch_id} still holds "
                f"payee detail ({', '.join(left)})",
            )
        )
    return out
