"""汇总上报: a period's payments and money per item, town, village, department and month, for finance to report.

[`summarise_period`][yikatong.workflow.summary.summarise_period] reads the store (never writes it) and returns a
[`PeriodSummary`][yikatong.workflow.summary.PeriodSummary]: the figures per chosen grouping, per item and month (for the
chart), per batch, and in total; the waivers of mandatory controls and the extensions of correction deadlines decided
for the period's batches; and the audit log's head, so that a printed report can be matched with the log it came from.

A batch belongs to the month it was sent to the bank in (报盘, its ``dispatch`` in the audit log, on the county
calendar), whatever period it pays for: a yearly subsidy paid out in November is in November's report, and a
correction sent in December is in December's. ``2026-11`` holds the batches dispatched in that month, ``2026-Q4``
those of its three months, ``2026`` the whole year's. A batch's figures are its state when the report is made (the
audit head printed with it): results, reversals and refunds that came after its month count in its month. The
batch's own payment period is the ``period`` column.

The figures ([`SUMMARY_FIGURES`][yikatong.workflow.summary.SUMMARY_FIGURES]) come from the payment ledger and the batch
headers only, so the totals are the ledger's to the fen: ``sent = paid + failed + reversed + awaiting results`` and
``funded + drawn = paid + outstanding + refunded + passed_on`` (``paid`` net of reversals); when a period holds the
corrections of its own failures, draws and what was passed on cancel and ``funded = paid + outstanding + refunded``. How
batch-level funding and refunds are shared among towns and months is said in ``yikatong.workflow._summary_money``. No ID
number, account or name appears in any table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Final, Literal, get_args

import polars as pl
from attrs import frozen

from yikatong.catalog import Catalog
from yikatong.localtime import COUNTY_ZONE, local_date
from yikatong.period import Period
from yikatong.ports import Store
from yikatong.records import AuditEntry, BatchRecord
from yikatong.workflow._decisions import waivers_and_extensions
from yikatong.workflow._summary_money import payment_entries
from yikatong.workflow.funds import batch_money, records_frame
from yikatong.workflow.roles import Actor, require_role

__all__ = [
    "DEFAULT_GROUPS",
    "SUMMARY_FIGURES",
    "SUMMARY_READERS",
    "PeriodSummary",
    "SummaryGroup",
    "parse_groups",
    "summarise_period",
]

SummaryGroup = Literal["item", "town", "village", "department", "month", "period"]
"""What a summary can be grouped by."""

DEFAULT_GROUPS: Final[tuple[SummaryGroup, ...]] = ("item", "town", "month")
"""The grouping of 汇总表 when none is asked for: item × town × month."""

SUMMARY_READERS: Final = ("finance", "audit", "system")
"""Roles that may summarise a period: finance reports it, audit supervises it."""

SUMMARY_FIGURES: Final[tuple[str, ...]] = (
    "payees",
    "sent_rows",
    "sent_fen",
    "funded_fen",
    "drawn_fen",
    "paid_rows",
    "paid_fen",
    "failed_rows",
    "failed_fen",
    "reversed_rows",
    "reversed_fen",
    "refunded_fen",
    "passed_on_fen",
    "outstanding_fen",
)
"""The figures of every summary table, integers (money in fen):

* ``payees``: different persons sent to a bank; ``sent_rows``/``sent_fen``: payments sent (报盘);
* ``funded_fen``: what the treasury funded (拨付); ``drawn_fen``: what corrections were paid from money an
  earlier failure or reversal left at the bank (动用留存), so ``sent = funded + drawn`` once funded;
* ``paid_*``: paid and not reversed (已发放); ``failed_*``: refused by the bank (失败); ``reversed_*``: paid,
  then the money came back (退汇);
* ``refunded_fen``: given back to the treasury (缴回国库); ``passed_on_fen``: failed or reversed money that
  corrections reused (被更正动用; it equals ``drawn_fen`` when the corrections were sent in the same period);
* ``outstanding_fen``: still held at the bank: failed, reversed or unanswered, not yet reused or refunded.

