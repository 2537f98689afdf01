"""The one-person-one-card account registry 一人一卡: accounts, declarations, reviews, history and jurisdiction.

[`model`][yikatong.registry.model] holds the records ([`Account`][yikatong.registry.Account],
[`AccountEvent`][yikatong.registry.AccountEvent]) and the kinds and lengths accounts may have;
[`operations`][yikatong.registry.operations] holds the pure operations (declare, review, close, freeze…) that every
registry adapter applies. The [`AccountRegistry`][yikatong.ports.AccountRegistry] port stores what they return.
"""

from yikatong.actors import Actor, Role
from yikatong.registry.model import (
    ACCOUNT_KINDS,
    ACCOUNT_LENGTHS,
    ACCOUNT_STATUSES,
    Account,
    AccountAction,
    AccountEvent,
    AccountKind,
    AccountStatus,
)
from yikatong.registry.operations import (
    account_format_ok,
    close,
    declare,
    freeze,
    id_number_ok,
    require_changeable,
    require_declared,
    require_first_declaration,
    residence_town,
    review,
    unfreeze,
)

ActorRole = Role
"""The role codes an actor may hold (the same as [`yikatong.actors.Role`][])."""

__all__ = [
    "ACCOUNT_KINDS",
    "ACCOUNT_LENGTHS",
    "ACCOUNT_STATUSES",
    "Account",
    "AccountAction",
    "AccountEvent",
    "AccountKind",
    "AccountStatus",
    "Actor",
    "ActorRole",
    "account_format_ok",
    "close",
    "declare",
    "freeze",
    "id_number_ok",
    "require_changeable",
    "require_declared",
    "require_first_declaration",
    "residence_town",
    "review",
    "unfreeze",
]
