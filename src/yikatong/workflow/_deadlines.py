"""Deadlines that bind: returned rows expire past their correction deadline; finance may extend them.

A returned row waits in the department's correction queue until its deadline, a county date (the clock's zone).
[`DeadlineSteps.expire_overdue`][yikatong.workflow.Service.expire_overdue] moves every returned row whose deadline has
passed to ``expired``, unless a live correction batch already carries it; a correction batch may carry neither. Only an
extension brings an expired row back: one finance user requests it (rows, new deadline, reason) and another approves it
(maker-checker); both steps are in the audit log, and the approval reads the request from there.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Final

import polars as pl
from attrs import frozen

from yikatong.errors import IllegalTransition, PermissionDenied
from yikatong.workflow._core import ServiceCore
from yikatong.workflow.audit import scrub
from yikatong.workflow.roles import Actor, require_role
from yikatong.workflow.statuses import plan_moves
from yikatong.workflow.work_views import DUE_SOON_DAYS, WorkView, carried_rows, scoped_correction_queue, work_view

__all__ = ["DeadlineSteps", "Extension", "Worklist"]

_ENDED: Final = ("cancelled", "rejected", "sent_back")
_EXTENSION_ACTIONS: Final = ("request_extension", "grant_extension", "refuse_extension")
_EXPIRED_NOTE: Final = "更正期限已过 / correction deadline passed"


@frozen
class Extension:
    """A requested extension of correction deadlines, awaiting a second finance user's decision.

    Attributes:
        batch_id: The batch whose rows it extends.
        row_ids: The expired rows it brings back.
        until: The new deadline (a county date).
        reason: Why (already scrubbed of ID and account numbers).
        requested_by: The finance user who asked (may not approve it).
        requested_at: When.
    """

    batch_id: str
    row_ids: tuple[int, ...]
    until: dt.date
    reason: str
    requested_by: str
    requested_at: dt.datetime


@frozen
class Worklist:
    """What one department, town or finance user has to correct, split by deadline.

    Attributes:
        as_of: The county date the list was made for.
        due: Returned rows whose deadline has not passed
            ([`QUEUE_COLUMNS`][yikatong.workflow.corrections.QUEUE_COLUMNS]).
        overdue: Rows past their deadline: ``expired`` rows, and returned rows the expiry has not reached yet.
    """

    as_of: dt.date
    due: pl.DataFrame
    overdue: pl.DataFrame


class DeadlineSteps(ServiceCore):
    """Steps and reads about correction deadlines."""

    def _carried(self) -> pl.DataFrame:
        """``batch_id, row_id`` of returned rows that a live correction batch carries (not expired, not listed)."""
        batches = tuple(b for b in self.store.batches() if b.corrects is not None)
        return carried_rows(batches, {b.batch_id: self.store.rows(b.batch_id) for b in batches})

    def expire_overdue(self, *, actor: Actor | None = None) -> pl.DataFrame:
        """Move every returned row past its correction deadline to ``expired`` (one audited change per batch).

        A row is past its deadline when the deadline is before today's county date. Rows that a live correction
        batch carries are left alone: the correction came in time. Run it daily (it is idempotent).

        Returns:
            The rows expired now: ``batch_id``, ``row_id``, ``amount_fen``, ``deadline``.

        Raises:
            PermissionDenied: an actor other than the system.
        """
        actor = actor or Actor.system()
        require_role(actor, ("system",), "expire correction deadlines")
        today = self._today()
        carried = self._carried()
        expired: list[pl.DataFrame] = []
        for record in self.store.batches():
            rows = self.store.rows(record.batch_id)
            late = rows.filter((pl.col("status") == "returned") & (pl.col("deadline") < pl.lit(today))).join(
                carried, on=["batch_id", "row_id"], how="anti"
            )
            if late.is_empty():
                continue
            at = self._now()
            moves = late.select(
                "batch_id", "row_id", pl.lit("expired").alias("to"), pl.lit(_EXPIRED_NOTE).alias("note")
            )
            self._commit(
                record,
                state=record.state,
                at=at,
                actor=actor,
                action="expire",
                details={
                    "expired": late.height,
                    "amount_fen": int(late["amount_fen"].sum()),
                    "rows": late["row_id"].sort().to_list(),
                    "as_of": today.isoformat(),
                },
                row_updates=plan_moves(rows, moves, at=at),
            )
            expired.append(late.select("batch_id", "row_id", "amount_fen", "deadline"))
        if not expired:
            return pl.DataFrame(
                schema={"batch_id": pl.String, "row_id": pl.Int64, "amount_fen": pl.Int64, "deadline": pl.Date}
            )
        return pl.concat(expired)

    def request_extension(
        self,
        batch_id: str,
        *,
        actor: Actor,
        until: dt.date,
        reason: str,
        row_ids: Sequence[int] | None = None,
    ) -> Extension:
        """A finance user asks to extend the deadline of expired rows; another finance user must approve it.

        Args:
            batch_id: The batch whose rows expired.
            actor: The finance user asking (the maker of the extension).
            until: The new deadline, a county date after today.
            reason: Why (required; audited, scrubbed of ID and account numbers).
            row_ids: The expired rows to extend (default: every expired row of the batch).

        Raises:
            PermissionDenied: not a finance user, or no reason.
            IllegalTransition: a named row is not expired, no row is expired, the new deadline is not after today,
                or another request for the batch awaits a decision.
        """
        require_role(actor, ("finance",), "request a deadline extension")
        if not reason.strip():
            raise PermissionDenied("an extension needs a reason / 延期须说明理由")
        record = self.store.batch(batch_id)
        self._refuse_purged(batch_id, "延期", "extend its deadlines")
        today = self._today()
        if until <= today:
            raise IllegalTransition(f"the new deadline {until} is not after today ({today}) / 延期后的期限须晚于今日")
        if self.pending_extension(batch_id) is not None:
            raise IllegalTransition(f"batch {batch_id}: an extension already awaits approval / 已有待审批的延期申请")
        expired = self.store.rows(batch_id).filter(pl.col("status") == "expired")["row_id"]
        chosen = sorted(set(expired.to_list()) if row_ids is None else {int(r) for r in row_ids})
        not_expired = sorted(set(chosen) - set(expired.to_list()))
        if not_expired:
            raise IllegalTransition(
                f"{len(not_expired)} rows are not expired, e.g. row {not_expired[0]} / 仅已逾期的行可延期"
            )
        if not chosen:
            raise IllegalTransition(f"batch {batch_id}: no expired row to extend / 没有逾期的行")
        at = self._now()
        self._commit(
            record,
            state=record.state,
            at=at,
            actor=actor,
            action="request_extension",
            reason=reason,
            details={"rows": chosen, "until": until.isoformat()},
        )
        return Extension(batch_id, tuple(chosen), until, scrub(reason), actor.user, at)

    def pending_extension(self, batch_id: str) -> Extension | None:
        """The batch's extension request awaiting a decision, or None (read from the audit log)."""
        entries = self.store.audit()
        for entry in reversed(entries):
            if entry.batch_id != batch_id or entry.action not in _EXTENSION_ACTIONS:
                continue
            if entry.action != "request_extension":
                return None
            details = json.loads(entry.details)
            return Extension(
                batch_id,
                tuple(int(r) for r in details["rows"]),
                dt.date.fromisoformat(details["until"]),
                entry.reason,
                entry.actor,
                entry.at,
            )
        return None

    def grant_extension(self, batch_id: str, *, actor: Actor, note: str = "") -> pl.DataFrame:
        """A second finance user approves the pending extension: its expired rows are returned with the new deadline.

        Returns:
            The rows returned to the correction queue: ``batch_id``, ``row_id``, ``deadline``.

        Raises:
            PermissionDenied: not a finance user, or the user who requested it (maker-checker).
            IllegalTransition: no pending request, or its new deadline has passed meanwhile.
        """
        pending = self._decidable(batch_id, actor, "approve")
        today = self._today()
        if pending.until <= today:
            raise IllegalTransition(f"the requested deadline {pending.until} has passed / 申请的期限已过，请重新申请")
        record = self.store.batch(batch_id)
        rows = self.store.rows(batch_id)
        back = rows.filter((pl.col("status") == "expired") & pl.col("row_id").is_in(list(pending.row_ids)))
        at = self._now()
        moves = back.select(
            "batch_id",
            "row_id",
            pl.lit("returned").alias("to"),
            pl.lit(pending.until).alias("deadline"),
            pl.lit(f"延期至 / extended to {pending.until}: {pending.reason}").alias("note"),
        )
        self._commit(
            record,
            state=record.state,
            at=at,
            actor=actor,
            action="grant_extension",
            reason=note,
            details={
                "rows": back["row_id"].to_list(),
                "until": pending.until.isoformat(),
                "requested_by": pending.requested_by,
            },
            row_updates=plan_moves(rows, moves, at=at),
        )
        return moves.select("batch_id", "row_id", "deadline")

    def refuse_extension(self, batch_id: str, *, actor: Actor, reason: str) -> None:
        """A second finance user refuses the pending extension, with a reason; the rows stay expired.

        Raises:
            PermissionDenied: not a finance user, the requester (maker-checker), or no reason.
            IllegalTransition: no pending request.
        """
        if not reason.strip():
            raise PermissionDenied("refusing an extension needs a reason / 驳回延期须说明理由")
        pending = self._decidable(batch_id, actor, "refuse")
        record = self.store.batch(batch_id)
        self._commit(
            record,
            state=record.state,
            at=self._now(),
            actor=actor,
            action="refuse_extension",
            reason=reason,
            details={"rows": list(pending.row_ids), "requested_by": pending.requested_by},
        )

    def _decidable(self, batch_id: str, actor: Actor, what: str) -> Extension:
        require_role(actor, ("finance",), f"{what} a deadline extension")
        self.store.batch(batch_id)
        pending = self.pending_extension(batch_id)
        if pending is None:
            raise IllegalTransition(f"batch {batch_id}: no extension awaits a decision / 没有待审批的延期申请")
        if pending.requested_by == actor.user:
            raise PermissionDenied(
                f"{actor.user} requested this extension and may not {what} it (maker-checker)"
                " / 申请人不得审批本人的延期申请"
            )
        return pending

    # -- reading ------------------------------------------------------------------------------------------------
    def correction_queue(
        self,
        *,
        actor: Actor,
        department: str | None = None,
        town: str | None = None,
        as_of: dt.date | None = None,
    ) -> pl.DataFrame:
        """Rows awaiting a correction (``returned``) or past their deadline (``expired``), with an ``overdue`` flag.

        A returned row already carried by a live correction batch is not listed: the correction's own row is (and
        if that one comes back too, it is the one to correct next).

        Args:
            actor: The reader: a department sees its own batches, a town its residents' rows, finance, audit and
                the system everything.
            department: Only batches of this department.
            town: Only rows of this town (a town sees its residents' rows, whatever the department).
            as_of: The county date (default: today by the clock).

        Returns:
            [`QUEUE_COLUMNS`][yikatong.workflow.corrections.QUEUE_COLUMNS], earliest deadline first, IDs masked.

        Raises:
            PermissionDenied: a bank or the treasury, or a department or town asking for another's rows.
        """
        return scoped_correction_queue(
            self.store, actor=actor, as_of=as_of or self._today(), department=department, town=town
        )

    def overdue_corrections(
        self,
        *,
        actor: Actor,
        department: str | None = None,
        town: str | None = None,
        as_of: dt.date | None = None,
    ) -> pl.DataFrame:
        """The part of [`correction_queue`][yikatong.workflow.Service.correction_queue] past its deadline (expired rows
        included)."""
        queue = self.correction_queue(actor=actor, department=department, town=town, as_of=as_of)
        return queue.filter(pl.col("overdue"))

    def worklist(self, actor: Actor, *, as_of: dt.date | None = None) -> Worklist:
        """What ``actor`` has to correct, due and overdue: a department its batches, a town its residents' rows,
        finance and audit everything.

        Raises:
            PermissionDenied: any other role (a bank, the treasury, the system).
        """
        if actor.role not in ("department", "town", "finance", "audit"):
            raise PermissionDenied(f"role {actor.role!r} has no correction worklist / 无更正待办")
        day = as_of or self._today()
        queue = self.correction_queue(actor=actor, as_of=day)
        return Worklist(day, queue.filter(~pl.col("overdue")), queue.filter(pl.col("overdue")))

    def work_view(
        self,
        *,
        actor: Actor,
        department: str | None = None,
        town: str | None = None,
        as_of: dt.date | None = None,
        due_soon_days: int = DUE_SOON_DAYS,
    ) -> WorkView:
        """The reader's correction queue with deadline states, batch results and rows still held.

        The service's clock gives the county date and zone; see [`yikatong.workflow.work_views.work_view`][],
        which this calls over the service's store.
        """
        return work_view(
            self.store,
            actor=actor,
            as_of=as_of or self._today(),
            department=department,
            town=town,
            due_soon_days=due_soon_days,
            zone=self.clock.zone,
        )
