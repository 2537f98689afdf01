"""The one-card account registry 一人一卡: accounts, their history, and the rules every operation obeys.

A person declares an account at the village; the town of the person's residence reviews it and enters it. Once
confirmed, an account changes only by a new declaration: the old active account stays active until the new one is
approved, then it is closed as superseded. Nothing is overwritten: every operation appends an
[`AccountEvent`][yikatong.registry.AccountEvent] naming who did it, in which role, and when.

This module is pure: each operation is a function from the person's current records to the new record and the
event. [`yikatong.adapters.memory_registry.MemoryRegistry`][yikatong.adapters.MemoryRegistry] (and any host
implementation of [`yikatong.ports.AccountRegistry`][]) stores what these functions return.

Rules enforced here:

* Only a ``town`` actor may review, change or close, and only for a person whose residence town (given at the first
  declaration) is the actor's own town. A declaration (first or change) may also start at the village: a ``village``
  actor of a village in the person's town enters it, and its event notes the village; the town reviews it. A
  ``bank`` actor may freeze and unfreeze (a judicial or risk freeze), nothing else.
* The clerk who entered a declaration may not approve it (maker-checker, as for batches); a village clerk cannot
  review at all.
* A person has at most one active account; an account number held open by another person cannot be declared.
* Account numbers are digits only. Accepted lengths per kind (see
  [`ACCOUNT_LENGTHS`][yikatong.registry.ACCOUNT_LENGTHS]): bank cards 13–19 digits (UnionPay debit cards),
  social-security cards 13–19 (their financial account is a UnionPay card number), passbooks 10–25 (rural credit
  cooperative and bank passbook account numbers run from 10 to over 20 digits).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Final

from attrs import evolve

from yikatong.actors import Actor
from yikatong.errors import IllegalTransition, PermissionDenied
from yikatong.privacy import mask_account, mask_id
from yikatong.registry.model import ACCOUNT_KINDS, ACCOUNT_LENGTHS, Account, AccountAction, AccountEvent, AccountKind

__all__ = [
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

_DIGITS = re.compile(r"^[0-9]+$")
_ID = re.compile(r"^[0-9]{17}[0-9X]$")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_OPEN: Final = ("pending", "active", "frozen")


def id_number_ok(id_number: str) -> bool:
    """True when ``id_number`` is a well-formed 18-character ID with a correct GB 11643 check character."""
    if not _ID.match(id_number):
        return False
    total = sum(int(c) * w for c, w in zip(id_number[:17], _WEIGHTS, strict=True))
    return _CHECK[total % 11] == id_number[17]


def account_format_ok(account: str, kind: AccountKind) -> bool:
    """True when ``account`` is all digits with a length accepted for ``kind`` (see
    [`ACCOUNT_LENGTHS`][yikatong.registry.ACCOUNT_LENGTHS])."""
    low, high = ACCOUNT_LENGTHS[kind]
    return bool(_DIGITS.match(account)) and low <= len(account) <= high


def require_declared(records: Sequence[Account]) -> None:
    """Refuse an operation on a person who never declared an account.

    Raises:
        IllegalTransition: no record for the person.
    """
    if not records:
        raise IllegalTransition("no account declared for this person / 该人员未申报账户")


def require_first_declaration(records: Sequence[Account]) -> None:
    """Refuse a first declaration for a person who already has an open (active or frozen) account.

    Raises:
        IllegalTransition: the person must declare a change instead.
    """
    if any(r.status in ("active", "frozen") for r in records):
        raise IllegalTransition("the person already has an account: declare a change / 已有账户，请办理变更")


def require_changeable(records: Sequence[Account]) -> None:
    """Refuse a change for a person without an open (active or frozen) account to replace.

    Raises:
        IllegalTransition: the person must declare a first account instead.
    """
    if not any(r.status in ("active", "frozen") for r in records):
        raise IllegalTransition("the person has no account to change: declare one / 无可变更的账户")


def residence_town(records: Sequence[Account]) -> str | None:
    """The person's residence town: the town of the latest declaration, or None when never declared."""
    return records[-1].town if records else None


