"""The batch life cycle as a ``transitions`` state machine.

One [`BatchFlow`][yikatong.workflow.machine.BatchFlow] per batch step: built from the stored
[`BatchRecord`][yikatong.records.BatchRecord], it fires one trigger and reports the new state; the service then commits
the step as one store change. Every transition carries callable conditions: the first checks the actor (role, department
ownership, town jurisdiction, bank, maker-checker, a reason where one is required) and raises
[`PermissionDenied`][yikatong.errors.PermissionDenied]; the others are the step's own guards (e.g. "validation blocked
the batch"). A trigger not allowed from the current state raises
[`IllegalTransition`][yikatong.errors.IllegalTransition]. Nothing is stored by the machine, so a refusal changes
nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, Final, get_args

from attrs import field, frozen
from transitions import EventData, Machine, MachineError

from yikatong.errors import IllegalTransition, PermissionDenied
from yikatong.records import BatchRecord, BatchState
from yikatong.workflow.roles import (
    Actor,
    Role,
    require_bank,
    require_checker,
    require_owner,
    require_role,
    require_town,
)

__all__ = [
    "STATES",
    "TRANSITIONS",
    "TRIGGERS",
    "BatchFlow",
    "Step",
    "TransitionSpec",
    "allowed_roles",
    "build_machine",
]

STATES: Final[tuple[BatchState, ...]] = get_args(BatchState)


@frozen
class TransitionSpec:
    """One transition: trigger, sources, destination, who may fire it and which step guard decides it.

    Attributes:
        trigger: The trigger (the service method of the same name fires it).
        sources: States it may fire from; ``dest`` where it leads.
        roles: Roles allowed to fire it.
        checker: True when the maker-checker rule applies (an approval step).
        reason: True when the actor must give a reason.
        guard: Name of a step guard that must hold (see [`Step`][yikatong.workflow.machine.Step]), or None.
        town_filed: True when a ``town`` user may fire it only for an item the catalogue marks town-filed.
    """

    trigger: str
    sources: tuple[BatchState, ...]
    dest: BatchState
    roles: tuple[Role, ...]
    checker: bool = False
    reason: bool = False
    guard: str | None = None
    town_filed: bool = False


TRANSITIONS: Final[tuple[TransitionSpec, ...]] = (
    TransitionSpec("submit", ("draft",), "submitted", ("department", "town"), town_filed=True),
    TransitionSpec("validate", ("submitted",), "rejected", ("system",), guard="batch_blocked"),
    TransitionSpec("validate", ("submitted",), "validated", ("system",)),
    TransitionSpec("confirm_reviews", ("validated",), "validated", ("department",), checker=True),
    TransitionSpec("dispatch", ("validated",), "dispatched", ("system",), guard="reviews_decided"),
    # a correction batch whose corrected batch holds enough money at the bank needs nothing from the treasury
    TransitionSpec("request_funding", ("dispatched",), "funded", ("department", "town"), checker=True, guard="covered"),
    TransitionSpec("request_funding", ("dispatched",), "funding_requested", ("department", "town"), checker=True),
    TransitionSpec("refuse_funding", ("funding_requested",), "dispatched", ("treasury",), reason=True),
    TransitionSpec("fund", ("funding_requested",), "funded", ("treasury",), guard="amount_matches"),
    TransitionSpec("disburse", ("funded",), "disbursing", ("bank",)),
    TransitionSpec("record_results", ("disbursing",), "settled", ("bank",), guard="all_results_in"),
    TransitionSpec("record_results", ("disbursing",), "disbursing", ("bank",)),
    TransitionSpec("record_results", ("settled",), "settled", ("bank",)),
    TransitionSpec("record_results", ("published",), "published", ("bank",)),
    TransitionSpec("return_failures", ("settled",), "settled", ("system",)),
    TransitionSpec("return_failures", ("published",), "published", ("system",)),
    TransitionSpec("publish", ("settled",), "published", ("department",), guard="failures_returned"),
    TransitionSpec("refund", ("settled",), "settled", ("system", "finance"), guard="something_to_refund"),
    TransitionSpec("refund", ("published",), "published", ("system", "finance"), guard="something_to_refund"),
    TransitionSpec(
        "cancel", ("draft", "submitted", "validated", "dispatched"), "cancelled", ("department",), reason=True
    ),
    TransitionSpec(
        "send_back",
        ("submitted", "validated", "dispatched", "funding_requested"),
        "sent_back",
        ("finance",),
        reason=True,
    ),
)
"""The life cycle; order matters where a trigger has several destinations (the first whose guard holds wins)."""

TRIGGERS: Final[tuple[str, ...]] = tuple(dict.fromkeys(t.trigger for t in TRANSITIONS))


def allowed_roles(trigger: str) -> frozenset[Role]:
    """The roles that may fire ``trigger``."""
    return frozenset(r for t in TRANSITIONS if t.trigger == trigger for r in t.roles)


@frozen(kw_only=True)
class Step:
    """What a trigger is fired with.

    Attributes:
        actor: Who fires it.
        reason: The reason given (required by ``cancel``, ``send_back``, ``refuse_funding``).
        guards: Step guards by name, evaluated lazily and only after the actor was accepted. A guard returns a bool
            (choosing between destinations) or raises to refuse with a message of its own.
    """

    actor: Actor
    reason: str = ""
    guards: Mapping[str, Callable[[], bool]] = field(factory=dict)


class _QuietMachine(Machine):
    """``model_override`` binds only the triggers the model declares; skip the rest without logging each one."""

    def _checked_assignment(self, model: object, name: str, func: Callable[..., Any]) -> None:
        if getattr(model, name, None) is not None:
            setattr(model, name, func)


class BatchFlow:
    """The model of the machine: one batch's state, with one method per trigger.

    The trigger methods below are replaced by the machine (``model_override=True``); calling one fires the trigger.
    Use [`fire`][yikatong.workflow.machine.BatchFlow.fire], which turns the machine's refusals into the library's
    exceptions.

    Args:
        record: The batch.
        town_filed: The batch's item is town-filed (its towns may submit its batches).
    """

    state: str

    def __init__(self, record: BatchRecord, *, town_filed: bool = False) -> None:
        self.record = record
        self.town_filed = town_filed
        self.state = record.state

    def submit(self, step: Step) -> bool:
        """Fire ``submit``: the department (or a town) submits its draft batch for validation."""
        raise NotImplementedError  # replaced by the machine

    def validate(self, step: Step) -> bool:
        """Fire ``validate``: the rules have run; a batch-level block rejects the batch."""
        raise NotImplementedError  # replaced by the machine

    def confirm_reviews(self, step: Step) -> bool:
        """Fire ``confirm_reviews``: a checker, not the maker, has decided every review row."""
        raise NotImplementedError  # replaced by the machine

    def dispatch(self, step: Step) -> bool:
        """Fire ``dispatch``: the passing rows are sent to the bank as one pay order."""
        raise NotImplementedError  # replaced by the machine

    def request_funding(self, step: Step) -> bool:
        """Fire ``request_funding``: the department asks the treasury for the batch's money."""
        raise NotImplementedError  # replaced by the machine

    def refuse_funding(self, step: Step) -> bool:
        """Fire ``refuse_funding``: the treasury refuses the funding request."""
        raise NotImplementedError  # replaced by the machine

    def fund(self, step: Step) -> bool:
        """Fire ``fund``: the treasury reports the batch funded."""
        raise NotImplementedError  # replaced by the machine

    def disburse(self, step: Step) -> bool:
        """Fire ``disburse``: the bank pays the order out."""
        raise NotImplementedError  # replaced by the machine

    def record_results(self, step: Step) -> bool:
        """Fire ``record_results``: the bank's results for the batch's rows arrive."""
        raise NotImplementedError  # replaced by the machine

    def return_failures(self, step: Step) -> bool:
        """Fire ``return_failures``: failed and reversed rows go back to the department for correction."""
        raise NotImplementedError  # replaced by the machine

    def publish(self, step: Step) -> bool:
        """Fire ``publish``: the masked public notice (公示) goes out."""
        raise NotImplementedError  # replaced by the machine

    def refund(self, step: Step) -> bool:
        """Fire ``refund``: money that was not paid goes back to the treasury."""
        raise NotImplementedError  # replaced by the machine

    def cancel(self, step: Step) -> bool:
        """Fire ``cancel``: the department cancels its batch before funding was requested."""
        raise NotImplementedError  # replaced by the machine

    def send_back(self, step: Step) -> bool:
        """Fire ``send_back``: finance sends the batch back through its original channel (原渠道退回)."""
        raise NotImplementedError  # replaced by the machine

    def authorize(self, spec: TransitionSpec, event: EventData) -> bool:
        """Condition of every transition: the actor may fire it on this batch (raises otherwise)."""
        step = _step(event)
        actor = step.actor
        require_role(actor, spec.roles, spec.trigger)
        require_owner(actor, self.record, spec.trigger)
        require_town(actor, self.record, spec.trigger)
        if spec.town_filed and actor.role == "town" and not self.town_filed:
            raise PermissionDenied(
                f"item {self.record.item} is filed by its department; a town may not {spec.trigger} it"
                " / 该项目由主管部门申报，乡镇不得办理"
            )
        require_bank(actor, self.record, spec.trigger)
        if spec.checker:
            require_checker(actor, self.record, spec.trigger)
        if spec.reason and not step.reason.strip():
            raise PermissionDenied(f"{spec.trigger} needs a reason / 须说明理由")
        return True

    def guard(self, name: str, event: EventData) -> bool:
        """Condition evaluating the step guard ``name``."""
        guards = _step(event).guards
        if name not in guards:
            raise IllegalTransition(f"guard {name!r} not supplied for this step")
        return bool(guards[name]())

    def fire(self, trigger: str, step: Step) -> BatchState:
        """Fire ``trigger`` and return the new state.

        Raises:
            PermissionDenied: the actor may not fire it on this batch.
            IllegalTransition: the trigger is not allowed from the current state, or its guard does not hold.
        """
        if trigger not in TRIGGERS:
            raise IllegalTransition(f"unknown trigger {trigger!r}")
        before = self.state
        try:
            moved = getattr(self, trigger)(step)
        except MachineError:
            raise IllegalTransition(
                f"batch {self.record.batch_id}: {trigger} is not allowed in state {before} / 当前状态不允许此操作"
            ) from None
        if not moved:
            raise IllegalTransition(f"batch {self.record.batch_id}: {trigger} refused in state {before}")
        state: BatchState = self.state  # type: ignore[assignment]
        return state


def _step(event: EventData) -> Step:
    step = event.kwargs.get("step")
    if step is None:
        step = next(iter(event.args), None)
    if not isinstance(step, Step):
        raise TypeError("a trigger is fired with a Step")
    return step


def build_machine(flow: BatchFlow) -> Machine:
    """Attach the life-cycle machine to ``flow`` (starting from its record's state) and return the machine."""
    transitions: list[dict[str, Any]] = []
    for spec in TRANSITIONS:
        conditions: list[Callable[[EventData], bool]] = [partial(flow.authorize, spec)]
        if spec.guard is not None:
            conditions.append(partial(flow.guard, spec.guard))
        transitions.append(
            {"trigger": spec.trigger, "source": list(spec.sources), "dest": spec.dest, "conditions": conditions}
        )
    return _QuietMachine(
        model=flow,
        states=list(STATES),
        transitions=transitions,
        initial=flow.record.state,
        auto_transitions=False,
        send_event=True,
        model_override=True,
        ignore_invalid_triggers=False,
    )
