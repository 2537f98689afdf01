"""Work views: what a department or a town has on its desk, read from the store alone.

A county clerk opens the day with three questions: which rows must we correct, and by when; how did our batches
go; which rows are still held back from payment. [`work_view`][yikatong.workflow.work_views.work_view] answers them for
one department or one town from the [`Store`][yikatong.ports.Store] port only (no bank, treasury or registry needed), so
a host, the command line (``yikatong queue``) and [`Service.worklist`][yikatong.workflow.Service.worklist] share it.

Reads follow the roles of ``docs/security.md``: a department sees its own batches, a town the rows of its own
residents (whatever the department), finance, audit and the system every row; a bank or the treasury has no work
view. ID numbers and accounts come back masked (first 6 and last 4 of an ID, last 4 of an account); nothing here
writes to the store or its audit log.

Deadlines are county dates. A row in the queue is ``due`` (deadline more than ``due_soon_days`` away),
``due_soon`` (within them, today included), ``overdue`` (returned, its deadline passed, the daily expiry has not
reached it yet) or ``expired`` (past its deadline and moved to ``expired``; only a finance extension brings it
back).
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import polars as pl
from attrs import frozen

from yikatong.errors import PermissionDenied
from yikatong.localtime import COUNTY_ZONE
from yikatong.ports import Store
from yikatong.privacy import mask_account_expr, mask_id_expr
from yikatong.records import ROW_SCHEMA, BatchRecord
from yikatong.workflow.corrections import QUEUE_COLUMNS, correction_queue
from yikatong.workflow.roles import Actor

__all__ = [
    "BATCH_RESULT_COLUMNS",
    "DEADLINE_STATES",
    "DUE_SOON_DAYS",
    "HELD_COLUMNS",
    "HELD_STATUSES",
    "WORK_QUEUE_COLUMNS",
    "WorkView",
    "carried_rows",
    "queue_scope",
    "scoped_correction_queue",
    "work_view",
]

DUE_SOON_DAYS: Final = 3
"""Days before its deadline from which a row counts as ``due_soon``."""

DEADLINE_STATES: Final = ("due", "due_soon", "overdue", "expired")
"""The values of ``deadline_state`` in the work queue."""

WORK_QUEUE_COLUMNS: Final[tuple[str, ...]] = (*QUEUE_COLUMNS, "deadline_state", "days_left")
"""The work queue: [`QUEUE_COLUMNS`][yikatong.workflow.corrections.QUEUE_COLUMNS] plus ``deadline_state`` (one of
[`DEADLINE_STATES`][yikatong.workflow.work_views.DEADLINE_STATES]) and ``days_left`` (days from the view's date to the
deadline; negative once passed)."""

HELD_STATUSES: Final = ("review", "blocked", "failed", "reversed")
"""Row statuses that hold a row back from payment without being in the correction queue yet: awaiting a review
decision or dispatch (``review``, ``blocked``), or failed or reversed at the bank with the money held there until
the failures are returned (``failed``, ``reversed``)."""

HELD_COLUMNS: Final[tuple[str, ...]] = (
    "batch_id",
    "row_id",
    "item",
    "period",
    "batch_state",
    "town",
    "village",
    "name",
    "id_masked",
    "account_masked",
    "amount_fen",
    "status",
    "reason_code",
    "note",
    "since",
)
"""Rows still held ([`HELD_STATUSES`][yikatong.workflow.work_views.HELD_STATUSES]); ``since`` is the county date their
status last moved."""

_COUNTED: Final = (
    ("paid", ("paid",)),
    ("in_progress", ("pending", "passed", "sent")),
    ("held", HELD_STATUSES),
    ("returned", ("returned",)),
    ("expired", ("expired",)),
    ("reissued", ("reissued",)),
    ("withdrawn", ("withdrawn",)),
)

BATCH_RESULT_COLUMNS: Final[tuple[str, ...]] = (
    "batch_id",
    "item",
    "period",
    "department",
    "state",
    "corrects",
    "rows",
    "amount_fen",
    *(f"{name}_{what}" for name, _ in _COUNTED for what in ("rows", "fen")),
)
"""One line per batch: its header, its rows (a town's view: its residents' rows only) and their amount, and per
outcome the rows and fen: ``paid``, ``in_progress`` (pending, passed, sent), ``held``
([`HELD_STATUSES`][yikatong.workflow.work_views.HELD_STATUSES]), ``returned`` (in the correction queue), ``expired``,
``reissued`` (paid by a correction), ``withdrawn``."""

_ENDED: Final = ("cancelled", "rejected", "sent_back")
_READERS: Final = ("department", "town", "finance", "audit", "system")


@frozen
class WorkView:
    """One department's or town's work on a county date.

    Attributes:
        as_of: The county date the view was made for.
        department: The department it is limited to (None: every department the reader may see).
        town: The town it is limited to (None: every town).
        queue: The correction queue, [`WORK_QUEUE_COLUMNS`][yikatong.workflow.work_views.WORK_QUEUE_COLUMNS], earliest
            deadline first.
        batches: The results of the batches,
            [`BATCH_RESULT_COLUMNS`][yikatong.workflow.work_views.BATCH_RESULT_COLUMNS], in creation order.
        held: The rows still held, [`HELD_COLUMNS`][yikatong.workflow.work_views.HELD_COLUMNS].
    """

    as_of: dt.date
    department: str | None
    town: str | None
    queue: pl.DataFrame
    batches: pl.DataFrame
    held: pl.DataFrame

    def counts(self) -> dict[str, int]:
        """Rows per deadline state, plus ``held`` and ``batches``: the view's headline figures."""
        states = self.queue["deadline_state"].value_counts()
        found = dict(zip(states["deadline_state"].to_list(), states["count"].to_list(), strict=True))
        return {
            **{state: int(found.get(state, 0)) for state in DEADLINE_STATES},
            "held": self.held.height,
            "batches": self.batches.height,
        }