def _event(record: Account, action: AccountAction, actor: Actor, at: dt.datetime, note: str = "") -> AccountEvent:
    return AccountEvent(
        id_number=record.id_number,
        account=record.account,
        action=action,
        status=record.status,
        at=at,
        user=actor.user,
        role=actor.role,
        town=actor.town,
        note=note,
    )


def _require_declarant(actor: Actor, town: str | None) -> None:
    """A declaration starts at the village (a ``village`` user of the person's town) or at the town itself."""
    if actor.role == "village":
        if town is not None and actor.town != town:
            raise PermissionDenied(
                f"village {actor.village!r} of {actor.town!r} may not declare an account of a resident of {town!r}"
                " / 不得申报辖区外人员的账户"
            )
        return
    _require_town(actor, town, "declare")


def _require_town(actor: Actor, town: str | None, what: str) -> None:
    if actor.role != "town":
        raise PermissionDenied(f"role {actor.role} may not {what} one-card accounts / 只有乡镇(街道)可以办理")
    if town is not None and actor.town != town:
        raise PermissionDenied(
            f"town {actor.town!r} may not {what} an account of a resident of {town!r} / 不得办理辖区外人员的账户"
        )


def _find(records: Sequence[Account], account: str, statuses: Sequence[str]) -> int:
    for index in range(len(records) - 1, -1, -1):
        if records[index].account == account and records[index].status in statuses:
            return index
    raise IllegalTransition(f"no {'/'.join(statuses)} account {mask_account(account)} for this person / 无此账户")


def declare(
    records: Sequence[Account],
    others_open: Sequence[Account],
    *,
    actor: Actor,
    id_number: str,
    account: str,
    kind: AccountKind,
    bank: str,
    holder_name: str,
    town: str,
    at: dt.datetime,
) -> tuple[Account, AccountEvent]:
    """Declare an account (first declaration) or a change (a new declaration while an account is active).

    Args:
        records: The person's records so far, oldest first.
        others_open: Open (pending, active, frozen) records of other people holding the same account number.
        actor: A ``town`` actor of the person's residence town, or a ``village`` actor of a village in it (the
            declaration starts at the village; the town reviews it).
        id_number: The person's ID.
        account: The account number.
        kind: The account kind.
        bank: The bank.
        holder_name: The holder's name.
        town: The person's residence town; must equal the existing residence town for a change.
        at: The time of the declaration.

    Returns:
        The new ``pending`` record and its event (``declare`` or ``change``).

    Raises:
        PermissionDenied: the actor is neither a town nor a village user, or not of the person's town.
        ValueError: the ID, the account number or the holder name is malformed.
        IllegalTransition: a declaration is already pending, the account is already open for this person or held
            open by another person.
    """
    current = residence_town(records)
    _require_declarant(actor, current if current is not None else town)
    if current is not None and town != current:
        raise PermissionDenied(
            "the residence town cannot be changed by an account declaration / 不能通过账户申报变更户籍乡镇"
        )
    if not id_number_ok(id_number):
        raise ValueError(f"invalid ID {mask_id(id_number)} / 身份证号无效")
    if kind not in ACCOUNT_KINDS:
        raise ValueError(f"unknown account kind {kind!r} / 账户类型无效")
    if not account_format_ok(account, kind):
        low, high = ACCOUNT_LENGTHS[kind]
        raise ValueError(f"account {mask_account(account)} is not {low}-{high} digits for a {kind} / 账号格式无效")
    if not holder_name.strip():
        raise ValueError("holder name is empty / 开户人姓名为空")
    if any(r.status == "pending" for r in records):
        raise IllegalTransition("a declaration is already pending review / 已有待审核的申报")
    if any(r.account == account and r.status in _OPEN for r in records):
        raise IllegalTransition(f"account {mask_account(account)} is already registered / 该账户已登记")
    if others_open:
        raise IllegalTransition(f"account {mask_account(account)} is held by another person / 该账户已登记在他人名下")
    is_change = any(r.status in ("active", "frozen") for r in records)
    record = Account(
        id_number=id_number,
        account=account,
        kind=kind,
        bank=bank,
        holder_name=holder_name.strip(),
        town=town,
        status="pending",
        declared_at=at,
        declared_by=actor.user,
        seq=len(records) + 1,
    )
    note = f"村(社区)申报 / declared at the village: {actor.village}" if actor.role == "village" else ""
    return record, _event(record, "change" if is_change else "declare", actor, at, note)


