"""Reads by role: who may see which batch and which of its rows, masked unless a reason is given and recorded.

* a department sees its own items' batches;
* a town sees the batches holding its residents, and only its residents' rows;
* a bank sees the batches assigned to it, and only the rows of its pay orders;
* finance and the treasury see batch headers and masked rows of every batch (they fund totals, not people);
* audit and the system see everything.

Rows come back with ID numbers, accounts and household-head IDs masked. Full values are given only to a role that
needs them (the owning department, the batch's bank, audit, the system) when the reader states a reason; the read
is then written to the audit log (``read_personal_data``) with that reason and the number of rows, before the data
is returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import polars as pl

from yikatong.errors import PermissionDenied
from yikatong.period import Period
from yikatong.privacy import mask_account_expr, mask_id_expr
from yikatong.records import BatchRecord
from yikatong.workflow._core import ServiceCore
from yikatong.workflow.audit import scrub
from yikatong.workflow.roles import Actor
from yikatong.workflow.summary import DEFAULT_GROUPS, PeriodSummary, summarise_period
from yikatong.workflow.supervision import SupervisionExport, supervision_tables

__all__ = ["FULL_DATA_ROLES", "PERSONAL_COLUMNS", "ReadSteps"]

FULL_DATA_ROLES: Final = ("department", "bank", "audit", "system")
"""Roles that may read full ID numbers and accounts (with a stated reason, recorded in the audit log)."""

PERSONAL_COLUMNS: Final = ("id_number", "account", "household_head_id")
"""Row columns masked unless full personal data is read."""


def masked(rows: pl.DataFrame) -> pl.DataFrame:
    """``rows`` with ID numbers and accounts masked (first 6 and last 4 of an ID, last 4 of an account)."""
    return rows.with_columns(
        mask_id_expr(pl.col("id_number")).alias("id_number"),
        mask_account_expr(pl.col("account")).alias("account"),
        mask_id_expr(pl.col("household_head_id")).alias("household_head_id"),
    )


class ReadSteps(ServiceCore):
    """The service's read methods; each takes the reader."""

    def _may_see(self, actor: Actor, record: BatchRecord) -> bool:
        role = actor.role
        if role in ("audit", "system", "finance", "treasury"):
            return True
        if role == "department":
            return actor.department == record.department
        if role == "bank":
            return record.bank is not None and actor.bank == record.bank
        if role == "town":
            if record.town is not None:
                return record.town == actor.town
            return bool((self.store.rows(record.batch_id)["town"] == actor.town).any())
        return False

    def _readable(self, batch_id: str, actor: Actor) -> BatchRecord:
        record = self.store.batch(batch_id)
        if not self._may_see(actor, record):
            raise PermissionDenied(f"{actor.user} ({actor.role}) may not read batch {batch_id} / 无权查看该批次")
        return record

    def batch(self, batch_id: str, *, actor: Actor) -> BatchRecord:
        """The batch's current header.

        Raises:
            KeyError: no such batch.
            PermissionDenied: the batch is not the reader's (see the module text).
        """
        return self._readable(batch_id, actor)

    def batches(self, *, actor: Actor) -> tuple[BatchRecord, ...]:
        """The headers of every batch the reader may see, in creation order."""
        return tuple(b for b in self.store.batches() if self._may_see(actor, b))

    def rows(self, batch_id: str, *, actor: Actor, reason: str | None = None) -> pl.DataFrame:
        """The batch's rows with their statuses, as the reader may see them.

        A town gets only its residents' rows and a bank only the rows of its pay order. ID numbers, accounts and
        household-head IDs are masked unless ``reason`` is given by a role that needs them
        (``FULL_DATA_ROLES``); that read is recorded in the audit log with the reason before the rows are
        returned.

        Raises:
            KeyError: no such batch.
            PermissionDenied: the batch is not the reader's, or the reader's role may not see full personal data.
            ValueError: an empty ``reason``.
        """
        record = self._readable(batch_id, actor)
        rows = self.store.rows(batch_id)
        if actor.role == "town":
            rows = rows.filter(pl.col("town") == actor.town)
        elif actor.role == "bank":
            sent = self._batch_ledger(record).select("row_id")
            rows = rows.join(sent, on="row_id", how="semi")
        if reason is None:
            return masked(rows)
        if actor.role not in FULL_DATA_ROLES:
            raise PermissionDenied(
                f"role {actor.role!r} may not read full ID numbers and accounts / 该角色无权查看完整身份证号和账号"
            )
        if not reason.strip():
            raise ValueError("a read of full personal data needs a reason / 查看完整个人信息须说明理由")
        self._commit(
            record,
            state=record.state,
            at=self._now(),
            actor=actor,
            action="read_personal_data",
            reason=scrub(reason),
            details={"rows": rows.height, "columns": list(PERSONAL_COLUMNS)},
        )
        return rows

    def summary(
        self, period: str | Period, *, actor: Actor, groups: str | Sequence[str] = DEFAULT_GROUPS
    ) -> PeriodSummary:
        """The period's 汇总表 (finance, audit, the system), on the service's catalogue and county calendar; see
        [`yikatong.workflow.summary.summarise_period`][].

        Raises:
            PermissionDenied: another role.
            ValueError: the period or the grouping is not valid.
        """
        return summarise_period(
            self.store, period, actor=actor, groups=groups, catalog=self.catalog, zone=self.clock.zone
        )

    def supervision(self, period: str | Period, *, actor: Actor) -> SupervisionExport:
        """What the audit office supervises in the period, masked (audit, the system); see
        [`yikatong.workflow.supervision.supervision_tables`][].

        Raises:
            PermissionDenied: another role.
            ValueError: the period is not valid.
        """
        return supervision_tables(self.store, period, actor=actor, zone=self.clock.zone)