def queue_scope(actor: Actor, department: str | None, town: str | None) -> tuple[str | None, str | None]:
    """The department and town a reader's view is limited to.

    A department user always sees its own department, a town user its own town; finance, audit and the system
    choose freely.

    Raises:
        PermissionDenied: a bank, the treasury or a village user, or a department or town asking for another's.
    """
    if actor.role in ("finance", "audit", "system"):
        return department, town
    if actor.role == "department" and department in (None, actor.department):
        return actor.department, town
    if actor.role == "town" and town in (None, actor.town):
        return department, actor.town
    raise PermissionDenied(f"{actor.user} ({actor.role}) may not read this correction queue / 无权查看该更正队列")


def carried_rows(batches: tuple[BatchRecord, ...], rows: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """``batch_id, row_id`` of returned rows that a live correction batch carries.

    Args:
        batches: Batch headers.
        rows: Each batch's stored rows, by batch (a correction batch missing from it carries nothing here).
    """
    parts = [pl.DataFrame(schema={"batch_id": pl.String, "row_id": pl.Int64})]
    for b in batches:
        if b.corrects is None or b.state in _ENDED or b.batch_id not in rows:
            continue
        parts.append(
            rows[b.batch_id]
            .filter((pl.col("status") != "withdrawn") & pl.col("corrects_row_id").is_not_null())
            .select(pl.lit(b.corrects).alias("batch_id"), pl.col("corrects_row_id").alias("row_id"))
        )
    return pl.concat(parts)


def _empty_rows() -> pl.DataFrame:
    return pl.DataFrame(schema={**ROW_SCHEMA, "period": pl.String(), "batch_state": pl.String()})


def _read(store: Store, department: str | None) -> tuple[tuple[BatchRecord, ...], pl.DataFrame, pl.DataFrame]:
    """The batches of ``department`` (every batch for None), their rows with item, period and batch state, and the
    rows carried by live correction batches."""
    batches = tuple(b for b in store.batches() if department is None or b.department == department)
    rows = {b.batch_id: store.rows(b.batch_id) for b in batches}
    frames = [
        rows[b.batch_id].with_columns(
            pl.lit(b.item).alias("item"), pl.lit(b.period).alias("period"), pl.lit(b.state).alias("batch_state")
        )
        for b in batches
    ]
    everything = pl.concat([_empty_rows(), *frames], how="vertical_relaxed") if frames else _empty_rows()
    return batches, everything, carried_rows(batches, rows)


def scoped_correction_queue(
    store: Store,
    *,
    actor: Actor,
    as_of: dt.date,
    department: str | None = None,
    town: str | None = None,
) -> pl.DataFrame:
    """The correction queue as ``actor`` may read it: [`QUEUE_COLUMNS`][yikatong.workflow.corrections.QUEUE_COLUMNS].

    Rows ``returned`` or ``expired``, not carried by a live correction batch (the correction's own row is listed
    instead, if it comes back too), earliest deadline first, IDs masked.

    Raises:
        PermissionDenied: as [`queue_scope`][yikatong.workflow.work_views.queue_scope].
    """
    department, town = queue_scope(actor, department, town)
    _, rows, carried = _read(store, department)
    return _queue(rows, carried, town, as_of)


def _queue(rows: pl.DataFrame, carried: pl.DataFrame, town: str | None, as_of: dt.date) -> pl.DataFrame:
    waiting = rows.filter(pl.col("status").is_in(["returned", "expired"]))
    if town is not None:
        waiting = waiting.filter(pl.col("town") == town)
    waiting = waiting.join(carried, on=["batch_id", "row_id"], how="anti")
    return correction_queue(waiting, as_of=as_of)


def _deadline_states(queue: pl.DataFrame, as_of: dt.date, due_soon_days: int) -> pl.DataFrame:
    days_left = (pl.col("deadline") - pl.lit(as_of)).dt.total_days().cast(pl.Int64)
    return queue.with_columns(
        pl.when(pl.col("status") == "expired")
        .then(pl.lit("expired"))
        .when(pl.col("overdue"))
        .then(pl.lit("overdue"))
        .when(days_left <= due_soon_days)
        .then(pl.lit("due_soon"))
        .otherwise(pl.lit("due"))
        .alias("deadline_state"),
        days_left.alias("days_left"),
    ).select(WORK_QUEUE_COLUMNS)


def _results(batches: tuple[BatchRecord, ...], rows: pl.DataFrame, town: str | None) -> pl.DataFrame:
    counted = [
        expr
        for name, statuses in _COUNTED
        for expr in (
            pl.col("status").is_in(statuses).sum().cast(pl.Int64).alias(f"{name}_rows"),
            pl.col("amount_fen").filter(pl.col("status").is_in(statuses)).sum().cast(pl.Int64).alias(f"{name}_fen"),
        )
    ]
    per_batch = rows.group_by("batch_id").agg(
        pl.len().cast(pl.Int64).alias("rows"), pl.col("amount_fen").sum().cast(pl.Int64).alias("amount_fen"), *counted
    )
    headers = pl.DataFrame(
        {
            "batch_id": [b.batch_id for b in batches],
            "item": [b.item for b in batches],
            "period": [b.period for b in batches],
            "department": [b.department for b in batches],
            "state": [b.state for b in batches],
            "corrects": [b.corrects for b in batches],
        },
        schema=dict.fromkeys(("batch_id", "item", "period", "department", "state", "corrects"), pl.String),
    )
    # a town sees only the batches holding its residents
    joined = headers.join(per_batch, on="batch_id", how="inner" if town is not None else "left", maintain_order="left")
    return joined.with_columns(pl.col(c).fill_null(0) for c in BATCH_RESULT_COLUMNS[6:]).select(BATCH_RESULT_COLUMNS)


def _held(rows: pl.DataFrame, zone: str) -> pl.DataFrame:
    held = rows.filter(pl.col("status").is_in(HELD_STATUSES) & ~pl.col("batch_state").is_in(_ENDED))
    return held.select(
        "batch_id",
        "row_id",
        "item",
        "period",
        "batch_state",
        "town",
        "village",
        "name",
        mask_id_expr(pl.col("id_number")).alias("id_masked"),
        mask_account_expr(pl.coalesce("pay_account", "account")).alias("account_masked"),
        "amount_fen",
        "status",
        "reason_code",
        "note",
        pl.col("updated_at").dt.convert_time_zone(zone).dt.date().alias("since"),
    ).sort("since", "batch_id", "row_id", nulls_last=True)


def work_view(
    store: Store,
    /,
    *,
    actor: Actor,
    as_of: dt.date,
    department: str | None = None,
    town: str | None = None,
    due_soon_days: int = DUE_SOON_DAYS,
    zone: str = COUNTY_ZONE,
    strict: bool = False,
) -> WorkView:
    """The correction queue, the batch results and the rows still held, for one department and/or town.

    Args:
        store: The store to read (only read: nothing is written).
        actor: The reader; limits what is seen (see the module text and
            [`queue_scope`][yikatong.workflow.work_views.queue_scope]).
        as_of: The county date of the view (deadlines are compared with it).
        department: Only batches of this department (a department reader: its own, always).
        town: Only rows of this town (a town reader: its own, always).
        due_soon_days: Days before the deadline from which a row is ``due_soon``.
        zone: The county's time zone, for the date a held row's status last moved.
        strict: Refuse a department or town the store holds no batch or row of, instead of giving an empty view
            (for a name typed by a person, where a typing mistake must not look like an empty desk).

    Returns:
        A [`WorkView`][yikatong.workflow.work_views.WorkView] of Polars frames, IDs and accounts masked.

    Raises:
        PermissionDenied: the reader may not see this view (a bank, the treasury, a village user, or another
            department's or town's).
        ValueError: ``due_soon_days`` is negative, or (``strict``) the department or town has no batch or row in
            the store (the message lists those it has).
    """
    if due_soon_days < 0:
        raise ValueError("due_soon_days 不能为负 / due_soon_days must not be negative")
    if actor.role not in _READERS:
        raise PermissionDenied(f"role {actor.role!r} has no work view / 该角色无工作视图")
    department, town = queue_scope(actor, department, town)
    if strict:
        _check_known_department(store, department)
    batches, rows, carried = _read(store, department)
    if town is not None:
        if strict:
            _check_known_town(rows, town)
        rows_in_town = rows.filter(pl.col("town") == town)
    else:
        rows_in_town = rows
    queue = _deadline_states(_queue(rows, carried, town, as_of), as_of, due_soon_days)
    return WorkView(
        as_of=as_of,
        department=department,
        town=town,
        queue=queue,
        batches=_results(batches, rows_in_town, town),
        held=_held(rows_in_town, zone),
    )


def _check_known_department(store: Store, department: str | None) -> None:
    if department is None:
        return
    known = sorted({b.department for b in store.batches()})
    if department not in known:
        raise ValueError(
            f"库中没有部门“{department}”的批次 / no batch of department {department!r} in the store"
            f" (departments: {', '.join(known) or 'none'})"
        )


def _check_known_town(rows: pl.DataFrame, town: str) -> None:
    known = sorted(t for t in rows["town"].unique().to_list() if t is not None)
    if town not in known:
        shown = ", ".join(known[:20]) + (" …" if len(known) > 20 else "")
        raise ValueError(
            f"库中没有乡镇“{town}”的数据 / no rows of town {town!r} in the store (towns: {shown or 'none'})"
        )