Per group and in total, ``funded + drawn = paid + outstanding + refunded + passed_on``.
"""


@frozen(kw_only=True)
class PeriodSummary:
    """The 汇总表 of one period, as Polars frames.

    Attributes:
        period: The report's period.
        groups: The grouping of ``table``.
        table: One row per group (``groups`` columns, ``item_name`` when a catalogue was given, then
            [`SUMMARY_FIGURES`][yikatong.workflow.summary.SUMMARY_FIGURES]), sorted by the group columns.
        monthly: Per ``item`` and ``month``: [`SUMMARY_FIGURES`][yikatong.workflow.summary.SUMMARY_FIGURES] (the chart
            of monthly amounts).
        batches: Per batch: ``batch_id, item, department, period, state, corrects``, then ``sent_fen,
            funded_fen, drawn_fen, paid_fen, failed_fen, reversed_fen, refunded_fen, passed_on_fen, held_fen``.
        totals: One row: [`SUMMARY_FIGURES`][yikatong.workflow.summary.SUMMARY_FIGURES] over the whole period.
        waivers: Waivers of mandatory controls of the period's batches: ``batch_id, item, control, reason,
            proposed_by, approved_by`` (null while awaiting approval), ``at``.
        extensions: Extensions of correction deadlines: ``batch_id, item, rows, until, reason, requested_by,
            decision`` (``granted``, ``refused`` or ``pending``), ``decided_by``, ``at``.
        head: The audit log's last entry when the summary was made (None on an empty log).
    """

    period: Period
    groups: tuple[SummaryGroup, ...]
    table: pl.DataFrame
    monthly: pl.DataFrame
    batches: pl.DataFrame
    totals: pl.DataFrame
    waivers: pl.DataFrame
    extensions: pl.DataFrame
    head: AuditEntry | None

    def total(self, figure: str) -> int:
        """One figure of ``totals`` (``"paid_fen"``…)."""
        return int(self.totals[figure][0])


def parse_groups(text: str | Sequence[str]) -> tuple[SummaryGroup, ...]:
    """``"item,town"`` (or a sequence) as groups, in the order given, each once.

    Raises:
        ValueError: an unknown group, or none at all.
    """
    names = [n.strip() for n in (text.split(",") if isinstance(text, str) else text) if n.strip()]
    known = get_args(SummaryGroup)
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise ValueError(
            f"汇总维度无效：{', '.join(unknown) or '(空)'}，可选 {', '.join(known)} / invalid grouping "
            f"{', '.join(unknown) or '(empty)'}: choose from {', '.join(known)}"
        )
    return tuple(dict.fromkeys(n for n in names if n in known))  # type: ignore[misc]


def _dispatch_days(entries: Sequence[AuditEntry], zone: str) -> dict[str, dt.date]:
    """Per batch, the county date it was first sent to the bank (报盘)."""
    days: dict[str, dt.date] = {}
    for entry in entries:
        if entry.action == "dispatch" and entry.batch_id not in days:
            days[entry.batch_id] = local_date(entry.at, zone)
    return days


def _figures() -> list[pl.Expr]:
    status, fen = pl.col("status"), pl.col("amount_fen")
    out = [
        pl.col("id_number").n_unique().cast(pl.Int64).alias("payees"),
        pl.len().cast(pl.Int64).alias("sent_rows"),
        fen.sum().alias("sent_fen"),
        pl.col("funded_fen").sum(),
        pl.col("drawn_fen").sum(),
    ]
    for name in ("paid", "failed", "reversed"):
        out += [
            (status == name).sum().cast(pl.Int64).alias(f"{name}_rows"),
            fen.filter(status == name).sum().alias(f"{name}_fen"),
        ]
    out += [pl.col("refunded_fen").sum(), pl.col("passed_on_fen").sum(), pl.col("outstanding_fen").sum()]
    return out


def _grouped(entries: pl.DataFrame, keys: Sequence[str]) -> pl.DataFrame:
    figures = _figures()
    if not keys:
        total = entries.select(figures)
        return total.with_columns(pl.col(SUMMARY_FIGURES).fill_null(0).cast(pl.Int64))
    return (
        entries.group_by(list(keys))
        .agg(figures)
        .with_columns(pl.col(SUMMARY_FIGURES).fill_null(0).cast(pl.Int64))
        .sort(list(keys), nulls_last=True)
        .select(*keys, *SUMMARY_FIGURES)
    )


def summarise_period(
    store: Store,
    period: str | Period,
    /,
    *,
    actor: Actor,
    groups: str | Sequence[str] = DEFAULT_GROUPS,
    catalog: Catalog | None = None,
    zone: str = COUNTY_ZONE,
) -> PeriodSummary:
    """The 汇总表 of ``period``: payments and money per group, per item and month, per batch and in total.

    Args:
        store: The store to read (it is only read).
        period: ``YYYY``, ``YYYY-Qn`` or ``YYYY-MM`` (a day ``YYYY-MM-DD`` too); the batches sent to the bank
            within it are summarised.
        actor: The reader: finance, audit or the system
            ([`SUMMARY_READERS`][yikatong.workflow.summary.SUMMARY_READERS]).
        groups: The grouping of ``PeriodSummary.table`` (default item × town × month), any of ``item``,
            ``town``, ``village``, ``department``, ``month``.
        catalog: When given, the tables name each item (``item_name``).
        zone: The county's time zone: the calendar a dispatch's month is read on.

    Returns:
        The summary; with no batch in the period its tables are empty and its totals zero.

    Raises:
        PermissionDenied: another role.
        ValueError: the period or the grouping is not valid.
    """
    require_role(actor, SUMMARY_READERS, "summarise a period")
    the_period = Period.parse(period)
    keys = parse_groups(groups)
    head = store.audit_head()
    chosen: dict[str, BatchRecord] = {}
    months: dict[str, str] = {}
    log = store.audit()
    sent_on = _dispatch_days(log, zone)
    for record in store.batches():
        day = sent_on.get(record.batch_id)
        if day is not None and the_period.start <= day <= the_period.end:
            chosen[record.batch_id] = record
            months[record.batch_id] = day.strftime("%Y-%m")
    records = tuple(chosen.values())
    ledger = store.ledger().filter(pl.col("batch_id").is_in(list(chosen)))
    row_columns = ["batch_id", "row_id", "town", "village", "status", "corrects_row_id"]
    rows = pl.concat(
        [store.rows("").select(row_columns), *(store.rows(b).select(row_columns) for b in chosen)], how="vertical"
    )
    entries = payment_entries(records, months, ledger, rows)
    table = _grouped(entries, keys)
    monthly = _grouped(entries, ("item", "month"))
    if catalog is not None:
        names = pl.DataFrame(
            {"item": [i.code for i in catalog], "item_name": [i.name for i in catalog]},
            schema={"item": pl.String, "item_name": pl.String},
        )
        if "item" in keys:
            at = keys.index("item") + 1
            table = table.join(names, on="item", how="left").select(
                *keys[:at], "item_name", *keys[at:], *SUMMARY_FIGURES
            )
        monthly = monthly.join(names, on="item", how="left").select("item", "item_name", "month", *SUMMARY_FIGURES)
    money = batch_money(records_frame(records), store.ledger().filter(pl.col("batch_id").is_in(list(chosen))))
    per_batch = entries.group_by("batch_id").agg(
        pl.col("amount_fen").filter(pl.col("status") == "paid").sum().alias("net_paid_fen")
    )
    headers = pl.DataFrame(
        [(b.batch_id, b.item, b.department, b.period) for b in records],
        schema={"batch_id": pl.String, "item": pl.String, "department": pl.String, "period": pl.String},
        orient="row",
    )
    batches = (
        headers.join(money, on="batch_id", how="left")
        .join(per_batch, on="batch_id", how="left")
        .with_columns(pl.col("net_paid_fen").fill_null(0).cast(pl.Int64).alias("paid_fen"))
        .select(
            "batch_id",
            "item",
            "department",
            "period",
            "state",
            "corrects",
            "sent_fen",
            "funded_fen",
            "drawn_fen",
            "paid_fen",
            "failed_fen",
            "reversed_fen",
            "refunded_fen",
            "passed_on_fen",
            "held_fen",
        )
    )
    waivers, extensions = waivers_and_extensions(log, chosen)
    return PeriodSummary(
        period=the_period,
        groups=keys,
        table=table,
        monthly=monthly,
        batches=batches,
        totals=_grouped(entries, ()),
        waivers=waivers,
        extensions=extensions,
        head=head,
    )
