"""The printable HTML page of a village's notice (A4, the table header repeated on every page), for the village
notice board; [`DisclosureFileSink`][yikatong.adapters.DisclosureFileSink] writes one per village.

Every text a roster supplied is escaped; the table lines of a whole notice are built in one Polars query.
"""

from __future__ import annotations

import html
from typing import Any

import polars as pl

from yikatong.records import DisclosureNotice

__all__ = ["html_lines", "html_page"]

_CSS = """
body { font-family: "SimSun", "Songti SC", "Noto Serif CJK SC", serif; margin: 2em; color: #000; }
h1 { font-size: 1.4em; text-align: center; margin-bottom: 0.2em; }
p.meta { text-align: center; margin-top: 0; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #000; padding: 0.3em 0.5em; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: bold; }
footer { margin-top: 1.5em; font-size: 0.9em; }
@media print {
  @page { size: A4; margin: 15mm; }
  body { margin: 0; }
  thead { display: table-header-group; }
  tr { page-break-inside: avoid; }
}
"""


def _esc(expr: pl.Expr) -> pl.Expr:
    """HTML-escape a text column."""
    return (
        expr.str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
        .str.replace_all('"', "&quot;", literal=True)
        .str.replace_all("'", "&#x27;", literal=True)
    )


def html_lines(rows: pl.DataFrame) -> dict[str, dict[str, list[str]]]:
    """Town → village → the table lines of its page, built in one query, numbered within each village."""
    body = rows.select(
        "town",
        "village",
        pl.concat_str(
            pl.lit("<tr><td>"),
            pl.int_range(1, pl.len() + 1).over("town", "village").cast(pl.String),
            *(
                part
                for c in ("name_masked", "item_name", "period", "standard")
                for part in (pl.lit("</td><td>"), _esc(pl.col(c)))
            ),
            pl.lit('</td><td class="num">'),
            _esc(pl.col("amount")),
            pl.lit("</td><td>"),
            _esc(pl.col("pay_date")),
            pl.lit("</td></tr>"),
        ).alias("line"),
    )
    lines: dict[str, dict[str, list[str]]] = {}
    for town, village, line in body.iter_rows():
        lines.setdefault(town, {}).setdefault(village, []).append(line)
    return lines


def html_page(
    notice: DisclosureNotice,
    town: str,
    village: str,
    lines: list[str],
    vt: dict[str, Any],
    town_line: tuple[int, int, str],
    since: str,
) -> str:
    """One village's page; ``since`` is the county date the notice went up."""
    payees, minors, town_total = town_line
    e = html.escape
    withheld = f"（含未列名的未成年人 {vt['minors_withheld']} 人）" if vt["minors_withheld"] else ""
    heading = f"{town} {village} {notice.item_name} 发放公示"
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="zh-CN"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{e(heading)}</title><style>{_CSS}</style></head><body>",
            f"<h1>{e(heading)}</h1>",
            f'<p class="meta">发放期间 {e(notice.period)}　批次 {e(notice.batch_id)}　'
            f"公示期 {notice.window_days} 天，自 {since} 起</p>",
            "<table><thead><tr><th>序号</th><th>姓名</th><th>补贴项目</th><th>发放期间</th><th>补贴标准</th>"
            '<th class="num">发放金额(元)</th><th>发放日期</th></tr></thead><tbody>',
            *lines,
            "</tbody><tfoot>",
            f'<tr class="total"><td colspan="5">本村(社区)小计 {vt["payees"]} 人{e(withheld)}</td>'
            f'<td class="num">{e(vt["amount"])}</td><td></td></tr>',
            f'<tr class="total"><td colspan="5">{e(town)}合计 {payees} 人'
            f"{e(f'（含未列名的未成年人 {minors} 人）') if minors else ''}</td>"
            f'<td class="num">{e(town_total)}</td><td></td></tr>',
            "</tfoot></table>",
            "<footer>如对公示内容有异议，请在公示期内向乡镇(街道)或业务主管部门反映。"
            "公示信息已按规定隐去身份证号码、银行账号等个人信息。</footer>",
            "</body></html>",
            "",
        ]
    )
