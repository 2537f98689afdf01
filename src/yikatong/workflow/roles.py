"""Who may do what: actors, roles, ownership, jurisdiction and the maker-checker rule.

The roles are those of ``domain.md`` plus two that stand for the outside world acting through a port: ``treasury``
(the treasury reports a batch funded) and ``system`` (the library itself validates, dispatches and returns failures).
Every check raises :class:`~yikatong.errors.PermissionDenied` and is called inside a batch transition, before
anything changes.
"""

from __future__ import annotations

from typing import Final, Literal

from attrs import frozen

from yikatong.errors import PermissionDenied
from yikatong.ports import BatchRecord

__all__ = [
    "ROLES",
    "Actor",
    "Role",
    "require_bank",
    "require_checker",
    "require_owner",
    "require_role",
    "require_town",
]

Role = Literal["finance", "department", "town", "bank", "treasury", "audit", "system"]
ROLES: Final[tuple[Role, ...]] = ("finance", "department", "town", "bank", "treasury", "audit", "system")


@frozen
class Actor:
    """Someone (or something) performing a workflow step.

    Attributes:
        user: The user's identifier in the host system; recorded in every audit entry.
        role: The role acted in.
        department: For a ``department`` user: the department (e.g. ``民政局``), matched against the item's.
        town: For a ``town`` user: the town (乡镇/街道) of jurisdiction.
        bank: For a ``bank`` actor: the bank's code, matched against the batch's ``bank`` when the batch has one.
    """

    user: str
    role: Role
    department: str | None = None
    town: str | None = None
    bank: str | None = None

    def __attrs_post_init__(self) -> None:
        if not self.user:
            raise ValueError("an actor needs a user identifier")
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}; expected one of {', '.join(ROLES)}")

    @classmethod
    def system(cls) -> Actor:
        """The library itself (validation, dispatch, returning failures)."""
        return cls("system", "system")

    @classmethod
    def treasury(cls) -> Actor:
        """The treasury acting through the :class:`~yikatong.ports.Treasury` port."""
        return cls("treasury", "treasury")


def require_role(actor: Actor, roles: tuple[Role, ...], action: str) -> None:
    """Refuse unless the actor's role is one of ``roles``.

    Raises:
        PermissionDenied: naming the role and the action.
    """
    if actor.role not in roles:
        raise PermissionDenied(f"role {actor.role!r} may not {action} (allowed: {', '.join(roles)}) / 无权执行此操作")


def require_owner(actor: Actor, batch: BatchRecord, action: str) -> None:
    """Refuse a department user acting on another department's batch (other roles pass through).

    Raises:
        PermissionDenied: naming the batch.
    """
    if actor.role == "department" and actor.department != batch.department:
        raise PermissionDenied(
            f"batch {batch.batch_id} belongs to {batch.department}; {actor.user} may not {action} it"
            " / 不得操作其他部门的批次"
        )


def require_town(actor: Actor, batch: BatchRecord, action: str) -> None:
    """Refuse a town user acting on a batch outside its jurisdiction (every row must be in the actor's town).

    Raises:
        PermissionDenied: naming the batch.
    """
    if actor.role == "town" and (batch.town is None or actor.town != batch.town):
        raise PermissionDenied(f"batch {batch.batch_id} is not within {actor.user}'s town; may not {action} / 非本辖区")


def require_bank(actor: Actor, batch: BatchRecord, action: str) -> None:
    """Refuse a bank acting on another bank's batch.

    Raises:
        PermissionDenied: naming the batch.
    """
    if actor.role == "bank" and batch.bank is not None and actor.bank != batch.bank:
        raise PermissionDenied(f"batch {batch.batch_id} is another bank's; may not {action} / 非本行批次")


def require_checker(actor: Actor, batch: BatchRecord, action: str) -> None:
    """Maker-checker: whoever prepared a batch may not approve it.

    Raises:
        PermissionDenied: when the actor is the batch's maker.
    """
    if actor.user == batch.prepared_by:
        raise PermissionDenied(
            f"{actor.user} prepared batch {batch.batch_id} and may not {action} it (maker-checker)"
            " / 经办人不得审核本人批次"
        )
