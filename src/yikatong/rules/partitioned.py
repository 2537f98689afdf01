"""Validate a roster larger than memory: split it by payee onto disk, validate each part, merge the results.

:func:`validate` evaluates the whole rule set as one plan; its cross-row rules (windows over the person, the payee,
the account) hold state for every row, so a roster of a hundred million rows does not fit in one machine's memory
even with the streaming engine. :func:`validate_partitioned` gives the same report with memory bounded by one part:

1. **Whole-roster figures first.** The batch median of valid amounts (``AMOUNT_OUTLIER``) and the batch-level rules
   (``BATCH_TOTAL_MISMATCH``) are computed over the whole roster by small streaming aggregations.
2. **Split by payee.** Every roster row goes to part ``person key mod N`` of the person paid (the household head for
   household items), through a streaming Parquet sink. The registry is split the same way by holder, so a person's
   rows and registry entries meet in one part; reference lists and the ledger too when they are keyed by the same
   person (otherwise every part reads them whole).
3. **Validate each part** with the ordinary plan (in memory: a part is ``1/N`` of the roster), writing verdicts and
   issues to disk.
4. **Rules keyed by something else run apart**, each on its own split: ``ACCOUNT_SHARED`` on a split by account
   (the rows' paid accounts with the registry's holders of each account), and, where the payee is not the row's
   own person, ``DUP_IN_BATCH`` by person and ``AMOUNT_OUTLIER``'s payees-per-household count by head.
5. **Merge.** Issues are concatenated; a row's verdict is raised by the findings of the rules run apart; examples
   are the first rows per code.

The report equals :func:`validate`'s, row for row, when ``row_id`` grows with the roster's order (as
:func:`~yikatong.read_roster` numbers it): verdicts come out sorted by ``row_id``. ``DUP_NEAR`` pairs rows across
three different block keys and is not run here; the report lists it as skipped, and ``validate(..., rules=[...])``
runs it on its own.

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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Final

import polars as pl
from attrs import evolve

from yikatong.catalog import SubsidyItem
from yikatong.period import Period
from yikatong.rules._idparse import id_key_expr as person_key_expr
from yikatong.rules._registry_join import (
    REGISTRY_JOIN,
    account_owners,
    owner_other_expr,
    payee_id_expr,
    registry_rows,
)
from yikatong.rules._rule import Rule, RuleEnv
from yikatong.rules.accounts import batch_spread
from yikatong.rules.amounts import amount_median_expr, household_limit_checked
from yikatong.rules.context import ValidationContext
from yikatong.rules.controls import control_report
from yikatong.rules.engine import (
    build_plan,
    examples_plan,
    form_fields,
    prepare_run,
    severity_rank,
    verdict_expr,
)
from yikatong.rules.report import ISSUES_SCHEMA, ValidationReport

__all__ = ["DEFAULT_PART_ROWS", "validate_partitioned"]

DEFAULT_PART_ROWS: Final = 2_000_000
"""Rows per part when ``partitions`` is not given: about 2 GB of working memory per part for the full rule set."""

_WHOLE_ROSTER: Final = {"DUP_NEAR": "pairs rows across three block keys; not run partitioned (run validate for it)"}
_PART: Final = "_part"
_COMPRESSION: Final = "lz4"  # working files are read once, soon: speed over size
_log = logging.getLogger(__name__)
_HOLDERS: Final = pl.Schema({"_rkey": pl.Int64(), "_pay_account": pl.String()})


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
        rules: The rules to run; defaults to every rule of the library. ``DUP_NEAR`` is skipped (listed in
            ``skipped`` with the reason).
        partitions: Number of parts; by default one per :data:`DEFAULT_PART_ROWS` roster rows. Peak memory
            follows the part size, so more parts means less memory.
        workdir: Folder for the working files (the system's temporary folder by default).
        example_limit: Example rows kept per code.

    Returns:
        The :class:`ValidationReport` :func:`validate` would give (verdicts sorted by ``row_id``).

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
    for rule in active:
        if rule.code in _WHOLE_ROSTER:
            skipped[rule.code] = _WHOLE_ROSTER[rule.code]
    active = [r for r in active if r.code not in _WHOLE_ROSTER]
    with _step("whole-roster figures"):
        rows, facts, batch_issues = _whole_roster_figures(lf, env, active, count=partitions is None)
    if partitions is None:
        partitions = max(1, math.ceil((rows or 0) / DEFAULT_PART_ROWS))
    env = evolve(env, facts={**env.facts, **facts})

    folder = Path(tempfile.mkdtemp(prefix="yikatong-parts-", dir=workdir))
    try:
        run = _Run(lf, env, partitions, folder)
        issues, verdicts, rows_lf = run.execute(active, batch_issues)
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
        self.schemas: dict[str, pl.Schema] = {}  # of the context frames split by person

    # --- planning ------------------------------------------------------------------------------------------------

    def _payee_is_own(self) -> bool:
        return not (self.env.item.unit == "household" and "household_head_id" in self.env.columns)

    def execute(
        self, active: Sequence[Rule], batch_issues: pl.DataFrame | None
    ) -> tuple[pl.DataFrame, pl.DataFrame, pl.LazyFrame]:
        """Run every step; returns the sorted issues (with ``batch_issues``, found over the whole roster), the
        verdicts, and the split roster (for the examples)."""
        apart: list[tuple[Rule, Callable[[Rule], pl.DataFrame]]] = []
        for rule in active:
            if rule.code == "ACCOUNT_SHARED":
                apart.append((rule, self._account_stage))
            elif rule.code == "DUP_IN_BATCH" and not self._payee_is_own():
                apart.append((rule, self._by_key(person_key_expr(pl.col("id_number")), "person")))
            elif rule.code == "AMOUNT_OUTLIER" and household_limit_checked(self.env) and self._payee_is_own():
                apart.append((rule, self._by_key(person_key_expr(pl.col("household_head_id")), "head")))
        apart_codes = {r.code for r, _ in apart}
        main = [r for r in active if not r.batch_level and r.code not in apart_codes]
        need_keys = "ACCOUNT_SHARED" in apart_codes

        with _step("split the roster by payee"):
            rows_lf = self._split_roster()
        with _step("split the registry, lists and ledger"):
            self._split_context()
        for k in range(self.n):
            with _step(f"validate part {k + 1} of {self.n}"):
                self._validate_part(k, main, need_keys)
        extra: list[pl.DataFrame] = []
        for rule, stage in apart:
            with _step(f"{rule.code} on its own split"):
                extra.append(stage(rule))
        if batch_issues is not None:
            extra.append(batch_issues)
        with _step("merge"):
            issues, verdicts = self._merge(extra)
        return issues, verdicts, rows_lf

    # --- splitting -----------------------------------------------------------------------------------------------

    def _part_expr(self, key: pl.Expr) -> pl.Expr:
        """``key mod N``; rows without a key go by ``row_id`` (they share nothing with other rows)."""
        return pl.coalesce(key % self.n, pl.col("row_id") % self.n).cast(pl.Int64).alias(_PART)

    def _sink(self, lf: pl.LazyFrame, part: pl.Expr, name: str) -> None:
        lf.with_columns(part).sink_parquet(
            pl.PartitionBy(self.folder / name, key=_PART, include_key=False),
            compression=_COMPRESSION,
            mkdir=True,
            engine="streaming",
        )

    def _scan(self, name: str, k: int | str, schema: pl.Schema) -> pl.LazyFrame:
        """Part ``k`` of the split ``name`` (``"*"``: every part; a name may be a glob too)."""
        return _scan_files(sorted(self.folder.glob(f"{name}/{_PART}={k}/*.parquet")), schema)

    def _split_roster(self) -> pl.LazyFrame:
        self._sink(self.lf, self._part_expr(person_key_expr(payee_id_expr(self.env))), "roster")
        return self._scan("roster", "*", self.roster_schema)

    def _split_context(self) -> None:
        ctx = self.env.context
        person = person_key_expr(pl.col("id_number"))
        frames: dict[str, pl.LazyFrame] = {}
        if ctx.registry is not None:
            frames["registry"] = ctx.registry
        if self._payee_is_own():
            if ctx.ledger is not None:
                frames["ledger"] = ctx.ledger
            for list_name, list_frame in ctx.reference.items():
                frames[f"reference-{list_name}"] = list_frame
        for name, frame in frames.items():
            self.schemas[name] = frame.collect_schema()
            # A frame without row_id: rows without a person key go to part 0 (they match nothing).
            self._sink(frame, pl.coalesce(person % self.n, pl.lit(0)).cast(pl.Int64).alias(_PART), name)

    def _context(self, k: int) -> ValidationContext:
        ctx = self.env.context
        changes: dict[str, object] = {}
        if "registry" in self.schemas:
            changes["registry"] = self._scan("registry", k, self.schemas["registry"])
        if "ledger" in self.schemas:
            changes["ledger"] = self._scan("ledger", k, self.schemas["ledger"])
        if self._payee_is_own() and ctx.reference:
            changes["reference"] = {
                name: self._scan(f"reference-{name}", k, self.schemas[f"reference-{name}"]) for name in ctx.reference
            }
        return evolve(ctx, **changes)  # type: ignore[arg-type]

    # --- the parts -----------------------------------------------------------------------------------------------

    def _validate_part(self, k: int, main: Sequence[Rule], need_keys: bool) -> None:
        part = self._scan("roster", k, self.roster_schema)
        env = evolve(self.env, context=self._context(k))
        # ACCOUNT_SHARED runs apart but needs the paid account, which the registry join works out here.
        plan = build_plan(part, env, main, extra=(REGISTRY_JOIN,) if need_keys else ())
        outputs = [plan.ranks, plan.issues]
        if need_keys:
            outputs.append(
                plan.base.select("row_id", "_payee_key", "_pay_account").filter(pl.col("_pay_account").is_not_null())
            )
        frames = pl.collect_all(outputs)
        out = self.folder / "out"
        out.mkdir(exist_ok=True)
        # Verdicts stay Int8 ranks until the end: the 100M-row merge sorts 9 bytes a row, not 24.
        frames[0].write_parquet(out / f"ranks-{k:05d}.parquet", compression=_COMPRESSION)
        frames[1].write_parquet(out / f"issues-{k:05d}.parquet", compression=_COMPRESSION)
        if need_keys:
            self._sink(frames[2].lazy(), self._account_part(), f"keys-{k:05d}")

    def _account_part(self) -> pl.Expr:
        return (pl.col("_pay_account").hash(17) % self.n).cast(pl.Int64).alias(_PART)

    def _account_stage(self, rule: Rule) -> pl.DataFrame:
        """``ACCOUNT_SHARED`` over a split by account: every row paying into an account, and every registry holder
        of it, meet in one part."""
        keys_schema = pl.Schema({"row_id": pl.Int64(), "_payee_key": pl.Int64(), "_pay_account": pl.String()})
        registry = self.env.context.registry
        if registry is not None:
            self._sink(
                registry_rows(registry).select("_rkey", pl.col("account").alias("_pay_account")),
                self._account_part(),
                "registry-by-account",
            )
        found: list[pl.DataFrame] = []
        for j in range(self.n):
            keys = self._scan("keys-*", j, keys_schema)
            lf = keys.join(
                batch_spread(keys, "_pay_account", "_payee_key", "_acct_payees", "_acct_rows"),
                on="_pay_account",
                how="left",
            )
            if registry is not None:
                reg = self._scan("registry-by-account", j, _HOLDERS)
                owners = account_owners(reg.rename({"_pay_account": "account"}))
                lf = lf.join(owners, left_on="_pay_account", right_on="account", how="left").with_columns(
                    owner_other_expr().alias("_owner_other")
                )
            found.append(build_plan(lf, self.env, [rule], derive=False).issues.collect())
        return pl.concat(found) if found else pl.DataFrame(schema=ISSUES_SCHEMA)

    def _by_key(self, key: pl.Expr, name: str) -> Callable[[Rule], pl.DataFrame]:
        """A stage running one rule over a split of the whole roster by ``key`` (every row sharing a key meets)."""

        def stage(rule: Rule) -> pl.DataFrame:
            self._sink(self.lf, self._part_expr(key), f"by-{name}")
            found = [
                build_plan(self._scan(f"by-{name}", j, self.roster_schema), self.env, [rule]).issues.collect()
                for j in range(self.n)
            ]
            return pl.concat(found)

        return stage

    # --- merging -------------------------------------------------------------------------------------------------

    def _merge(self, extra: Sequence[pl.DataFrame]) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The sorted issues of the parts and of ``extra``; the verdicts, raised by ``extra``'s row findings."""
        out = self.folder / "out"
        issue_files = sorted(out.glob("issues-*.parquet"))
        rank_files = sorted(out.glob("ranks-*.parquet"))
        schema = pl.Schema(ISSUES_SCHEMA)
        issues = (
            pl.concat([_scan_files(issue_files, schema), *(e.lazy().cast(schema) for e in extra)])
            .sort("row_id", "code", nulls_last=True)
            .collect()
        )
        ranked = _scan_files(rank_files, pl.Schema({"row_id": pl.Int64(), "_rank": pl.Int8()}))
        raised = [e.filter(pl.col("row_id").is_not_null()) for e in extra]
        if any(e.height for e in raised):
            ranks = (
                pl.concat([e.lazy().select("row_id", "severity") for e in raised])
                .group_by("row_id")
                .agg(severity_rank(pl.col("severity")).max().alias("_apart"))
            )
            ranked = ranked.join(ranks, on="row_id", how="left").select(
                "row_id", pl.max_horizontal("_rank", "_apart").alias("_rank")
            )
        ordered = ranked.sort("row_id").collect()
        verdicts = ordered.select("row_id", verdict_expr(pl.col("_rank")).alias("verdict"))
        return issues, verdicts


