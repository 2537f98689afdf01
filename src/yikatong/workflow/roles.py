"""Who may do what: actors, roles, ownership, jurisdiction and the maker-checker rule.

The roles and the one [`Actor`][yikatong.Actor] type live in [`yikatong.actors`][]; this module says
what each role may do. Every check raises [`PermissionDenied`][yikatong.errors.PermissionDenied] and is called inside a
batch transition, before anything changes.
"""

from __future__ import annotations

from yikatong.actors import ROLES, Actor, Role
from yikatong.errors import PermissionDenied
from yikatong.records import BatchRecord

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
