"""The ports: what the core needs from the outside world, in the core's words.

A host system implements these to connect yikatong to its own bank, treasury, database and publication channels.
The project ships adapters for the common cases in [`yikatong.adapters`][], and contract tests in
[`yikatong.testing`][] that any implementation must pass. The core never imports an adapter.

Rows cross every port as Polars frames with the columns each method documents; amounts are integer fen.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import polars as pl

from yikatong import _deprecated
from yikatong import records as _records
from yikatong.actors import Actor
from yikatong.catalog import ReferenceListName

if TYPE_CHECKING:
    from yikatong.records import (
        AuditEntry,
        BatchRecord,
        Change,
        DisbursementOrder,
        DisclosureNotice,
        FundingRequest,
        FundingStatus,
        Refund,
    )
    from yikatong.registry.model import Account, AccountEvent, AccountKind

__all__ = [
    "AccountRegistry",
    "Bank",
    "Clock",
    "DisclosureSink",
    "Keys",
    "ReferenceData",
    "ResidentLookup",
    "Store",
    "Treasury",
]


@runtime_checkable
class Clock(Protocol):
    """The time source of the workflow: audit entries, deadlines and pay dates use it, never the system clock.

    Attributes:
        zone: The county's IANA time zone (``Asia/Shanghai`` in China): correction deadlines, pay dates and
            disclosure dates are dates on this zone's wall clock, not UTC dates.
    """

    zone: str

    def now(self) -> dt.datetime:
        """The current time, timezone-aware."""
        ...


@runtime_checkable
class Keys(Protocol):
    """The deployment's secrets: the key of the audit chain and the key of personal data at rest.

    A host keeps them outside the store (a key file readable only by the service account, a hardware module, a
    secrets manager) and hands them in through this port. [`yikatong.adapters.SecretKeys`][] derives both from
    one secret (``YIKATONG_AUDIT_KEY`` or a key file).
    """

    def audit_key(self) -> bytes:
        """The HMAC-SHA256 key of the audit chain and of the digests it carries (at least 16 bytes)."""
        ...

    def data_key(self) -> bytes:
        """The 32-byte AES-256-GCM key for ID numbers and accounts at rest; a store derives its look-up key from it."""
        ...


@runtime_checkable
class Bank(Protocol):
    """The paying bank 代发金融机构."""

    def verify_accounts(self, rows: pl.DataFrame) -> pl.DataFrame:
        """Bulk account verification 联网核查 of name + ID + account.

        Args:
            rows: ``row_id``, ``id_number``, ``name``, ``account``.

        Returns:
            ``row_id``, ``verified`` (Boolean), ``reason`` (String, null when verified): one row per input row.
        """
        ...

    def submit(self, order: DisbursementOrder) -> None:
        """Accept a pay order. Submitting the same batch twice must not pay twice.

        The workflow hands the order over at dispatch, before the treasury has funded the batch: the bank pays an
        order only once the batch's funds have arrived, so that a batch cancelled or sent back before funding is
        never paid; such a batch's order is taken back with [`withdraw`][yikatong.ports.Bank.withdraw].

        Raises:
            TimeoutError: when the bank did not answer; the caller may retry the same order.
        """
        ...

    def withdraw(self, batch_id: str) -> None:
        """Take back an order whose money has not arrived (原渠道退回 or a cancellation after dispatch).

        Afterwards the bank never pays the order, even when money arrives for the batch later, and reports no
        results for it. Withdrawing an order again, or one the bank never accepted, changes nothing.

        Raises:
            WithdrawalRefused: the order's money has arrived (the batch is funded) or the bank already paid it; the
                order stands.
            TimeoutError: when the bank did not answer; the caller may retry.
        """
        ...

    def results(self, batch_id: str) -> pl.DataFrame:
        """Per-row results known so far for a batch: possibly partial, repeated or out of order.

        A row's money may come back after it was paid (退汇: the account was closed after crediting, the payee
        refused it): the bank then reports the row ``reversed`` with a reason code, and may keep reporting its
        earlier ``paid`` result beside it.

        Returns:
            ``row_id`` (Int64), ``outcome`` (``"paid"``, ``"failed"`` or ``"reversed"``), ``amount_fen`` (Int64),
            ``reason_code`` (String, null when paid), ``reason`` (String).

        Raises:
            TimeoutError: when the bank did not answer; the caller retries later.
        """
        ...


@runtime_checkable
class Treasury(Protocol):
    """The treasury 国库: funds the paying bank for a batch, and takes back money not paid out."""

    def request_funding(self, request: FundingRequest) -> None:
        """File a funding request. Filing the same batch again must not fund it twice.

        Raises:
            TimeoutError: when the treasury did not answer; the caller may retry.
        """
        ...

    def funding_status(self, batch_id: str) -> FundingStatus:
        """The current state of the batch's funding request.

        Raises:
            KeyError: when no request was filed for the batch.
        """
        ...

    def refund(self, refund: Refund) -> None:
        """Take back money of a funded batch (缴回国库). Filing the same ``refund_id`` again changes nothing.

        Raises:
            ValueError: the amount is not positive, the batch was never funded, the batch's refunds would exceed
                what was funded, or another refund was filed under the same ``refund_id``.
            TimeoutError: when the treasury did not answer; the caller retries the same refund.
        """
        ...


@runtime_checkable
class DisclosureSink(Protocol):
    """Where public notices go (渝快办, a government site, village notice boards…)."""

    def publish(self, notice: DisclosureNotice) -> None:
        """Publish a notice; publishing the same batch again replaces the earlier notice."""
        ...


@runtime_checkable
class AccountRegistry(Protocol):
    """The one-card account registry 一人一卡 (rules in [`yikatong.registry`][]).

    Every operation checks the actor's role and town jurisdiction, records an
    [`AccountEvent`][yikatong.registry.AccountEvent] with the actor and the registry's [`Clock`][yikatong.ports.Clock]
    time, and never overwrites a record.
    """

    def declare(
        self,
        actor: Actor,
        *,
        id_number: str,
        account: str,
        kind: AccountKind,
        bank: str,
        holder_name: str,
        town: str,
    ) -> Account:
        """Enter a first declaration (pending review).

        Raises:
            PermissionDenied: the actor is not the person's residence town.
            IllegalTransition: the person already has an account (use [`change`][yikatong.ports.AccountRegistry.change])
                or the account is taken.
            ValueError: malformed ID, account or holder name.
        """
        ...

    def change(
        self,
        actor: Actor,
        *,
        id_number: str,
        account: str,
        kind: AccountKind,
        bank: str,
        holder_name: str,
    ) -> Account:
        """Declare a new account for a person who has one; the old one stays active until the new one is approved.

        Raises:
            PermissionDenied: the actor is not the person's residence town.
            IllegalTransition: the person has no active account, or a declaration is already pending.
            ValueError: malformed account or holder name.
        """
        ...

    def review(self, actor: Actor, *, id_number: str, account: str, approve: bool, note: str = "") -> Account:
        """Approve (→ active, superseding the old account) or reject a pending declaration.

        Raises:
            PermissionDenied: wrong town, or the reviewer entered the declaration.
            IllegalTransition: no such pending declaration.
        """
        ...

    def close(self, actor: Actor, *, id_number: str, account: str, note: str) -> Account:
        """Close an active or frozen account, with a reason."""
        ...

    def freeze(self, actor: Actor, *, id_number: str, account: str, note: str) -> Account:
        """Freeze an active account (town of jurisdiction or the bank)."""
        ...

    def unfreeze(self, actor: Actor, *, id_number: str, account: str, note: str) -> Account:
        """Lift a freeze."""
        ...

    def snapshot(self) -> pl.LazyFrame:
        """The current accounts, one row per account: ``id_number, account, account_kind, bank, holder_name,
        status`` (``active``/``frozen``/``closed``/``pending``) plus ``town`` and ``declared_at``."""
        ...

    def history(self, id_number: str) -> tuple[AccountEvent, ...]:
        """Every event about the person's accounts, oldest first (empty when unknown)."""
        ...


