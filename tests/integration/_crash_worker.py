"""A disbursement service on the embedded store that can be killed anywhere and restarted: the crash test's child.

Run as ``python -m tests.integration._crash_worker STORE MODE N``. It opens the store, prints ``ready``, and walks
every batch of a small county month through the whole life cycle (create, submit, validate, dispatch, request
funding, fund, disburse, partial and repeated bank results, return failures, correction batches, publish), one
service step (one store commit) at a time. Every decision is a function of what the store holds, and the clock is
derived from the audit log, so a restarted worker continues exactly where the killed one stopped and the final
store equals that of an uninterrupted run.

``MODE`` makes the worker kill itself with SIGKILL at the ``N``-th occurrence of an event:

* ``none``: never (the parent kills it after a random delay);
* ``commit``: as the ``COMMIT`` statement of a change (a write transaction) starts;
* ``fsync``: a Parquet side file is written but not yet flushed to disk;
* ``rename``: the side file is flushed, just before it is renamed onto its final name;
* ``renamed``: just after that rename, before the transaction that references it commits.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import polars as pl

from yikatong.adapters.memory_reference import MemoryReference
from yikatong.adapters.sqlite import SqliteStore, _files
from yikatong.catalog import Catalog
from yikatong.ports import Store
from yikatong.records import DisbursementOrder, DisclosureNotice, FundingRequest, FundingStatus, Refund
from yikatong.rules import amounts, duplicates, identity, ingestion, ledger
from yikatong.workflow import Actor, Service, build_service

__all__ = ["INLINE_ROWS_MAX", "PLAN", "START", "advance", "open_service", "run"]

START = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)
INLINE_ROWS_MAX = 4
"""Batches above this size keep their rows in Parquet side files, so creation writes one."""

RULES = (*ingestion.RULES, *identity.RULES, *duplicates.RULES, *ledger.RULES, *amounts.RULES)
MAKER = Actor("mz-clerk", "department", department="民政局")
CHECKER = Actor("mz-chief", "department", department="民政局")
BANK = Actor("bank-1", "bank", bank="RCC")
FINANCE = Actor("cz-clerk", "finance")
FINANCE_CHIEF = Actor("cz-chief", "finance")
WAIVED = "registry"
"""The county has no account registry yet: finance waives it for every batch (two commits more per batch)."""

PLAN: tuple[tuple[str, int, int], ...] = (("2026-11", 1, 10), ("2026-11", 6, 10), ("2026-12", 1, 8))
"""The month's batches of 高龄津贴: (period, first person, persons). The second repeats five persons of the first
in the same period: they must be paid once, whatever crashes."""

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _person_id(k: int) -> str:
    body = f"50024119400101{k:03d}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


def _roster(first: int, n: int) -> pl.DataFrame:
    people = range(first, first + n)
    return pl.DataFrame(
        {
            "row_id": list(range(1, n + 1)),
            "name": [f"冉{'甲乙丙丁戊己庚辛壬癸'[k % 10]}{'国华明'[k % 3]}" for k in people],
            "id_number": [_person_id(k) for k in people],
            "account": [f"6217{k:015d}" for k in people],
            "amount_fen": [10_000] * n,
            "town": ["中和街道"] * n,
            "village": [f"村{k % 3 + 1}" for k in people],
        },
        schema_overrides={"row_id": pl.Int64, "amount_fen": pl.Int64},
    )


class AuditClock:
    """Time derived from the store: one minute per audit entry, so a restarted run sees the same times."""

    zone = "Asia/Shanghai"

    def __init__(self, store: Store) -> None:
        self.store = store

    def now(self) -> dt.datetime:
        head = self.store.audit_head()
        return START + dt.timedelta(minutes=0 if head is None else head.seq)


class StatelessBank:
    """Accepts every order; results are decided by :func:`_bank_results` from the store."""

    def verify_accounts(self, rows: pl.DataFrame) -> pl.DataFrame:
        return rows.select("row_id", pl.lit(True).alias("verified"), pl.lit(None, pl.String).alias("reason"))

    def submit(self, order: DisbursementOrder) -> None:
        return None

    def withdraw(self, batch_id: str) -> None:
        return None

    def results(self, batch_id: str) -> pl.DataFrame:
        raise TimeoutError("the worker delivers results itself")


class StatelessTreasury:
    """Accepts every request; the worker funds batches with the ledger's sum of sent rows."""

    def request_funding(self, request: FundingRequest) -> None:
        return None

    def funding_status(self, batch_id: str) -> FundingStatus:
        raise KeyError(batch_id)

    def refund(self, refund: Refund) -> None:
        return None


