"""``report.html``: one self-contained page that says what validation found, readable and printable anywhere.

No script, no style sheet, font or image fetched from anywhere: the charts are inline SVG, the style is inline CSS,
and every value is HTML-escaped. Personal data appears only masked (names ``张*三``, IDs ``500241********123X``).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Final

import polars as pl

from yikatong.privacy import mask_name
from yikatong.rules.report import ValidationReport

__all__ = ["html_page"]

_VERDICT_COLOURS: Final = {"pass": "#2e7d32", "review": "#f9a825", "block": "#c62828"}
_VERDICT_ZH: Final = {"pass": "通过", "review": "待复核", "block": "拦截"}
_EXAMPLES_PER_RULE: Final = 5
_BAR_HEIGHT: Final = 22
_LABEL_WIDTH: Final = 230
_CHART_WIDTH: Final = 760

_LEGEND: Final = (
    '<p class="legend"><span class="block">■ 拦截 block</span> <span class="review">■ 复核 review</span> '
    '<span class="fix">■ 已修正 fix</span> <span class="pass">■ 通过 pass</span></p>'
)

_STYLE: Final = """
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.5em 0; } th, td { border: 1px solid #bbb; padding: 3px 8px; }
th { background: #e8eef5; text-align: left; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.pass { color: #2e7d32; } .review { color: #a66f00; } .block { color: #c62828; } .fix { color: #546e7a; }
td { vertical-align: top; } td.n, td:first-child { white-space: nowrap; }
svg text { font-size: 12px; font-family: inherit; }
@media print { body { margin: 0.5cm; } h2 { page-break-after: avoid; } table { page-break-inside: auto; } }
"""


def _bars(title: str, rows: Sequence[tuple[str, Sequence[tuple[str, int]]]]) -> str:
    """A horizontal (stacked) bar chart: one bar per label, segments ``(verdict, count)`` coloured by verdict."""
    if not rows:
        return "<p>无 none</p>"
    top = max(sum(n for _, n in segments) for _, segments in rows) or 1
    scale = (_CHART_WIDTH - _LABEL_WIDTH - 70) / top
    height = len(rows) * (_BAR_HEIGHT + 6) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{_CHART_WIDTH}" height="{height}" '
        f'viewBox="0 0 {_CHART_WIDTH} {height}"><title>{escape(title)}</title>'
    ]
    for index, (label, segments) in enumerate(rows):
        y = 5 + index * (_BAR_HEIGHT + 6)
        parts.append(
            f'<text x="{_LABEL_WIDTH - 6}" y="{y + _BAR_HEIGHT - 6}" text-anchor="end">{escape(label[:28])}</text>'
        )
        x = float(_LABEL_WIDTH)
        for verdict, count in segments:
            width = count * scale
            if width > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{_BAR_HEIGHT}" '
                    f'fill="{_VERDICT_COLOURS.get(verdict, "#546e7a")}"><title>{escape(label)} {count:,}</title></rect>'
                )
            x += width
        total = sum(n for _, n in segments)
        parts.append(f'<text x="{x + 6:.1f}" y="{y + _BAR_HEIGHT - 6}">{total:,}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _table(frame: pl.DataFrame, numeric: frozenset[str] = frozenset()) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in frame.columns)
    body = []
    for values in frame.iter_rows():
        cells = []
        for column, value in zip(frame.columns, values, strict=True):
            text = "" if value is None else (f"{value:,}" if isinstance(value, int) else str(value))
            cls = ' class="n"' if column in numeric else ""
            cells.append(f"<td{cls}>{escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def html_page(
    report: ValidationReport, rules: pl.DataFrame, towns: pl.DataFrame, controls: pl.DataFrame, *, title: str
) -> str:
    """The page as text.

    Args:
        report: The validation result (verdict counts, examples, skipped rules).
        rules: [`rule_table`][yikatong.adapters.validation_report.rule_table].
        towns: [`town_table`][yikatong.adapters.validation_report.town_table].
        controls: [`control_table`][yikatong.adapters.validation_report.control_table] (shown when the item has
            mandatory controls or the validation had any).
        title: The page heading (escaped).
    """
    counts = report.counts_by_verdict
    verdict_row = "".join(
        f'<td class="n {v}">{_VERDICT_ZH[v]} {v}: {counts[v]:,}</td>' for v in ("pass", "review", "block")
    )
    by_rule = [
        (f"{code} {sev}", [("block" if sev == "拦截" else "review" if sev == "复核" else "fix", int(n))])
        for code, sev, n in rules.filter(pl.col("行数").is_not_null()).select("规则代码", "级别", "行数").iter_rows()
    ]
    by_town = [
        (f"{town} {village}", [(v, int(row[zh])) for v, zh in _VERDICT_ZH.items()])
        for row in towns.iter_rows(named=True)
        for town, village in [(row["乡镇(街道)"], row["村(社区)"])]
    ]
    examples = report.examples.with_columns(
        pl.col("name").map_elements(mask_name, return_dtype=pl.String).alias("name")
    ).filter(pl.int_range(pl.len()).over("code") < _EXAMPLES_PER_RULE)
    shown_examples = examples.select(
        pl.col("code").alias("规则代码"),
        pl.col("source_line").alias("原行号"),
        pl.col("name").alias("姓名"),
        pl.col("id_masked").alias("身份证号"),
        pl.col("evidence").alias("说明"),
    )
    skipped = pl.DataFrame(
        {"规则代码": list(report.skipped), "原因": list(report.skipped.values())},
        schema={"规则代码": pl.String, "原因": pl.String},
    )
    sections = [
        f"<h1>{escape(title)}</h1>",
        f"<p>项目 item: {escape(report.item)} · 期间 period: {escape(str(report.period))} · "
        f"名单行数 rows: {report.rows:,}</p>",
        f"<table><tr><th>结论 verdicts</th>{verdict_row}</tr></table>",
        *(["<h2>控制项 controls</h2>", _table(controls)] if controls.height else []),
        "<h2>按规则 findings per rule</h2>",
        _LEGEND,
        _bars("按规则 findings per rule", by_rule),
        _table(rules, numeric=frozenset({"行数"})),
        "<h2>按乡镇 per town and village</h2>",
        _bars("按乡镇 per town and village", by_town),
        _table(
            towns.with_columns((pl.col("金额(分)") / 100).round(2).cast(pl.String).alias("金额(分)")).rename(
                {"金额(分)": "金额(元)"}
            ),
            numeric=frozenset({"行数", "通过", "待复核", "拦截", "金额(元)"}),
        ),
        f"<h2>示例 examples (每条规则前 {_EXAMPLES_PER_RULE} 行 first rows per rule, 已脱敏 masked)</h2>",
        _table(shown_examples, numeric=frozenset({"原行号"})),
    ]
    if skipped.height:
        sections += ["<h2>未运行的规则 rules skipped</h2>", _table(skipped)]
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>" + "\n".join(sections) + "</body></html>\n"
    )
