"""The frame checks behind [`yikatong.workflow.invariants.check_invariants`][], as lazy queries.

Each check is a LazyFrame of violations (``invariant``, ``batch_id``, ``detail``); all of them are collected in
one ``polars.collect_all``, so a check after every step of a simulation costs one query plan, not dozens of
small eager operations. Details name batches, row ids, counts and amounts only.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from yikatong.workflow._money_checks import held_checks
from yikatong.workflow._violations import VIOLATION_SCHEMA
from yikatong.workflow._violations import as_text as _s
from yikatong.workflow._violations import violations as _v
from yikatong.workflow.statuses import FINAL_STATUSES

__all__ = ["VIOLATION_SCHEMA", "frame_checks"]

_FUNDED_STATES: Final = ["funded", "disbursing", "settled", "published"]
_SETTLED_STATES: Final = ["settled", "published"]
_OVER_STATES: Final = ["settled", "published", "rejected", "cancelled", "sent_back"]
_UNFUNDED_STATES: Final = [
    "draft",
    "submitted",
    "validated",
    "rejected",
    "dispatched",
    "funding_requested",
    "cancelled",
]
_OUTCOME_OF_STATUS: Final = {
    "paid": "paid",
    "failed": "failed",
    "reversed": "reversed",
    "returned": "failed",
    "reissued": "failed",
    "expired": "failed",
}
_BANK_OUTCOMES: Final = ["paid", "failed", "reversed"]
_WITH_BANK: Final = ["sent", *_BANK_OUTCOMES]
"""Ledger and row statuses of a row the bank holds (sent and not withdrawn)."""
_KEYS: Final = ["batch_id", "row_id"]


def _outcome(status: str, ledger_status: str | None = None) -> pl.Expr:
    """The bank outcome a row status stands for; a returned, reissued or expired row whose ledger entry is
    ``reversed`` was paid and came back, else it failed."""
    plain = pl.col(status).replace_strict(_OUTCOME_OF_STATUS, default=None, return_dtype=pl.String)
    if ledger_status is None:
        return plain
    came_back = pl.col(status).is_in(["returned", "reissued", "expired"]) & (pl.col(ledger_status) == "reversed")
    return pl.when(came_back.fill_null(False)).then(pl.lit("reversed")).otherwise(plain)


def _twice(lf: pl.LazyFrame, what: str) -> pl.LazyFrame:
    counted = (
        lf.group_by("id_number", "item", "period")
        .agg(pl.len().alias("n"), pl.col("batch_id").unique().sort().alias("batches"))
        .filter(pl.col("n") > 1)
    )
    return _v(
        counted,
        1,
        f"{what}: one (person, item ",
        _s("item"),
        ", period ",
        _s("period"),
        ") ",
        _s("n"),
        " times, in batches ",
        pl.col("batches").list.join(", "),
        batch=pl.col("batches").list.first(),
    )


def frame_checks(
    batches: pl.DataFrame,
    rows: pl.DataFrame,
    ledger: pl.DataFrame,
    exceptions: pl.DataFrame,
    *,
    bank_truth: pl.DataFrame | None,
    treasury_fundings: pl.DataFrame | None,
    final: bool,
    treasury_refunds: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Every frame check of invariants 1–4 and 7, collected at once, in ``VIOLATION_SCHEMA``."""
    missing = [pl.lit(0, pl.Int64).alias(c) for c in ("drawn_fen", "refunded_fen") if c not in batches.columns]
    batches = batches.with_columns(missing)
    b = batches.lazy()
    r = rows.lazy().join(b.select("batch_id", "item", "period", "state"), on="batch_id", how="left")
    led = ledger.lazy()
    queries = [*_paid_once(r, led, bank_truth), *_money(b, r, led, treasury_fundings)]
    queries += [*_terminal(b, r, led, final=final), *_refused(r, led, exceptions.lazy(), bank_truth)]
    queries += held_checks(batches, ledger, treasury_refunds, final=final)
    frames = pl.collect_all(queries)
    return pl.concat([f.cast(VIOLATION_SCHEMA) for f in frames])  # type: ignore[arg-type]


def _paid_once(r: pl.LazyFrame, led: pl.LazyFrame, truth: pl.DataFrame | None) -> list[pl.LazyFrame]:
    out = [
        _twice(led.filter(pl.col("status") == "paid"), "paid twice in the ledger"),
        _twice(led.filter(pl.col("status").is_in(["sent", "paid"])), "held twice in the ledger"),
        # a purged row has no ID any more: the ledger (which keeps its keyed hash) answers for it
        _twice(r.filter((pl.col("status") == "paid") & pl.col("id_number").is_not_null()), "rows paid twice"),
    ]
    if truth is not None:
        paid = truth.lazy().filter(pl.col("outcome") == "paid").select(_KEYS)
        keyed = paid.join(r.select(*_KEYS, "id_number", "item", "period"), on=_KEYS)
        out.append(_twice(keyed, "really paid twice by the bank"))
    return out