def review(
    records: Sequence[Account],
    *,
    actor: Actor,
    account: str,
    approve: bool,
    at: dt.datetime,
    note: str = "",
) -> tuple[dict[int, Account], list[AccountEvent]]:
    """Approve or reject a pending declaration. Approving a change closes the old account as superseded.

    Args:
        records: The person's records, oldest first.
        actor: A ``town`` actor of the person's town, not the clerk who entered the declaration.
        account: The pending account.
        approve: True to approve, False to reject.
        at: The time of the review.
        note: The reason (required for a rejection).

    Returns:
        The replaced records by index into ``records`` and the events, in order.

    Raises:
        PermissionDenied: wrong role or town, or the reviewer entered the declaration.
        IllegalTransition: no such pending declaration.
        ValueError: a rejection without a reason.
    """
    _require_town(actor, residence_town(records), "review")
    index = _find(records, account, ("pending",))
    pending = records[index]
    if pending.declared_by == actor.user:
        raise PermissionDenied(
            "the clerk who entered a declaration may not review it / 申报录入人不得审核本人录入的申报"
        )
    if not approve:
        if not note.strip():
            raise ValueError("a rejection needs a reason / 驳回须说明理由")
        rejected = evolve(pending, status="rejected", reviewed_at=at)
        return {index: rejected}, [_event(rejected, "reject", actor, at, note)]
    changes: dict[int, Account] = {}
    events: list[AccountEvent] = []
    for i, old in enumerate(records):
        if old.status in ("active", "frozen"):
            superseded = evolve(old, status="closed")
            changes[i] = superseded
            events.append(_event(superseded, "supersede", actor, at, "superseded by a reviewed change / 变更审核通过"))
    approved = evolve(pending, status="active", reviewed_at=at)
    changes[index] = approved
    events.append(_event(approved, "approve", actor, at, note))
    return changes, events


def close(
    records: Sequence[Account], *, actor: Actor, account: str, at: dt.datetime, note: str
) -> tuple[int, Account, AccountEvent]:
    """Close an active or frozen account (death, moving away, the bank closed it).

    Returns:
        The index of the replaced record, the closed record and its event.

    Raises:
        PermissionDenied: wrong role or town.
        IllegalTransition: no such open account.
        ValueError: no reason given.
    """
    _require_town(actor, residence_town(records), "close")
    if not note.strip():
        raise ValueError("closing an account needs a reason / 销户须说明理由")
    index = _find(records, account, ("active", "frozen"))
    closed = evolve(records[index], status="closed")
    return index, closed, _event(closed, "close", actor, at, note)


def freeze(
    records: Sequence[Account], *, actor: Actor, account: str, at: dt.datetime, note: str
) -> tuple[int, Account, AccountEvent]:
    """Freeze an active account (the bank's or the town's decision); payments to it are blocked meanwhile."""
    _require_bank_or_town(actor, records, "freeze")
    index = _find(records, account, ("active",))
    frozen_ = evolve(records[index], status="frozen")
    return index, frozen_, _event(frozen_, "freeze", actor, at, note)


def unfreeze(
    records: Sequence[Account], *, actor: Actor, account: str, at: dt.datetime, note: str
) -> tuple[int, Account, AccountEvent]:
    """Lift a freeze: the account is active again."""
    _require_bank_or_town(actor, records, "unfreeze")
    index = _find(records, account, ("frozen",))
    active = evolve(records[index], status="active")
    return index, active, _event(active, "unfreeze", actor, at, note)


def _require_bank_or_town(actor: Actor, records: Sequence[Account], what: str) -> None:
    if actor.role != "bank":
        _require_town(actor, residence_town(records), what)
