"""The service's shared core: the ports, loading a batch into its machine, and committing a step."""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import polars as pl
from attrs import evolve

from yikatong.catalog import Catalog, ReferenceListName, SubsidyItem
from yikatong.errors import IllegalTransition, PermissionDenied, StoreError
from yikatong.localtime import local_date
from yikatong.ports import Bank as BankPort
from yikatong.ports import Clock, DisclosureSink, Keys, Store, Treasury
from yikatong.records import EXCEPTION_SCHEMA, ROW_UPDATE_SCHEMA, BatchRecord, BatchState, Change
from yikatong.rules import Rule
from yikatong.workflow._banks import bank_of_rows
from yikatong.workflow.audit import entry_hash, make_entry
from yikatong.workflow.digests import batch_digest, ledger_digest, order_digest, recorded_digests, rows_digest
from yikatong.workflow.machine import BatchFlow, Step, build_machine
from yikatong.workflow.purge import purge_entries
from yikatong.workflow.roles import Actor
from yikatong.workflow.statuses import apply_updates

__all__ = ["DEFAULT_CORRECTION_DAYS", "DEFAULT_WINDOW_DAYS", "ReferenceSource", "RegistrySource", "ServiceCore"]

DEFAULT_CORRECTION_DAYS = 15
"""Days a department has to correct a returned row when the item names no ``correction_days``."""
DEFAULT_WINDOW_DAYS = 7
"""Days a public notice stays up unless the publisher says otherwise."""


class RegistrySource(Protocol):
    """What validation needs of an [`AccountRegistry`][yikatong.ports.AccountRegistry]: its current snapshot."""

    def snapshot(self) -> pl.LazyFrame:
        """Accounts: ``id_number, account, account_kind, bank, holder_name, status``."""
        ...


class ReferenceSource(Protocol):
    """What validation needs of [`ReferenceData`][yikatong.ports.ReferenceData]: the lists it has."""

    def available(self) -> frozenset[ReferenceListName]:
        """Names of the lists available."""
        ...

    def frame(self, name: ReferenceListName) -> pl.LazyFrame:
        """One list keyed by ``id_number``."""
        ...


