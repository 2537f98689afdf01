"""The ports: what the core needs from the outside world, in the core's words.

A host system implements these to connect yikatong to its own bank, treasury, database and publication channels.
The project ships adapters for the common cases in :mod:`yikatong.adapters`, and contract tests in
:mod:`yikatong.testing` that any implementation must pass. The core never imports an adapter.

Rows cross every port as Polars frames with the columns each method documents; amounts are integer fen.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, Protocol, runtime_checkable

import polars as pl
from attrs import frozen

__all__ = [
    "Bank",
    "Clock",
    "DisbursementOrder",
    "DisclosureNotice",
    "DisclosureSink",
    "FundingRequest",
    "FundingRoute",
    "FundingState",
    "FundingStatus",
    "Treasury",
]

FundingRoute = Literal["treasury", "zero_balance"]
"""How money reaches the paying bank: treasury centralised payment 国库集中支付 or a zero-balance account 零余额账户."""

FundingState = Literal["pending", "funded", "rejected"]


@runtime_checkable
class Clock(Protocol):
    """The time source of the workflow: audit entries, deadlines and pay dates use it, never the system clock."""

    def now(self) -> dt.datetime:
        """The current time, timezone-aware."""
        ...


@frozen
class DisbursementOrder:
    """A batch pay order 代发 for the paying bank.

    Attributes:
        batch_id: The batch the order belongs to; results come back under it.
        item: Subsidy item code (for the bank's SMS text and its records).
        period: Period label.
        rows: ``row_id`` (Int64), ``id_number``, ``name``, ``account``, ``amount_fen`` (Int64): one row per payment.
        count: Number of rows (control count).
        total_fen: Sum of ``amount_fen`` (control total).
    """

    batch_id: str
    item: str
    period: str
    rows: pl.DataFrame
    count: int
    total_fen: int


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

        Raises:
            TimeoutError: when the bank did not answer; the caller may retry the same order.
        """
        ...

    def results(self, batch_id: str) -> pl.DataFrame:
        """Per-row results known so far for a batch: possibly partial, repeated or out of order.

        Returns:
            ``row_id`` (Int64), ``outcome`` (``"paid"`` or ``"failed"``), ``amount_fen`` (Int64), ``reason_code``
            (String, null when paid), ``reason`` (String).

        Raises:
            TimeoutError: when the bank did not answer; the caller retries later.
        """
        ...


@frozen
class FundingRequest:
    """A payment request to the treasury for a batch total (filed in 预算管理一体化).

    Attributes:
        batch_id: The batch to fund.
        amount_fen: The batch total: the sum of the rows sent to the bank.
        route: ``treasury`` (centralised payment) or ``zero_balance`` (zero-balance account).
        filed_by: The role filing the request: ``department`` or ``town``.
    """

    batch_id: str
    amount_fen: int
    route: FundingRoute
    filed_by: Literal["department", "town"]


@frozen
class FundingStatus:
    """Where a funding request stands. ``amount_fen`` is what the treasury actually funded (0 unless funded)."""

    state: FundingState
    amount_fen: int = 0
    reason: str = ""


@runtime_checkable
class Treasury(Protocol):
    """The treasury 国库: funds the paying bank for a batch."""

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
    """

    batch_id: str
    item: str
    item_name: str
    period: str
    rows: pl.DataFrame
    window_days: int
    published_at: dt.datetime


@runtime_checkable
class DisclosureSink(Protocol):
    """Where public notices go (渝快办, a government site, village notice boards…)."""

    def publish(self, notice: DisclosureNotice) -> None:
        """Publish a notice; publishing the same batch again replaces the earlier notice."""
        ...
