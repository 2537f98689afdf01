"""Contract tests for [`yikatong.ports.Store`][]: what every store implementation must do.

A host checks its own store by subclassing [`StoreContract`][yikatong.testing.store_contract.StoreContract] in one of
its test modules and overriding the ``store`` fixture; pytest then collects and runs every ``test_*`` method against
it::

    # tests/test_my_store.py (in the host's code base)
    import pytest
    from yikatong.testing.store_contract import StoreContract

    class TestMyStore(StoreContract):
        @pytest.fixture
        def store(self, tmp_path):
            return MyStore(tmp_path / "store.db")   # a fresh, empty store for every test

        # Optional, for stores that keep their data outside the process: return a *new* instance reading the same
        # storage, so the reload tests prove that what was committed is what comes back.
        @pytest.fixture
        def reopen(self, tmp_path):
            def _reopen(old):
                old.close()
                return MyStore(tmp_path / "store.db")
            return _reopen

What is checked: creation and optimistic versions; refusal of a stale or malformed change with nothing applied
(atomicity); row states replaced column-wise while row data stays; the payment ledger's rule that one (person, item,
period) holds at most one active (``sent``/``paid``) entry, within one change and across batches, and that a failed
entry frees the key; audit entries appended only as a continuing hash chain; exceptions appended in order; loaders
returning copies; and, with ``reopen``, that everything reloads equal; and purges of personal detail
([`yikatong.testing.purge_contract`][]). Retrying a change that was already committed
is refused (its version is stale) and changes nothing, which is what makes a restarted service safe.

The kit needs pytest (the ``[testing]`` extra of yikatong); it builds its data with
[`yikatong.testing.store_data`][].
"""

from __future__ import annotations

# Before pytest is imported: without it, an error naming the extra to install.
from yikatong.testing import _pytest  # noqa: F401

# isort: split
import random
from collections.abc import Callable

import attrs
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from yikatong.errors import StoreError
from yikatong.ports import Store
from yikatong.records import EXCEPTION_SCHEMA, LEDGER_SCHEMA, ROW_SCHEMA, ROW_STATE_SCHEMA, Change
from yikatong.testing.purge_contract import PurgeContract
from yikatong.testing.store_data import (
    audit_entries,
    exception_frame,
    header,
    ledger_frame,
    make_rows,
    snapshot,
    state_updates,
)

__all__ = ["StoreContract"]

Reopen = Callable[[Store], Store]


def _create(store: Store, batch_id: str, *, n: int = 3, item: str = "GDLS", period: str = "2026-11") -> None:
    head = store.audit_head()
    store.commit(
        Change(
            batch=header(batch_id, item=item, period=period),
            expected_version=None,
            new_rows=make_rows(batch_id, n, item=item),
            audit=audit_entries(head, [("submit", batch_id, "draft", "submitted")]),
        )
    )


def _step(store: Store, batch_id: str, **fields: object) -> Change:
    """A change moving the batch one version on, with one audit entry; extra Change fields from ``fields``."""
    current = store.batch(batch_id)
    batch = attrs.evolve(current, version=current.version + 1)
    audit = audit_entries(store.audit_head(), [("step", batch_id, current.state, current.state)])
    return Change(batch=batch, expected_version=current.version, audit=audit, **fields)  # type: ignore[arg-type]


