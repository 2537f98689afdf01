"""Reconciliation of bank results against the payment ledger, as joins.

A bank result is compared with the batch's ledger entry for its row, never with what the bank said before alone:

* no ledger entry for the row (never sent, or withdrawn) → ``unknown_row``;
* with several paying banks, a row of the batch that was sent to another bank → ``other_bank_row``;
* an amount other than the one sent → ``amount_mismatch``;
* an outcome other than ``paid``/``failed``/``reversed`` → ``invalid_outcome``;
* two different results for one row in the same delivery → ``conflicting_delivery`` (a ``paid`` result beside the
  ``reversed`` result of the same row and amount is not a conflict: the reversal follows the payment);
* a row still ``sent`` → applied (``reversed``: paid, then its money came back, in one delivery);
* ``reversed`` for a row recorded ``paid`` → applied: the 退汇 of a paid row;
* the same final result again, or ``paid`` for a row recorded ``reversed`` (its earlier payment) → a duplicate:
  changes nothing;
* any other result against a final one (failed then paid, failed then reversed, paid then failed, reversed then
  failed) → ``contradicts_final``.

Refused results become reconciliation exceptions (each distinct one recorded once) and are never applied.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import polars as pl
from attrs import frozen

from yikatong.records import EXCEPTION_SCHEMA

__all__ = [
    "EXCEPTION_KINDS",
    "RESULT_SCHEMA",
    "ReconcilePlan",
    "classify_results",
]

RESULT_SCHEMA: Final[dict[str, pl.DataType]] = {
    "row_id": pl.Int64(),
    "outcome": pl.String(),
    "amount_fen": pl.Int64(),
    "reason_code": pl.String(),
    "reason": pl.String(),
}
"""Bank results as [`yikatong.ports.Bank.results`][] returns them."""

_FINAL: Final = ("paid", "failed", "reversed")

EXCEPTION_KINDS: Final[tuple[str, ...]] = (
    "unknown_row",
    "other_bank_row",
    "amount_mismatch",
    "invalid_outcome",
    "conflicting_delivery",
    "contradicts_final",
)


@frozen
class ReconcilePlan:
    """What a delivery of results does.

    Attributes:
        apply: Results to apply: ``row_id, outcome, reason_code, reason`` and ``from`` (the ledger status they move
            from: ``sent``, or ``paid`` for a reversal).
        exceptions: New reconciliation exceptions in [`EXCEPTION_SCHEMA`][yikatong.records.EXCEPTION_SCHEMA].
        duplicates: Results that repeat a recorded final result (ignored).
        repeated_exceptions: Refused results already recorded as exceptions earlier (ignored).
    """

    apply: pl.DataFrame
    exceptions: pl.DataFrame
    duplicates: int
    repeated_exceptions: int

    @property
    def changes_anything(self) -> bool:
        """True when the delivery applies a result or records a new exception."""
        return bool(self.apply.height or self.exceptions.height)


def _normalise(results: pl.DataFrame) -> pl.DataFrame:
    if results.height == 0:
        return pl.DataFrame(schema=RESULT_SCHEMA)
    missing = {"row_id", "outcome", "amount_fen"} - set(results.columns)
    if missing:
        raise ValueError(f"bank results lack column(s): {', '.join(sorted(missing))}")
    extra = [pl.lit(None, pl.String).alias(c) for c in ("reason_code", "reason") if c not in results.columns]
    return results.with_columns(extra).select([pl.col(c).cast(t, strict=False) for c, t in RESULT_SCHEMA.items()])


def classify_results(
    results: pl.DataFrame,
    ledger: pl.DataFrame,
    known: pl.DataFrame,
    *,
    batch_id: str,
    at: dt.datetime,
    elsewhere: pl.Series | None = None,
) -> ReconcilePlan:
    """Split a delivery of bank results into results to apply, duplicates and exceptions.

    Args:
        results: The bank's results ([`RESULT_SCHEMA`][yikatong.workflow.reconcile.RESULT_SCHEMA];
            ``reason_code``/``reason`` optional).
        ledger: The batch's ledger entries (``row_id``, ``amount_fen``, ``status``) the reporting bank was sent.
        known: Exceptions already recorded for the batch ([`EXCEPTION_SCHEMA`][yikatong.records.EXCEPTION_SCHEMA]).
        batch_id: The batch; ``at`` the time of the delivery.
        elsewhere: Row ids of the batch sent to another paying bank: a result for one of them is refused as
            ``other_bank_row``.

    Returns:
        A [`ReconcilePlan`][yikatong.workflow.reconcile.ReconcilePlan].

    Raises:
        ValueError: when the results lack ``row_id``, ``outcome`` or ``amount_fen``.
    """
    delivered = _normalise(results).unique(maintain_order=True)
    reversals = delivered.filter(pl.col("outcome") == "reversed").select("row_id", "amount_fen", _rev=pl.lit(True))
    # a bank may report a row's payment beside its reversal: the reversal says it all
    delivered = (
        delivered.join(reversals.unique(), on=["row_id", "amount_fen"], how="left", nulls_equal=True)
        .filter(~((pl.col("outcome") == "paid") & pl.col("_rev").fill_null(False)))
        .drop("_rev")
    )
    conflicting = pl.col("row_id").is_duplicated()
    entries = ledger.select(
        "row_id", pl.col("amount_fen").alias("expected_fen"), pl.col("status").alias("ledger_status")
    )
    joined = delivered.with_columns(conflicting.alias("_conflict")).join(entries, on="row_id", how="left")
    sent = pl.col("ledger_status").is_in(["sent", *_FINAL])
    ledger_is = pl.col("ledger_status")
    outcome = pl.col("outcome")
    other = pl.col("row_id").is_in(elsewhere.implode()) if elsewhere is not None else pl.lit(False)
    kind = (
        pl.when(other.fill_null(False))
        .then(pl.lit("other_bank_row"))
        .when(pl.col("row_id").is_null() | ~sent.fill_null(False))
        .then(pl.lit("unknown_row"))
        .when(~outcome.is_in(list(_FINAL)).fill_null(False))
        .then(pl.lit("invalid_outcome"))
        .when(pl.col("_conflict"))
        .then(pl.lit("conflicting_delivery"))
        .when(pl.col("amount_fen").is_null() | (pl.col("amount_fen") != pl.col("expected_fen")))
        .then(pl.lit("amount_mismatch"))
        .when((ledger_is == "sent") | ((ledger_is == "paid") & (outcome == "reversed")))
        .then(pl.lit("apply"))
        .when((ledger_is == outcome) | ((ledger_is == "reversed") & (outcome == "paid")))
        .then(pl.lit("duplicate"))
        .otherwise(pl.lit("contradicts_final"))
    )
    classified = joined.with_columns(kind.alias("kind"))
    apply = classified.filter(pl.col("kind") == "apply").select(
        "row_id", "outcome", "reason_code", "reason", pl.col("ledger_status").alias("from")
    )
    duplicates = classified.filter(pl.col("kind") == "duplicate").height
    refused = classified.filter(~pl.col("kind").is_in(["apply", "duplicate"]))
    detail = pl.concat_str(
        pl.col("kind"),
        pl.lit(": bank reported "),
        pl.col("outcome").fill_null("?"),
        pl.lit(" "),
        pl.col("amount_fen").cast(pl.String).fill_null("?"),
        pl.lit(" fen; ledger "),
        pl.col("ledger_status").fill_null("none"),
        pl.lit(" "),
        pl.col("expected_fen").cast(pl.String).fill_null("-"),
        pl.lit(" fen"),
    )
    candidates = refused.select(
        pl.lit(batch_id).alias("batch_id"),
        "row_id",
        "kind",
        "outcome",
        "amount_fen",
        "expected_fen",
        detail.alias("detail"),
        pl.lit(at).cast(EXCEPTION_SCHEMA["at"]).alias("at"),
    ).cast(pl.Schema(EXCEPTION_SCHEMA))
    key = ["row_id", "kind", "outcome", "amount_fen"]
    fresh = candidates.join(known.select(key).unique(), on=key, how="anti", nulls_equal=True)
    fresh = fresh.unique(subset=key, maintain_order=True)
    return ReconcilePlan(
        apply=apply,
        exceptions=fresh,
        duplicates=duplicates,
        repeated_exceptions=candidates.height - fresh.height,
    )
