"""The invariants of the disbursement workflow, checked against what a store holds.

``architecture.md`` lists six invariants; :func:`check_invariants` checks each of them against a
:class:`Snapshot` of a :class:`~yikatong.ports.Store` (optionally against what the bank and the treasury really did,
and against texts the workflow produced) and returns the violations it found, each naming its invariant. It never
raises for a broken store: a broken store is what it is there to find. Tests and ``yikatong simulate`` call it after
every step; a host may run it as a nightly audit.

1. ``paid_once``: no (person, item, period) is paid twice, across all batches (in the ledger, in the row statuses,
   and in the bank's real payments when given).
2. ``money``: funded = Σ sent; after settlement Σ paid + Σ failed = Σ sent; row and ledger amounts agree.
3. ``terminal_status``: every row of a batch that is over ends in exactly one terminal status; correction rows carry
   only returned rows of the corrected batch, same person, never a larger amount; a reissued row was paid again.
4. ``refused_results``: a refused bank result was never applied (the row still shows what was first accepted, and
   agrees with what the bank really did when that is given).
5. ``audit_chain``: the audit chain verifies, and each batch's last entry shows its current state.
6. ``no_personal_data``: no full ID or account number of any stored row appears in texts the workflow produced.

Violation details count and name batches and row ids only: never personal data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

import polars as pl
from attrs import frozen

from yikatong.ports import ROW_SCHEMA, AuditEntry, Store
from yikatong.workflow.audit import verify
from yikatong.workflow.statuses import FINAL_STATUSES

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
}
"""Invariant number (as in ``architecture.md``) → name."""

_FUNDED_STATES: Final = ("funded", "disbursing", "settled", "published")
_SETTLED_STATES: Final = ("settled", "published")
_OVER_STATES: Final = ("settled", "published", "rejected", "cancelled", "sent_back")
_UNFUNDED_STATES: Final = (
    "draft",
    "submitted",
    "validated",
    "rejected",
    "dispatched",
    "funding_requested",
    "cancelled",
)
_OUTCOME_OF_STATUS: Final = {"paid": "paid", "failed": "failed", "returned": "failed", "reissued": "failed"}
_ROW_COLUMNS: Final = ("batch_id", "row_id", "id_number", "account", "amount_fen", "status", "deadline", "note")


@frozen
class Violation:
    """One broken invariant.

    Attributes:
        invariant: The invariant's number in ``architecture.md`` (1–6).
        name: Its name (:data:`INVARIANTS`).
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
        batches: ``batch_id``, ``item``, ``period``, ``state``, ``corrects``, ``funded_fen``: one row per batch.
        rows: Every batch's rows: ``batch_id``, ``row_id``, ``id_number``, ``account``, ``amount_fen``, ``status``,
            ``deadline``, ``note``, ``corrects_row_id``.
        ledger: The payment ledger (:data:`~yikatong.ports.LEDGER_SCHEMA`).
        exceptions: Reconciliation exceptions (:data:`~yikatong.ports.EXCEPTION_SCHEMA`).
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
        batches = pl.DataFrame(
            {
                "batch_id": [b.batch_id for b in records],
                "item": [b.item for b in records],
                "period": [b.period for b in records],
                "state": [b.state for b in records],
                "corrects": [b.corrects for b in records],
                "funded_fen": [b.funded_fen for b in records],
            },
            schema={
                "batch_id": pl.String,
                "item": pl.String,
                "period": pl.String,
                "state": pl.String,
                "corrects": pl.String,
                "funded_fen": pl.Int64,
            },
        )
        frames = [store.rows(b.batch_id).select(*_ROW_COLUMNS, "corrects_row_id") for b in records]
        rows = pl.concat(frames) if frames else pl.DataFrame(schema=ROW_SCHEMA).select(*_ROW_COLUMNS, "corrects_row_id")
        return cls(batches, rows, store.ledger(), store.exceptions(), store.audit())


