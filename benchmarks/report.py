"""The Markdown tables of a benchmark run (``results.json`` → ``results.md``), with the goals checked."""

from __future__ import annotations

from typing import Any

__all__ = ["markdown"]


def _mb(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def _share(value: float | None) -> str:
    return "–" if value is None or value != value else f"{value:.3f}"  # NaN: nothing reported, nothing to score


def markdown(document: dict[str, Any]) -> str:
    """The results table, the ratios the goals are stated in, and the quality table."""
    lines = [
        "| step | rows | wall s | rows/s | peak RSS MiB | RSS before MiB | roster MiB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    by: dict[tuple[int, str], dict[str, Any]] = {}
    for r in document["results"]:
        by[(r["size"], r["label"])] = r
        if "error" in r:
            note = r["error"] if r["error"].startswith("not run") else f"did not finish: {r['error']}"
            lines.append(f"| {r['label']} | {r['size']:,} | {note} | | | | |")
            continue
        if r["label"] == "generate":
            seconds = float(r.get("generated_seconds", r["child_seconds"]))
            reused = r["child_seconds"] < seconds / 2  # the data set was made by an earlier run and reused
            peak_mb = "(made earlier)" if reused else _mb(r["peak_rss_mb"])
            lines.append(
                f"| generate (synth + read_roster + write) | {r['size']:,} | {seconds:.1f} | | {peak_mb} | | |"
            )
            continue
        rows = r["rows"]
        label = r["label"] + (f" (sample of {rows:,}, extrapolated as rows/s)" if "baseline" in r["label"] else "")
        lines.append(
            f"| {label} | {rows:,} | {r['seconds']:.2f} | {r['rows_per_s']:,.0f} | {_mb(r['peak_rss_mb'])} | "
            f"{_mb(r.get('rss_before_mb'))} | {_mb(r.get('roster_mb'))} |"
        )
    lines += [
        "",
        "| rows | rule set | ÷ bare scan in memory (time) | ÷ bare scan from Parquet (time) | × row-wise (rows/s) "
        "| peak RSS ÷ roster | (peak − RSS before) ÷ roster |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]

    def ratio(a: dict[str, Any], b: dict[str, Any], key: str, base_key: str | None = None) -> str:
        other = base_key or key
        return f"{a[key] / b[other]:,.1f}×" if key in a and other in b else "–"

    for size in sorted({s for s, _ in by}):
        bare = by.get((size, "bare scan, in memory"), {})
        barep = by.get((size, "bare scan, from Parquet"), {})
        base = by.get((size, "row-wise baseline (sample)"), {})
        full = by.get((size, "full rules, in memory"), {})
        fullp = by.get((size, "full rules, from Parquet"), {})
        roster = by.get((size, "roster-only rules, in memory"), {})
        for name, mem, base_key in (
            ("all but DUP_NEAR", full, "rows_per_s"),
            ("roster-only", roster, "roster_only_rows_per_s"),
        ):
            if not mem and not fullp:
                continue
            measured = bool(mem.get("roster_mb")) and "seconds" in mem
            peak = f"{mem['peak_rss_mb'] / mem['roster_mb']:.1f}×" if measured else "–"
            grown = f"{(mem['peak_rss_mb'] - mem['rss_before_mb']) / mem['roster_mb']:.1f}×" if measured else "–"
            cells = [
                ratio(mem, bare, "seconds"),
                ratio(fullp, barep, "seconds") if mem is full else "–",
                ratio(mem, base, "rows_per_s", base_key),
                peak,
                grown,
            ]
            lines.append(f"| {size:,} | {name} | " + " | ".join(cells) + " |")
    for quality in (document.get("quality"), document.get("quality_near")):
        if not quality:
            continue
        lines += [
            "",
            f"Detection quality at {quality['rows']:,} rows:",
            "",
            "| rule | must rows | TP | FP | may (neutral) | precision | recall |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for q in quality["per_rule"]:
            p, rc = _share(q["precision"]), _share(q["recall"])
            lines.append(f"| {q['code']} | {q['must']:,} | {q['tp']:,} | {q['fp']:,} | {q['may']:,} | {p} | {rc} |")
    return "\n".join(lines) + "\n"
