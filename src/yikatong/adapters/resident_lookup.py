"""A [`ResidentLookup`][yikatong.ports.ResidentLookup] served from a store: a resident's payments, every look-up
audited.

[`StoreResidentLookup`][yikatong.adapters.StoreResidentLookup] finds the person's ledger entries (in a sealed SQLite
store by the ID's keyed look-up hash, opening only those entries), reads the rows of those batches, keeps the rows whose
name matches too, and answers with [`yikatong.workflow.lookup.payments_answer`][]. Before the answer is handed out, one
entry is appended to the store's audit chain ([`yikatong.workflow.lookup.lookup_entry`][]): who asked, the channel, a
keyed hash of the ID and how many payments were found. When that entry cannot be written there is no answer.

The store must be able to append an audit entry that changes no batch (``append_audit``: the in-memory and SQLite
stores can); the keys are required, since the ID is recorded only as a keyed hash.
"""

from __future__ import annotations

from typing import Final, Protocol, runtime_checkable

import polars as pl

from yikatong.catalog import Catalog
from yikatong.errors import StoreError
from yikatong.ports import Clock, Keys, Store
from yikatong.privacy import scrub
from yikatong.records import ROW_SCHEMA, AuditEntry
from yikatong.workflow.lookup import chain_key, lookup_entry, lookup_hash, parse_query, payments_answer

__all__ = ["AuditAppender", "PersonLedger", "StoreResidentLookup"]

_RETRIES: Final = 5
_MAX_LABEL: Final = 100


@runtime_checkable
class AuditAppender(Protocol):
    """A store that can append audit entries recording no change of a batch."""

    def append_audit(self, entries: tuple[AuditEntry, ...]) -> None:
        """Append ``entries`` after the log's head, or refuse (``StoreError``) when they do not continue it."""
        ...


@runtime_checkable
class PersonLedger(Protocol):
    """A store that can find one person's ledger entries without opening the others."""

    def ledger_of(self, id_number: str) -> pl.DataFrame:
        """The person's ledger entries ([`LEDGER_SCHEMA`][yikatong.records.LEDGER_SCHEMA])."""
        ...


def _label(value: str, what: str) -> str:
    text = " ".join(value.split())
    if not text:
        raise ValueError(f"{what} 不能为空 / {what} must not be blank")
    if len(text) > _MAX_LABEL:
        raise ValueError(f"{what} 过长 / {what} is longer than {_MAX_LABEL} characters")
    return scrub(text)


class StoreResidentLookup:
    """Residents' look-ups of their payments in a store, each recorded in the store's audit log.

    Args:
        store: The store (the in-memory or SQLite store, or any [`Store`][yikatong.ports.Store] that is also an
            ``AuditAppender``); a sealed SQLite store opened with its keys.
        keys: The deployment's keys: the audit key hashes the ID in the log; the chain is continued under the key
            it is written with (none for a store written without keys).
        catalog: The subsidy catalogue: item names and objection contacts.
        clock: The time of the audit entries and the county zone of pay dates.
        default_contact: Where to raise an objection when an item's catalogue entry names no contact (the county's
            service hotline or window, say).

    Raises:
        TypeError: the store cannot append an audit entry (so look-ups could not be recorded).
    """

    def __init__(self, store: Store, *, keys: Keys, catalog: Catalog, clock: Clock, default_contact: str = "") -> None:
        if not isinstance(store, AuditAppender):
            raise TypeError(
                f"该数据库无法记录查询 / {type(store).__name__} cannot record look-ups (it has no append_audit)"
            )
        self.store = store
        self.keys = keys
        self.catalog = catalog
        self.clock = clock
        self.default_contact = default_contact

    def payments(self, *, name: str, id_number: str, asked_by: str, channel: str) -> pl.DataFrame:
        """The person's payments (see [`yikatong.ports.ResidentLookup`][]), recorded in the audit log first.

        Raises:
            ValueError: a malformed name or ID number, or a blank ``asked_by`` or ``channel``; nothing recorded.
            StoreError: the store cannot be read (a sealed store without its keys) or the look-up cannot be
                recorded; no answer is given.
        """
        query = parse_query(name, id_number)
        who = _label(asked_by, "asked_by")
        via = _label(channel, "channel")
        answer = payments_answer(
            self._rows(query.id_number),
            query=query,
            catalog=self.catalog,
            default_contact=self.default_contact,
            zone=self.clock.zone,
        )
        self._record(who, via, lookup_hash(query.id_number, key=self.keys.audit_key()), answer.height)
        return answer

    def _ledger(self, id_number: str) -> pl.DataFrame:
        if isinstance(self.store, PersonLedger):
            return self.store.ledger_of(id_number)
        return self.store.ledger().filter(pl.col("id_number") == id_number)

    def _rows(self, id_number: str) -> pl.DataFrame:
        entries = self._ledger(id_number)
        frames = [pl.DataFrame(schema={**ROW_SCHEMA, "period": pl.String(), "department": pl.String()})]
        for batch_id in entries["batch_id"].unique(maintain_order=True).to_list():
            record = self.store.batch(batch_id)
            sent = entries.filter(pl.col("batch_id") == batch_id).select("row_id")
            frames.append(
                self.store.rows(batch_id)
                .join(sent, on="row_id", how="semi")
                .with_columns(
                    pl.lit(record.item).alias("item"),
                    pl.lit(record.period).alias("period"),
                    pl.lit(record.department).alias("department"),
                )
            )
        return pl.concat(frames, how="vertical_relaxed")

    def _record(self, asked_by: str, channel: str, id_hash: str, found: int) -> None:
        store = self.store
        assert isinstance(store, AuditAppender)
        for attempt in range(_RETRIES):
            head = self.store.audit_head()
            entry = lookup_entry(
                head,
                at=self.clock.now(),
                asked_by=asked_by,
                channel=channel,
                id_hash=id_hash,
                found=found,
                key=chain_key(head, self.keys),
            )
            try:
                store.append_audit((entry,))
                return
            except StoreError:
                if attempt == _RETRIES - 1 or self.store.audit_head() == head:
                    raise  # not a race with another writer: the store refuses for its own reasons
