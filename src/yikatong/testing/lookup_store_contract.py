"""Contract tests for a store that serves residents' look-ups: ``append_audit`` and ``ledger_of``.

[`yikatong.adapters.StoreResidentLookup`][] needs, beyond the [`Store`][yikatong.ports.Store] port, a store that
appends an audit entry changing no batch (the record of a look-up) and, optionally, finds one person's ledger
entries without reading the others. A host whose store offers them checks them as it checks the port::

    class TestMyStoreLookups(LookupStoreContract):
        @pytest.fixture
        def store(self, tmp_path):
            return MyStore(tmp_path / "store.db")   # a fresh, empty store for every test

What is checked: an entry with no batch continues the chain and reads back; entries that do not continue the head
are refused with nothing appended; a store with ``ledger_of`` gives exactly the person's entries.
"""

from __future__ import annotations

# Before pytest is imported: without it, an error naming the extra to install.
from yikatong.testing import _pytest  # noqa: F401

# isort: split
import attrs
import pytest

from yikatong.errors import StoreError
from yikatong.ports import Store
from yikatong.records import Change
from yikatong.testing.store_data import audit_entries, header, ledger_frame, make_rows, snapshot

__all__ = ["LookupStoreContract"]


def _batch_with_ledger(store: Store) -> None:
    head = store.audit_head()
    store.commit(
        Change(
            batch=header("B1"),
            expected_version=None,
            new_rows=make_rows("B1", 3),
            ledger=ledger_frame([("B1", 1, "P1", "paid"), ("B1", 2, "P2", "failed"), ("B1", 3, "P1", "sent", "JSB")]),
            audit=audit_entries(head, [("submit", "B1", "draft", "submitted")]),
        )
    )


class LookupStoreContract:
    """The tests a store serving look-ups passes. Override ``store``."""

    @pytest.fixture
    def store(self) -> Store:
        """A fresh, empty store. Hosts must override this fixture."""
        raise NotImplementedError("override the `store` fixture with a fresh, empty store")

    def test_an_entry_without_a_batch_continues_the_chain(self, store: Store) -> None:
        _batch_with_ledger(store)
        (entry,) = audit_entries(store.audit_head(), [("resident_lookup", "", "", "")])
        store.append_audit((entry,))  # type: ignore[attr-defined]
        assert store.audit_head() == entry
        assert [e.seq for e in store.audit()] == [1, 2]
        assert store.batch("B1").version == 1  # no batch changed

    def test_entries_that_do_not_continue_the_head_are_refused_with_nothing_appended(self, store: Store) -> None:
        _batch_with_ledger(store)
        before = snapshot(store)
        (entry,) = audit_entries(store.audit_head(), [("resident_lookup", "", "", "")])
        for bad in (attrs.evolve(entry, seq=entry.seq + 1), attrs.evolve(entry, prev_hash="f" * 64)):
            with pytest.raises(StoreError):
                store.append_audit((bad,))  # type: ignore[attr-defined]
            assert snapshot(store) == before

    def test_ledger_of_gives_one_persons_entries_only(self, store: Store) -> None:
        if not hasattr(store, "ledger_of"):
            pytest.skip("the store finds a person's entries through ledger() alone")
        _batch_with_ledger(store)
        mine = store.ledger_of("ID-P1")
        assert mine.sort("row_id").select("row_id", "status").rows() == [(1, "paid"), (3, "sent")]
        assert mine.schema == store.ledger().schema
        assert store.ledger_of("ID-P9").is_empty()
