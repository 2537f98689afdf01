"""Checking an account registry against its own event chain: what ``yikatong audit verify`` runs on it.

The same check for the embedded registry and the PostgreSQL one: each gives its stored rows (``stored_rows``) and its
``RegistrySealing``; what is checked does not depend on the database.

The events form one chain (``event_link``), each carrying the digest
of its person's records as it left them. ``check_registry`` walks the chain in ``seq`` order and then compares
every person's records, as stored now, with the digest of their last event:

* an event edited, removed or moved breaks the chain (``chain``);
* an account record changed (its account, status, town, holder…) or removed no longer has the digest its last event
  carries (``records``); a person with records but no event was written around the registry (``unrecorded``);
* a sealed value that does not open (moved between rows, altered) is ``unreadable``.

With keys, nobody without the secret can rewrite the chain to match. Without keys the chain is plain SHA-256: it
catches damage and careless edits, not a deliberate rewrite. A cut tail (the last events removed) is found only
when the records they left changed. Problems name people by their masked ID only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol

from attrs import frozen

from yikatong.adapters._registry_sealing import CHAIN_START, RegistrySealing, event_link, records_digest
from yikatong.errors import StoreError
from yikatong.privacy import mask_id
from yikatong.registry import Account

__all__ = ["CheckedRegistry", "RegistryProblem", "check_registry"]

RegistryProblemKind = Literal["chain", "records", "unrecorded", "unreadable"]


@frozen
class RegistryProblem:
    """One thing found wrong in a registry.

    Attributes:
        kind: ``chain``, ``records``, ``unrecorded`` or ``unreadable`` (see the module text).
        message: What is wrong, Chinese then English; IDs masked.
    """

    kind: RegistryProblemKind
    message: str


class CheckedRegistry(Protocol):
    """What the check needs of a registry (the embedded and the PostgreSQL registry both give it)."""

    @property
    def sealing(self) -> RegistrySealing:
        """The registry's sealing state (its key, the chain's key)."""

    def stored_rows(self) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """Every stored event row (``seq``, the event columns, ``sealed``, ``records_digest``, ``hash``; by
        ``seq``) and every record row (the record columns, then ``sealed``; by person and ``seq``), read in one
        snapshot."""


def check_registry(registry: CheckedRegistry) -> list[RegistryProblem]:
    """Check the registry's event chain and its records against the digests the events carry.

    Args:
        registry: The registry, opened with the keys it was written with (read-only is enough).

    Returns:
        The problems found; empty when the registry is intact.
    """
    sealing = registry.sealing
    key = sealing.chain_key
    rows, stored_records = registry.stored_rows()
    problems, last, legacy = _walk(sealing, rows, key)
    if problems:
        return problems  # the records are compared against a chain that holds, not against a broken one
    people: dict[str, list[Account]] = {}
    try:
        for row in stored_records:
            record = sealing.open_record(row)
            people.setdefault(record.id_number, []).append(record)
    except StoreError as exc:
        return [RegistryProblem("unreadable", f"账户记录无法读取 / an account record is unreadable: {exc}")]
    for person, records in sorted(people.items()):
        recorded = last.get(person)
        if recorded is None:
            if not legacy:
                problems.append(
                    RegistryProblem(
                        "unrecorded",
                        f"{mask_id(person)} 的账户记录在账户历史中无记录 / the account records of {mask_id(person)} "
                        "have no event in the registry's history",
                    )
                )
        elif recorded != records_digest(records, key=key):
            problems.append(
                RegistryProblem(
                    "records",
                    f"{mask_id(person)} 的账户记录与其最后一条历史不符 / the account records of {mask_id(person)} "
                    "differ from what their last event recorded",
                )
            )
    for person in sorted(set(last) - set(people)):
        problems.append(
            RegistryProblem(
                "records",
                f"{mask_id(person)} 的账户记录已被删除 / the account records of {mask_id(person)} were removed",
            )
        )
    return problems


def _walk(
    sealing: RegistrySealing, rows: Sequence[Sequence[Any]], key: bytes | None
) -> tuple[list[RegistryProblem], dict[str, str], int]:
    """Follow the chain; return the problems, each person's last recorded digest, and the count of events from
    before the chain (schema 6 and earlier, in a registry without keys)."""
    last: dict[str, str] = {}
    legacy = 0
    prev, prev_seq = CHAIN_START, None
    for row in rows:
        seq, digest, link = int(row[0]), row[11], row[12]
        if link is None:
            if prev_seq is not None or sealing.sealed:
                return [_broken(seq, "无链接 / has no link")], last, legacy
            legacy += 1
            continue
        if prev_seq is not None and seq != prev_seq + 1:
            return [_broken(seq, f"之前的条目被删除 / entries before it were removed (after {prev_seq})")], last, legacy
        if prev_seq is None and not legacy and seq != 1:
            return [_broken(seq, "之前的条目被删除 / the first entries were removed")], last, legacy
        try:
            event = sealing.open_event(row)
        except StoreError as exc:
            return (
                [RegistryProblem("unreadable", f"账户历史第 {seq} 条无法读取 / event {seq} unreadable: {exc}")],
                last,
                legacy,
            )
        if event_link(prev, seq, event, str(digest), key=key) != link:
            return [_broken(seq, "内容被修改或顺序被打乱 / was edited, replaced or moved")], last, legacy
        prev, prev_seq = str(link), seq
        last[event.id_number] = str(digest)
    return [], last, legacy


def _broken(seq: int, what: str) -> RegistryProblem:
    return RegistryProblem(
        "chain", f"账户历史链在第 {seq} 条处断开 / the registry's history breaks at event {seq}: {what}"
    )