def check_invariants(
    snapshot: Snapshot | Store,
    *,
    bank_truth: pl.DataFrame | None = None,
    treasury_fundings: pl.DataFrame | None = None,
    texts: Iterable[str] = (),
    final: bool = False,
) -> list[Violation]:
    """Check every invariant and return the violations found (an empty list when all hold).

    Args:
        snapshot: A :class:`Snapshot`, or a store to take one of.
        bank_truth: What the bank really did: ``batch_id``, ``row_id``, ``outcome``, ``amount_fen``, one row per
            row it accepted, and a Boolean ``delivered`` (its result was released). When given, the store's
            outcomes must agree with it and no person may have been really paid twice.
        treasury_fundings: What the treasury funded: ``batch_id``, ``amount_fen``; must match the batches.
        texts: Texts the workflow produced (exception messages, log lines, disclosure cells) to scan for IDs and
            account numbers, together with the audit log, row notes and exception details of the store.
        final: The life cycle is over: a ``failed`` row of a settled batch must have gone back to the department
            (``returned``) by now.

    Returns:
        Violations, ordered by invariant number.
    """
    snap = snapshot if isinstance(snapshot, Snapshot) else Snapshot.of(snapshot)
    rows = snap.rows.join(snap.batches.select("batch_id", "item", "period", "state"), on="batch_id", how="left")
    out: list[Violation] = []
    out += _paid_once(rows, snap.ledger, bank_truth)
    out += _money(snap, rows, treasury_fundings)
    out += _terminal(snap, rows, final=final)
    out += _refused(snap, rows, bank_truth)
    out += _audit(snap)
    stored = [e.reason for e in snap.audit] + [e.details for e in snap.audit]
    stored += snap.rows.get_column("note").drop_nulls().to_list()
    stored += snap.exceptions.get_column("detail").drop_nulls().to_list()
    for batch_id, what in find_personal_data([*stored, *texts], snap.rows):
        out.append(Violation.of(6, batch_id, what))
    return sorted(out, key=lambda v: v.invariant)


def _key_counts(frame: pl.DataFrame, what: str) -> list[Violation]:
    twice = (
        frame.group_by("id_number", "item", "period")
        .agg(pl.len().alias("n"), pl.col("batch_id").unique().sort().alias("batches"))
        .filter(pl.col("n") > 1)
    )
    return [
        Violation.of(
            1,
            r["batches"][0],
            f"{what}: one (person, item {r['item']}, period {r['period']}) "
            f"{r['n']} times, in batches {', '.join(r['batches'])}",
        )
        for r in twice.iter_rows(named=True)
    ]


def _paid_once(rows: pl.DataFrame, ledger: pl.DataFrame, truth: pl.DataFrame | None) -> list[Violation]:
    out = _key_counts(ledger.filter(pl.col("status") == "paid"), "paid twice in the ledger")
    out += _key_counts(ledger.filter(pl.col("status").is_in(["sent", "paid"])), "held twice in the ledger")
    out += _key_counts(rows.filter(pl.col("status") == "paid"), "rows paid twice")
    if truth is not None:
        paid = truth.filter(pl.col("outcome") == "paid").select("batch_id", "row_id")
        keyed = paid.join(rows.select("batch_id", "row_id", "id_number", "item", "period"), on=["batch_id", "row_id"])
        out += _key_counts(keyed, "really paid twice by the bank")
    return out