@contextmanager
def _step(what: str) -> Iterator[None]:
    """Log a step's wall time at INFO (``yikatong.rules.partitioned``): large rosters take minutes."""
    started = time.perf_counter()
    yield
    _log.info("%s: %.1f s", what, time.perf_counter() - started)


def _whole_roster_figures(
    lf: pl.LazyFrame, env: RuleEnv, active: Sequence[Rule], *, count: bool
) -> tuple[int | None, dict[str, float | None], pl.DataFrame | None]:
    """What needs every row at once, in one streaming run: the row count (when ``count``), the batch median of
    ``AMOUNT_OUTLIER`` (as a fact for the parts), and the findings of the batch-level rules."""
    figures = [pl.len().alias("rows")] if count else []
    if any(r.code == "AMOUNT_OUTLIER" for r in active):
        figures.append(amount_median_expr().alias("amount_median"))
    batch = [r for r in active if r.batch_level]
    plans = [lf.select(figures)] if figures else []
    if batch:
        plans.append(build_plan(lf, env, batch).issues)
    results = pl.collect_all(plans, engine="streaming") if plans else []
    values = results[0].row(0, named=True) if figures else {}
    rows = values.pop("rows", None)
    return rows, values, results[-1] if batch else None


def _scan_files(files: Sequence[Path], schema: pl.Schema) -> pl.LazyFrame:
    """The working files as one frame (hive-style folder names are not read as columns); empty when none."""
    return pl.scan_parquet(list(files), hive_partitioning=False) if files else pl.LazyFrame(schema=schema)