def _money(b: pl.LazyFrame, r: pl.LazyFrame, led: pl.LazyFrame, fundings: pl.DataFrame | None) -> list[pl.LazyFrame]:
    sent = led.filter(pl.col("status") != "withdrawn")
    per_batch = sent.group_by("batch_id").agg(
        pl.col("amount_fen").sum().alias("sent_fen"),
        pl.col("amount_fen").filter(pl.col("status") == "paid").sum().alias("paid_fen"),
        pl.col("amount_fen").filter(pl.col("status") == "failed").sum().alias("failed_fen"),
        pl.col("amount_fen").filter(pl.col("status") == "reversed").sum().alias("reversed_fen"),
        (pl.col("status") == "sent").sum().alias("open"),
    )
    sums = b.join(per_batch, on="batch_id", how="left").with_columns(
        pl.col("sent_fen", "paid_fen", "failed_fen", "reversed_fen", "open").fill_null(0)
    )
    settled = sums.filter(pl.col("state").is_in(_SETTLED_STATES))
    both = sent.select(*_KEYS, "amount_fen", ledger_status="status").join(
        r.select(*_KEYS, "status", row_fen="amount_fen"), on=_KEYS, how="left"
    )
    ledger_outcome = pl.col("ledger_status").replace_strict(
        {o: o for o in _BANK_OUTCOMES}, default=None, return_dtype=pl.String
    )
    drawn_early = pl.col("state").is_in(_UNFUNDED_STATES) & (pl.col("state") != "funding_requested")
    out = [
        _v(
            sums.filter(
                pl.col("state").is_in(_FUNDED_STATES)
                & (pl.col("funded_fen") + pl.col("drawn_fen") != pl.col("sent_fen"))
            ),
            2,
            "funded ",
            _s("funded_fen"),
            " + drawn ",
            _s("drawn_fen"),
            " fen but ",
            _s("sent_fen"),
            " fen sent",
        ),
        _v(
            sums.filter(pl.col("state").is_in(_UNFUNDED_STATES) & (pl.col("funded_fen") != 0)),
            2,
            "state ",
            _s("state"),
            " yet ",
            _s("funded_fen"),
            " fen funded",
        ),
        _v(
            sums.filter(drawn_early & (pl.col("drawn_fen") != 0)),
            2,
            "state ",
            _s("state"),
            " yet ",
            _s("drawn_fen"),
            " fen drawn from the corrected batch",
        ),
        _v(settled.filter(pl.col("open") > 0), 2, "settled with ", _s("open"), " rows still sent and without a result"),
        _v(
            settled.filter(pl.col("paid_fen") + pl.col("failed_fen") + pl.col("reversed_fen") != pl.col("sent_fen")),
            2,
            "paid ",
            _s("paid_fen"),
            " + failed ",
            _s("failed_fen"),
            " + reversed ",
            _s("reversed_fen"),
            " ≠ sent ",
            _s("sent_fen"),
            " fen",
        ),
        _v(
            both.filter(pl.col("row_fen").is_null() | (pl.col("row_fen") != pl.col("amount_fen"))),
            2,
            "ledger amount of row ",
            _s("row_id"),
            " differs from the row",
        ),
        _v(
            both.filter(_outcome("status", "ledger_status").ne_missing(ledger_outcome)),
            2,
            "row ",
            _s("row_id"),
            " is ",
            _s("status"),
            " but its ledger entry ",
            _s("ledger_status"),
        ),
    ]
    if fundings is not None:
        f = fundings.lazy().select("batch_id", "amount_fen")
        twice = f.group_by("batch_id").agg(pl.len().alias("n")).filter(pl.col("n") > 1)
        out.append(_v(twice, 2, "the treasury funded the batch ", _s("n"), " times"))
        mismatch = f.join(b, on="batch_id", how="left").filter(
            pl.col("state").is_in(_FUNDED_STATES) & (pl.col("amount_fen") != pl.col("funded_fen"))
        )
        out.append(_v(mismatch, 2, "treasury paid ", _s("amount_fen"), " fen, batch records ", _s("funded_fen")))
    return out


