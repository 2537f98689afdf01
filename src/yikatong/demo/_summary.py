"""The demo's figures, read back from the store, and their printed form.

Every figure comes from the store after the month has run (batch headers, row statuses, the payment ledger and the
audit log), so what is printed is what the store holds. Money is integer fen inside and yuan with two decimals in
print; no ID number or account appears anywhere in the summary.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

import polars as pl

from yikatong.catalog import Catalog
from yikatong.money import format_yuan
from yikatong.ports import Store
from yikatong.workflow.funds import batch_money, money_totals, records_frame
from yikatong.workflow.store_check import verify_store

__all__ = ["STATUS_LABELS", "collect", "render"]

STATUS_LABELS: Final[dict[str, str]] = {
    "pending": "待校验",
    "passed": "校验通过",
    "review": "待复核",
    "blocked": "校验未通过",
    "sent": "已报盘",
    "paid": "已发放",
    "failed": "发放失败",
    "returned": "退回待更正",
    "reissued": "已更正补发",
    "withdrawn": "已撤回",
}
"""Chinese labels of the row statuses."""

_BLANK: Final = "(未填 blank)"
_ROUTE_LABELS: Final = {"treasury": "国库集中支付", "zero_balance": "零余额账户"}
_FILER_LABELS: Final = {"department": "主管部门", "town": "乡镇"}
_GROUP_FIGURES: Final = ("rows", "sent_rows", "sent_fen", "paid_rows", "paid_fen", "failed_rows", "failed_fen")


def _all_rows(store: Store) -> pl.DataFrame:
    frames = [
        store.rows(b.batch_id)
        .select("batch_id", "row_id", "town", "status", pl.col("amount_fen").fill_null(0))
        .with_columns(pl.lit(b.item).alias("item"), pl.lit(b.corrects is None).alias("original"))
        for b in store.batches()
    ]
    return pl.concat(frames)


def _figures(rows: pl.DataFrame, ledger: pl.DataFrame, by: str) -> dict[str, dict[str, int]]:
    """Per group: original roster rows, and rows/money sent, paid and failed over every batch."""
    rows = rows.with_columns(pl.col(by).fill_null(_BLANK))
    ledger = ledger.with_columns(pl.col(by).fill_null(_BLANK))
    roster = rows.filter("original").group_by(by).agg(pl.len().alias("rows"))
    sent = ledger.filter(pl.col("status") != "withdrawn")
    money = sent.group_by(by).agg(
        pl.len().alias("sent_rows"),
        pl.col("amount_fen").sum().alias("sent_fen"),
        (pl.col("status") == "paid").sum().alias("paid_rows"),
        pl.col("amount_fen").filter(pl.col("status") == "paid").sum().alias("paid_fen"),
        (pl.col("status") == "failed").sum().alias("failed_rows"),
        pl.col("amount_fen").filter(pl.col("status") == "failed").sum().alias("failed_fen"),
    )
    queue = (
        rows.filter(pl.col("status") == "returned")
        .group_by(by)
        .agg(pl.len().alias("queue_rows"), pl.col("amount_fen").sum().alias("queue_fen"))
    )
    joined = (
        roster.join(money, on=by, how="full", coalesce=True)
        .join(queue, on=by, how="full", coalesce=True)
        .fill_null(0)
        .sort(by)
    )
    return {str(r[by]): {k: int(v) for k, v in r.items() if k != by} for r in joined.iter_rows(named=True)}


def collect(
    store: Store,
    catalog: Catalog,
    *,
    seed: int,
    period: str,
    roster_rows: int,
    audit_key: bytes | None = None,
    key_file: str | None = None,
) -> dict[str, Any]:
    """Every figure of the month as one JSON-ready object (money in fen, integers).

    ``audit_key`` is the key the store's audit chain was written with; ``key_file`` the name of the file holding
    its secret beside the store (None when the key came from ``YIKATONG_AUDIT_KEY``).
    """
    rows = _all_rows(store)
    ledger = store.ledger().join(rows.select("batch_id", "row_id", "town"), on=["batch_id", "row_id"], how="left")
    sent = ledger.filter(pl.col("status") != "withdrawn")
    by_status = rows.group_by("status").agg(pl.len().alias("rows"), pl.col("amount_fen").sum().alias("fen"))
    audit = store.audit()
    check = verify_store(store, key=audit_key)
    batches = []
    for b in store.batches():
        mine = sent.filter(pl.col("batch_id") == b.batch_id)
        paid = mine.filter(pl.col("status") == "paid")
        failed = mine.filter(pl.col("status") == "failed")
        batches.append(
            {
                "batch_id": b.batch_id,
                "item": b.item,
                "department": b.department,
                "corrects": b.corrects,
                "town": b.town,
                "state": b.state,
                "rows": rows.filter(pl.col("batch_id") == b.batch_id).height,
                "funding_route": b.funding_route,
                "funding_filed_by": b.funding_filed_by,
                "funded_fen": b.funded_fen,
                "drawn_fen": b.drawn_fen,
                "refunded_fen": b.refunded_fen,
                "sent_rows": mine.height,
                "sent_fen": int(mine["amount_fen"].sum()),
                "paid_rows": paid.height,
                "paid_fen": int(paid["amount_fen"].sum()),
                "failed_rows": failed.height,
                "failed_fen": int(failed["amount_fen"].sum()),
            }
        )
    totals = {
        "roster_rows": roster_rows,
        "batch_rows": rows.height,
        "sent_rows": sent.height,
        "sent_fen": int(sent["amount_fen"].sum()),
        "paid_rows": int((sent["status"] == "paid").sum()),
        "paid_fen": int(sent.filter(pl.col("status") == "paid")["amount_fen"].sum()),
        "failed_rows": int((sent["status"] == "failed").sum()),
        "failed_fen": int(sent.filter(pl.col("status") == "failed")["amount_fen"].sum()),
        "reversed_rows": int((sent["status"] == "reversed").sum()),
        "reversed_fen": int(sent.filter(pl.col("status") == "reversed")["amount_fen"].sum()),
        "funded_fen": sum(b.funded_fen for b in store.batches()),
    }
    money = money_totals(batch_money(records_frame(store.batches()), store.ledger()))
    decisions = [
        d["to"]
        for e in audit
        if e.action == "confirm_reviews"
        for d in json.loads(e.details or "{}").get("decisions", [])
    ]
    reviews = {"rows": len(decisions), "passed": decisions.count("passed"), "blocked": decisions.count("blocked")}
    return {
        "period": period,
        "seed": seed,
        "totals": totals,
        "money": money,
        "by_status": {
            s: {"label": STATUS_LABELS.get(s, s), "rows": int(n), "fen": int(f)}
            for s, n, f in by_status.sort("status").iter_rows()
        },
        "by_item": {
            code: {"name": catalog[code].name, **figures} for code, figures in _figures(rows, sent, "item").items()
        },
        "by_town": _figures(rows, sent, "town"),
        "batches": batches,
        "reviews": reviews,
        "audit": {
            "entries": len(audit),
            "intact": check.ok,
            "head_hash": audit[-1].hash if audit else None,
            "keyed": audit_key is not None,
            "key_file": key_file,
        },
    }


def _yuan(fen: int) -> str:
    return format_yuan(fen)


def _table(title: str, header: list[str], lines: list[list[str]]) -> list[str]:
    widths = [max(_width(c) for c in col) for col in zip(header, *lines, strict=True)]

    def fmt(cells: list[str]) -> str:
        out = []
        for i, (cell, w) in enumerate(zip(cells, widths, strict=True)):
            pad = " " * (w - _width(cell))
            out.append(cell + pad if i == 0 else pad + cell)
        return "  ".join(out).rstrip()

    return [title, fmt(header), *(fmt(line) for line in lines), ""]


def _width(text: str) -> int:
    """Display width: CJK characters take two columns in a terminal."""
    return sum(2 if ord(c) >= 0x2E80 else 1 for c in text)


def _group_lines(groups: Mapping[str, Mapping[str, Any]], label: Mapping[str, str]) -> list[list[str]]:
    lines = []
    for key, g in groups.items():
        lines.append(
            [
                label.get(key, key),
                str(g["rows"]),
                str(g["paid_rows"]),
                _yuan(g["paid_fen"]),
                str(g["failed_rows"]),
                _yuan(g["failed_fen"]),
                str(g["queue_rows"]),
            ]
        )
    return lines


def _money_line(m: Mapping[str, int]) -> str:
    """Where every fen funded went: funded = paid − reversed + held + refunded."""
    return (
        f"资金 money: 国库拨付 funded {_yuan(m['funded_fen'])} = 已付 paid {_yuan(m['paid_fen'])}"
        f" − 退汇 reversed {_yuan(m['reversed_fen'])} + 银行留存 held {_yuan(m['held_fen'])}"
        f" + 缴回国库 refunded {_yuan(m['refunded_fen'])}"
    )


def render(summary: Mapping[str, Any], *, store: str = "yikatong.db") -> str:
    """The summary as text for a terminal: totals, then rows and money per status, per batch, per item, per town.

    ``store`` is how the closing ``audit verify`` line names the store (``--store`` and, for a server, ``--schema``).
    """
    t = summary["totals"]
    out = [
        f"秀山县惠民惠农补贴“一卡通” {summary['period']} 月度发放 / Xiushan county month {summary['period']}"
        f" (seed {summary['seed']})",
        "",
        f"名单行数 roster rows        {t['roster_rows']:>8}",
        f"报盘 sent                   {t['sent_rows']:>8}  {_yuan(t['sent_fen']):>14} 元",
        f"已发放 paid                 {t['paid_rows']:>8}  {_yuan(t['paid_fen']):>14} 元",
        f"发放失败 failed             {t['failed_rows']:>8}  {_yuan(t['failed_fen']):>14} 元",
        f"国库拨付 funded                       {_yuan(t['funded_fen']):>14} 元",
        f"人工复核 reviews: {summary['reviews']['rows']} 行 rows, 通过 passed {summary['reviews']['passed']},"
        f" 不予发放 blocked {summary['reviews']['blocked']} (审核人≠经办人 checker is not the maker)",
        f"核对 check: 已发放 + 发放失败 + 退汇 = 报盘 (paid + failed + reversed = sent): "
        f"{_yuan(t['paid_fen'])} + {_yuan(t['failed_fen'])} + {_yuan(t['reversed_fen'])} = {_yuan(t['sent_fen'])}",
        _money_line(summary["money"]),
        "",
    ]
    status_lines = [
        [f"{s['label']} {code}", str(s["rows"]), _yuan(s["fen"])] for code, s in summary["by_status"].items()
    ]
    out += _table("按状态 / rows by status (all batches)", ["状态 status", "行 rows", "金额 yuan"], status_lines)
    batch_lines = []
    for b in summary["batches"]:
        route = _ROUTE_LABELS.get(b["funding_route"] or "", "-")
        filer = _FILER_LABELS.get(b["funding_filed_by"] or "", "-")
        if b["funding_filed_by"] == "town" and b["town"]:
            filer = b["town"]
        batch_lines.append(
            [
                b["batch_id"] + (" 更正" if b["corrects"] else ""),
                str(b["rows"]),
                str(b["sent_rows"]),
                str(b["paid_rows"]),
                _yuan(b["paid_fen"]),
                str(b["failed_rows"]),
                f"{route}/{filer}",
                b["state"],
            ]
        )
    out += _table(
        "按批次 / batches",
        ["批次 batch", "行 rows", "报盘 sent", "发放 paid", "金额 yuan", "失败 failed", "资金 funding", "状态 state"],
        batch_lines,
    )
    header = ["", "名单 rows", "发放 paid", "金额 yuan", "失败 failed", "失败金额 yuan", "待更正 queue"]
    items = {code: f"{code} {g['name']}" for code, g in summary["by_item"].items()}
    out += _table("按项目 / by item", ["项目 item", *header[1:]], _group_lines(summary["by_item"], items))
    out += _table("按乡镇 / by town", ["乡镇 town", *header[1:]], _group_lines(summary["by_town"], {}))
    a = summary["audit"]
    verdict = "完整 intact" if a["intact"] else "断开 BROKEN"
    out.append(f"审计链 audit chain: {a['entries']} 条 entries, {verdict}")
    if a.get("key_file"):
        out.append(
            f"校验 verify: yikatong audit verify --store {store} --key-file {a['key_file']} "
            "(演示密钥，真实密钥不得与数据库放在一起 demo key; keep a real key away from the store)"
        )
    return "\n".join(out)
