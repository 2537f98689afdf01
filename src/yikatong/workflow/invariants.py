"""The invariants of the disbursement workflow, checked against what a store holds.

``docs/architecture.md`` lists seven invariants; [`check_invariants`][yikatong.workflow.invariants.check_invariants]
checks each of them against a [`Snapshot`][yikatong.workflow.invariants.Snapshot] of a [`Store`][yikatong.ports.Store]
(optionally against what the bank and the treasury really did, and against texts the workflow produced) and returns the
violations it found, each naming its invariant. It never raises for a broken store: a broken store is what it is there
to find. Tests and ``yikatong simulate`` call it after every step; a host may run it as a nightly audit.

1. ``paid_once``: no (person, item, period) is paid twice, across all batches (in the ledger, in the row statuses,
   and in the bank's real payments when given); with the audit key, purged ledger entries are compared by their
   keyed hash ([`yikatong.workflow.purge`][]).
2. ``money``: funded + drawn from the corrected batch = Σ sent; after settlement Σ paid + Σ failed + Σ reversed =
   Σ sent; row and ledger amounts and outcomes agree.
3. ``terminal_status``: every row of a batch that is over ends in exactly one terminal status; correction rows carry
   only returned rows of the corrected batch, same person, never a larger amount; a reissued row was paid again.
4. ``refused_results``: a refused bank result was never applied (the row still shows what was first accepted, and
   agrees with what the bank really did when that is given); an ``unknown_row`` names a row the bank never held
   (absent, blocked before the order, or withdrawn), never one that was sent to it.
5. ``audit_chain``: the audit chain verifies, and each batch's last entry shows its current state.
6. ``no_personal_data``: no full ID or account number of any stored row appears in texts the workflow produced.
7. ``money_held``: every fen funded is paid (net of reversals), held at the bank, or refunded: funded = paid −
   reversed + held + refunded in total and per paying bank; no batch passes on or refunds more than the bank holds
   of it, nor at any one bank more than that bank holds (a correction draws only where its corrected batch's money
   is); refunds only from settled batches, agreeing with the treasury's books when given
   ([`yikatong.workflow.funds`][]).

Violation details count and name batches and row ids only: never personal data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final, Literal

import polars as pl
from attrs import frozen

from yikatong.ports import Store
from yikatong.records import PURGED_ID_PREFIX, ROW_SCHEMA, AuditEntry
from yikatong.workflow._invariant_checks import frame_checks
from yikatong.workflow._money_checks import bank_checks
from yikatong.workflow._plain_banks import plain_bank_checks
from yikatong.workflow._plain_checks import plain_checks
from yikatong.workflow.audit import verify
from yikatong.workflow.funds import records_frame
from yikatong.workflow.purge import purged_id

__all__ = [
    "INVARIANTS",
    "Snapshot",
    "Violation",
    "check_invariants",
    "find_personal_data",
]

INVARIANTS: Final[dict[int, str]] = {
    1: "paid_once",
    2: "money",
    3: "terminal_status",
    4: "refused_results",
    5: "audit_chain",
    6: "no_personal_data",
    7: "money_held",
}
"""Invariant number (as in ``docs/architecture.md``) → name."""

_ROW_COLUMNS: Final = (
    "batch_id",
    "row_id",
    "id_number",
    "account",
    "amount_fen",
    "status",
    "deadline",
    "note",
    "bank",
)


@frozen
class Violation:
    """One broken invariant.

    Attributes:
        invariant: The invariant's number in ``docs/architecture.md`` (1–7).
        name: Its name ([`INVARIANTS`][yikatong.workflow.invariants.INVARIANTS]).
        batch_id: The batch concerned ("" when the violation is not about one batch).
        detail: What is wrong: counts, batch and row ids, masked values; never a full ID or account number.
    """

    invariant: int
    name: str
    batch_id: str
    detail: str

    @classmethod
    def of(cls, invariant: int, batch_id: str, detail: str) -> Violation:
        """A violation of invariant number ``invariant``."""
        return cls(invariant, INVARIANTS[invariant], batch_id, detail)


@frozen
class Snapshot:
    """What a store holds, read once: the frames every check works on.

    Attributes:
        batches: ``batch_id``, ``item``, ``period``, ``state``, ``corrects``, ``funded_fen``, ``drawn_fen``,
            ``refunded_fen`` (the last two taken as 0 when absent): one row per batch.
        rows: Every batch's rows: ``batch_id``, ``row_id``, ``id_number``, ``account``, ``amount_fen``, ``status``,
            ``deadline``, ``note``, ``corrects_row_id``.
        ledger: The payment ledger ([`LEDGER_SCHEMA`][yikatong.records.LEDGER_SCHEMA]).
        exceptions: Reconciliation exceptions ([`EXCEPTION_SCHEMA`][yikatong.records.EXCEPTION_SCHEMA]).
        audit: The audit log, in order.
    """

    batches: pl.DataFrame
    rows: pl.DataFrame
    ledger: pl.DataFrame
    exceptions: pl.DataFrame
    audit: tuple[AuditEntry, ...]

    @classmethod
    def of(cls, store: Store) -> Snapshot:
        """Read everything the checks need from ``store``."""
        records = store.batches()
        batches = records_frame(records)
        columns = [*_ROW_COLUMNS, "corrects_row_id"]
        # picking columns by name (not a select query) costs microseconds per batch, not a query plan
        frames = [store.rows(b.batch_id)[columns] for b in records]
        rows = pl.concat(frames) if frames else pl.DataFrame(schema=ROW_SCHEMA).select(*_ROW_COLUMNS, "corrects_row_id")
        return cls(batches, rows, store.ledger(), store.exceptions(), store.audit())


def check_invariants(
    snapshot: Snapshot | Store,
    *,
    bank_truth: pl.DataFrame | None = None,
    treasury_fundings: pl.DataFrame | None = None,
    treasury_refunds: pl.DataFrame | None = None,
    treasury_bank_fundings: pl.DataFrame | None = None,
    texts: Iterable[str] = (),
    final: bool = False,
    audit_key: bytes | None = None,
    engine: Literal["polars", "python"] = "polars",
) -> list[Violation]:
    """Check every invariant and return the violations found (an empty list when all hold).

    Args:
        snapshot: A [`Snapshot`][yikatong.workflow.invariants.Snapshot], or a store to take one of.
        bank_truth: What the bank really did: ``batch_id``, ``row_id``, ``outcome``, ``amount_fen``, one row per
            row it accepted, and a Boolean ``delivered`` (its result was released). When given, the store's
            outcomes must agree with it and no person may have been really paid twice.
        treasury_fundings: What the treasury funded: ``batch_id``, ``amount_fen``; must match the batches.
        treasury_bank_fundings: What the treasury funded per paying bank: ``batch_id``, ``bank``, ``amount_fen``;
            each bank's amount must match the rows sent to it less what the batch drew there.
        treasury_refunds: What the treasury took back: ``batch_id``, ``amount_fen``; must match the batches.
        texts: Texts the workflow produced (exception messages, log lines, disclosure cells) to scan for IDs and
            account numbers, together with the audit log, row notes and exception details of the store.
        final: The life cycle is over: a ``failed`` row of a settled batch, or a ``reversed`` row, must have gone
            back to the department (``returned``) by now.
        audit_key: The key the audit chain was written with (None for an unkeyed chain).
        engine: How the row checks of invariants 1–4 and 7 run: ``"polars"`` (one Polars query plan; the choice
            for large stores) or ``"python"`` (plain Python over the rows; many times faster on the few hundred rows
            of a simulated county, where Polars' cost per query dominates). Both find the same violations.

    Returns:
        Violations, ordered by invariant number.

    Raises:
        ValueError: when ``engine`` is neither ``"polars"`` nor ``"python"``.
    """
    snap = snapshot if isinstance(snapshot, Snapshot) else Snapshot.of(snapshot)
    ledger = _comparable_ledger(snap.ledger, audit_key)
    if engine == "python":
        found = plain_checks(
            snap.batches.to_dicts(),
            snap.rows.to_dicts(),
            ledger.to_dicts(),
            snap.exceptions.to_dicts(),
            bank_truth=None if bank_truth is None else bank_truth.to_dicts(),
            treasury_fundings=None if treasury_fundings is None else treasury_fundings.to_dicts(),
            treasury_refunds=None if treasury_refunds is None else treasury_refunds.to_dicts(),
            final=final,
        )
    elif engine == "polars":
        found = list(
            frame_checks(
                snap.batches,
                snap.rows,
                ledger,
                snap.exceptions,
                bank_truth=bank_truth,
                treasury_fundings=treasury_fundings,
                treasury_refunds=treasury_refunds,
                final=final,
            ).iter_rows()
        )
    else:
        raise ValueError(f"未知的检查引擎 / unknown engine {engine!r}: polars or python")
    out = [Violation.of(n, b, d) for n, b, d in found]
    out += _per_bank(snap, ledger, treasury_bank_fundings, engine=engine)
    out += _audit(snap, audit_key)
    stored = [e.reason for e in snap.audit] + [e.details for e in snap.audit]
    stored += snap.rows.get_column("note").drop_nulls().to_list()
    stored += snap.exceptions.get_column("detail").drop_nulls().to_list()
    for batch_id, what in find_personal_data([*stored, *texts], snap.rows):
        out.append(Violation.of(6, batch_id, what))
    return sorted(out, key=lambda v: v.invariant)


def _per_bank(
    snap: Snapshot, ledger: pl.DataFrame, fundings: pl.DataFrame | None, *, engine: Literal["polars", "python"]
) -> list[Violation]:
    """Invariant 7 per paying bank ([`bank_checks`][yikatong.workflow._money_checks.bank_checks], or
    [`plain_bank_checks`][yikatong.workflow._plain_banks.plain_bank_checks] with the python engine); skipped
    (nothing to find) while no row has a bank code and no header a breakdown."""
    batches = snap.batches
    coded = "bank" in snap.rows.columns and snap.rows.get_column("bank").is_not_null().any()
    for column in ("drawn_by_bank", "refunded_by_bank"):
        if column in batches.columns:
            coded = coded or bool(batches.get_column(column).list.len().fill_null(0).gt(0).any())
    if not coded:
        return []
    if "drawn_fen" not in batches.columns or "refunded_fen" not in batches.columns:
        batches = batches.with_columns(
            pl.lit(0, pl.Int64).alias(c) for c in ("drawn_fen", "refunded_fen") if c not in batches.columns
        )
    if engine == "python":
        has_bank = "bank" in snap.rows.columns
        found = plain_bank_checks(
            batches.to_dicts(),
            ledger[["batch_id", "row_id", "amount_fen", "status"]].to_dicts(),
            snap.rows[["batch_id", "row_id", "bank"]].to_dicts() if has_bank else None,
            None if fundings is None or "bank" not in fundings.columns else fundings.to_dicts(),
        )
        return [Violation.of(n, b, d) for n, b, d in found]
    frames = pl.collect_all(bank_checks(batches, ledger, snap.rows, fundings))
    return [Violation.of(n, b, d) for frame in frames for n, b, d in frame.iter_rows()]


def _comparable_ledger(ledger: pl.DataFrame, key: bytes | None) -> pl.DataFrame:
    """The ledger with every ID as purged entries keep it ([`purged_id`][yikatong.workflow.purge.purged_id]) once some
    entry was purged, so a person paid in a purged batch and again in a live one is still seen twice."""
    ids = ledger.get_column("id_number")
    if key is None or not ids.str.starts_with(PURGED_ID_PREFIX).fill_null(False).any():
        return ledger
    hashed = [i if i is None or i.startswith(PURGED_ID_PREFIX) else purged_id(i, key=key) for i in ids.to_list()]
    return ledger.with_columns(pl.Series("id_number", hashed, dtype=pl.String))


def _audit(snap: Snapshot, key: bytes | None) -> list[Violation]:
    result = verify(snap.audit, key=key)
    out = [] if result.ok else [Violation.of(5, "", f"{result.problem}: {result.message}")]
    last: dict[str, str] = {}
    for entry in snap.audit:
        if entry.batch_id:
            last[entry.batch_id] = entry.to_state
    for batch_id, state in zip(snap.batches["batch_id"].to_list(), snap.batches["state"].to_list(), strict=True):
        if last.get(batch_id) != state:
            out.append(
                Violation.of(5, batch_id, f"batch is {state} but its last audit entry shows {last.get(batch_id)}")
            )
    return out


def find_personal_data(texts: Sequence[str], people: pl.DataFrame) -> list[tuple[str, str]]:
    """Which texts contain a full ID or account number of ``people``.

    Args:
        texts: Texts to scan (messages, log lines, cells of a public list).
        people: Frame with ``batch_id``, ``id_number``, ``account`` (the values that must never appear in full).

    Returns:
        (batch_id, description) per text that leaks, with the leaked value masked; empty when nothing leaks.
    """
    if not texts or people.is_empty():
        return []
    secrets = (
        pl.concat(
            [
                people.select("batch_id", value="id_number", kind=pl.lit("ID number")),
                people.select("batch_id", value="account", kind=pl.lit("account number")),
            ]
        )
        .filter(pl.col("value").str.len_chars() >= 8)
        .unique(subset="value", keep="first", maintain_order=True)
    )
    if secrets.is_empty():
        return []
    values = secrets.get_column("value").to_list()
    found = (
        pl.DataFrame({"text": list(texts)}, schema={"text": pl.String})
        .with_row_index("i")
        .filter(pl.col("text").str.contains_any(values))
        .with_columns(value=pl.col("text").str.extract_many(values))
        .explode("value")
        .join(secrets, on="value")
    )
    return [
        (
            r["batch_id"],
            f"a text ({len(r['text'])} characters) contains the full {r['kind']} {r['value'][:3]}…{r['value'][-2:]}",
        )
        for r in found.unique(subset=["i", "value"], maintain_order=True).iter_rows(named=True)
    ]
