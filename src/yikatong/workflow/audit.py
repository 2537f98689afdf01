"""The audit log: append-only, one keyed hash chain over every transition and decision.

Each entry's hash covers the previous entry's hash and a canonical JSON of the entry's other fields (sorted keys,
no whitespace, UTF-8, times in ISO 8601 UTC). With a key ([`yikatong.ports.Keys.audit_key`][]) the hash is
HMAC-SHA256, so someone who rewrites the store cannot recompute the chain; without one it is plain SHA-256, which
catches damage and careless edits but not a deliberate rewrite. Changing, removing or reordering any entry breaks
the chain at that point, and [`verify`][yikatong.workflow.verify] says where. Truncating the tail leaves a valid chain;
to detect it, keep the head hash somewhere else (a report, the bank, the treasury; ``yikatong audit anchor`` prints it)
and pass it as ``anchor``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal

from attrs import frozen

from yikatong.privacy import scrub, scrub_expr
from yikatong.records import AuditEntry

__all__ = [
    "GENESIS_HASH",
    "AuditProblem",
    "AuditVerification",
    "canonical_json",
    "chain",
    "entry_hash",
    "is_hash",
    "make_entry",
    "scrub",
    "scrub_expr",
    "verify",
]

GENESIS_HASH: Final = "0" * 64
"""The ``prev_hash`` of the first entry."""

AuditProblem = Literal["edited", "removed", "reordered", "broken_link", "anchor_mismatch"]


def canonical_json(data: Mapping[str, Any]) -> str:
    """Canonical JSON: sorted keys, compact separators, non-ASCII kept (hashing is over UTF-8 bytes)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default)


def _default(value: object) -> object:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(f"not JSON-serialisable in an audit entry: {type(value).__name__}")


def _body(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": _utc(entry.at).isoformat(),
        "actor": entry.actor,
        "role": entry.role,
        "action": entry.action,
        "batch_id": entry.batch_id,
        "from_state": entry.from_state,
        "to_state": entry.to_state,
        "reason": entry.reason,
        "details": entry.details,
    }


def _utc(at: dt.datetime) -> dt.datetime:
    if at.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return at.astimezone(dt.UTC)


def entry_hash(entry: AuditEntry, *, key: bytes | None = None) -> str:
    """The hash an entry must carry: over ``prev_hash`` + canonical JSON of the other fields.

    Args:
        entry: The entry (its own ``hash`` is ignored).
        key: The audit key: HMAC-SHA256 with it; None for plain SHA-256 (an unkeyed chain).
    """
    digest = hashlib.sha256() if key is None else hmac.new(key, digestmod=hashlib.sha256)
    digest.update(entry.prev_hash.encode("ascii"))
    digest.update(canonical_json(_body(entry)).encode("utf-8"))
    return digest.hexdigest()


_HASH_FORM = re.compile(r"[0-9a-f]{64}")


def is_hash(text: str) -> bool:
    """True when ``text`` has the form of an entry hash (64 lowercase hex digits); stores check no more than this."""
    return _HASH_FORM.fullmatch(text) is not None


def make_entry(
    *,
    previous: AuditEntry | None,
    at: dt.datetime,
    actor: str,
    role: str,
    action: str,
    batch_id: str = "",
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    details: Mapping[str, Any] | None = None,
    key: bytes | None = None,
) -> AuditEntry:
    """A new entry chained after ``previous`` (None for the first entry of the log).

    Args:
        previous: The current head of the log.
        at: The time from the workflow's [`Clock`][yikatong.ports.Clock] (timezone-aware).
        actor: The user; ``role`` the role acted in; ``action`` the trigger or decision.
        batch_id: The batch concerned; ``from_state``/``to_state`` its states around the step.
        reason: The reason the actor gave.
        details: Counts and row ids (JSON-ready); must never contain a full ID or account number.
        key: The audit key (HMAC-SHA256); None writes an unkeyed entry (plain SHA-256).

    Returns:
        The entry with ``seq``, ``prev_hash`` and ``hash`` filled in.
    """
    unhashed = AuditEntry(
        seq=1 if previous is None else previous.seq + 1,
        at=_utc(at),
        actor=actor,
        role=role,
        action=action,
        batch_id=batch_id,
        from_state=from_state,
        to_state=to_state,
        reason=scrub(reason),
        details=canonical_json(details or {}),
        prev_hash=GENESIS_HASH if previous is None else previous.hash,
        hash="",
    )
    return AuditEntry(**{**_fields(unhashed), "hash": entry_hash(unhashed, key=key)})


