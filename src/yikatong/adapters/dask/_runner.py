"""``validate_distributed``: the partitioned runner's steps as Dask tasks, the parts spread over a cluster.

The steps are those of [`validate_partitioned`][yikatong.validate_partitioned] and the routing is the same
([`yikatong.rules.routing`][]); only where the parts live differs: in the workers' memory (spilled to their disks
by Dask when it runs short) instead of in files on one machine.

1. Each roster piece (a Parquet file, or a partition of a Dask DataFrame) is read by a worker and kept there.
2. The whole-roster facts and the batch rules read the few columns they need, gathered on the client.
3. For each split, every piece is cut into the parts of the split (a task per piece), and every part gathers its
   cuts from all pieces (a task per part; only that part's cut travels), with the context frames split the same way.
4. The same plan runs on each part; the account and near-duplicate splits follow as in the partitioned runner.
5. Ranks, issues and pairs are gathered on the client and merged as
   [`validate_partitioned`][yikatong.validate_partitioned] merges them.

A task whose worker dies is run again elsewhere (Dask keeps every task's recipe: the pieces are re-read from their
files); when a task keeps failing the run stops with [`DistributedRunError`][yikatong.adapters.dask.DistributedRunError]
and no report.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import Any

import polars as pl
from attrs import evolve
from distributed import Client, Future, as_completed

from yikatong.adapters.dask import _tasks
from yikatong.adapters.dask._byvalue import carried, own_modules
from yikatong.adapters.dask._inputs import sources, with_paths, workers
from yikatong.catalog import SubsidyItem
from yikatong.period import Period
from yikatong.rules._rule import Rule, RuleEnv
from yikatong.rules.context import ValidationContext
from yikatong.rules.engine import examples_plan, form_fields, prepare_run
from yikatong.rules.partitioned import DEFAULT_PART_ROWS
from yikatong.rules.report import ISSUES_SCHEMA, ValidationReport
from yikatong.rules.routing import (
    RANKS_SCHEMA,
    Routing,
    merge_parts,
    near_issues,
    route,
    split_context,
    whole_roster_plans,
)

__all__ = ["DistributedRunError", "Progress", "validate_distributed"]

Progress = Callable[[str, int, int], None]
"""Told ``(step, done, total)`` as the cluster finishes each task of a step."""


class DistributedRunError(RuntimeError):
    """The cluster could not finish the run (a task failed again and again, a worker kept dying, the input could
    not be read). No report is made from part of the work."""


def validate_distributed(
    roster: str | Sequence[str] | pl.DataFrame | Any,
    /,
    *,
    item: SubsidyItem,
    period: str | Period,
    client: Client,
    context: ValidationContext | None = None,
    context_paths: Mapping[str, str | Sequence[str]] | None = None,
    rules: Sequence[Rule] | None = None,
    partitions: int | None = None,
    example_limit: int = 5,
    storage_options: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
) -> ValidationReport:
    """Validate a roster on a Dask cluster; the report equals [`validate`][yikatong.validate]'s.

    Args:
        roster: The roster in the canonical schema: Parquet paths (a path, a glob, a folder's files, or a list of
            them; local or any fsspec URL such as ``s3://bucket/roster/*.parquet``), each file a piece the workers
            read themselves; a Dask DataFrame (each partition a piece); or a Polars DataFrame (sent to the cluster
            in pieces by the client).
        item: The catalogue entry.
        period: The period paid for.
        client: A ``distributed.Client`` connected to the cluster.
        context: Registry, reference lists, ledger, bank verification and declared totals. Frames that are
            ``pl.scan_parquet`` scans of paths the workers can reach are read by the workers.
        context_paths: Context frames as Parquet paths (a path, a glob or a list; local or a URL Polars reads:
            ``s3://``, ``gs://``, ``az://``, ``https://``), by name: ``registry``, ``ledger``,
            ``bank_verification``, ``reference:<list>``. They replace those of ``context`` and are read by the
            workers; each must already have the columns the rules read (as [`yikatong.ingest`][] loads them).
        rules: The rules to run; defaults to every rule of the library.
        partitions: Parts per split; by default one per
            [`DEFAULT_PART_ROWS`][yikatong.rules.partitioned.DEFAULT_PART_ROWS] rows, and at least one per worker.
        example_limit: Example rows kept per code.
        storage_options: Options of the fsspec file system of ``roster``'s URLs (credentials, endpoint).
        progress: Called with ``(step, done, total)`` as tasks finish.

    Returns:
        The [`ValidationReport`][yikatong.ValidationReport] [`validate`][yikatong.validate] would give (verdicts sorted
        by ``row_id``).

    Raises:
        DistributedRunError: when the cluster cannot finish the run; nothing is reported.
        FileNotFoundError: when a roster path matches no file.
        ValueError: when the roster has no ``id_number`` column, or ``partitions`` is not a whole number of at
            least 1.
        ReferenceDataError: when a context frame lacks a column the rules read.
    """
    if partitions is not None and (isinstance(partitions, bool) or not isinstance(partitions, int) or partitions < 1):
        raise ValueError(f"partitions must be a whole number of at least 1, got {partitions!r}")
    if context_paths:
        context = with_paths(context or ValidationContext(), context_paths)
    run = _Run(client, progress)
    try:
        return run.validate(
            sources(client, roster, storage_options),
            item=item,
            period=period,
            context=context,
            rules=rules,
            partitions=partitions,
            example_limit=example_limit,
        )
    except (ValueError, OSError, DistributedRunError):
        raise
    except (Exception, asyncio.CancelledError) as exc:  # KilledWorker, a cancelled future, a task's own error
        raise DistributedRunError(
            f"集群未能完成校验，未生成报告 / the cluster could not finish the validation, no report was made: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    finally:
        run.release()


class _Run:
    """One distributed validation: the futures it holds, released at the end whatever happens."""

    def __init__(self, client: Client, progress: Progress | None) -> None:
        self.client = client
        self.progress = progress
        self.held: list[Future] = []
        self.modules: tuple[ModuleType, ...] = ()

    def release(self) -> None:
        for future in self.held:
            future.release()
        self.held.clear()

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
        future = self.client.submit(fn, *args, pure=False, **kwargs)
        self.held.append(future)
        return future

    def done(self, step: str, futures: Sequence[Future]) -> None:
        """Wait until ``futures`` are computed (their results stay on the workers), telling the progress callback
        as each finishes.

        Raises:
            Exception: the first failed task's error.
        """
        total = len(futures)
        if self.progress is not None:
            self.progress(step, 0, total)
        for finished, future in enumerate(as_completed(futures), start=1):
            if future.status == "error":
                future.result()  # raises the task's error
            if self.progress is not None:
                self.progress(step, finished, total)

    def wait(self, step: str, futures: Sequence[Future]) -> list[Any]:
        """Wait for ``futures`` as ``done`` does; their results, here, in order."""
        self.done(step, futures)
        return list(self.client.gather(list(futures)))

    def forget(self, futures: Sequence[Future]) -> None:
        """Let the cluster drop results no longer needed (their recipes stay while something depends on them)."""
        ids = {id(f) for f in futures}
        for future in futures:
            future.release()
        self.held = [f for f in self.held if id(f) not in ids]

    def shuffle(self, step: str, pieces: Sequence[Future], n: int, fn: Callable[..., Any], *args: Any) -> list[Future]:
        """Cut every piece into ``n`` parts with ``fn(piece, *args)`` and gather each part from all the pieces'
        cuts: ``result[k]`` is part ``k``, held on a worker."""
        cuts = [self.submit(fn, piece, *args) for piece in pieces]
        picks = [[self.submit(_tasks.pick, c, k) for c in cuts] for k in range(n)]
        parts = [self.submit(_tasks.concat, picks[k]) for k in range(n)]
        self.done(step, parts)
        self.forget([*cuts, *(p for row in picks for p in row)])
        return parts

    # --- the steps -----------------------------------------------------------------------------------------------

    def validate(
        self,
        sources: list[Future],
        *,
        item: SubsidyItem,
        period: str | Period,
        context: ValidationContext | None,
        rules: Sequence[Rule] | None,
        partitions: int | None,
        example_limit: int,
    ) -> ValidationReport:
        heights = self.wait("read the roster", [self.submit(_tasks.height, s) for s in sources])
        schema: pl.Schema = self.client.gather(self.submit(_tasks.prepared_schema, sources[0]))
        offsets = [sum(heights[:k]) for k in range(len(heights))]
        pieces = [self.submit(_tasks.prepare_piece, s, off, schema) for s, off in zip(sources, offsets, strict=True)]
        for source in sources:
            source.release()  # the pieces keep their recipe: a lost piece is read again

        _, env, active, skipped = prepare_run(
            pl.LazyFrame(schema=schema), item=item, period=period, context=context, rules=rules
        )
        routing = route(active, env)
        self.modules = own_modules(active)
        rows = sum(heights)
        n = partitions or max(workers(self.client), math.ceil(rows / DEFAULT_PART_ROWS))

        facts, batch_issues = self._whole_roster(pieces, env, routing)
        env = evolve(env, facts={**env.facts, **facts})
        ranks, issues, extra = self._splits(pieces, env, routing, n)
        if batch_issues is not None:
            extra.append(batch_issues)
        merged, verdicts = merge_parts(ranks, issues, extra)
        examples = self._examples(pieces, merged, env, example_limit)
        total = None
        if "amount_fen" in env.columns:
            total = sum(self.wait("roster total", [self.submit(_tasks.amount_total, p) for p in pieces]))
        return ValidationReport(
            item=item.code,
            period=env.period,
            verdicts=verdicts,
            issues=merged,
            examples=examples,
            skipped=skipped,
            rules_run=tuple(r.code for r in active),
            **form_fields(env.context, rows, total),
        )

    def _whole_roster(
        self, pieces: Sequence[Future], env: RuleEnv, routing: Routing
    ) -> tuple[dict[str, float | None], pl.DataFrame | None]:
        """The facts and the batch rules' findings, over the columns they read, gathered here."""
        if not routing.batch and not routing.facts:
            return {}, None
        # A batch rule may read no roster column at all (CONTROL_MISSING looks at the context only): it still runs,
        # over the row numbers, so that every batch finding validate reports is reported here too.
        columns = _columns_read(env, routing) or ["row_id"]
        parts = self.wait("batch facts", [self.submit(_tasks.facts_columns, p, columns) for p in pieces])
        lf = pl.concat(parts).lazy()
        figures, batch = whole_roster_plans(lf, env, routing, count=False)
        plans = [p for p in (figures, batch) if p is not None]
        results = pl.collect_all(plans)
        values: dict[str, float | None] = dict(results[0].row(0, named=True)) if figures is not None else {}
        return values, (results[-1] if batch is not None else None)

    def _splits(
        self, pieces: Sequence[Future], env: RuleEnv, routing: Routing, n: int
    ) -> tuple[pl.LazyFrame, pl.LazyFrame, list[pl.DataFrame]]:
        """Every split in turn (shuffle, then rules): the main parts' ranks and issues, the other findings."""
        ship = carried(_shipped(env, routing), self.modules)
        sent = carried(routing, self.modules)
        ranks: list[pl.DataFrame] = []
        issues: list[pl.DataFrame] = []
        extra: list[pl.DataFrame] = []
        handed: list[Future] = []
        for split in sorted(routing.splits, key=lambda s: s != routing.main):
            rows = self.shuffle(f"shuffle by {split}", pieces, n, _tasks.split_pieces, split, ship, n)
            context = {
                name: self.shuffle(
                    f"shuffle {name} by {split}", [self.submit(_lazy, frame)], n, _tasks.context_pieces, n
                )
                for name, frame in split_context(routing, split, env).items()
            }
            outputs = [
                self.submit(
                    _tasks.split_stage, rows[k], {name: c[k] for name, c in context.items()}, ship, sent, split, n
                )
                for k in range(n)
            ]
            self.done(f"rules by {split}", outputs)
            found = self.client.gather([self.submit(_tasks.item, out, 1) for out in outputs])
            if split == routing.main:
                ranks.extend(self.client.gather([self.submit(_tasks.item, out, 0) for out in outputs]))
                issues.extend(found)
                if routing.account:
                    handed = [self.submit(_tasks.item, out, 2) for out in outputs]
            else:
                extra.extend(found)
            self.forget([*rows, *(f for c in context.values() for f in c), *outputs])
        if routing.account:
            extra.append(self._accounts(handed, env, ship, routing, n))
        if routing.near:
            extra.append(self._near(pieces, env, ship, routing, n))
        merged_ranks = pl.concat(ranks) if ranks else pl.DataFrame(schema=RANKS_SCHEMA)
        merged_issues = pl.concat(issues) if issues else pl.DataFrame(schema=ISSUES_SCHEMA)
        return merged_ranks.lazy(), merged_issues.lazy(), extra

    def _accounts(
        self, handed: Sequence[Future], env: RuleEnv, ship: RuleEnv, routing: Routing, n: int
    ) -> pl.DataFrame:
        """The ``account`` rules: the keys the main parts handed over, and the registry's holders, by account."""
        keys = [self.submit(_tasks.concat, [self.submit(_tasks.pick, h, k) for h in handed]) for k in range(n)]
        self.done("shuffle by account", keys)
        registry = env.context.registry
        holders = (
            None
            if registry is None
            else self.shuffle(
                "shuffle registry by account", [self.submit(_lazy, registry)], n, _tasks.context_pieces, n, "account"
            )
        )
        accounts = carried(routing.account, self.modules)
        futures = [
            self.submit(_tasks.account_stage, keys[k], None if holders is None else holders[k], ship, accounts)
            for k in range(n)
        ]
        found = self.wait("rules by account", futures)
        return pl.concat(found) if found else pl.DataFrame(schema=ISSUES_SCHEMA)

    def _near(self, pieces: Sequence[Future], env: RuleEnv, ship: RuleEnv, routing: Routing, n: int) -> pl.DataFrame:
        """The ``near`` rules: rows shuffled to the parts of their blocks, each part's pairs, merged here."""
        rows = self.shuffle("shuffle by near-duplicate block", pieces, n, _tasks.near_pieces, env.columns, n)
        pairs = self.wait(
            "rules by near-duplicate block", [self.submit(_tasks.near_stage, rows[k], ship, k, n) for k in range(n)]
        )
        return near_issues(pl.concat(pairs).lazy(), env, routing.near)

    def _examples(self, pieces: Sequence[Future], issues: pl.DataFrame, env: RuleEnv, limit: int) -> pl.DataFrame:
        chosen = issues.filter(pl.col("row_id").is_not_null()).filter(pl.int_range(pl.len()).over("code") < limit)
        ids = chosen["row_id"].unique()
        found = self.wait("examples", [self.submit(_tasks.rows_with_ids, p, ids) for p in pieces])
        rows = pl.concat(found).lazy()
        return examples_plan(chosen.lazy(), rows, env.columns, limit).collect().sort("code", "row_id")


def _lazy(frame: pl.LazyFrame) -> pl.LazyFrame:
    """A context frame as a task's result (its plan travels; a worker reads it)."""
    return frame


def _columns_read(env: RuleEnv, routing: Routing) -> list[str]:
    """The roster columns the facts and the batch rules read (by the names their expressions use)."""
    names: set[str] = set()
    for _, fact in routing.facts.items():
        names.update(fact().meta.root_names())
    for rule in routing.batch:
        finding = rule.build(env)
        names.update(rule.columns)
        for expr in (finding.hit, finding.evidence, finding.severity):
            if expr is not None:
                names.update(expr.meta.root_names())
    return sorted(n for n in names if n in env.columns)


def _shipped(env: RuleEnv, routing: Routing) -> RuleEnv:
    """``env`` as the tasks get it: the context frames that are split travel as parts, so the whole frame is left
    out (an empty frame of its schema stands in, keeping the inputs present)."""
    ctx = env.context
    split_names = {name for split in routing.splits for name in split_context(routing, split, env)}
    registry = ctx.registry.clear() if ctx.registry is not None and "registry" in split_names else ctx.registry
    ledger = ctx.ledger.clear() if ctx.ledger is not None and "ledger" in split_names else ctx.ledger
    reference = {
        name: (frame.clear() if f"reference:{name}" in split_names else frame) for name, frame in ctx.reference.items()
    }
    return evolve(env, context=evolve(ctx, registry=registry, ledger=ledger, reference=reference))
