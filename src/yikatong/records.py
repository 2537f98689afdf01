"""The records the ports carry: pay orders, funding requests, disclosure notices, batch headers, audit entries, the
changes a store commits, and the schemas of the row frames that cross the ports.

They are plain values (attrs ``@frozen``) and Polars schemas; the protocols that carry them
are in [`yikatong.ports`][]. Amounts are integer fen.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import polars as pl
from attrs import frozen

__all__ = [
    "EXCEPTION_SCHEMA",
    "LEDGER_ACTIVE",
    "LEDGER_SCHEMA",
    "PURGED_COLUMNS",
    "PURGED_ID_PREFIX",
    "RESIDENT_PAYMENT_SCHEMA",
    "ROW_SCHEMA",
    "ROW_STATE_SCHEMA",
    "ROW_UPDATE_SCHEMA",
    "AuditEntry",
    "BatchRecord",
    "BatchState",
    "Change",
    "DisbursementOrder",
    "DisclosureNotice",
    "FundingRequest",
    "FundingRoute",
    "FundingState",
    "FundingStatus",
    "Refund",
    "RowStatus",
]

FundingRoute = Literal["treasury", "zero_balance"]
"""How money reaches the paying bank: treasury centralised payment 国库集中支付 or a zero-balance account 零余额账户."""

FundingState = Literal["pending", "funded", "rejected"]


@frozen
class DisbursementOrder:
    """A batch pay order 代发 for the paying bank.

    Attributes:
        batch_id: The batch the order belongs to; results come back under it.
        item: Subsidy item code (for the bank's SMS text and its records).
        period: Period label.
        rows: ``row_id`` (Int64), ``id_number``, ``name``, ``account``, ``amount_fen`` (Int64): one row per payment;
            ``account`` is the account validation approved (with a registry, the payee's active registered account,
            never the roster's), ``account_source`` where it came from (``registry`` or ``roster``).
        count: Number of rows (control count); ``total_fen`` the sum of ``amount_fen`` (control total).
        bank: The paying bank's code: several banks get one order each (None: the service's one bank).
    """

    batch_id: str
    item: str
    period: str
    rows: pl.DataFrame
    count: int
    total_fen: int
    bank: str | None = None


@frozen
class FundingRequest:
    """A payment request to the treasury for a batch total (filed in 预算管理一体化).

    Attributes:
        batch_id: The batch to fund.
        amount_fen: The batch total: the sum of the rows sent to the bank.
        route: ``treasury`` (centralised payment) or ``zero_balance`` (zero-balance account).
        filed_by: The role filing the request (``department``/``town``); ``banks`` what each bank must receive.
    """

    batch_id: str
    amount_fen: int
    route: FundingRoute
    filed_by: Literal["department", "town"]
    banks: tuple[tuple[str, int], ...] = ()


@frozen
class FundingStatus:
    """Where a funding request stands: ``amount_fen`` (and per bank code ``banks``) what the treasury funded."""

    state: FundingState
    amount_fen: int = 0
    reason: str = ""
    banks: tuple[tuple[str, int], ...] = ()


@frozen
class Refund:
    """Money of a batch given back to the treasury (缴回国库): held at the bank, and no correction reused it in time.

    Attributes:
        refund_id: Identifies the refund; the same refund filed again must not be counted twice.
        batch_id: The batch whose money comes back.
        amount_fen: The money returned (positive).
        route: The route the batch was funded by (the money goes back the same way).
        banks: (code, money back from that bank), sorted, adding up to ``amount_fen`` (empty: not broken down).
    """

    refund_id: str
    batch_id: str
    amount_fen: int
    route: FundingRoute
    banks: tuple[tuple[str, int], ...] = ()


@frozen
class DisclosureNotice:
    """A public list 公示 of settled payments, already masked.

    Attributes:
        batch_id: The settled batch.
        item: Item code; ``item_name`` its name.
        period: Period label.
        rows: ``town``, ``village``, ``name_masked``, ``item_name``, ``period``, ``standard``, ``amount_fen``,
            ``pay_date``: one row per paid payee, never a full ID or account number.
        window_days: How long the notice stays up.
        published_at: When it was published.
        totals: Per ``town`` and ``village``: ``payees``, ``amount_fen``, and ``minors_withheld`` (payees under 14
            counted in the totals but not listed by name); None when the publisher gave none.
    """

    batch_id: str
    item: str
    item_name: str
    period: str
    rows: pl.DataFrame
    window_days: int
    published_at: dt.datetime
    totals: pl.DataFrame | None = None


# ---------------------------------------------------------------------------------------------------------------
# Store: batches, rows and their statuses, the payment ledger, the audit chain, reconciliation exceptions.
# ---------------------------------------------------------------------------------------------------------------

BatchState = Literal[
    "draft",
    "submitted",
    "validated",
    "rejected",
    "dispatched",
    "funding_requested",
    "funded",
    "disbursing",
    "settled",
    "published",
    "cancelled",
    "sent_back",
]
"""The states of a batch's life cycle (``docs/state-diagram.md``)."""

RowStatus = Literal[
    "pending",
    "passed",
    "review",
    "blocked",
    "sent",
    "paid",
    "failed",
    "reversed",
    "returned",
    "reissued",
    "withdrawn",
    "expired",
]
"""Row statuses. ``withdrawn``: the row's batch was rejected, cancelled or sent back before any payment.
``reversed``: paid, then the money came back (退汇), waiting to be returned to the department. ``expired``: a returned
row whose correction deadline passed (finance may extend it back to ``returned``)."""

ROW_STATE_SCHEMA: dict[str, pl.DataType] = {
    "status": pl.String(),  # a RowStatus
    "verdict": pl.String(),  # validation verdict pass/review/block; null before validation
    "note": pl.String(),  # the last decision's reason or the bank's failure text; never a full ID or account
    "reason_code": pl.String(),  # the rule or bank code behind the last move, null when none
    "deadline": pl.Date(),  # correction deadline (a county date) of a returned or expired row, else null
    "pay_account": pl.String(),  # the account validation approved for payment; null before validation
    "account_source": pl.String(),  # where pay_account came from: registry or roster; null before validation
    "bank": pl.String(),  # the code of the paying bank the row was sent to (set at dispatch), else null
    "updated_at": pl.Datetime("us", "UTC"),  # when the status last moved (a paid row: the pay date)
}
"""The mutable part of a batch row: what ``Change.row_updates`` replaces, wholesale, per row."""

ROW_UPDATE_SCHEMA: dict[str, pl.DataType] = {"batch_id": pl.String(), "row_id": pl.Int64(), **ROW_STATE_SCHEMA}
"""Columns of ``Change.row_updates``, keyed by (``batch_id``, ``row_id``)."""

ROW_SCHEMA: dict[str, pl.DataType] = {
    "batch_id": pl.String(),
    "row_id": pl.Int64(),
    "source_line": pl.Int64(),
    "name": pl.String(),
    "id_number": pl.String(),
    "sex": pl.String(),
    "account": pl.String(),
    "amount_fen": pl.Int64(),
    "amount_raw": pl.String(),
    "quantity": pl.Decimal(38, 4),
    "category": pl.String(),
    "town": pl.String(),
    "village": pl.String(),
    "household_head_id": pl.String(),
    "item": pl.String(),
    "flag_row_malformed": pl.Boolean(),
    "flag_text_encoding": pl.Boolean(),
    "flag_id_excel_mangled": pl.Boolean(),
    "flag_id_normalised": pl.Boolean(),
    "flag_name_normalised": pl.Boolean(),
    "corrects_row_id": pl.Int64(),  # in a correction batch: the returned row of the corrected batch it replaces
    **ROW_STATE_SCHEMA,
}
"""A stored batch row: the canonical roster columns ([`yikatong.schema.ROSTER_SCHEMA`][]), the batch, the
corrected row, and the row state. Rows of a batch are inserted once (``Change.new_rows``) and afterwards only
their state columns change."""

LEDGER_SCHEMA: dict[str, pl.DataType] = {
    "batch_id": pl.String(),
    "row_id": pl.Int64(),
    "id_number": pl.String(),
    "item": pl.String(),
    "period": pl.String(),
    "amount_fen": pl.Int64(),
    "status": pl.String(),  # sent, paid, failed, reversed or withdrawn
    "updated_at": pl.Datetime("us", "UTC"),
}
"""The payment ledger, one entry per row sent to a bank, keyed by (``batch_id``, ``row_id``).

An entry is *active* while its status is ``sent`` or ``paid``; a ``reversed`` entry (paid, then the money came
back) no longer counts as paid and frees its key for the correction. A store must refuse (raise
[`StoreError`][yikatong.errors.StoreError]) any commit that would leave two active entries with the same
(``id_number``, ``item``, ``period``): that is what makes paying a person twice impossible by construction."""

LEDGER_ACTIVE: tuple[str, ...] = ("sent", "paid")
"""Ledger statuses that hold the (person, item, period) key."""

PURGED_COLUMNS: tuple[str, ...] = (
    "name",
    "id_number",
    "sex",
    "account",
    "amount_raw",
    "category",
    "household_head_id",
    "pay_account",
)
"""The columns of a stored row that a purge ([`yikatong.ports.Store.purge`][]) empties: the payee's personal
detail. Amounts, statuses, town and village, row and source-line numbers stay."""

PURGED_ID_PREFIX: str = "#"
"""How a purged ledger entry's ``id_number`` begins: the rest is the keyed hash of the ID number
([`yikatong.workflow.purge.purged_id`][]), which duplicate-payment checks compare instead of the ID."""

EXCEPTION_SCHEMA: dict[str, pl.DataType] = {
    "batch_id": pl.String(),
    "row_id": pl.Int64(),
    "kind": pl.String(),  # unknown_row, other_bank_row, amount_mismatch, contradicts_final…
    "outcome": pl.String(),  # what the bank reported: paid, failed or reversed
    "amount_fen": pl.Int64(),  # the amount the bank reported
    "expected_fen": pl.Int64(),  # the amount sent (null for an unknown row)
    "detail": pl.String(),
    "at": pl.Datetime("us", "UTC"),
}
"""Reconciliation exceptions: bank results that were refused and never applied."""


RESIDENT_PAYMENT_SCHEMA: dict[str, pl.DataType] = {
    **dict.fromkeys(("item", "item_name", "period"), pl.String()),
    "amount_fen": pl.Int64(),
    "pay_date": pl.Date(),  # the county date the bank paid it; null unless paid
    **dict.fromkeys(("status", "status_zh", "account_masked", "town", "village", "department"), pl.String()),
    "objection_contact": pl.String(),  # the item's contact for objections, else the host's default
    "batch_id": pl.String(),
}
"""A resident's own payments, as a look-up ([`ResidentLookup`][yikatong.ports.ResidentLookup]) answers: one row per
payment sent to a bank, newest period first: the item's code and name, the period, the amount, the pay date, the row
status and the same in a resident's words (已发放…), the account paid into (last 4 digits), the town and village that
collected the row, the department responsible, where to object and the batch. Never a full ID or account number."""


@frozen(kw_only=True)
class BatchRecord:
    """The stored header of a batch; every change to it is a new record with ``version`` one higher.

    Attributes:
        batch_id: Stable identifier.
        item: Subsidy item code; ``period`` the period label.
        department: The department owning the item (only its users may act on the batch).
        state: The life-cycle state.
        prepared_by: The user who created the batch (the maker; may not approve it).
        created_at: When the batch was created; ``updated_at`` when it last changed.
        version: Starts at 1; each committed change raises it by one (optimistic concurrency).
        town: The town all rows belong to, when they share one (a town may then file the funding request).
        bank: The paying bank's code, when the host assigns one (a bank actor sees only its own batches).
        corrects: The batch this batch corrects, for a correction batch.
        declared_count: The row count the department declared; ``declared_total_fen`` the declared total.
        funding_route: ``treasury`` or ``zero_balance`` once funding is requested; ``funding_filed_by`` who filed.
        funded_fen: What the treasury funded (0 until funded); with ``drawn_fen``, the sum of the rows sent.
        drawn_fen: For a correction batch, the money taken from what the corrected batch holds at the bank (the
            treasury funds only the difference); 0 otherwise.
        refunded_fen: Money of this batch given back to the treasury (held, and no correction reused it in time).
        drawn_by_bank: ``drawn_fen`` per bank code (``""``: no code), sorted; ``refunded_by_bank`` likewise.
        reason: The reason given with the last cancel, send-back or rejection ("" when none).
    """

    batch_id: str
    item: str
    period: str
    department: str
    state: BatchState
    prepared_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int = 1
    town: str | None = None
    bank: str | None = None
    corrects: str | None = None
    declared_count: int | None = None
    declared_total_fen: int | None = None
    funding_route: FundingRoute | None = None
    funding_filed_by: Literal["department", "town"] | None = None
    funded_fen: int = 0
    drawn_fen: int = 0
    refunded_fen: int = 0
    reason: str = ""
    drawn_by_bank: tuple[tuple[str, int], ...] = ()
    refunded_by_bank: tuple[tuple[str, int], ...] = ()


@frozen(kw_only=True)
class AuditEntry:
    """One entry of the append-only audit log; entries form one SHA-256 hash chain across all batches.

    Attributes:
        seq: Position in the log, 1, 2, 3… without gaps.
        at: When it happened (from the [`Clock`][yikatong.ports.Clock]).
        actor: The user; ``role`` the role the user acted in.
        action: The trigger or decision (``submit``, ``confirm_reviews``, ``record_results``…).
        batch_id: The batch concerned ("" for none).
        from_state: State before; ``to_state`` state after (equal for decisions that do not move the batch).
        reason: The reason the actor gave ("" when none was required).
        details: Canonical JSON of counts and row ids: never a full ID or account number.
        prev_hash: ``hash`` of the previous entry (64 zeros for the first).
        hash: SHA-256 over ``prev_hash`` and the canonical JSON of every other field ([`yikatong.workflow.audit`][]).
    """

    seq: int
    at: dt.datetime
    actor: str
    role: str
    action: str
    batch_id: str
    from_state: str
    to_state: str
    reason: str
    details: str
    prev_hash: str
    hash: str


@frozen(kw_only=True)
class Change:
    """One atomic change of the store: everything one workflow step writes, applied in one transaction.

    A store applies all of it or none of it, and refuses (raising [`StoreError`][yikatong.errors.StoreError], changing
    nothing) when:

    * ``expected_version`` is None but ``batch.batch_id`` exists, or is an int other than the stored version;
    * the first audit entry's ``seq`` is not the stored head's ``seq + 1`` or its ``prev_hash`` not the head's
      ``hash`` (64 zeros and seq 1 on an empty log), or the entries do not chain among themselves;
    * the ledger would hold two active entries (``sent``/``paid``) for one (``id_number``, ``item``, ``period``);
    * a row update names a row that does not exist.

    Attributes:
        batch: The batch's new header (its ``version`` is ``expected_version + 1``, or 1 for a new batch).
        expected_version: The version the change was computed from; None when the change creates the batch.
        new_rows: The batch's rows in [`ROW_SCHEMA`][yikatong.records.ROW_SCHEMA]; only when creating the batch.
        row_updates: New row states in [`ROW_UPDATE_SCHEMA`][yikatong.records.ROW_UPDATE_SCHEMA] (may name rows of other
            batches: a correction marks the corrected row ``reissued``).
        ledger: Ledger entries in [`LEDGER_SCHEMA`][yikatong.records.LEDGER_SCHEMA], inserted or replacing the entry
            with the same (``batch_id``, ``row_id``).
        audit: Entries appended to the log, in order.
        exceptions: Reconciliation exceptions in [`EXCEPTION_SCHEMA`][yikatong.records.EXCEPTION_SCHEMA], appended.
    """

    batch: BatchRecord
    expected_version: int | None
    new_rows: pl.DataFrame | None = None
    row_updates: pl.DataFrame | None = None
    ledger: pl.DataFrame | None = None
    audit: tuple[AuditEntry, ...] = ()
    exceptions: pl.DataFrame | None = None