class StoreContract(PurgeContract):
    """The tests every [`yikatong.ports.Store`][] passes. Override ``store`` (and optionally ``reopen``)."""

    @pytest.fixture
    def store(self) -> Store:
        """A fresh, empty store. Hosts must override this fixture."""
        raise NotImplementedError("override the `store` fixture with a fresh, empty store")

    @pytest.fixture
    def reopen(self) -> Reopen:
        """A function giving a new instance over the same storage (default: the same instance)."""
        return lambda store: store

    # -- batches and versions -------------------------------------------------------------------------------------

    def test_the_store_satisfies_the_port(self, store: Store) -> None:
        assert isinstance(store, Store)

    def test_a_new_store_is_empty(self, store: Store) -> None:
        assert store.batches() == ()
        assert store.audit() == ()
        assert store.audit_head() is None
        assert store.ledger().schema == pl.Schema(LEDGER_SCHEMA)
        assert store.ledger().height == 0
        assert store.exceptions().schema == pl.Schema(EXCEPTION_SCHEMA)

    def test_an_unknown_batch_raises_key_error_and_has_no_rows(self, store: Store) -> None:
        with pytest.raises(KeyError):
            store.batch("nope")
        rows = store.rows("nope")
        assert rows.height == 0
        assert rows.schema == pl.Schema(ROW_SCHEMA)

    def test_a_created_batch_reads_back_with_its_rows_sorted(self, store: Store) -> None:
        rows = make_rows("B1", 5).sample(fraction=1.0, shuffle=True, seed=3)
        store.commit(Change(batch=header("B1"), expected_version=None, new_rows=rows))
        assert store.batch("B1") == header("B1")
        assert store.batches() == (header("B1"),)
        assert_frame_equal(store.rows("B1"), make_rows("B1", 5))

    def test_batches_come_back_in_creation_order(self, store: Store) -> None:
        for batch_id in ("B3", "B1", "B2"):
            _create(store, batch_id)
        assert [b.batch_id for b in store.batches()] == ["B3", "B1", "B2"]

    def test_creating_an_existing_batch_is_refused(self, store: Store) -> None:
        _create(store, "B1")
        before = snapshot(store)
        with pytest.raises(StoreError):
            store.commit(Change(batch=header("B1"), expected_version=None, new_rows=make_rows("B1", 2)))
        assert snapshot(store) == before

    def test_a_stale_version_is_refused_so_a_retried_change_applies_once(self, store: Store) -> None:
        _create(store, "B1")
        change = _step(store, "B1", row_updates=state_updates("B1", [1], "passed"))
        store.commit(change)
        after_first = snapshot(store)
        with pytest.raises(StoreError):
            store.commit(change)
        assert snapshot(store) == after_first

    def test_a_change_for_a_missing_batch_is_refused(self, store: Store) -> None:
        with pytest.raises(StoreError):
            store.commit(Change(batch=header("B9", version=2), expected_version=1))
        assert store.batches() == ()

    def test_a_version_that_does_not_follow_the_expected_one_is_refused(self, store: Store) -> None:
        _create(store, "B1")
        before = snapshot(store)
        with pytest.raises(StoreError):
            store.commit(Change(batch=header("B1", version=5), expected_version=1))
        assert snapshot(store) == before

    def test_rows_are_only_inserted_when_the_batch_is_created(self, store: Store) -> None:
        _create(store, "B1")
        before = snapshot(store)
        with pytest.raises(StoreError):
            store.commit(_step(store, "B1", new_rows=make_rows("B1", 2)))
        assert snapshot(store) == before

    def test_new_rows_of_another_batch_are_refused(self, store: Store) -> None:
        with pytest.raises(StoreError):
            store.commit(Change(batch=header("B1"), expected_version=None, new_rows=make_rows("B2", 2)))
        assert store.batches() == ()

    # -- row states -----------------------------------------------------------------------------------------------

    def test_row_updates_replace_the_state_and_keep_the_row_data(self, store: Store) -> None:
        _create(store, "B1", n=4)
        store.commit(_step(store, "B1", row_updates=state_updates("B1", [2, 4], "review", note="请核实")))
        rows = store.rows("B1")
        assert rows["status"].to_list() == ["pending", "review", "pending", "review"]
        assert rows["note"].to_list() == [None, "请核实", None, "请核实"]
        static = [c for c in ROW_SCHEMA if c not in ROW_STATE_SCHEMA]
        assert_frame_equal(rows.select(static), make_rows("B1", 4).select(static))

    def test_a_row_update_may_name_rows_of_another_batch(self, store: Store) -> None:
        _create(store, "B1")
        _create(store, "B2")
        store.commit(_step(store, "B2", row_updates=state_updates("B1", [3], "blocked")))
        assert store.rows("B1")["status"].to_list() == ["pending", "pending", "blocked"]

    def test_a_change_naming_a_missing_row_applies_nothing(self, store: Store) -> None:
        _create(store, "B1")
        before = snapshot(store)
        change = _step(
            store,
            "B1",
            row_updates=state_updates("B1", [1, 99], "passed"),
            ledger=ledger_frame([("B1", 1, "P1", "sent")]),
            exceptions=exception_frame("B1", 2),
        )
        with pytest.raises(StoreError):
            store.commit(change)
        assert snapshot(store) == before

    # -- the payment ledger ---------------------------------------------------------------------------------------

    def test_the_ledger_refuses_paying_one_person_twice_across_batches(self, store: Store) -> None:
        _create(store, "B1")
        _create(store, "B2")
        store.commit(_step(store, "B1", ledger=ledger_frame([("B1", 1, "P1", "paid")])))
        before = snapshot(store)
        for status in ("sent", "paid"):
            with pytest.raises(StoreError):
                store.commit(_step(store, "B2", ledger=ledger_frame([("B2", 1, "P1", status)])))
        assert snapshot(store) == before

    def test_the_ledger_refuses_two_active_entries_in_one_change(self, store: Store) -> None:
        _create(store, "B1")
        before = snapshot(store)
        with pytest.raises(StoreError):
            store.commit(_step(store, "B1", ledger=ledger_frame([("B1", 1, "P1", "sent"), ("B1", 2, "P1", "sent")])))
        assert snapshot(store) == before

    def test_the_same_person_may_be_paid_for_another_item_or_period(self, store: Store) -> None:
        _create(store, "B1")
        entries = [("B1", 1, "P1", "paid"), ("B1", 2, "P1", "sent", "GDLS", "2026-12"), ("B1", 3, "P1", "paid", "JSB")]
        store.commit(_step(store, "B1", ledger=ledger_frame(entries)))
        assert store.ledger().height == 3

    def test_a_failed_entry_frees_the_key_for_a_correction(self, store: Store) -> None:
        _create(store, "B1")
        _create(store, "B2")
        store.commit(_step(store, "B1", ledger=ledger_frame([("B1", 1, "P1", "sent")])))
        # One change both fails the old entry and sends the correction: only the end state counts.
        store.commit(_step(store, "B2", ledger=ledger_frame([("B2", 1, "P1", "sent"), ("B1", 1, "P1", "failed")])))
        ledger = store.ledger().sort("batch_id")
        assert ledger.select("batch_id", "status").rows() == [("B1", "failed"), ("B2", "sent")]

    def test_a_reversed_entry_frees_the_key_for_a_correction(self, store: Store) -> None:
        _create(store, "B1")
        _create(store, "B2")
        store.commit(_step(store, "B1", ledger=ledger_frame([("B1", 1, "P1", "paid")])))
        store.commit(_step(store, "B1", ledger=ledger_frame([("B1", 1, "P1", "reversed")])))
        store.commit(_step(store, "B2", ledger=ledger_frame([("B2", 1, "P1", "sent")])))
        ledger = store.ledger().sort("batch_id")
        assert ledger.select("batch_id", "status").rows() == [("B1", "reversed"), ("B2", "sent")]

    def test_reversed_rows_and_the_batch_money_figures_read_back(self, store: Store, reopen: Reopen) -> None:
        _create(store, "B1")
        current = store.batch("B1")
        money = attrs.evolve(
            current,
            funded_fen=30_000,
            drawn_fen=1_234,
            refunded_fen=567,
            drawn_by_bank=(("CQRCB", 1_000), ("PSBC", 234)),
            refunded_by_bank=(("PSBC", 567),),
        )
        store.commit(_step(store, "B1", row_updates=state_updates("B1", [1], "paid")))
        store.commit(_step(store, "B1", row_updates=state_updates("B1", [1], "reversed")))
        store.commit(attrs.evolve(_step(store, "B1"), batch=attrs.evolve(money, version=store.batch("B1").version + 1)))
        again = reopen(store)
        assert again.rows("B1").sort("row_id")["status"].to_list()[0] == "reversed"
        record = again.batch("B1")
        assert (record.funded_fen, record.drawn_fen, record.refunded_fen) == (30_000, 1_234, 567)
        assert record.drawn_by_bank == (("CQRCB", 1_000), ("PSBC", 234))
        assert record.refunded_by_bank == (("PSBC", 567),)

    def test_ledger_entries_are_replaced_by_batch_and_row(self, store: Store) -> None:
        _create(store, "B1")
        store.commit(_step(store, "B1", ledger=ledger_frame([("B1", 1, "P1", "sent"), ("B1", 2, "P2", "sent")])))
        store.commit(_step(store, "B1", ledger=ledger_frame([("B1", 1, "P1", "paid")])))
        ledger = store.ledger().sort("row_id")
        assert ledger.select("row_id", "status").rows() == [(1, "paid"), (2, "sent")]

    def test_the_ledger_filters_by_item_and_period(self, store: Store) -> None:
        _create(store, "B1")
        entries = [("B1", 1, "P1", "paid"), ("B1", 2, "P1", "paid", "GDLS", "2026-12"), ("B1", 3, "P2", "sent", "JSB")]
        store.commit(_step(store, "B1", ledger=ledger_frame(entries)))
        assert sorted(store.ledger(item="GDLS")["row_id"].to_list()) == [1, 2]
        assert store.ledger(period="2026-12")["row_id"].to_list() == [2]
        assert store.ledger(item="GDLS", period="2026-11")["row_id"].to_list() == [1]
        assert store.ledger(item="NONE").schema == pl.Schema(LEDGER_SCHEMA)

    def test_random_ledger_changes_never_leave_a_key_paid_twice(self, store: Store) -> None:
        rng = random.Random(20261127)
        _create(store, "B1", n=1)
        model: dict[tuple[str, int], tuple[str, str]] = {}  # (batch, row) -> (person, status)
        for step in range(40):
            entries = [
                (f"B{rng.randint(1, 3)}", rng.randint(1, 4), f"P{rng.randint(1, 3)}", rng.choice(LEDGER_STATUSES))
                for _ in range(rng.randint(1, 3))
            ]
            proposal = dict(model)
            for batch_id, row_id, person, status in entries:
                proposal[(batch_id, row_id)] = (person, status)
            active = [p for p, s in proposal.values() if s in ("sent", "paid")]
            distinct_keys = len({(b, r) for b, r, _, _ in entries}) == len(entries)
            acceptable = distinct_keys and len(active) == len(set(active))
            change = _step(store, "B1", ledger=ledger_frame(entries))
            if acceptable:
                store.commit(change)
                model = proposal
            else:
                with pytest.raises(StoreError):
                    store.commit(change)
            stored = {(r["batch_id"], r["row_id"]): (r["id_number"], r["status"]) for r in store.ledger().to_dicts()}
            assert stored == {k: (f"ID-{p}", s) for k, (p, s) in model.items()}, f"step {step}"

    # -- audit and exceptions -------------------------------------------------------------------------------------

    def test_audit_entries_are_appended_in_order(self, store: Store) -> None:
        _create(store, "B1")
        store.commit(_step(store, "B1"))
        log = store.audit()
        assert [e.seq for e in log] == [1, 2]
        assert store.audit_head() == log[-1]
        assert store.audit(after_seq=1) == log[1:]
        assert store.audit(after_seq=2) == ()

    def test_audit_entries_that_do_not_continue_the_head_are_refused(self, store: Store) -> None:
        _create(store, "B1")
        before = snapshot(store)
        good = _step(store, "B1")
        entry = good.audit[0]
        broken = (
            attrs.evolve(entry, seq=entry.seq + 1),
            attrs.evolve(entry, prev_hash="f" * 64),
            attrs.evolve(entry, hash="not a hash"),
        )
        for bad in broken:
            with pytest.raises(StoreError):
                store.commit(attrs.evolve(good, audit=(bad,)))
            assert snapshot(store) == before

    def test_audit_entries_within_one_change_must_chain(self, store: Store) -> None:
        _create(store, "B1")
        before = snapshot(store)
        good = _step(store, "B1")
        two = audit_entries(store.audit_head(), [("a", "B1", "", ""), ("b", "B1", "", "")])
        with pytest.raises(StoreError):
            store.commit(attrs.evolve(good, audit=(two[1], two[0])))
        assert snapshot(store) == before

    def test_exceptions_are_appended_oldest_first_and_filtered_by_batch(self, store: Store) -> None:
        _create(store, "B1")
        _create(store, "B2")
        store.commit(_step(store, "B1", exceptions=exception_frame("B1", 7)))
        store.commit(_step(store, "B2", exceptions=exception_frame("B2", 8)))
        store.commit(_step(store, "B1", exceptions=exception_frame("B1", 9)))
        assert store.exceptions()["row_id"].to_list() == [7, 8, 9]
        assert store.exceptions("B1")["row_id"].to_list() == [7, 9]
        assert store.exceptions("B3").schema == pl.Schema(EXCEPTION_SCHEMA)

    # -- copies and reloading -------------------------------------------------------------------------------------

    def test_changing_a_loaded_frame_changes_nothing_stored(self, store: Store) -> None:
        _create(store, "B1")
        store.commit(_step(store, "B1", ledger=ledger_frame([("B1", 1, "P1", "sent")])))
        rows, ledger = store.rows("B1"), store.ledger()
        rows[0, "status"] = "paid"
        ledger[0, "status"] = "paid"
        assert store.rows("B1")[0, "status"] == "pending"
        assert store.ledger()[0, "status"] == "sent"

    def test_everything_committed_reloads_equal(self, store: Store, reopen: Reopen) -> None:
        _create(store, "B1", n=6)
        _create(store, "B2", n=2, item="JSB")
        store.commit(
            _step(
                store,
                "B1",
                row_updates=state_updates("B1", [1, 2, 5], "sent", note="发送", deadline=True),
                ledger=ledger_frame([("B1", 1, "P1", "sent"), ("B1", 2, "P2", "paid")]),
                exceptions=exception_frame("B1", 42),
            )
        )
        before = snapshot(store, with_rows=True)
        again = reopen(store)
        assert snapshot(again, with_rows=True) == before
        _create(again, "B3")  # and it keeps working after the reload
        assert [b.batch_id for b in again.batches()] == ["B1", "B2", "B3"]


LEDGER_STATUSES = ("sent", "paid", "failed", "withdrawn")