class ServiceCore:
    """Holds the ports and the two primitives every step uses: ``_fire`` and ``_commit``."""

    def __init__(
        self,
        *,
        store: Store,
        treasury: Treasury,
        disclosure: DisclosureSink,
        clock: Clock,
        catalog: Catalog,
        registry: RegistrySource | None = None,
        reference: ReferenceSource | None = None,
        correction_days: int = DEFAULT_CORRECTION_DAYS,
        disclosure_window_days: int = DEFAULT_WINDOW_DAYS,
        verify_accounts: bool = True,
        rules: Sequence[Rule] | None = None,
        history: pl.LazyFrame | pl.DataFrame | None = None,
        keys: Keys | None = None,
        bank: BankPort | None = None,
        banks: Mapping[str, BankPort] | None = None,
        bank_codes: Mapping[str, str] | None = None,
    ) -> None:
        if (bank is None) == (banks is None) or (banks is not None and not banks):
            raise ValueError(
                "须指定代发银行 / give either bank= (one paying bank) or banks= (one per bank code, at least one)"
            )
        if correction_days < 1 or disclosure_window_days < 1:
            raise ValueError("correction_days and disclosure_window_days must be at least 1")
        self.store = store
        self.bank = bank
        self.banks: dict[str, BankPort] = dict(banks or {})
        self.bank_codes: dict[str, str] = dict(bank_codes or {})
        self.treasury = treasury
        self.disclosure = disclosure
        self.clock = clock
        self.catalog = catalog
        self.registry = registry
        self.reference = reference
        self.correction_days = correction_days
        self.disclosure_window_days = disclosure_window_days
        self.verify_accounts = verify_accounts
        self.rules = tuple(rules) if rules is not None else None
        self.history = history.lazy() if history is not None else None
        self.keys = keys
        self.audit_key: bytes | None = keys.audit_key() if keys is not None else None

    def _now(self) -> dt.datetime:
        now = self.clock.now()
        if now.tzinfo is None:
            raise ValueError("the clock must return timezone-aware times")
        return now.astimezone(dt.UTC)

    @property
    def several_banks(self) -> bool:
        """Whether the service pays through one bank per bank code (``banks=``) rather than one bank."""
        return self.bank is None

    def _bank_port(self, code: str | None) -> BankPort:
        """The port of the paying bank ``code`` (the one bank of a service built with ``bank=``).

        Raises:
            PermissionDenied: the service has no bank of that code.
        """
        if self.bank is not None:
            return self.bank
        if code is None or code not in self.banks:
            raise PermissionDenied(f"no paying bank {code!r} / 无此代发银行")
        return self.banks[code]

    def _row_banks(self, record: BatchRecord, rows: pl.DataFrame, *, account: str = "account") -> pl.DataFrame:
        """``row_id, bank``: the bank paying each row (by the registry's bank of the account in ``account``; see
        ``yikatong.workflow._banks``); with one bank, the batch's own bank code for every row."""
        if self.bank is not None:
            return rows.select("row_id", pl.lit(record.bank, pl.String).alias("bank"))
        return bank_of_rows(
            rows,
            registry=self.registry.snapshot() if self.registry is not None else None,
            bank_codes=self.bank_codes,
            known=frozenset(self.banks),
            fallback=record.bank,
            account=account,
        )

    def _paying_banks(self, batch_id: str) -> list[str]:
        """The codes of the banks the batch's rows were sent to, sorted."""
        return sorted(self.store.rows(batch_id).get_column("bank").drop_nulls().unique().to_list())

    def _require_paying_bank(self, record: BatchRecord, actor: Actor) -> None:
        """With several banks, a bank acts on a batch only when some of its rows were sent to it.

        Raises:
            PermissionDenied: naming the batch.
        """
        if self.bank is not None or actor.role != "bank":
            return
        if actor.bank not in self._paying_banks(record.batch_id):
            raise PermissionDenied(f"batch {record.batch_id}: {actor.user} pays none of its rows / 非本批次代发银行")

    def _today(self) -> dt.date:
        """Today on the county's calendar (the clock's zone)."""
        return local_date(self._now(), self.clock.zone)

    def _item(self, record: BatchRecord) -> SubsidyItem:
        return self.catalog[record.item]

    def _correction_days(self, record: BatchRecord) -> int:
        return self._item(record).correction_days or self.correction_days

    def _fire(self, record: BatchRecord, trigger: str, step: Step) -> BatchState:
        """Run ``trigger`` through the batch's machine: checks the actor and guards; returns the new state.

        With several banks, a bank may act on any batch some of whose rows were sent to it (checked here, not by the
        batch's own bank code).
        """
        if self.several_banks and step.actor.role == "bank":
            self._require_paying_bank(record, step.actor)
            record = evolve(record, bank=None)
        flow = BatchFlow(record, town_filed=self._item(record).filed_by == "town")
        build_machine(flow)
        return flow.fire(trigger, step)

    def _commit(
        self,
        record: BatchRecord,
        *,
        state: BatchState,
        at: dt.datetime,
        actor: Actor,
        action: str,
        reason: str = "",
        details: Mapping[str, Any] | None = None,
        changes: Mapping[str, Any] | None = None,
        new_rows: pl.DataFrame | None = None,
        row_updates: pl.DataFrame | None = None,
        ledger: pl.DataFrame | None = None,
        exceptions: pl.DataFrame | None = None,
        order: pl.DataFrame | None = None,
        create: bool = False,
    ) -> BatchRecord:
        """Commit one step as one [`Change`][yikatong.records.Change] with its audit entry; return the new header.

        The entry carries the digests of what the step leaves stored ([`yikatong.workflow.digests`][]): the
        header, the rows and ledger entries it wrote, and ``order`` (the pay order's rows, at dispatch).
        """
        new = evolve(
            record,
            state=state,
            updated_at=at,
            version=1 if create else record.version + 1,
            **dict(changes or {}),
        )
        entry = make_entry(
            previous=self.store.audit_head(),
            at=at,
            actor=actor.user,
            role=actor.role,
            action=action,
            batch_id=record.batch_id,
            from_state="" if create else record.state,
            to_state=state,
            reason=reason,
            details={
                **dict(details or {}),
                "digests": self._digests(new, new_rows=new_rows, row_updates=row_updates, ledger=ledger, order=order),
            },
            key=self.audit_key,
        )
        self.store.commit(
            Change(
                batch=new,
                expected_version=None if create else record.version,
                new_rows=new_rows,
                row_updates=row_updates,
                ledger=ledger,
                audit=(entry,),
                exceptions=exceptions if exceptions is not None and exceptions.height else None,
            )
        )
        return new

    def _digests(
        self,
        new: BatchRecord,
        *,
        new_rows: pl.DataFrame | None,
        row_updates: pl.DataFrame | None,
        ledger: pl.DataFrame | None,
        order: pl.DataFrame | None,
    ) -> dict[str, Any]:
        """Digests of the header, rows, ledger entries and order as the store will hold them after the change."""
        key = self.audit_key
        out: dict[str, Any] = {"batch": batch_digest(new, key=key)}
        after: dict[str, pl.DataFrame] = {}
        if new_rows is not None:
            after[new.batch_id] = new_rows
        if row_updates is not None and row_updates.height:
            updates = row_updates.select(pl.col(c).cast(t) for c, t in ROW_UPDATE_SCHEMA.items())
            for batch_id in sorted(updates["batch_id"].unique().to_list()):
                base = after[batch_id] if batch_id in after else self.store.rows(batch_id)
                after[batch_id] = apply_updates(base, updates.filter(pl.col("batch_id") == batch_id))
        if after:
            out["rows"] = {b: rows_digest(frame, key=key) for b, frame in sorted(after.items())}
        if ledger is not None and ledger.height:
            out["ledger"] = {}
            for batch_id in sorted(ledger["batch_id"].unique().to_list()):
                part = ledger.filter(pl.col("batch_id") == batch_id)
                item, period = part["item"][0], part["period"][0]
                stored = self.store.ledger(item=item, period=period).filter(pl.col("batch_id") == batch_id)
                merged = pl.concat([stored.join(part, on=["batch_id", "row_id"], how="anti"), part.cast(stored.schema)])
                out["ledger"][batch_id] = ledger_digest(merged, key=key)
        if order is not None:
            out["order"] = order_digest(order, key=key)
        return out

    def _check_rows_recorded(self, batch_id: str, rows: pl.DataFrame) -> None:
        """Refuse to act on rows that differ from the digest the audit log last recorded for them.

        Raises:
            StoreError: the stored rows (an account, an amount, a status…) were changed outside the workflow, or
                the entry recording them was.
        """
        for entry in reversed(self.store.audit()):
            recorded = recorded_digests(entry).get("rows", {}).get(batch_id)
            if recorded is None:
                continue
            intact = hmac.compare_digest(entry_hash(entry, key=self.audit_key), entry.hash)
            if intact and recorded == rows_digest(rows, key=self.audit_key):
                return
            break
        raise StoreError(
            f"批次 {batch_id} 的收款人行与审计记录不符，已拒绝 / batch {batch_id}: the stored payee rows differ from "
            "what the audit log recorded; refused (run 'yikatong audit verify')"
        )

    def _refuse_purged(self, batch_id: str, zh: str, en: str) -> None:
        """Refuse a step that needs the payee detail of a purged batch (``zh``/``en``: what was to be done).

        Raises:
            IllegalTransition: the audit log records the batch's purge.
        """
        if batch_id in purge_entries(self.store.audit()):
            raise IllegalTransition(
                f"批次 {batch_id} 的收款人明细已按保存期限清除，不能{zh} / batch {batch_id} was purged past its "
                f"retention: cannot {en}"
            )

    def _batch_ledger(self, record: BatchRecord) -> pl.DataFrame:
        return self.store.ledger(item=record.item, period=record.period).filter(pl.col("batch_id") == record.batch_id)

    def _empty_exceptions(self) -> pl.DataFrame:
        return pl.DataFrame(schema=EXCEPTION_SCHEMA)
