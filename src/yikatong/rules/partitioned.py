"""Validate a roster larger than memory: split it by payee onto disk, validate each part, merge the results.

[`validate`][yikatong.validate] evaluates the whole rule set as one plan; its cross-row rules (windows over the person,
the payee, the account) hold state for every row, so a roster of a hundred million rows does not fit in one machine's
memory even with the streaming engine. [`validate_partitioned`][yikatong.validate_partitioned] gives the same report
with memory bounded by one part:

The rules route themselves by the key each declares ([`yikatong.rules.routing`][]); this runner names no rule.

1. **Whole-roster figures first.** The facts the rules' derivations declare (the batch median of valid amounts) and
   the batch-level rules are computed over the whole roster by small streaming aggregations.
2. **Split by payee.** Every roster row goes to part ``person key mod N`` of the person paid (the household head for
   household items), through a streaming Parquet sink. The registry is split the same way by holder, so a person's
   rows and registry entries meet in one part; reference lists and the ledger too when the payee is the row's own
   person.
3. **Validate each part** with the ordinary plan (in memory: a part is ``1/N`` of the roster), writing verdicts and
   issues to disk.
4. **Rules keyed by something else run on their own split**: by the person or the household when that is not the
   payee (with the ledger and lists split by person), by the account paid into (the rows' paid accounts, handed
   over by the payee parts, with the registry's holders of each account), and by near-duplicate block (each row
   sent to the part of each of its blocks; the pairs of all parts merged before the findings are made).
5. **Merge.** Issues are concatenated; a row's verdict is raised by the findings of the other splits; examples
   are the first rows per code.

The report equals [`validate`][yikatong.validate]'s, row for row, when ``row_id`` grows with the roster's order (as
[`read_roster`][yikatong.read_roster] numbers it): verdicts come out sorted by ``row_id``.

The working files (about the size of the roster and registry as Parquet) go to a temporary folder, under
``workdir`` when given, and are removed at the end.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Final

import polars as pl
from attrs import evolve

from yikatong.catalog import SubsidyItem
from yikatong.period import Period
from yikatong.rules._rule import Rule, RuleEnv
from yikatong.rules.context import ValidationContext
from yikatong.rules.controls import control_report
from yikatong.rules.engine import examples_plan, form_fields, prepare_run
from yikatong.rules.near import near_parts
from yikatong.rules.report import ISSUES_SCHEMA, ValidationReport
from yikatong.rules.routing import (
    HOLDERS_SCHEMA,
    KEYS_SCHEMA,
    PART,
    RANKS_SCHEMA,
    Routing,
    Split,
    account_holders,
    account_issues,
    account_part_expr,
    context_part_expr,
    empty_issues,
    merge_parts,
    near_issues,
    near_part_pairs,
    part_context,
    roster_part_expr,
    route,
    run_part,
    split_context,
    whole_roster_plans,
)

__all__ = ["DEFAULT_PART_ROWS", "validate_partitioned"]

DEFAULT_PART_ROWS: Final = 2_000_000
"""Rows per part when ``partitions`` is not given: about 2 GB of working memory per part for the full rule set."""

_COMPRESSION: Final = "lz4"  # working files are read once, soon: speed over size
_log = logging.getLogger(__name__)


def validate_partitioned(
    roster: pl.DataFrame | pl.LazyFrame,
    /,
    *,
    item: SubsidyItem,
    period: str | Period,
    context: ValidationContext | None = None,
    rules: Sequence[Rule] | None = None,
    partitions: int | None = None,
    workdir: str | os.PathLike[str] | None = None,
    example_limit: int = 5,
) -> ValidationReport:
    """Validate a roster of any size in bounded memory (see the module docstring for how).

    Args:
        roster: The roster in the canonical schema, best a ``scan_parquet`` LazyFrame: it is read twice or three
            times, never held whole.
        item: The catalogue entry.
        period: The period paid for.
        context: Registry, reference lists, ledger, bank verification and declared totals (lazy scans welcome).
        rules: The rules to run; defaults to every rule of the library.
        partitions: Number of parts; by default one per
            [`DEFAULT_PART_ROWS`][yikatong.rules.partitioned.DEFAULT_PART_ROWS] roster rows. Peak memory follows the
            part size, so more parts means less memory.
        workdir: Folder for the working files (the system's temporary folder by default).
        example_limit: Example rows kept per code.

    Returns:
        The [`ValidationReport`][yikatong.ValidationReport] [`validate`][yikatong.validate] would give (verdicts sorted
        by ``row_id``).

    Raises:
        ReferenceDataError: when a context frame lacks a column the rules read.
        ValueError: when the roster has no ``id_number`` column, or ``partitions`` is not a whole number of at
            least 1.
        OSError: when the working folder cannot be made under ``workdir`` (missing, not writable).
    """
    if partitions is not None and (isinstance(partitions, bool) or not isinstance(partitions, int) or partitions < 1):
        raise ValueError(f"partitions must be a whole number of at least 1, got {partitions!r}")
    lf, env, active, skipped = prepare_run(roster, item=item, period=period, context=context, rules=rules)
    per = env.period
    routing = route(active, env)
    with _step("whole-roster figures"):
        rows, facts, batch_issues = _whole_roster_figures(lf, env, routing, count=partitions is None)
    if partitions is None:
        partitions = max(1, math.ceil((rows or 0) / DEFAULT_PART_ROWS))
    env = evolve(env, facts={**env.facts, **facts})

    folder = Path(tempfile.mkdtemp(prefix="yikatong-parts-", dir=workdir))
    try:
        run = _Run(lf, env, partitions, folder)
        issues, verdicts = run.execute(routing, batch_issues)
        rows_lf = run.rows(routing.main)
        with _step("examples"):
            chosen = issues.filter(pl.col("row_id").is_not_null()).filter(
                pl.int_range(pl.len()).over("code") < example_limit
            )
            # A few rows, read from the split roster by a filter the Parquet reader applies as it scans.
            example_rows = rows_lf.filter(pl.col("row_id").is_in(chosen["row_id"].unique().implode()))
            examples = examples_plan(chosen.lazy(), example_rows, env.columns, example_limit).collect(
                engine="streaming"
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    total = None
    if "amount_fen" in env.columns and env.context.declared()[1] is not None:
        total = lf.select(pl.col("amount_fen").sum()).collect(engine="streaming").item()
    return ValidationReport(
        item=item.code,
        period=per,
        verdicts=verdicts,
        issues=issues,
        examples=examples.sort("code", "row_id"),
        skipped=skipped,
        rules_run=tuple(r.code for r in active),
        controls=control_report(item, env.context),
        **form_fields(env.context, verdicts.height, total),
    )


class _Run:
    """One partitioned validation: the split files under ``folder`` and the steps over them."""

    def __init__(self, lf: pl.LazyFrame, env: RuleEnv, partitions: int, folder: Path) -> None:
        self.lf = lf
        self.env = env
        self.n = partitions
        self.folder = folder
        self.roster_schema = lf.collect_schema()

    def execute(self, routing: Routing, batch_issues: pl.DataFrame | None) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Run every split; returns the sorted issues (with ``batch_issues``, found over the whole roster) and the
        verdicts."""
        extra: list[pl.DataFrame] = []
        splits = sorted(routing.splits, key=lambda s: s != routing.main)  # the main split first
        for split in splits:
            with _step(f"split the roster and context by {split}"):
                self._split(routing, split)
            for k in range(self.n):
                with _step(f"validate part {k + 1} of {self.n} by {split}"):
                    found = self._validate_part(routing, split, k)
                if split != routing.main:
                    extra.append(found)
        if routing.account:
            with _step("rules by account"):
                extra.append(self._account_stage(routing))
        if routing.near:
            with _step("rules by near-duplicate block"):
                extra.append(self._near_stage(routing))
        if batch_issues is not None:
            extra.append(batch_issues)
        with _step("merge"):
            return self._merge(extra)

    # --- splitting -----------------------------------------------------------------------------------------------

    def _sink(self, lf: pl.LazyFrame, part: pl.Expr, name: str) -> None:
        lf.with_columns(part).sink_parquet(
            pl.PartitionBy(self.folder / name, key=PART, include_key=False),
            compression=_COMPRESSION,
            mkdir=True,
            engine="streaming",
        )

    def _scan(self, name: str, k: int | str, schema: pl.Schema) -> pl.LazyFrame:
        """Part ``k`` of the split ``name`` (``"*"``: every part; a name may be a glob too)."""
        return _scan_files(sorted(self.folder.glob(f"{name}/{PART}={k}/*.parquet")), schema)

    def _split(self, routing: Routing, split: Split) -> None:
        self._sink(self.lf, roster_part_expr(split, self.env, self.n), f"{split}/roster")
        for name, frame in split_context(routing, split, self.env).items():
            self._sink(frame, context_part_expr(self.n), f"{split}/{_safe(name)}")

    def rows(self, main: Split) -> pl.LazyFrame:
        """Every roster row, from the main split's files (for the examples)."""
        return self._scan(f"{main}/roster", "*", self.roster_schema)

    # --- the parts -----------------------------------------------------------------------------------------------

    def _validate_part(self, routing: Routing, split: Split, k: int) -> pl.DataFrame:
        part = self._scan(f"{split}/roster", k, self.roster_schema)
        frames = split_context(routing, split, self.env)
        scans = {
            name: self._scan(f"{split}/{_safe(name)}", k, frame.collect_schema()) for name, frame in frames.items()
        }
        env = evolve(self.env, context=part_context(self.env.context, scans))
        main = split == routing.main
        ranks, issues, keys = run_part(
            part, env, routing.splits[split], main=main, handover=routing.handover if main else ()
        )
        out = self.folder / "out"
        out.mkdir(exist_ok=True)
        if ranks is not None:
            # Verdicts stay Int8 ranks until the end: the 100M-row merge sorts 9 bytes a row, not 24.
            ranks.write_parquet(out / f"ranks-{k:05d}.parquet", compression=_COMPRESSION)
            issues.write_parquet(out / f"issues-{k:05d}.parquet", compression=_COMPRESSION)
        if keys is not None:
            self._sink(keys.lazy(), account_part_expr(self.n), f"keys-{k:05d}")
        return issues

    def _account_stage(self, routing: Routing) -> pl.DataFrame:
        """The ``account`` rules over a split by account: every row paying into an account, and every registry
        holder of it, meet in one part."""
        registry = self.env.context.registry
        if registry is not None:
            self._sink(account_holders(registry), account_part_expr(self.n), "registry-by-account")
        found = [
            account_issues(
                self._scan("keys-*", j, KEYS_SCHEMA),
                None if registry is None else self._scan("registry-by-account", j, HOLDERS_SCHEMA),
                self.env,
                routing.account,
            )
            for j in range(self.n)
        ]
        return pl.concat(found) if found else empty_issues()

    def _near_stage(self, routing: Routing) -> pl.DataFrame:
        """The ``near`` rules: rows sent to the part of each of their blocks, each part's pairs, merged."""
        self._sink(near_parts(self.lf, self.env.columns, self.n), pl.col(PART), "near")
        schema = near_parts(self.lf, self.env.columns, self.n).drop(PART).collect_schema()
        pairs = [near_part_pairs(self._scan("near", j, schema), self.env, j, self.n) for j in range(self.n)]
        return near_issues(pl.concat(pairs).lazy(), self.env, routing.near)

    # --- merging -------------------------------------------------------------------------------------------------

    def _merge(self, extra: Sequence[pl.DataFrame]) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The sorted issues of the parts and of ``extra``; the verdicts, raised by ``extra``'s row findings."""
        out = self.folder / "out"
        issues = _scan_files(sorted(out.glob("issues-*.parquet")), pl.Schema(ISSUES_SCHEMA))
        ranks = _scan_files(sorted(out.glob("ranks-*.parquet")), RANKS_SCHEMA)
        return merge_parts(ranks, issues, extra)


@contextmanager
def _step(what: str) -> Iterator[None]:
    """Log a step's wall time at INFO (``yikatong.rules.partitioned``): large rosters take minutes."""
    started = time.perf_counter()
    yield
    _log.info("%s: %.1f s", what, time.perf_counter() - started)


def _whole_roster_figures(
    lf: pl.LazyFrame, env: RuleEnv, routing: Routing, *, count: bool
) -> tuple[int | None, dict[str, float | None], pl.DataFrame | None]:
    """What needs every row at once, in one streaming run: the row count (when ``count``), the facts the rules'
    derivations declare, and the findings of the batch-level rules."""
    figures, batch = whole_roster_plans(lf, env, routing, count=count)
    plans = [p for p in (figures, batch) if p is not None]
    results = pl.collect_all(plans, engine="streaming") if plans else []
    values: dict[str, float | None] = dict(results[0].row(0, named=True)) if figures is not None else {}
    rows = values.pop("rows", None)
    return (None if rows is None else int(rows)), values, (results[-1] if batch is not None else None)


def _safe(name: str) -> str:
    """A context frame's name as a folder name (``reference:deceased`` → ``reference-deceased``)."""
    return name.replace(":", "-")


def _scan_files(files: Sequence[Path], schema: pl.Schema) -> pl.LazyFrame:
    """The working files as one frame (hive-style folder names are not read as columns); empty when none."""
    return pl.scan_parquet(list(files), hive_partitioning=False) if files else pl.LazyFrame(schema=schema)