def _money(snap: Snapshot, rows: pl.DataFrame, fundings: pl.DataFrame | None) -> list[Violation]:
    out: list[Violation] = []
    sent = snap.ledger.filter(pl.col("status") != "withdrawn")
    per_batch = sent.group_by("batch_id").agg(
        pl.col("amount_fen").sum().alias("sent_fen"),
        pl.col("amount_fen").filter(pl.col("status") == "paid").sum().alias("paid_fen"),
        pl.col("amount_fen").filter(pl.col("status") == "failed").sum().alias("failed_fen"),
        (pl.col("status") == "sent").sum().alias("open"),
    )
    b = snap.batches.join(per_batch, on="batch_id", how="left").with_columns(
        pl.col("sent_fen", "paid_fen", "failed_fen", "open").fill_null(0)
    )
    funded = pl.col("state").is_in(_FUNDED_STATES)
    for r in b.filter(funded & (pl.col("funded_fen") != pl.col("sent_fen"))).iter_rows(named=True):
        out.append(Violation.of(2, r["batch_id"], f"funded {r['funded_fen']} fen but {r['sent_fen']} fen sent"))
    for r in b.filter(pl.col("state").is_in(_UNFUNDED_STATES) & (pl.col("funded_fen") != 0)).iter_rows(named=True):
        out.append(Violation.of(2, r["batch_id"], f"state {r['state']} yet {r['funded_fen']} fen funded"))
    settled = b.filter(pl.col("state").is_in(_SETTLED_STATES))
    for r in settled.filter(pl.col("open") > 0).iter_rows(named=True):
        out.append(Violation.of(2, r["batch_id"], f"settled with {r['open']} rows still sent and without a result"))
    unbalanced = settled.filter(pl.col("paid_fen") + pl.col("failed_fen") != pl.col("sent_fen"))
    for r in unbalanced.iter_rows(named=True):
        out.append(
            Violation.of(
                2, r["batch_id"], f"paid {r['paid_fen']} + failed {r['failed_fen']} ≠ sent {r['sent_fen']} fen"
            )
        )
    keys = ["batch_id", "row_id"]
    both = sent.select(*keys, "amount_fen", ledger_status="status").join(
        rows.select(*keys, "status", row_fen="amount_fen"), on=keys, how="left"
    )
    for r in both.filter(pl.col("row_fen").is_null() | (pl.col("row_fen") != pl.col("amount_fen"))).iter_rows(
        named=True
    ):
        out.append(Violation.of(2, r["batch_id"], f"ledger amount of row {r['row_id']} differs from the row"))
    row_outcome = pl.col("status").replace_strict(_OUTCOME_OF_STATUS, default=None, return_dtype=pl.String)
    ledger_outcome = pl.col("ledger_status").replace_strict(
        {"paid": "paid", "failed": "failed"}, default=None, return_dtype=pl.String
    )
    disagree = both.filter(row_outcome.ne_missing(ledger_outcome))
    for r in disagree.head(5).iter_rows(named=True):
        out.append(
            Violation.of(
                2, r["batch_id"], f"row {r['row_id']} is {r['status']} but its ledger entry {r['ledger_status']}"
            )
        )
    if fundings is not None:
        twice = fundings.group_by("batch_id").agg(pl.len().alias("n")).filter(pl.col("n") > 1)
        for r in twice.iter_rows(named=True):
            out.append(Violation.of(2, r["batch_id"], f"the treasury funded the batch {r['n']} times"))
        mismatch = fundings.join(snap.batches, on="batch_id", how="left").filter(
            pl.col("state").is_in(_FUNDED_STATES) & (pl.col("amount_fen") != pl.col("funded_fen"))
        )
        for r in mismatch.iter_rows(named=True):
            out.append(
                Violation.of(2, r["batch_id"], f"treasury paid {r['amount_fen']} fen, batch records {r['funded_fen']}")
            )
    return out


def _terminal(snap: Snapshot, rows: pl.DataFrame, *, final: bool) -> list[Violation]:
    out: list[Violation] = []
    # failed rows of a settled batch wait for return_failures; publishing needs them returned
    waiting = (pl.col("state") == "settled") & (pl.col("status") == "failed") & pl.lit(not final)
    over = pl.col("state").is_in(_OVER_STATES)
    loose = rows.filter(
        pl.col("status").is_null() | (over & ~pl.col("status").is_in(sorted(FINAL_STATUSES)) & ~waiting)
    )
    for r in (
        loose.group_by("batch_id", "state", "status")
        .agg(pl.len().alias("n"), pl.col("row_id").min())
        .iter_rows(named=True)
    ):
        out.append(
            Violation.of(
                3, r["batch_id"], f"{r['n']} rows left {r['status']} in a {r['state']} batch (e.g. row {r['row_id']})"
            )
        )
    undated = rows.filter((pl.col("status") == "returned") & pl.col("deadline").is_null())
    for r in undated.group_by("batch_id").agg(pl.len().alias("n")).iter_rows(named=True):
        out.append(Violation.of(3, r["batch_id"], f"{r['n']} returned rows without a correction deadline"))
    out += _corrections(snap, rows)
    return out