def _terminal(b: pl.LazyFrame, r: pl.LazyFrame, led: pl.LazyFrame, *, final: bool) -> list[pl.LazyFrame]:
    # failed rows of a settled batch wait for return_failures (publishing needs them returned); a reversed row waits
    # the same way, in a settled or a published batch
    waiting = (
        (((pl.col("state") == "settled") & (pl.col("status") == "failed")) | (pl.col("status") == "reversed"))
        & pl.col("state").is_in(_SETTLED_STATES)
        & pl.lit(not final)
    )
    over = pl.col("state").is_in(_OVER_STATES)
    loose = r.filter(pl.col("status").is_null() | (over & ~pl.col("status").is_in(sorted(FINAL_STATUSES)) & ~waiting))
    grouped = loose.group_by("batch_id", "state", "status").agg(pl.len().alias("n"), pl.col("row_id").min())
    undated = (
        r.filter(pl.col("status").is_in(["returned", "expired"]) & pl.col("deadline").is_null())
        .group_by("batch_id")
        .agg(pl.len().alias("n"))
    )
    fixes = (
        r.join(b.select("batch_id", "corrects", fix_state="state"), on="batch_id")
        .filter(pl.col("corrects").is_not_null())
        .join(
            r.select(
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
        | ~pl.col("orig_status").is_in(["returned", "reissued", "expired"])
        # a row expires only when no live correction carries it: its correction row was withdrawn or the
        # correction batch ended (a cancelled batch keeps the rows it had returned at dispatch)
        | (
            (pl.col("orig_status") == "expired")
            & (pl.col("status") != "withdrawn")
            & ~pl.col("fix_state").is_in(["cancelled", "rejected", "sent_back"])
        )
    )
    # a correction of a correction reissues every row up the chain: the chain must end in a row that was paid (its
    # money may have come back since: the reversed correction row is then corrected in turn)
    went = led.select(*_KEYS, fix_ledger="status")
    paid_fixes = (
        fixes.join(went, on=_KEYS, how="left")
        .filter((pl.col("status") == "reissued") | pl.col("fix_ledger").is_in(["paid", "reversed"]))
        .select(batch_id="corrects", row_id="corrects_row_id", fixed=pl.lit(True))
        .unique()
    )
    reissued = r.filter(pl.col("status") == "reissued").join(paid_fixes, on=_KEYS, how="left")
    return [
        _v(
            grouped,
            3,
            _s("n"),
            " rows left ",
            _s("status"),
            " in a ",
            _s("state"),
            " batch (e.g. row ",
            _s("row_id"),
            ")",
        ),
        _v(undated, 3, _s("n"), " returned or expired rows without a correction deadline"),
        _v(
            bad,
            3,
            "correction row ",
            _s("row_id"),
            " does not carry a returned row of batch ",
            _s("corrects"),
            " (row ",
            _s("corrects_row_id"),
            ": ",
            _s("orig_status"),
            ") for the same person and no larger amount",
        ),
        _v(
            reissued.filter(pl.col("fixed").is_null()),
            3,
            "row ",
            _s("row_id"),
            " is reissued but no correction row was paid (directly or through a later correction)",
        ),
    ]


def _refused(
    r: pl.LazyFrame, led: pl.LazyFrame, exceptions: pl.LazyFrame, truth: pl.DataFrame | None
) -> list[pl.LazyFrame]:
    ex = (
        exceptions.join(r.select(*_KEYS, "status", row_fen="amount_fen"), on=_KEYS, how="left")
        .join(led.select(*_KEYS, ledger_status="status"), on=_KEYS, how="left")
        .with_columns(now=_outcome("status", "ledger_status"))
    )
    wrong = {
        # a row the bank never had (blocked before the order, or withdrawn) may well exist; what must not
        # happen is refusing a row the bank was sent, or the refused result showing on a row never sent
        "unknown_row": pl.col("status").is_not_null()
        & (pl.col("ledger_status").is_in(_WITH_BANK) | pl.col("status").is_in(_WITH_BANK)).fill_null(False),
        "amount_mismatch": pl.col("status").is_null() | (pl.col("row_fen") == pl.col("amount_fen")),
        "contradicts_final": pl.col("now").is_null() | (pl.col("now") == pl.col("outcome")),
    }
    out = [
        _v(
            ex.filter((pl.col("kind") == kind) & condition),
            4,
            f"{kind} exception for row ",
            _s("row_id"),
            " (",
            _s("outcome"),
            ") but the row is ",
            _s("status"),
        )
        for kind, condition in wrong.items()
    ]
    if truth is not None:
        # only rows that went to the bank have an outcome to compare (a returned row may have been blocked)
        went = led.filter(pl.col("status").is_in(_BANK_OUTCOMES)).select(*_KEYS, ledger_status="status")
        against = (
            r.join(went, on=_KEYS, how="inner")
            .with_columns(now=_outcome("status", "ledger_status"))
            .filter(pl.col("now").is_not_null())
            .join(truth.lazy().select(*_KEYS, true_outcome="outcome", true_fen="amount_fen"), on=_KEYS, how="left")
        )
        disagree = against.filter(
            pl.col("true_outcome").is_null()
            | (pl.col("now") != pl.col("true_outcome"))
            | (pl.col("true_fen") != pl.col("amount_fen"))
        )
        out.append(
            _v(
                disagree,
                4,
                "row ",
                _s("row_id"),
                " shows ",
                _s("now"),
                " but the bank's real outcome is ",
                _s("true_outcome"),
            )
        )
    return out