def _fields(entry: AuditEntry) -> dict[str, Any]:
    return {**_body(entry), "at": entry.at, "prev_hash": entry.prev_hash, "hash": entry.hash}


def chain(
    previous: AuditEntry | None, drafts: Sequence[Mapping[str, Any]], *, key: bytes | None = None
) -> tuple[AuditEntry, ...]:
    """Chain several entries (keyword arguments of [`make_entry`][yikatong.workflow.audit.make_entry] without
    ``previous``) after ``previous``."""
    out: list[AuditEntry] = []
    head = previous
    for draft in drafts:
        head = make_entry(previous=head, key=key, **draft)
        out.append(head)
    return tuple(out)


@frozen
class AuditVerification:
    """The result of [`verify`][yikatong.workflow.verify].

    Attributes:
        ok: True when the chain is intact (and matches the anchor, when one was given).
        checked: Number of entries checked.
        index: Position (0-based) in the given sequence of the first bad entry; None when ok.
        seq: The ``seq`` found at that position (or the one missing); None when ok.
        problem: What is wrong there: ``edited`` (content changed), ``removed`` (an entry is missing before it),
            ``reordered`` (entries out of order), ``broken_link`` (its ``prev_hash`` is not the previous hash),
            ``anchor_mismatch`` (the last hash is not the anchor: the tail was cut or replaced).
        message: A readable explanation.
    """

    ok: bool
    checked: int
    index: int | None = None
    seq: int | None = None
    problem: AuditProblem | None = None
    message: str = "audit chain intact"

    def __bool__(self) -> bool:
        return self.ok


def verify(
    entries: Sequence[AuditEntry], *, key: bytes | None = None, anchor: str | None = None, start_seq: int = 1
) -> AuditVerification:
    """Check the hash chain of an audit log (or of a segment of it starting at ``start_seq``).

    Args:
        entries: The log as stored, in order.
        key: The audit key the log was written with (None for an unkeyed log). A keyed log checked without its
            key, or with another key, fails at its first entry.
        anchor: The head hash recorded elsewhere; when given, the last entry's hash must equal it.
        start_seq: The ``seq`` the first given entry must have (1 for a whole log).

    Returns:
        An [`AuditVerification`][yikatong.workflow.AuditVerification] naming the first bad entry, if any. Never raises
        for a tampered log.
    """
    seqs = [e.seq for e in entries]
    for index, entry in enumerate(entries):
        expected = start_seq + index
        if entry.seq != expected:
            later = expected in seqs[index + 1 :]
            problem: AuditProblem = "reordered" if later or entry.seq < expected else "removed"
            detail = (
                f"entry {expected} appears later (found {entry.seq} here)"
                if problem == "reordered"
                else f"entry {expected} is missing (found {entry.seq} here)"
            )
            return AuditVerification(False, index, index, expected, problem, f"position {index}: {detail}")
        if not hmac.compare_digest(entry_hash(entry, key=key), entry.hash):
            return AuditVerification(
                False, index, index, entry.seq, "edited", f"entry {entry.seq} was changed after it was written"
            )
        if index == 0 and start_seq == 1 and entry.prev_hash != GENESIS_HASH:
            return AuditVerification(
                False, index, index, entry.seq, "broken_link", "the first entry does not start the chain"
            )
        if index > 0 and entry.prev_hash != entries[index - 1].hash:
            return AuditVerification(
                False,
                index,
                index,
                entry.seq,
                "broken_link",
                f"entry {entry.seq} does not follow entry {entry.seq - 1}",
            )
    if anchor is not None and (not entries or entries[-1].hash != anchor):
        last = entries[-1].seq if entries else None
        return AuditVerification(
            False, len(entries), len(entries), last, "anchor_mismatch", "the log's head is not the recorded anchor"
        )
    return AuditVerification(True, len(entries))