@runtime_checkable
class ReferenceData(Protocol):
    """Reference lists used for screening: deceased (with ``death_date``), public employees 财政供养人员, disabled
    persons, 特困/五保 supported persons, 低保, registered poor 建档立卡/监测对象."""

    def available(self) -> frozenset[ReferenceListName]:
        """The names of the lists this source can supply."""
        ...

    def frame(self, name: ReferenceListName) -> pl.LazyFrame:
        """The list as a frame keyed by ``id_number`` (String); ``deceased`` also has ``death_date`` (Date).

        Raises:
            KeyError: when the list is not available.
        """
        ...


@runtime_checkable
class Store(Protocol):
    """Where batches, rows, the payment ledger, reconciliation exceptions and the audit log live.

    Every workflow step is one [`commit`][yikatong.ports.Store.commit]: a crash leaves the store as it was before the
    step or after it. Loaders return copies; changing a returned frame changes nothing stored. Contract tests:
    [`yikatong.testing`][].
    """

    def commit(self, change: Change) -> None:
        """Apply a [`Change`][yikatong.records.Change] atomically (see its conditions).

        Raises:
            StoreError: when the change is refused or cannot be written; nothing was applied.
        """
        ...

    def batch(self, batch_id: str) -> BatchRecord:
        """The current header of a batch.

        Raises:
            KeyError: when there is no such batch.
        """
        ...

    def batches(self) -> tuple[BatchRecord, ...]:
        """Every batch header, in creation order."""
        ...

    def rows(self, batch_id: str) -> pl.DataFrame:
        """The batch's rows in [`ROW_SCHEMA`][yikatong.records.ROW_SCHEMA], sorted by ``row_id`` (empty frame when the
        batch is unknown)."""
        ...

    def ledger(self, *, item: str | None = None, period: str | None = None) -> pl.DataFrame:
        """Ledger entries in [`LEDGER_SCHEMA`][yikatong.records.LEDGER_SCHEMA], optionally only one item and/or
        period."""
        ...

    def exceptions(self, batch_id: str | None = None) -> pl.DataFrame:
        """Reconciliation exceptions in [`EXCEPTION_SCHEMA`][yikatong.records.EXCEPTION_SCHEMA] (of one batch, or all),
        oldest first."""
        ...

    def audit(self, *, after_seq: int = 0) -> tuple[AuditEntry, ...]:
        """Audit entries with ``seq > after_seq``, in order."""
        ...

    def audit_head(self) -> AuditEntry | None:
        """The last audit entry (None on an empty log)."""
        ...

    def purge(self, change: Change, *, ledger_ids: pl.DataFrame) -> None:
        """Remove the personal detail of one batch, with ``change``, atomically (retention; see
        [`yikatong.workflow.Service.purge_batch`][]).

        The rows of ``change.batch.batch_id`` keep every column but [`PURGED_COLUMNS`][yikatong.records.PURGED_COLUMNS],
        which become null; its ledger entries keep everything but ``id_number``, which becomes the value ``ledger_ids``
        gives for the row. Nothing of the removed values may stay readable through the store afterwards (a store
        that keeps old versions of rows, such as free pages or side files, erases them as far as it can).

        Args:
            change: The batch's new header (one version on) and the purge's audit entry; no rows, row updates,
                ledger entries or exceptions.
            ledger_ids: ``row_id`` (Int64), ``id_number`` (String): one row per ledger entry of the batch.

        Raises:
            StoreError: refused as [`commit`][yikatong.ports.Store.commit] refuses, or the change carries rows, updates,
                ledger entries or exceptions, or ``ledger_ids`` does not name exactly the batch's ledger entries;
                nothing was changed.
        """
        ...


