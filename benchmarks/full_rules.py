"""The full rule set, timed: every rule of the library against the roster, registry, reference lists and ledger.

Two ways, each a step of its own process (see :mod:`benchmarks._harness`):

* :func:`in_memory`: the canonical roster and the context are read into memory first (not timed), then
  :func:`yikatong.rules.validate` runs (timed). This is the "rows in memory" figure.
* :func:`from_parquet`: ``validate`` over ``scan_parquet`` of the same files, reading included in the time; with
  ``engine="streaming"`` this is Polars' streaming engine over the single plan.
* :func:`partitioned`: :func:`yikatong.rules.validate_partitioned` over the same scans: the larger-than-memory path,
  with its working files in the output folder.

``rules`` is ``"all"`` (every rule, ``DUP_NEAR`` included), ``"no-near"`` (every rule but ``DUP_NEAR``),
``"roster-only"`` (ingestion, identity, amounts and ``DUP_IN_BATCH``: no registry, lists or ledger),
``"registry-join"`` (``ACCOUNT_NOT_REGISTERED`` alone: the registry join and little else), ``"accounts"`` (every
account rule) or ``"none"`` (no rule of the library: what the engine costs around the rules).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks._data import PERIOD, Dataset, context
from benchmarks._harness import Timer
from yikatong.catalog import SubsidyItem
from yikatong.rules import Rule, ValidationContext, validate, validate_partitioned
from yikatong.rules.engine import Engine
from yikatong.rules.registry import RULES

__all__ = ["from_parquet", "in_memory", "partitioned", "rule_set"]


def rule_set(rules: str) -> tuple[Rule, ...]:
    """The rules named by ``rules``: ``all``, ``no-near`` (all but ``DUP_NEAR``), ``roster-only`` (the rules that
    need nothing but the roster: ingestion, identity, amounts and ``DUP_IN_BATCH``), ``registry-join``
    (``ACCOUNT_NOT_REGISTERED``), ``accounts`` (the account family) or ``none``."""
    if rules == "all":
        return RULES
    if rules == "no-near":
        return tuple(r for r in RULES if r.code != "DUP_NEAR")
    if rules == "roster-only":
        return tuple(r for r in RULES if r.family in ("ingestion", "identity", "amounts") or r.code == "DUP_IN_BATCH")
    if rules == "registry-join":
        return tuple(r for r in RULES if r.code == "ACCOUNT_NOT_REGISTERED")
    if rules == "accounts":
        return tuple(r for r in RULES if r.family == "accounts")
    if rules == "none":
        return ()
    raise ValueError(f"unknown rule set {rules!r}: use all, no-near, roster-only, registry-join, accounts or none")


def _inputs(folder: str, *, lazy_files: bool) -> tuple[Dataset, ValidationContext, SubsidyItem]:
    data = Dataset(Path(folder))
    ctx = context(data, lazy_files=lazy_files)
    assert ctx.catalog is not None
    return data, ctx, ctx.catalog[data.manifest["item"]]


def _result(data: Dataset, timer: Timer, report: Any, roster_mb: float | None) -> dict[str, Any]:
    counts = {code: n for code, _sev, _zh, _en, n in report.counts_by_code.iter_rows()}
    return {
        "rows": data.rows,
        "seconds": timer.seconds,
        "rows_per_s": data.rows / timer.seconds,
        "rss_before_mb": timer.rss_before_mb,
        "roster_mb": roster_mb,
        "rules_run": list(report.rules_run),
        "skipped": dict(report.skipped),
        "findings": int(report.issues.height),
        "code_counts": counts,
    }


def in_memory(folder: str, rules: str = "all", issues_out: str | None = None) -> dict[str, Any]:
    """Validate the roster held in memory (in-memory engine); optionally write the issues to ``issues_out``."""
    data, ctx, item = _inputs(folder, lazy_files=False)
    roster = data.read("roster")
    roster_mb = roster.estimated_size("mb")
    timer = Timer()
    with timer.measure():
        report = validate(roster, item=item, period=PERIOD, context=ctx, rules=rule_set(rules))
    if issues_out is not None:
        report.issues.select("row_id", "code").write_parquet(issues_out)
    return _result(data, timer, report, roster_mb)


def from_parquet(folder: str, rules: str = "no-near", engine: Engine = "streaming") -> dict[str, Any]:
    """Validate straight from the Parquet files (reading included in the time) with ``engine``."""
    data, ctx, item = _inputs(folder, lazy_files=True)
    timer = Timer()
    with timer.measure():
        report = validate(
            data.scan("roster"), item=item, period=PERIOD, context=ctx, rules=rule_set(rules), engine=engine
        )
    return _result(data, timer, report, None)


def partitioned(
    folder: str, rules: str = "no-near", partitions: int | None = None, workdir: str | None = None
) -> dict[str, Any]:
    """Validate from the Parquet files with the partitioned runner (splitting and merging included in the time)."""
    data, ctx, item = _inputs(folder, lazy_files=True)
    timer = Timer()
    with timer.measure():
        report = validate_partitioned(
            data.scan("roster"),
            item=item,
            period=PERIOD,
            context=ctx,
            rules=rule_set(rules),
            partitions=partitions,
            workdir=workdir or str(data.folder),
        )
    return {**_result(data, timer, report, None), "partitions": partitions}
