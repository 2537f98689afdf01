"""The one-card account registry's records: accounts, their history, and the kinds and lengths they allow.

A new declaration is a new [`Account`][yikatong.registry.Account] record, never an edit; every operation appends an
[`AccountEvent`][yikatong.registry.AccountEvent]. The operations that produce them live in
[`yikatong.registry.operations`][].
"""

from __future__ import annotations

import datetime as dt
from typing import Final, Literal

from attrs import frozen

from yikatong.actors import Role

__all__ = [
    "ACCOUNT_KINDS",
    "ACCOUNT_LENGTHS",
    "ACCOUNT_STATUSES",
    "Account",
    "AccountAction",
    "AccountEvent",
    "AccountKind",
    "AccountStatus",
]

AccountKind = Literal["card", "passbook", "social_security"]
AccountStatus = Literal["pending", "active", "frozen", "closed", "rejected"]
AccountAction = Literal["declare", "change", "approve", "reject", "supersede", "close", "freeze", "unfreeze"]

ACCOUNT_KINDS: Final[tuple[AccountKind, ...]] = ("card", "passbook", "social_security")
ACCOUNT_STATUSES: Final[tuple[str, ...]] = ("active", "frozen", "closed", "pending")
"""Statuses that appear in a registry snapshot (a rejected declaration never became an account)."""
ACCOUNT_LENGTHS: Final[dict[AccountKind, tuple[int, int]]] = {
    "card": (13, 19),
    "social_security": (13, 19),
    "passbook": (10, 25),
}
"""Accepted digit counts (inclusive) per account kind."""


@frozen
class Account:
    """One declared account of one person; a new declaration is a new record, never an edit.

    Attributes:
        id_number: The person's 18-character ID.
        account: The account number (digits).
        kind: ``card``, ``passbook`` or ``social_security``.
        bank: The bank holding the account.
        holder_name: The account holder's name as the bank knows it.
        town: The person's residence town: the only town that may act on the person's accounts.
        status: ``pending``, ``active``, ``frozen``, ``closed`` or ``rejected``.
        declared_at: When the declaration was entered.
        declared_by: The user who entered it.
        reviewed_at: When it was approved or rejected (None while pending).
        seq: The declaration number within the person's records (1, 2, …).
    """

    id_number: str
    account: str
    kind: AccountKind
    bank: str
    holder_name: str
    town: str
    status: AccountStatus
    declared_at: dt.datetime
    declared_by: str
    reviewed_at: dt.datetime | None = None
    seq: int = 1


@frozen
class AccountEvent:
    """One entry of a person's account history.

    Attributes:
        id_number: The person.
        account: The account acted on.
        action: What happened.
        status: The account's status after the action.
        at: When (from the registry's clock).
        user: Who did it.
        role: In which role.
        town: The actor's town, if any.
        note: The reason given (rejection, closure, freeze), or empty.
    """

    id_number: str
    account: str
    action: AccountAction
    status: AccountStatus
    at: dt.datetime
    user: str
    role: Role
    town: str | None
    note: str = ""
