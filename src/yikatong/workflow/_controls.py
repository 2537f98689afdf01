"""Waivers of mandatory controls: finance lets one batch be validated without a control its item requires.

A mandatory control (the registry, the ledger, the bank's verification, a reference list) that the service does
not have makes validation report ``CONTROL_MISSING``, which rejects the batch. Where a county truly lacks the input
for a while, finance may waive it for one batch before validation: one finance user proposes the waiver with a
reason, another approves it (maker-checker). Both steps are audit entries, and the approved waivers are read back
from the audit log, so a waiver exists only as far as the log says so. Validation then lists the control as
waived in the report (and in its own audit entry), never silently dropped.
"""

from __future__ import annotations

import json
from typing import Final

from attrs import frozen

from yikatong.catalog import CONTROLS
from yikatong.errors import IllegalTransition, PermissionDenied
from yikatong.records import BatchRecord
from yikatong.workflow._core import ServiceCore
from yikatong.workflow.audit import scrub
from yikatong.workflow.roles import Actor, require_role

__all__ = ["ControlSteps", "Waiver"]

_WAIVER_ACTIONS: Final = ("waive_control", "approve_waiver")
_BEFORE_VALIDATION: Final = ("draft", "submitted")


@frozen
class Waiver:
    """A waiver of one mandatory control for one batch.

    Attributes:
        control: The control waived (``registry``, ``ledger``, ``bank_verification`` or a list name).
        reason: Why, as the proposer gave it (scrubbed of ID and account numbers).
        proposed_by: The finance user who proposed it.
        approved_by: The second finance user who approved it; empty while it awaits approval.
    """

    control: str
    reason: str
    proposed_by: str
    approved_by: str = ""

    @property
    def approved(self) -> bool:
        """True once a second finance user approved it."""
        return bool(self.approved_by)


class ControlSteps(ServiceCore):
    """Proposing and approving waivers of mandatory controls (before a batch is validated)."""

    def waive_control(self, batch_id: str, control: str, *, actor: Actor, reason: str) -> Waiver:
        """A finance user proposes to waive a mandatory control for one batch; another must approve it.

        Args:
            batch_id: A batch not yet validated (``draft`` or ``submitted``).
            control: A control the batch's item makes mandatory (see
                [`required_controls`][yikatong.SubsidyItem.required_controls]).
            actor: The finance user proposing (the maker of the waiver).
            reason: Why the batch may go without it (required; audited).

        Raises:
            PermissionDenied: not a finance user, or no reason.
            IllegalTransition: the control is unknown or not mandatory for the item, the batch is past
                validation, or the control already has a waiver for the batch.
        """
        require_role(actor, ("finance",), "waive a control")
        if not reason.strip():
            raise PermissionDenied("a waiver needs a reason / 豁免须说明理由")
        record = self.store.batch(batch_id)
        self._check_waivable(record, control)
        if control in self.waivers(batch_id):
            raise IllegalTransition(f"batch {batch_id}: {control} already has a waiver / 该控制已有豁免")
        self._commit(
            record,
            state=record.state,
            at=self._now(),
            actor=actor,
            action="waive_control",
            reason=reason,
            details={"control": control},
        )
        return Waiver(control, scrub(reason), actor.user)

    def approve_waiver(self, batch_id: str, control: str, *, actor: Actor) -> Waiver:
        """A second finance user approves a proposed waiver; validation of the batch then goes without it.

        Raises:
            PermissionDenied: not a finance user, or the user who proposed it (maker-checker).
            IllegalTransition: no waiver of the control awaits approval, or the batch is past validation.
        """
        require_role(actor, ("finance",), "approve a waiver")
        record = self.store.batch(batch_id)
        self._check_waivable(record, control)
        waiver = self.waivers(batch_id).get(control)
        if waiver is None or waiver.approved:
            raise IllegalTransition(f"batch {batch_id}: no waiver of {control} awaits approval / 没有待审批的豁免")
        if waiver.proposed_by == actor.user:
            raise PermissionDenied(f"{actor.user} proposed this waiver and may not approve it / 豁免须由另一人审批")
        self._commit(
            record,
            state=record.state,
            at=self._now(),
            actor=actor,
            action="approve_waiver",
            reason=waiver.reason,
            details={"control": control, "proposed_by": waiver.proposed_by},
        )
        return Waiver(control, waiver.reason, waiver.proposed_by, actor.user)

    def waivers(self, batch_id: str) -> dict[str, Waiver]:
        """The batch's waivers by control, proposed or approved, as the audit log records them."""
        found: dict[str, Waiver] = {}
        for entry in self.store.audit():
            if entry.batch_id != batch_id or entry.action not in _WAIVER_ACTIONS:
                continue
            control = str(json.loads(entry.details)["control"])
            if entry.action == "waive_control":
                found[control] = Waiver(control, entry.reason, entry.actor)
            elif control in found:
                found[control] = Waiver(control, found[control].reason, found[control].proposed_by, entry.actor)
        return found

    def _approved_waivers(self, record: BatchRecord, absent: set[str]) -> dict[str, str]:
        """Approved waivers (control → reason) of the controls in ``absent``; the log is read only when one is."""
        if not absent:
            return {}
        return {c: w.reason for c, w in self.waivers(record.batch_id).items() if w.approved and c in absent}

    def _check_waivable(self, record: BatchRecord, control: str) -> None:
        if control not in CONTROLS:
            raise IllegalTransition(f"unknown control {control!r}: use one of {', '.join(CONTROLS)} / 未知的控制")
        if control not in self._item(record).required_controls:
            raise IllegalTransition(
                f"{control} is not a mandatory control of item {record.item}; nothing to waive / 该控制并非必需"
            )
        if record.state not in _BEFORE_VALIDATION:
            raise IllegalTransition(
                f"batch {record.batch_id} is {record.state}: a control is waived before validation / 须在校验前豁免"
            )