@runtime_checkable
class ResidentLookup(Protocol):
    """A resident's self-query 自助查询 of their own payments, served by a host on its own channel (渝快办, a
    WeChat service, a kiosk, a counter).

    The answer is the person's payments across items and periods with where to raise an objection, or nothing. Name
    and ID number must both match: a name that does not match the ID gives the same empty answer as an ID that was
    never paid, so the look-up cannot tell anyone whether a person exists. Every look-up is recorded in the audit
    log: who asked, through which channel, a keyed hash of the ID number (never the number), how many payments were
    found. [`yikatong.adapters.StoreResidentLookup`][] serves it from a store.
    """

    def payments(self, *, name: str, id_number: str, asked_by: str, channel: str) -> pl.DataFrame:
        """The person's payments in [`RESIDENT_PAYMENT_SCHEMA`][yikatong.records.RESIDENT_PAYMENT_SCHEMA] (empty when
        nothing is found).

        Args:
            name: The person's name as the resident gives it.
            id_number: The 18-character ID number (a 15-digit first-generation number is upgraded).
            asked_by: Who asks: the channel's user or session, recorded in the audit log.
            channel: The channel the question came through (``渝快办``, ``kiosk``, ``cli``…), recorded too.

        Raises:
            ValueError: a blank or malformed name, or an ID number that is not one (format, check character,
                birth date); the message never repeats the ID.
        """
        ...


# The records lived here before they moved to yikatong.records; the old names still resolve, with a warning.
__getattr__ = _deprecated.moved_attributes(__name__, "yikatong.records", frozenset(_records.__all__))
