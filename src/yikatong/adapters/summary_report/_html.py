"""``汇总表-<period>.html``: the summary as one self-contained page that prints well.

No script, style sheet, font or image is fetched: the chart of monthly amounts per item is inline SVG, the style is
inline CSS with print rules (A4 landscape, headers repeated on each page, no row split across pages), and every value
is HTML-escaped. Money is shown in yuan, exact to the fen.
"""

from __future__ import annotations

from html import escape
from typing import Final

import polars as pl

from yikatong.adapters.summary_report._labels import DECISION_LABELS, head_line, heading, yuan_text
from yikatong.workflow.summary import PeriodSummary

__all__ = ["summary_html"]

_SEGMENTS: Final = (
    ("paid_fen", "已发放 paid", "#2e7d32"),
    ("failed_fen", "失败 failed", "#c62828"),
    ("reversed_fen", "退汇 reversed", "#f9a825"),
)
_BAR_HEIGHT: Final = 22
_LABEL_WIDTH: Final = 260
_CHART_WIDTH: Final = 900

_STYLE: Final = """
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 3px 6px; } td { white-space: nowrap; }
th { background: #e8eef5; text-align: left; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: bold; border-top: 2px solid #555; }
.legend span { margin-right: 1.5em; } footer { margin-top: 2em; font-size: 0.85em; color: #444; word-break: break-all; }
svg text { font-size: 12px; font-family: inherit; }
@page { size: A4 landscape; margin: 1cm; }
@media print {
  body { margin: 0; } h2 { page-break-after: avoid; } thead { display: table-header-group; }
  tr { page-break-inside: avoid; } svg { page-break-inside: avoid; }
}
"""


def _chart(monthly: pl.DataFrame) -> str:
    """Horizontal stacked bars, one per item and month: paid, failed and reversed amounts."""
    if monthly.is_empty():
        return "<p>本期没有报盘 / nothing was sent to a bank in this period</p>"
    rows = monthly.sort("month", "item").iter_rows(named=True)
    bars = [
        (f"{r['month']} {r['item']} {r.get('item_name') or ''}".strip(), [(k, int(r[k])) for k, _, _ in _SEGMENTS])
        for r in rows
    ]
    top = max(sum(v for _, v in segments) for _, segments in bars) or 1
    scale = (_CHART_WIDTH - _LABEL_WIDTH - 120) / top
    height = len(bars) * (_BAR_HEIGHT + 6) + 10
    colours = {k: c for k, _, c in _SEGMENTS}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{_CHART_WIDTH}" height="{height}" '
        f'viewBox="0 0 {_CHART_WIDTH} {height}"><title>分月分项目金额 monthly amounts per item</title>'
    ]
    for index, (label, segments) in enumerate(bars):
        y = 5 + index * (_BAR_HEIGHT + 6)
        parts.append(
            f'<text x="{_LABEL_WIDTH - 6}" y="{y + _BAR_HEIGHT - 6}" text-anchor="end">{escape(label[:30])}</text>'
        )
        x = float(_LABEL_WIDTH)
        for key, fen in segments:
            width = fen * scale
            if width > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{_BAR_HEIGHT}" fill="{colours[key]}">'
                    f"<title>{escape(label)} {escape(key)} {yuan_text(fen)}</title></rect>"
                )
            x += width
        total = sum(v for _, v in segments)
        parts.append(f'<text x="{x + 6:.1f}" y="{y + _BAR_HEIGHT - 6}">{yuan_text(total)} 元</text>')
    parts.append("</svg>")
    return "".join(parts)


def _cell(column: str, value: object) -> str:
    if value is None:
        return "<td></td>"
    if column.endswith("_fen") and isinstance(value, int):
        return f'<td class="n">{yuan_text(value)}</td>'
    if isinstance(value, int):
        return f'<td class="n">{value:,}</td>'
    if column == "decision":
        value = DECISION_LABELS.get(str(value), str(value))
    return f"<td>{escape(str(value))}</td>"


def _table(frame: pl.DataFrame, total: pl.DataFrame | None = None) -> str:
    if frame.is_empty() and total is None:
        return "<p>无 none</p>"
    head = "".join(f"<th>{escape(heading(c))}</th>" for c in frame.columns)
    body = [
        "<tr>" + "".join(_cell(c, v) for c, v in zip(frame.columns, values, strict=True)) + "</tr>"
        for values in frame.iter_rows()
    ]
    if total is not None:
        keys = frame.width - total.width
        cells = [f'<td colspan="{keys}">合计 total</td>'] if keys else []
        cells += [_cell(c, v) for c, v in zip(total.columns, total.row(0), strict=True)]
        body.append('<tr class="total">' + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def summary_html(summary: PeriodSummary, *, title: str) -> str:
    """The page as text.

    Args:
        summary: [`yikatong.workflow.summary.summarise_period`][]'s result.
        title: The page heading (escaped).
    """
    t = {name: summary.total(name) for name in summary.totals.columns}
    check = (
        f"核对 check: 财政拨付 funded {yuan_text(t['funded_fen'])} + 动用留存 drawn {yuan_text(t['drawn_fen'])}"
        f" = 发放 paid {yuan_text(t['paid_fen'])} + 银行留存 outstanding {yuan_text(t['outstanding_fen'])}"
        f" + 缴回国库 refunded {yuan_text(t['refunded_fen'])} + 被更正动用 passed on {yuan_text(t['passed_on_fen'])}"
    )
    legend = "".join(f'<span style="color:{c}">■ {escape(label)}</span>' for _, label, c in _SEGMENTS)
    waivers = summary.waivers.with_columns(pl.col("at").dt.strftime("%Y-%m-%d %H:%M"))
    extensions = summary.extensions.with_columns(pl.col("at").dt.strftime("%Y-%m-%d %H:%M"))
    sections = [
        f"<h1>{escape(title)}</h1>",
        f"<p>期间 period (按报盘时间 by dispatch date): {escape(summary.period.label)} · "
        f"批次 batches: {summary.batches.height:,} · "
        f"人数 payees: {t['payees']:,} · 金额单位 amounts in 元 yuan</p>",
        f"<p>{escape(check)}</p>",
        "<h2>分月分项目金额 monthly amounts per item</h2>",
        f'<p class="legend">{legend}</p>',
        _chart(summary.monthly),
        _table(summary.monthly),
        "<h2>汇总 summary by " + escape(" × ".join(summary.groups)) + "</h2>",
        _table(summary.table, summary.totals),
        "<h2>批次 batches</h2>",
        _table(summary.batches),
        "<h2>豁免 waivers of mandatory controls</h2>",
        _table(waivers),
        "<h2>延期 extensions of correction deadlines</h2>",
        _table(extensions),
        f"<footer>{escape(head_line(summary.head))}</footer>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>" + "\n".join(sections) + "</body></html>\n"
    )
