"""Shared builders for the bank file exchange tests: layouts, orders, a clock and a result file to tamper with."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path

import polars as pl

from yikatong.adapters.bankfile.layout import BankLayout, load_layout
from yikatong.adapters.bankfile.writer import order_rows, render_file
from yikatong.records import DisbursementOrder

__all__ = [
    "BATCH",
    "DATE",
    "LAYOUTS",
    "FixedClock",
    "layout",
    "make_order",
    "result_bytes",
    "sample_rows",
]

LAYOUTS = Path(__file__).resolve().parents[2] / "src" / "yikatong" / "adapters" / "bankfile" / "layouts"
BATCH = "XS-2026-11-GDLS-001"
DATE = dt.date(2026, 11, 27)


class FixedClock:
    """A clock standing still at noon on :data:`DATE`."""

    zone = "Asia/Shanghai"

    def now(self) -> dt.datetime:
        return dt.datetime(DATE.year, DATE.month, DATE.day, 12, tzinfo=dt.UTC)


def layout(name: str) -> BankLayout:
    """One of the shipped example layouts: ``delimited-gb18030`` or ``fixed-width-gb18030``."""
    return load_layout(LAYOUTS / f"{name}.toml")


def sample_rows() -> pl.DataFrame:
    """Five payees with Chinese, compound-surname and minority names; row ids deliberately out of order."""
    return pl.DataFrame(
        {
            "row_id": [7, 3, 11, 5, 2],
            "id_number": [
                "11010519491231002X",
                "440524188001010014",
                "500241199001011237",
                "500241198502023318",
                "50024119700303442X",
            ],
            "name": ["张三", "欧阳娜娜", "阿依古丽·买买提", "李四光", "王"],
            "account": [
                "6228480012345678901",
                "6210981234567890",
                "6230520000000001",
                "62170000111122223",
                "6222021234567894",
            ],
            "amount_fen": [10000, 12345, 50, 99999999, 1],
        },
        schema_overrides={"row_id": pl.Int64, "amount_fen": pl.Int64},
    )


def make_order(rows: pl.DataFrame | None = None, *, batch_id: str = BATCH) -> DisbursementOrder:
    """A consistent order over ``rows`` (:func:`sample_rows` by default)."""
    rows = sample_rows() if rows is None else rows
    return DisbursementOrder(
        batch_id=batch_id,
        item="GDLS",
        period="2026-11",
        rows=rows,
        count=rows.height,
        total_fen=int(rows["amount_fen"].sum() or 0),
    )


def result_bytes(
    lay: BankLayout,
    order: DisbursementOrder,
    *,
    failed_serials: tuple[int, ...] = (2,),
    edit: Callable[[pl.DataFrame], pl.DataFrame] | None = None,
    overrides: Mapping[str, str | int] | None = None,
) -> tuple[bytes, pl.DataFrame]:
    """A result file for ``order`` (rows with the given serials failed) and the rows as sent.

    ``edit`` changes the result rows before the control values are computed, so the file stays internally
    consistent and only the edited fact is wrong; ``overrides`` replaces control values after.
    """
    section = lay.result
    sent = order_rows(order, file="order")
    paid_code = next(c for c, o in section.statuses.items() if o == "paid")
    failed_code = next(c for c, o in section.statuses.items() if o == "failed")
    reason_code = next(iter(section.reasons))
    failed = pl.col("serial").is_in(list(failed_serials))
    rows = sent.with_columns(
        status=pl.when(failed).then(pl.lit(failed_code)).otherwise(pl.lit(paid_code)),
        reason_code=pl.when(failed).then(pl.lit(reason_code)).otherwise(pl.lit("")),
        reason=pl.when(failed).then(pl.lit(section.reasons[reason_code])).otherwise(pl.lit("成功")),
    )
    if edit is not None:
        rows = edit(rows)
    is_failed = rows["status"] == failed_code
    values: dict[str, str | int] = {
        "bank_code": lay.code,
        "batch_id": order.batch_id,
        "count": rows.height,
        "total": int(rows["amount_fen"].sum() or 0),
        "paid_count": int((~is_failed).sum()),
        "paid_total": int(rows.filter(~is_failed)["amount_fen"].sum() or 0),
        "failed_count": int(is_failed.sum()),
        "failed_total": int(rows.filter(is_failed)["amount_fen"].sum() or 0),
    }
    values.update(overrides or {})
    data = render_file(section, rows, values=values, date=DATE, file="result")
    return data, sent.select("row_id", "serial", "account", "amount_fen")