class NullSink:
    def publish(self, notice: DisclosureNotice) -> None:
        return None


def open_service(path: Path) -> tuple[SqliteStore, Service]:
    """The store at ``path`` and a service over it, as the worker and the reference run use them."""
    store = SqliteStore(path, inline_rows_max=INLINE_ROWS_MAX)
    service = build_service(
        store=store,
        bank=StatelessBank(),
        treasury=StatelessTreasury(),
        disclosure=NullSink(),
        clock=AuditClock(store),
        catalog=Catalog.example(),
        reference=MemoryReference({"deceased": _deceased()}),
        rules=RULES,
        verify_accounts=False,
    )
    return store, service


def _deceased() -> pl.DataFrame:
    """The deceased list: one person who is on no roster of the month (the control is supplied, and passes)."""
    return pl.DataFrame(
        {"id_number": [_person_id(900)], "death_date": [dt.date(2026, 3, 1)]},
        schema={"id_number": pl.String, "death_date": pl.Date},
    )


def _bank_results(store: Store, batch_id: str) -> pl.DataFrame:
    """The next delivery: four rows still sent, plus two already final ones delivered again."""
    record = store.batch(batch_id)
    entries = store.ledger(item=record.item, period=record.period).filter(pl.col("batch_id") == batch_id)
    fresh = entries.filter(pl.col("status") == "sent").sort("row_id").head(4)
    repeat = entries.filter(pl.col("status").is_in(["paid", "failed"])).sort("row_id").head(2)
    fails = (pl.col("row_id") % 4 == 0) & pl.lit(record.corrects is None)
    fresh = fresh.with_columns(pl.when(fails).then(pl.lit("failed")).otherwise(pl.lit("paid")).alias("outcome"))
    delivery = pl.concat(
        [
            fresh.select("row_id", "outcome", "amount_fen"),
            repeat.select("row_id", pl.col("status").alias("outcome"), "amount_fen"),
        ]
    )
    failed = pl.col("outcome") == "failed"
    return delivery.with_columns(
        pl.when(failed).then(pl.lit("ACCOUNT_CLOSED")).otherwise(None).alias("reason_code"),
        pl.when(failed).then(pl.lit("账户已销户")).otherwise(pl.lit("交易成功")).alias("reason"),
    )


def _correction_roster(store: Store, batch_id: str) -> pl.DataFrame | None:
    """Rows the bank failed (not rows held as already paid), re-declared with a new account."""
    record = store.batch(batch_id)
    if record.corrects is not None or any(b.corrects == batch_id for b in store.batches()):
        return None
    failed = store.ledger(item=record.item, period=record.period).filter(
        (pl.col("batch_id") == batch_id) & (pl.col("status") == "failed")
    )
    rows = store.rows(batch_id).join(failed.select("row_id"), on="row_id", how="semi")
    if rows.is_empty():
        return None
    return rows.select(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("row_id"),
        "name",
        "id_number",
        pl.concat_str(pl.lit("6230"), pl.col("account").str.slice(4)).alias("account"),
        "amount_fen",
        "town",
        "village",
        pl.col("row_id").alias("corrects_row_id"),
    )


