"""The audit log is a hash chain: verify() finds an edited, removed or reordered entry and says which."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from yikatong.adapters.memory_store import check_audit_append
from yikatong.errors import StoreError
from yikatong.records import AuditEntry
from yikatong.workflow.audit import GENESIS_HASH, chain, entry_hash, make_entry, scrub, verify

AT = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)


def _draft(i: int) -> dict[str, object]:
    return {
        "at": AT + dt.timedelta(minutes=i),
        "actor": f"user-{i % 3}",
        "role": "department",
        "action": "submit",
        "batch_id": f"B{i}",
        "from_state": "draft",
        "to_state": "submitted",
        "details": {"rows": i},
    }


def log(n: int) -> tuple[AuditEntry, ...]:
    return chain(None, [_draft(i) for i in range(n)])


def test_an_untouched_log_verifies() -> None:
    result = verify(log(6))
    assert result.ok
    assert bool(result)
    assert result.checked == 6


def test_the_first_entry_starts_from_the_genesis_hash() -> None:
    first = log(1)[0]
    assert first.seq == 1
    assert first.prev_hash == GENESIS_HASH
    assert first.hash == entry_hash(first)


def test_an_edited_entry_is_found_and_named() -> None:
    entries = list(log(6))
    entries[3] = attrs.evolve(entries[3], reason="改过的理由")
    result = verify(entries)
    assert not result.ok
    assert (result.index, result.seq, result.problem) == (3, 4, "edited")


def test_an_entry_edited_with_its_hash_recomputed_breaks_the_next_link() -> None:
    entries = list(log(6))
    forged = attrs.evolve(entries[2], actor="someone-else")
    entries[2] = attrs.evolve(forged, hash=entry_hash(forged))
    result = verify(entries)
    assert (result.index, result.problem) == (3, "broken_link")


def test_a_removed_entry_is_found_and_named() -> None:
    entries = list(log(6))
    del entries[2]
    result = verify(entries)
    assert (result.index, result.seq, result.problem) == (2, 3, "removed")


def test_reordered_entries_are_found_and_named() -> None:
    entries = list(log(6))
    entries[1], entries[4] = entries[4], entries[1]
    result = verify(entries)
    assert (result.index, result.seq, result.problem) == (1, 2, "reordered")


def test_a_cut_tail_is_found_against_the_anchor() -> None:
    entries = log(6)
    assert verify(entries, anchor=entries[-1].hash).ok
    result = verify(entries[:-2], anchor=entries[-1].hash)
    assert result.problem == "anchor_mismatch"


@given(st.integers(min_value=0, max_value=7), st.sampled_from(["edit", "remove", "swap"]))
def test_any_single_tampering_is_detected(position: int, how: str) -> None:
    entries = list(log(8))
    if how == "edit":
        entries[position] = attrs.evolve(entries[position], details='{"rows":999}')
    elif how == "remove":
        del entries[position]
    else:
        other = (position + 1) % 8
        entries[position], entries[other] = entries[other], entries[position]
    anchor = log(8)[-1].hash
    assert not verify(entries, anchor=anchor).ok


def test_reasons_are_scrubbed_of_id_and_account_numbers() -> None:
    entry = make_entry(
        previous=None,
        at=AT,
        actor="u",
        role="department",
        action="cancel",
        reason="身份证11010519491231002X错误，账户6217000012345678901",
    )
    assert "11010519491231002X" not in entry.reason
    assert "6217000012345678901" not in entry.reason
    assert "110105********002X" in entry.reason
    assert scrub("第3行") == "第3行"


def test_audit_times_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone"):
        make_entry(previous=None, at=dt.datetime(2026, 1, 1), actor="u", role="system", action="x")


def test_the_store_refuses_entries_that_do_not_continue_its_head() -> None:
    entries = log(3)
    check_audit_append(entries[0], entries[1:])
    with pytest.raises(StoreError, match="does not continue"):
        check_audit_append(entries[0], entries[2:])
    with pytest.raises(StoreError, match="carries no hash"):
        check_audit_append(entries[1], (attrs.evolve(entries[2], hash="x"),))


def test_a_keyed_chain_verifies_only_with_its_key() -> None:
    key = b"k" * 32
    entries = chain(None, [_draft(i) for i in range(3)], key=key)
    assert verify(entries, key=key).ok
    assert verify(entries).problem == "edited"
    assert verify(entries, key=b"another key, same length, 32 by").seq == 1


def test_recomputing_a_keyed_chain_without_the_key_is_caught() -> None:
    key = b"k" * 32
    entries = list(chain(None, [_draft(i) for i in range(3)], key=key))
    forged = chain(None, [{**_draft(i), "reason": "已核实"} for i in range(3)])
    assert verify(entries, key=key).ok
    assert verify(forged).ok  # a plain chain anyone can recompute…
    assert verify(forged, key=key).seq == 1  # …is not the keyed one
