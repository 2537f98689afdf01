"""Account records and events from the rows of a registry table: the same columns in every SQL registry adapter."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from yikatong.registry import Account, AccountEvent

__all__ = ["account_from_row", "event_from_row"]


def account_from_row(row: Sequence[Any]) -> Account:
    """An account record from a row of the record columns."""
    id_number, seq, account, kind, bank, holder, town, status, declared_at, declared_by, reviewed_at = row
    return Account(
        id_number=id_number,
        account=account,
        kind=kind,
        bank=bank,
        holder_name=holder,
        town=town,
        status=status,
        declared_at=dt.datetime.fromisoformat(declared_at),
        declared_by=declared_by,
        reviewed_at=None if reviewed_at is None else dt.datetime.fromisoformat(reviewed_at),
        seq=seq,
    )


def event_from_row(row: Sequence[Any]) -> AccountEvent:
    id_number, account, action, status, at, user, role, town, note = row
    return AccountEvent(
        id_number=id_number,
        account=account,
        action=action,
        status=status,
        at=dt.datetime.fromisoformat(at),
        user=user,
        role=role,
        town=town,
        note=note,
    )