def _corrections(snap: Snapshot, rows: pl.DataFrame) -> list[Violation]:
    out: list[Violation] = []
    fixes = (
        rows.join(snap.batches.select("batch_id", "corrects"), on="batch_id")
        .filter(pl.col("corrects").is_not_null())
        .join(
            rows.select(
                corrects="batch_id",
                corrects_row_id="row_id",
                orig_id="id_number",
                orig_fen="amount_fen",
                orig_status="status",
            ),
            on=["corrects", "corrects_row_id"],
            how="left",
        )
    )
    bad = fixes.filter(
        pl.col("orig_status").is_null()
        | (pl.col("orig_id") != pl.col("id_number"))
        | (pl.col("amount_fen") > pl.col("orig_fen"))
        | ~pl.col("orig_status").is_in(["returned", "reissued"])
    )
    for r in bad.head(5).iter_rows(named=True):
        out.append(
            Violation.of(
                3,
                r["batch_id"],
                f"correction row {r['row_id']} does not carry a returned row of batch {r['corrects']} "
                f"(row {r['corrects_row_id']}: {r['orig_status']}) for the same person and no larger amount",
            )
        )
    paid_fixes = fixes.filter(pl.col("status") == "paid").select(
        batch_id="corrects", row_id="corrects_row_id", fixed=pl.lit(True)
    )
    reissued = rows.filter(pl.col("status") == "reissued").join(paid_fixes, on=["batch_id", "row_id"], how="left")
    for r in reissued.filter(pl.col("fixed").is_null()).head(5).iter_rows(named=True):
        out.append(Violation.of(3, r["batch_id"], f"row {r['row_id']} is reissued but no correction row was paid"))
    return out


def _refused(snap: Snapshot, rows: pl.DataFrame, truth: pl.DataFrame | None) -> list[Violation]:
    out: list[Violation] = []
    keys = ["batch_id", "row_id"]
    ex = snap.exceptions.join(rows.select(*keys, "status", row_fen="amount_fen"), on=keys, how="left").with_columns(
        now=pl.col("status").replace_strict(_OUTCOME_OF_STATUS, default=None, return_dtype=pl.String)
    )
    checks = {
        "unknown_row": pl.col("status").is_not_null(),
        "amount_mismatch": pl.col("status").is_null() | (pl.col("row_fen") == pl.col("amount_fen")),
        "contradicts_final": pl.col("now").is_null() | (pl.col("now") == pl.col("outcome")),
    }
    for kind, wrong in checks.items():
        for r in ex.filter((pl.col("kind") == kind) & wrong).head(5).iter_rows(named=True):
            out.append(
                Violation.of(
                    4,
                    r["batch_id"],
                    f"{kind} exception for row {r['row_id']} ({r['outcome']}) but the row is {r['status']}",
                )
            )
    if truth is not None:
        # only rows that went to the bank have an outcome to compare (a returned row may have been blocked)
        sent = snap.ledger.filter(pl.col("status").is_in(["paid", "failed"])).select(keys)
        seen = rows.join(sent, on=keys, how="semi").with_columns(
            now=pl.col("status").replace_strict(_OUTCOME_OF_STATUS, default=None, return_dtype=pl.String)
        )
        against = seen.filter(pl.col("now").is_not_null()).join(
            truth.select(*keys, true_outcome="outcome", true_fen="amount_fen"), on=keys, how="left"
        )
        disagree = against.filter(
            pl.col("true_outcome").is_null()
            | (pl.col("now") != pl.col("true_outcome"))
            | (pl.col("true_fen") != pl.col("amount_fen"))
        )
        for r in disagree.head(5).iter_rows(named=True):
            out.append(
                Violation.of(
                    4,
                    r["batch_id"],
                    f"row {r['row_id']} shows {r['now']} but the bank's real outcome is {r['true_outcome']}",
                )
            )
    return out


def _audit(snap: Snapshot) -> list[Violation]:
    result = verify(snap.audit)
    out = [] if result.ok else [Violation.of(5, "", f"{result.problem}: {result.message}")]
    last: dict[str, str] = {}
    for entry in snap.audit:
        if entry.batch_id:
            last[entry.batch_id] = entry.to_state
    for batch_id, state in snap.batches.select("batch_id", "state").iter_rows():
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