def advance(store: Store, service: Service) -> bool:
    """Take one step (one commit) of the first batch that has one; False when the month is over."""
    batches = store.batches()
    if len([b for b in batches if b.corrects is None]) < len(PLAN):
        period, first, n = PLAN[len([b for b in batches if b.corrects is None])]
        service.create_batch(_roster(first, n), item="GLJT", period=period, actor=MAKER, bank="RCC")
        return True
    for record in batches:
        batch_id, state = record.batch_id, record.state
        if state == "draft":
            service.submit(batch_id, actor=MAKER)
        elif state == "submitted":
            waiver = service.waivers(batch_id).get(WAIVED)
            if waiver is None:
                service.waive_control(
                    batch_id, WAIVED, actor=FINANCE, reason="账户登记库尚未建成 registry not yet built"
                )
            elif not waiver.approved:
                service.approve_waiver(batch_id, WAIVED, actor=FINANCE_CHIEF)
            else:
                service.validate(batch_id)
        elif state == "validated":
            service.dispatch(batch_id)
        elif state == "dispatched":
            service.request_funding(batch_id, actor=CHECKER)
        elif state == "funding_requested":
            sent = store.ledger(item=record.item, period=record.period).filter(
                (pl.col("batch_id") == batch_id) & (pl.col("status") == "sent")
            )
            requested = int(sent["amount_fen"].sum()) - record.drawn_fen
            service.fund(batch_id, actor=Actor.treasury(), amount_fen=requested)
        elif state == "funded":
            service.disburse(batch_id, actor=BANK)
        elif state == "disbursing":
            service.record_results(batch_id, _bank_results(store, batch_id), actor=BANK)
        elif state == "settled":
            rows = store.rows(batch_id)
            correction = _correction_roster(store, batch_id)
            if rows["status"].is_in(["failed", "blocked"]).any():
                service.return_failures(batch_id)
            elif correction is not None:
                service.create_correction(batch_id, correction, actor=MAKER)
            else:
                service.publish(batch_id, actor=MAKER)
        else:
            continue
        return True
    return False


def run(path: Path) -> int:
    """Walk the month to its end on the store at ``path``; returns the number of steps taken."""
    store, service = open_service(path)
    try:
        steps = 0
        while advance(store, service):
            steps += 1
        return steps
    finally:
        store.close()


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class _KillingOs(ModuleType):
    """The ``os`` module as :mod:`yikatong.adapters.sqlite._files` sees it, dying at the chosen call."""

    def __init__(self, mode: str, n: int) -> None:
        super().__init__("os")
        self._mode, self._n, self._seen = mode, n, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    def _tick(self, mode: str) -> bool:
        if self._mode != mode:
            return False
        self._seen += 1
        return self._seen == self._n

    def fsync(self, fd: int) -> None:
        if self._tick("fsync"):
            _die()
        os.fsync(fd)

    def replace(self, src: Any, dst: Any) -> None:
        if self._tick("rename"):
            _die()
        os.replace(src, dst)
        if self._tick("renamed"):
            _die()


def _arm(store: SqliteStore, mode: str, n: int) -> None:
    if mode == "commit":
        seen = [0]
        writing = [False]

        def trace(statement: str) -> None:
            # Only the COMMIT of a write (BEGIN IMMEDIATE) counts: reads end with a COMMIT too.
            word = statement.strip().upper()
            if word == "BEGIN IMMEDIATE":
                writing[0] = True
            elif word == "COMMIT" and writing[0]:
                writing[0] = False
                seen[0] += 1
                if seen[0] == n:
                    _die()

        store.connection.set_trace_callback(trace)
    elif mode in ("fsync", "rename", "renamed"):
        _files.os = _KillingOs(mode, n)  # type: ignore[attr-defined]


def main(argv: list[str]) -> int:
    path, mode, n = Path(argv[0]), argv[1], int(argv[2])
    store, service = open_service(path)
    _arm(store, mode, n)
    print("ready", flush=True)
    while advance(store, service):
        pass
    store.close()
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
