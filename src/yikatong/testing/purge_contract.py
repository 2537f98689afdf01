"""Contract tests for [`yikatong.ports.Store.purge`][], part of the store contract kit.

A purge empties the personal columns of one batch's rows and replaces its ledger IDs by the hashes given, together
with the batch's new header and the purge's audit entry, all or nothing: a purge that carries data, names other
ledger entries than the batch's, or comes from a stale version is refused and changes nothing. Other batches are
left alone, and a purged store reloads purged.
"""

from __future__ import annotations

# Before pytest is imported: without it, an error naming the extra to install.
from yikatong.testing import _pytest  # noqa: F401

# isort: split
from collections.abc import Callable

import attrs
import polars as pl
import pytest

from yikatong.errors import StoreError
from yikatong.ports import Store
from yikatong.records import PURGED_COLUMNS, ROW_SCHEMA, Change
from yikatong.testing.store_data import audit_entries, header, ledger_frame, make_rows, snapshot, state_updates

__all__ = ["PurgeContract"]

Reopen = Callable[[Store], Store]


def _settled(store: Store, batch_id: str, *, n: int = 3) -> None:
    """A batch with ``n`` rows, every row paid and in the ledger."""
    store.commit(
        Change(
            batch=header(batch_id),
            expected_version=None,
            new_rows=make_rows(batch_id, n),
            audit=audit_entries(store.audit_head(), [("submit", batch_id, "draft", "submitted")]),
        )
    )
    current = store.batch(batch_id)
    entries = [(batch_id, r, f"{batch_id}-P{r}", "paid") for r in range(1, n + 1)]
    store.commit(
        Change(
            batch=attrs.evolve(current, state="settled", version=current.version + 1),
            expected_version=current.version,
            row_updates=state_updates(batch_id, list(range(1, n + 1)), "paid"),
            ledger=ledger_frame(entries),
            audit=audit_entries(store.audit_head(), [("record_results", batch_id, "submitted", "settled")]),
        )
    )


def _purge_change(store: Store, batch_id: str, **fields: object) -> Change:
    current = store.batch(batch_id)
    audit = audit_entries(store.audit_head(), [("purge", batch_id, current.state, current.state)])
    batch = attrs.evolve(current, version=current.version + 1)
    return Change(batch=batch, expected_version=current.version, audit=audit, **fields)  # type: ignore[arg-type]


def _hashes(store: Store, batch_id: str) -> pl.DataFrame:
    own = store.ledger().filter(pl.col("batch_id") == batch_id)
    return own.select("row_id", ("#h-" + pl.col("row_id").cast(pl.String)).alias("id_number"))


class PurgeContract:
    """The purge tests every [`yikatong.ports.Store`][] passes (mixed into the store contract)."""

    def test_a_purge_empties_the_personal_columns_and_keeps_the_rest(self, store: Store, reopen: Reopen) -> None:
        _settled(store, "B1")
        _settled(store, "B2")
        before, other = store.rows("B1"), store.rows("B2")
        store.purge(_purge_change(store, "B1"), ledger_ids=_hashes(store, "B1"))
        again = reopen(store)
        after = again.rows("B1")
        assert after.schema == pl.Schema(ROW_SCHEMA)
        for column in PURGED_COLUMNS:
            assert after[column].null_count() == after.height, column
        kept = [c for c in ROW_SCHEMA if c not in PURGED_COLUMNS]
        assert after.select(kept).equals(before.select(kept))
        assert again.rows("B2").equals(other)
        assert again.batch("B1").version == 3
        assert again.audit()[-1].action == "purge"

    def test_a_purge_replaces_the_ledger_ids_and_keeps_amounts_and_statuses(self, store: Store, reopen: Reopen) -> None:
        _settled(store, "B1")
        _settled(store, "B2")
        before = store.ledger().sort("batch_id", "row_id")
        store.purge(_purge_change(store, "B1"), ledger_ids=_hashes(store, "B1"))
        after = reopen(store).ledger().sort("batch_id", "row_id")
        assert after.drop("id_number").equals(before.drop("id_number"))
        purged = after.filter(pl.col("batch_id") == "B1")["id_number"].to_list()
        assert purged == ["#h-1", "#h-2", "#h-3"]
        assert after.filter(pl.col("batch_id") == "B2")["id_number"].to_list() == ["ID-B2-P1", "ID-B2-P2", "ID-B2-P3"]

    @pytest.mark.parametrize(
        "fields",
        [
            {"new_rows": make_rows("B1", 1)},
            {"row_updates": state_updates("B1", [1], "paid")},
            {"ledger": ledger_frame([("B1", 1, "P9", "paid")])},
        ],
        ids=["rows", "row-updates", "ledger"],
    )
    def test_a_purge_carrying_data_is_refused_and_changes_nothing(
        self, store: Store, fields: dict[str, object]
    ) -> None:
        _settled(store, "B1")
        before = snapshot(store)
        with pytest.raises(StoreError):
            store.purge(_purge_change(store, "B1", **fields), ledger_ids=_hashes(store, "B1"))
        assert snapshot(store) == before

    def test_a_purge_naming_other_ledger_entries_is_refused_and_changes_nothing(self, store: Store) -> None:
        _settled(store, "B1")
        before = snapshot(store)
        short = _hashes(store, "B1").head(2)
        with pytest.raises(StoreError):
            store.purge(_purge_change(store, "B1"), ledger_ids=short)
        extra = pl.concat([_hashes(store, "B1"), pl.DataFrame({"row_id": [9], "id_number": ["#h-9"]})])
        with pytest.raises(StoreError):
            store.purge(_purge_change(store, "B1"), ledger_ids=extra)
        clear = _hashes(store, "B1").with_columns(pl.lit("110105194912310021").alias("id_number"))
        with pytest.raises(StoreError):
            store.purge(_purge_change(store, "B1"), ledger_ids=clear)
        assert snapshot(store) == before

    def test_a_purge_from_a_stale_version_is_refused_and_changes_nothing(self, store: Store) -> None:
        _settled(store, "B1")
        stale = _purge_change(store, "B1")
        current = store.batch("B1")
        store.commit(
            Change(
                batch=attrs.evolve(current, version=current.version + 1),
                expected_version=current.version,
                audit=audit_entries(store.audit_head(), [("publish", "B1", "settled", "settled")]),
            )
        )
        before = snapshot(store)
        with pytest.raises(StoreError):
            store.purge(stale, ledger_ids=_hashes(store, "B1"))
        assert snapshot(store) == before
