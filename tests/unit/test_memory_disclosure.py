"""The in-memory disclosure sink keeps the current notice per batch and every publication."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from yikatong.adapters.memory_disclosure import MemoryDisclosureSink
from yikatong.ports import DisclosureSink
from yikatong.records import DisclosureNotice

AT = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)


def notice(batch_id: str, names: list[str]) -> DisclosureNotice:
    rows = pl.DataFrame({"town": ["中和街道"] * len(names), "name_masked": names, "amount_fen": [10_000] * len(names)})
    return DisclosureNotice(
        batch_id=batch_id,
        item="GLJT",
        item_name="高龄津贴",
        period="2026-11",
        rows=rows,
        window_days=7,
        published_at=AT,
    )


def test_the_sink_satisfies_the_disclosure_port() -> None:
    assert isinstance(MemoryDisclosureSink(), DisclosureSink)


def test_publishing_a_batch_again_replaces_its_notice_and_keeps_the_history() -> None:
    sink = MemoryDisclosureSink()
    sink.publish(notice("B1", ["张*"]))
    sink.publish(notice("B2", ["李*"]))
    sink.publish(notice("B1", ["张*", "王*五"]))
    assert sink.notice("B1").rows.height == 2
    assert [n.batch_id for n in sink.notices] == ["B1", "B2"]
    assert len(sink.history) == 3
    assert sink.rows().get_column("batch_id").to_list() == ["B1", "B1", "B2"]


def test_an_unpublished_batch_is_a_key_error_and_no_notice_means_no_rows() -> None:
    sink = MemoryDisclosureSink()
    with pytest.raises(KeyError, match="B9"):
        sink.notice("B9")
    assert sink.rows().height == 0
