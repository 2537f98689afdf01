"""What the audit office supervises, per period: batches, exceptions, reviews, waivers, extensions, withdrawals and
reversals, as Polars frames with every ID number, account and name masked.

[`supervision_tables`][yikatong.workflow.supervision.supervision_tables] reads the store (never writes it). The period
selects by when things happened, on the county calendar: a batch is in the export when any entry of the audit log about
it falls in the period; each review, waiver, extension, withdrawal, reversal and refused bank result is listed when it
happened in the period. The rows of ``SupervisionExport.exceptions`` are those of the period's batches that are not
paid, or not yet: blocked, awaiting review, failed, reversed, returned for correction, expired, as they stand now.

Only the audit office and the system may export it
([`SUPERVISION_READERS`][yikatong.workflow.supervision.SUPERVISION_READERS]): it lists rows of every department and
town, masked (first 6 and last 4 of an ID, last 4 of an account, the given name starred).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any, Final

import polars as pl
from attrs import frozen

from yikatong.localtime import COUNTY_ZONE, local_date, local_date_expr
from yikatong.period import Period
from yikatong.ports import Store
from yikatong.privacy import mask_account_expr, mask_id_expr, mask_name_expr
from yikatong.records import AuditEntry, BatchRecord
from yikatong.workflow._decisions import waivers_and_extensions
from yikatong.workflow.audit import scrub
from yikatong.workflow.funds import batch_money, records_frame
from yikatong.workflow.roles import Actor, require_role

__all__ = ["EXCEPTION_STATUSES", "SUPERVISION_READERS", "SupervisionExport", "supervision_tables"]

SUPERVISION_READERS: Final = ("audit", "system")
"""Roles that may export what the audit office supervises."""

EXCEPTION_STATUSES: Final = ("blocked", "review", "failed", "reversed", "returned", "expired")
"""Row statuses listed as exceptions: held back by validation, refused or reversed by the bank, awaiting
correction, or past the correction deadline."""

_UTC: Final = pl.Datetime("us", "UTC")
_BATCH_COLUMNS: Final = {
    "batch_id": pl.String(),
    "item": pl.String(),
    "period": pl.String(),
    "department": pl.String(),
    "state": pl.String(),
    "prepared_by": pl.String(),
    "corrects": pl.String(),
    "town": pl.String(),
    "bank": pl.String(),
    "funding_route": pl.String(),
    "reason": pl.String(),
    "created_at": _UTC,
    "updated_at": _UTC,
}
_REVIEW_COLUMNS: Final = {
    "batch_id": pl.String(),
    "item": pl.String(),
    "row_id": pl.Int64(),
    "decision": pl.String(),
    "note": pl.String(),
    "reviewer": pl.String(),
    "at": _UTC,
}
_WITHDRAWAL_COLUMNS: Final = {
    "batch_id": pl.String(),
    "item": pl.String(),
    "kind": pl.String(),
    "from_state": pl.String(),
    "actor": pl.String(),
    "role": pl.String(),
    "reason": pl.String(),
    "rows_withdrawn": pl.Int64(),
    "unsent_fen": pl.Int64(),
    "order_withdrawn": pl.Boolean(),
    "at": _UTC,
}
_ROW_COLUMNS: Final = (
    "batch_id",
    "item",
    "row_id",
    "source_line",
    "town",
    "village",
    "name",
    "id_number",
    "account",
    "pay_account",
    "amount_fen",
    "status",
    "verdict",
    "reason_code",
    "note",
    "deadline",
    "updated_at",
)


@frozen(kw_only=True)
class SupervisionExport:
    """The period's supervision tables; every personal value masked.

    Attributes:
        period: The period.
        batches: One row per batch touched in the period: its header (``batch_id, item, period, department,
            state, prepared_by, corrects, town, bank, funding_route, reason, created_at, updated_at``) and where its
            money is (``funded_fen, drawn_fen, sent_fen, paid_fen, failed_fen, reversed_fen, refunded_fen,
            held_fen``; ``paid_fen`` counts every payment made, reversed ones included).
        exceptions: Rows of those batches in [`EXCEPTION_STATUSES`][yikatong.workflow.supervision.EXCEPTION_STATUSES]:
            ``batch_id, item, row_id, source_line, town, village, name, id_number, account, pay_account`` (masked),
            ``amount_fen, status, verdict, reason_code, note, deadline, updated_at``.
        bank_exceptions: Bank results refused in the period (reconciliation exceptions, never applied).
        reviews: One row per manual review decision: ``batch_id, item, row_id, decision`` (passed/blocked),
            ``note, reviewer, at``.
        waivers: Waivers of mandatory controls proposed or approved in the period: ``batch_id, item, control,
            reason, proposed_by, approved_by, at``.
        extensions: Extensions of correction deadlines requested or decided in the period: ``batch_id, item, rows,
            until, reason, requested_by, decision, decided_by, at``.
        withdrawals: Batches cancelled, sent back (原渠道退回) or rejected by validation: ``batch_id, item, kind,
            from_state, actor, role, reason, rows_withdrawn, unsent_fen, order_withdrawn, at``.
        reversals: Payments the bank reversed (退汇) in the period: the masked row with the bank's reason.
        head: The audit log's last entry (None on an empty log).
    """

    period: Period
    batches: pl.DataFrame
    exceptions: pl.DataFrame
    bank_exceptions: pl.DataFrame
    reviews: pl.DataFrame
    waivers: pl.DataFrame
    extensions: pl.DataFrame
    withdrawals: pl.DataFrame
    reversals: pl.DataFrame
    head: AuditEntry | None

    def sheets(self) -> dict[str, pl.DataFrame]:
        """The tables by name, in the order of the export."""
        return {
            "batches": self.batches,
            "exceptions": self.exceptions,
            "bank_exceptions": self.bank_exceptions,
            "reviews": self.reviews,
            "waivers": self.waivers,
            "extensions": self.extensions,
            "withdrawals": self.withdrawals,
            "reversals": self.reversals,
        }


def _masked_rows(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.with_columns(
        mask_name_expr(pl.col("name")).alias("name"),
        mask_id_expr(pl.col("id_number")).alias("id_number"),
        mask_account_expr(pl.col("account")).alias("account"),
        mask_account_expr(pl.col("pay_account")).alias("pay_account"),
        pl.col("note").map_elements(scrub, return_dtype=pl.String).alias("note"),
    ).select(_ROW_COLUMNS)


def _in(period: Period, at: dt.datetime, zone: str) -> bool:
    return period.start <= local_date(at, zone) <= period.end


def _events(
    log: Sequence[AuditEntry], chosen: dict[str, BatchRecord], period: Period, zone: str
) -> dict[str, pl.DataFrame]:
    reviews: list[dict[str, Any]] = []
    withdrawals: list[dict[str, Any]] = []
    for entry in log:
        record = chosen.get(entry.batch_id)
        if record is None or not _in(period, entry.at, zone):
            continue
        details = json.loads(entry.details or "{}")
        if entry.action == "confirm_reviews":
            for decision in details.get("decisions", []):
                reviews.append(
                    {
                        "batch_id": entry.batch_id,
                        "item": record.item,
                        "row_id": int(decision["row_id"]),
                        "decision": str(decision.get("to", "")),
                        "note": scrub(str(decision.get("note", ""))),
                        "reviewer": entry.actor,
                        "at": entry.at,
                    }
                )
        elif entry.action in ("cancel", "send_back") or (entry.to_state == "rejected" != entry.from_state):
            withdrawals.append(
                {
                    "batch_id": entry.batch_id,
                    "item": record.item,
                    "kind": "rejected" if entry.to_state == "rejected" else entry.action,
                    "from_state": entry.from_state,
                    "actor": entry.actor,
                    "role": entry.role,
                    "reason": scrub(entry.reason),
                    "rows_withdrawn": int(details.get("withdrawn", 0)),
                    "unsent_fen": int(details.get("unsent_fen", 0)),
                    "order_withdrawn": bool(details.get("order_withdrawn", False)),
                    "at": entry.at,
                }
            )
    return {
        "reviews": pl.DataFrame(reviews, schema=_REVIEW_COLUMNS, orient="row"),
        "withdrawals": pl.DataFrame(withdrawals, schema=_WITHDRAWAL_COLUMNS, orient="row"),
    }


def _within(column: str, period: Period, zone: str) -> pl.Expr:
    day = local_date_expr(pl.col(column), zone)
    return (day >= pl.lit(period.start)) & (day <= pl.lit(period.end))


def supervision_tables(
    store: Store, period: str | Period, /, *, actor: Actor, zone: str = COUNTY_ZONE
) -> SupervisionExport:
    """The period's supervision tables (see the module text).

    Args:
        store: The store to read (it is only read).
        period: ``YYYY``, ``YYYY-Qn``, ``YYYY-MM`` or a day ``YYYY-MM-DD``.
        actor: The reader: the audit office or the system
            ([`SUPERVISION_READERS`][yikatong.workflow.supervision.SUPERVISION_READERS]).
        zone: The county's time zone: the calendar the period is read on.

    Returns:
        The tables; with nothing in the period they are empty.

    Raises:
        PermissionDenied: another role.
        ValueError: the period is not valid.
    """
    require_role(actor, SUPERVISION_READERS, "export the supervision tables")
    the_period = Period.parse(period)
    head = store.audit_head()
    log = store.audit()
    touched = {e.batch_id for e in log if e.batch_id and _in(the_period, e.at, zone)}
    chosen = {b.batch_id: b for b in store.batches() if b.batch_id in touched}
    records = tuple(chosen.values())
    headers = pl.DataFrame(
        [
            (
                b.batch_id,
                b.item,
                b.period,
                b.department,
                b.state,
                b.prepared_by,
                b.corrects,
                b.town,
                b.bank,
                b.funding_route,
                scrub(b.reason),
                b.created_at,
                b.updated_at,
            )
            for b in records
        ],
        schema=_BATCH_COLUMNS,
        orient="row",
    )
    ledger = store.ledger().filter(pl.col("batch_id").is_in(list(chosen)))
    money = batch_money(records_frame(records), ledger).drop("state", "corrects")
    batches = headers.join(money, on="batch_id", how="left")
    items = pl.DataFrame(
        {"batch_id": list(chosen), "item": [b.item for b in records]}, schema={"batch_id": pl.String, "item": pl.String}
    )
    rows = pl.concat([store.rows(""), *(store.rows(b) for b in chosen)]).drop("item").join(items, on="batch_id")
    exceptions = _masked_rows(rows.filter(pl.col("status").is_in(EXCEPTION_STATUSES)))
    reversed_now = ledger.filter((pl.col("status") == "reversed") & _within("updated_at", the_period, zone))
    reversals = _masked_rows(rows.join(reversed_now.select("batch_id", "row_id"), on=["batch_id", "row_id"]))
    bank_exceptions = (
        store.exceptions()
        .filter(pl.col("batch_id").is_in(list(chosen)) & _within("at", the_period, zone))
        .with_columns(pl.col("detail").map_elements(scrub, return_dtype=pl.String))
    )
    waivers, extensions = waivers_and_extensions(log, chosen)
    decided = _events(log, chosen, the_period, zone)
    return SupervisionExport(
        period=the_period,
        batches=batches,
        exceptions=exceptions,
        bank_exceptions=bank_exceptions,
        reviews=decided["reviews"],
        waivers=waivers.filter(_within("at", the_period, zone)),
        extensions=extensions.filter(_within("at", the_period, zone)),
        withdrawals=decided["withdrawals"],
        reversals=reversals,
        head=head,
    )
