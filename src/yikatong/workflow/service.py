"""The workflow service: the one composition root, with one method per step of the life cycle.

Build it with [`build_service`][yikatong.build_service] (or [`Service`][yikatong.Service]), passing every port as a
keyword argument; nothing is opened or read at import. Each method loads the batch, fires its trigger through the
batch's state machine (which checks the actor), computes the step's row moves, ledger entries and audit entry as frames,
and commits them to the [`Store`][yikatong.ports.Store] as one change. A refusal raises before the commit, so it changes
nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from yikatong.catalog import Catalog
from yikatong.ports import Bank, Clock, DisclosureSink, Keys, Store, Treasury
from yikatong.rules import Rule
from yikatong.workflow._controls import ControlSteps, Waiver
from yikatong.workflow._core import DEFAULT_CORRECTION_DAYS, DEFAULT_WINDOW_DAYS, ReferenceSource, RegistrySource
from yikatong.workflow._creation import CreationSteps
from yikatong.workflow._deadlines import DeadlineSteps, Extension, Worklist
from yikatong.workflow._dispatch import DispatchOutcome, DispatchSteps
from yikatong.workflow._intake import IntakeSteps
from yikatong.workflow._payments import PaymentSteps, ResultsOutcome
from yikatong.workflow._purge import PurgeDecision, PurgeSteps
from yikatong.workflow._reads import ReadSteps
from yikatong.workflow.audit import AuditVerification, verify

__all__ = [
    "DispatchOutcome",
    "Extension",
    "PurgeDecision",
    "ResultsOutcome",
    "Service",
    "Waiver",
    "Worklist",
    "build_service",
]


class Service(
    CreationSteps, IntakeSteps, DispatchSteps, PaymentSteps, DeadlineSteps, ControlSteps, ReadSteps, PurgeSteps
):
    """The disbursement workflow over the ports (see [`build_service`][yikatong.build_service] for the arguments).

    Each group of steps lives in its own module: creation, intake (submit, validate, review), dispatch (and
    cancel/send back), payments (funding to publication), deadlines, controls, reads and purges; this class joins them.
    """

    # -- reading ------------------------------------------------------------------------------------------------
    def verify_audit(self, *, anchor: str | None = None) -> AuditVerification:
        """Verify the store's whole audit chain with the service's audit key (see
        [`verify`][yikatong.workflow.verify])."""
        return verify(self.store.audit(), key=self.audit_key, anchor=anchor)


def build_service(
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
    bank: Bank | None = None,
    banks: Mapping[str, Bank] | None = None,
    bank_codes: Mapping[str, str] | None = None,
) -> Service:
    """The composition root: a [`Service`][yikatong.Service] over the given ports (every one a keyword argument).

    Args:
        store: A [`Store`][yikatong.ports.Store]; ``treasury`` a [`Treasury`][yikatong.ports.Treasury].
        bank: The one paying [`Bank`][yikatong.ports.Bank]: every row goes to it (give this or ``banks``).
        banks: One [`Bank`][yikatong.ports.Bank] per bank code: each row goes to the bank holding the account it
            is paid into (by the registry), each bank gets its own order, funding and results are reconciled per
            bank, and held money is followed per bank (``docs/workflow.md``, "Several paying banks").
        bank_codes: The registry's bank names → bank codes of ``banks`` (e.g. ``{"中国邮政储蓄银行": "PSBC"}``);
            a registry that holds codes needs none.
        disclosure: A [`DisclosureSink`][yikatong.ports.DisclosureSink]; ``clock`` a [`Clock`][yikatong.ports.Clock].
        catalog: The [`Catalog`][yikatong.Catalog].
        registry: Optional [`AccountRegistry`][yikatong.ports.AccountRegistry] (validation uses its snapshot).
        reference: Optional [`ReferenceData`][yikatong.ports.ReferenceData] (every list it has is used).
        correction_days: Default correction deadline in days (an item's ``correction_days`` wins).
        disclosure_window_days: Default days a public notice stays up.
        verify_accounts: Ask the bank to verify accounts (联网核查) during validation (default True).
        rules: The rules validation runs (default: every rule of the library).
        history: Payments made outside this store (before it existed, or by another system), in the ledger
            shape ``id_number, item, period, amount_fen, status`` ([`yikatong.ingest.load_ledger`][] reads
            one from a file). Validation sees them with the store's own ledger, so ``DUP_ALREADY_PAID``,
            ``DUP_EXCLUSIVE_ITEMS`` and the yearly cap count them.
        keys: The deployment's [`Keys`][yikatong.ports.Keys]: the audit chain is then HMAC-SHA256 under
            ``keys.audit_key()``, so a rewrite of the store cannot be hidden by recomputing hashes. Without keys the
            chain is plain SHA-256 (it catches damage, not a deliberate rewrite). Give the store the same keys to
            encrypt personal data at rest.

    Raises:
        ValueError: neither or both of ``bank`` and ``banks`` given, or ``banks`` empty.
    """
    return Service(
        store=store,
        treasury=treasury,
        disclosure=disclosure,
        clock=clock,
        catalog=catalog,
        registry=registry,
        reference=reference,
        correction_days=correction_days,
        disclosure_window_days=disclosure_window_days,
        verify_accounts=verify_accounts,
        rules=rules,
        history=history,
        keys=keys,
        bank=bank,
        banks=banks,
        bank_codes=bank_codes,
    )
