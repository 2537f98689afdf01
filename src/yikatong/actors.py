"""Who acts: the one [`Actor`][yikatong.Actor] type of the workflow and the account registry, and the role codes.

The roles are those of ``docs/domain.md`` (with ``village``: a village or community 村/社区 clerk, where a person
declares a one-card account) plus two that stand for the outside world acting through a port:
``treasury`` (the treasury reports a batch funded) and ``system`` (the library itself validates, dispatches and
returns failures).
"""

from __future__ import annotations

from typing import Final, Literal

from attrs import frozen

__all__ = ["ROLES", "Actor", "Role"]

Role = Literal["finance", "department", "town", "village", "bank", "treasury", "audit", "system"]
"""The role codes: who may fire which workflow step and registry operation."""
ROLES: Final[tuple[Role, ...]] = ("finance", "department", "town", "village", "bank", "treasury", "audit", "system")
"""Every role code."""


@frozen
class Actor:
    """Someone (or something) performing a workflow step or a registry operation.

    Attributes:
        user: The user's identifier in the host system; recorded in every audit entry and account event.
        role: The role acted in.
        department: For a ``department`` user: the department (e.g. ``民政局``), matched against the item's.
        town: For a ``town`` user: the town (乡镇/街道) of jurisdiction; for a ``village`` user the town its
            village belongs to.
        bank: For a ``bank`` actor: the bank's code, matched against the batch's ``bank`` when the batch has one.
        village: For a ``village`` user: the village or community (村/社区) it acts for.
    """

    user: str
    role: Role
    department: str | None = None
    town: str | None = None
    bank: str | None = None
    village: str | None = None

    def __attrs_post_init__(self) -> None:
        if not self.user:
            raise ValueError("an actor needs a user identifier")
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}; expected one of {', '.join(ROLES)}")
        if self.role == "village" and not (self.town and self.village):
            raise ValueError("a village user needs its town and its village / 村(社区)用户须注明所属乡镇和村(社区)")

    @classmethod
    def system(cls) -> Actor:
        """The library itself (validation, dispatch, returning failures)."""
        return cls("system", "system")

    @classmethod
    def treasury(cls) -> Actor:
        """The treasury acting through the [`Treasury`][yikatong.ports.Treasury] port."""
        return cls("treasury", "treasury")
