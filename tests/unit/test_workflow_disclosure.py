"""The public list: masked names per town and village, standards and totals, no IDs or accounts, no children."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from tests.unit._workflow_fakes import START, make_id
from yikatong.catalog import Catalog
from yikatong.records import ROW_SCHEMA, BatchRecord
from yikatong.workflow.disclosure import NOTICE_COLUMNS, TOTALS_COLUMNS, build_notice, standard_expr

PAID_AT = dt.datetime(2026, 12, 3, 8, 30, tzinfo=dt.UTC)


def record(item: str) -> BatchRecord:
    return BatchRecord(
        batch_id="B1",
        item=item,
        period="2026-11",
        department="民政局",
        state="settled",
        prepared_by="u",
        created_at=START,
        updated_at=START,
    )


def stored(people: list[tuple[str, str, str, str, int, str]], category: str | None = None) -> pl.DataFrame:
    """Rows ``(name, id_number, town, village, amount_fen, status)`` as the store holds them."""
    n = len(people)
    data = {
        "batch_id": ["B1"] * n,
        "row_id": list(range(1, n + 1)),
        "name": [p[0] for p in people],
        "id_number": [p[1] for p in people],
        "account": [f"621700000000{i:07d}" for i in range(n)],
        "town": [p[2] for p in people],
        "village": [p[3] for p in people],
        "amount_fen": [p[4] for p in people],
        "status": [p[5] for p in people],
        "category": [category] * n,
        "updated_at": [PAID_AT] * n,
    }
    frame = pl.DataFrame(data)
    return frame.select(
        [(pl.col(c) if c in frame.columns else pl.lit(None)).cast(t).alias(c) for c, t in ROW_SCHEMA.items()]
    )


@pytest.fixture
def rows() -> pl.DataFrame:
    return stored(
        [
            ("张三", make_id("19400101", 1), "中和街道", "村1", 10_000, "paid"),
            ("欧阳修文", make_id("19400101", 3), "中和街道", "村1", 10_000, "paid"),
            ("李四", make_id("19400101", 5), "龙池镇", "村2", 10_000, "failed"),
            ("王小明", make_id("20150601", 7), "龙池镇", "村2", 10_000, "paid"),
            ("赵六", make_id("19400101", 9), "龙池镇", "村3", 10_000, "returned"),
        ]
    )


def test_only_paid_rows_are_published_with_masked_names(catalog: Catalog, rows: pl.DataFrame) -> None:
    notice = build_notice(record("GLJT"), catalog["GLJT"], rows, published_at=PAID_AT, window_days=7)
    assert notice.rows.columns == list(NOTICE_COLUMNS)
    assert notice.rows["name_masked"].to_list() == ["张*", "欧阳**"]
    assert set(notice.rows["standard"]) == {"100.00元/月"}
    assert set(notice.rows["pay_date"]) == {dt.date(2026, 12, 3)}
    assert (notice.item_name, notice.window_days) == ("高龄津贴", 7)


def test_a_child_under_fourteen_is_counted_in_the_totals_but_never_listed(catalog: Catalog, rows: pl.DataFrame) -> None:
    notice = build_notice(record("GLJT"), catalog["GLJT"], rows, published_at=PAID_AT, window_days=7)
    assert "王*明" not in notice.rows["name_masked"].to_list()
    assert notice.totals is not None
    assert notice.totals.columns == list(TOTALS_COLUMNS)
    assert notice.totals.rows() == [("中和街道", "村1", 2, 20_000, 0), ("龙池镇", "村2", 1, 10_000, 1)]


def test_the_notice_carries_no_id_account_or_category(catalog: Catalog, rows: pl.DataFrame) -> None:
    notice = build_notice(record("GLJT"), catalog["GLJT"], rows, published_at=PAID_AT, window_days=30)
    text = notice.rows.write_csv() + (notice.totals.write_csv() if notice.totals is not None else "")
    for value in [*rows["id_number"], *rows["account"]]:
        assert value not in text
        assert value[-8:] not in text
    assert not {"id_number", "account", "category"} & set(notice.rows.columns)


def test_a_table_standard_is_published_per_category(catalog: Catalog) -> None:
    rows = stored([("张三", make_id("19700101", 1), "中和街道", "村1", 12_000, "paid")], category="一级")
    texts = pl.DataFrame({"category": ["一级", "三级", "五级"]}).select(standard_expr(catalog["CJRLXBT"]))
    assert texts.to_series().to_list() == ["120.00元/月", "80.00元/月", None]
    notice = build_notice(record("CJRLXBT"), catalog["CJRLXBT"], rows, published_at=PAID_AT, window_days=7)
    assert notice.rows["standard"].to_list() == ["120.00元/月"]


def test_a_rate_standard_is_published_per_unit(catalog: Catalog) -> None:
    rows = stored([("张三", make_id("19700101", 1), "中和街道", "村1", 95_800, "paid")])
    notice = build_notice(record("GDLBZ"), catalog["GDLBZ"], rows, published_at=PAID_AT, window_days=7)
    assert notice.rows["standard"].to_list() == ["95.80元/亩"]
