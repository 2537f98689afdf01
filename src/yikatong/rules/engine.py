"""The engine: compile an item's rule set into one lazy plan and run it once.

Row rules become boolean columns added in one ``with_columns``; cross-row rules are window expressions in the same
step; rules that need other frames get them through shared [`Derivation`][yikatong.rules.Derivation] joins. The
verdicts, the issues and the examples are three branches of the same plan, collected together with
``collect_all`` so the shared part is computed once.

A small roster (an in-memory frame of at most [`SMALL_ROWS`][yikatong.rules.engine.SMALL_ROWS] rows) has its
shared part collected first and the branches run over that frame: planning every branch over the whole rule plan
costs a fixed few tenths of a second, more than the rules themselves on a correction batch of twenty rows. The
report is the same either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import polars as pl
from attrs import frozen

from yikatong.catalog import SubsidyItem
from yikatong.codes import Severity
from yikatong.period import Period, period_of_kind
from yikatong.privacy import mask_id_expr, scrub_expr
from yikatong.rules._rule import Derivation, Finding, Rule, RuleEnv
from yikatong.rules.context import ValidationContext
from yikatong.rules.controls import control_report
from yikatong.rules.report import ISSUES_SCHEMA, ValidationReport
from yikatong.schema import FLAG_COLUMNS

__all__ = [
    "SMALL_ROWS",
    "Engine",
    "Plan",
    "build_plan",
    "examples_plan",
    "form_fields",
    "prepare_roster",
    "prepare_run",
    "select_rules",
    "severity_rank",
    "validate",
    "verdict_expr",
]

Engine = Literal["in-memory", "streaming"]
_RANK: dict[str, int] = {"fix": 0, "review": 1, "block": 2}
SMALL_ROWS = 50_000
"""An in-memory roster of at most this many rows is validated in two steps (the rules, then their findings), which
spares the planner the whole plan under each branch; a larger or lazy roster runs as one plan."""


def validate(
    roster: pl.DataFrame | pl.LazyFrame,
    /,
    *,
    item: SubsidyItem,
    period: str | Period,
    context: ValidationContext | None = None,
    engine: Engine = "in-memory",
    rules: Sequence[Rule] | None = None,
    example_limit: int = 5,
) -> ValidationReport:
    """Validate a roster against one subsidy item for one period.

    Args:
        roster: A frame in the canonical schema (see [`yikatong.schema`][]), as [`yikatong.read_roster`][]
            returns it. A LazyFrame of any size works; nothing is collected before the single run.
        item: The catalogue entry: its standard, caps, lists and severity overrides drive the rules.
        period: The period paid for (``"2026-11"``, ``"2026-Q4"``, ``"2026"``) or a [`Period`][yikatong.Period].
        context: Registry, reference lists, ledger, bank verification and declared totals. Rules needing what is
            not supplied are skipped, and the report says so.
        engine: ``"in-memory"`` or ``"streaming"`` (Polars' streaming engine, for rosters larger than memory).
        rules: The rules to run; defaults to every rule of the library ([`yikatong.rules.RULES`][]). The item's
            own rules of the catalogue (``[[item.rules]]``) run in any case.
        example_limit: Example rows kept per code in the report.

    Returns:
        A [`ValidationReport`][yikatong.ValidationReport] with one verdict per roster row.

    Raises:
        ReferenceDataError: when a context frame lacks a column the rules read.
        PeriodKindError: when the period is of another kind than the item's (a quarter for a monthly item).
        ValueError: when the roster has no ``row_id`` column and no ``id_number`` column, or ``engine`` is unknown.
    """
    if engine not in ("in-memory", "streaming"):
        raise ValueError(f"unknown engine {engine!r}: use 'in-memory' or 'streaming'")
    lf, env, active, skipped = prepare_run(roster, item=item, period=period, context=context, rules=rules)
    per = env.period
    plan = build_plan(lf, env, active, eager=engine == "in-memory" and _small(roster))
    examples_lf = examples_plan(plan.issues, plan.base, env.columns, example_limit)
    sums = plan.base.select(pl.len().alias("rows"), _amount_sum(env.columns))
    verdicts, issues, examples, figures = pl.collect_all(
        [plan.verdicts, plan.issues, examples_lf, sums], engine=_polars_engine(engine)
    )
    rows, total = figures.row(0)
    return ValidationReport(
        item=item.code,
        period=per,
        verdicts=verdicts,
        issues=issues.sort("row_id", "code", nulls_last=True),
        examples=examples.sort("code", "row_id"),
        skipped=skipped,
        rules_run=tuple(r.code for r in active),
        controls=control_report(item, env.context),
        **form_fields(env.context, rows, total),
    )


def _small(roster: pl.DataFrame | pl.LazyFrame) -> bool:
    return isinstance(roster, pl.DataFrame) and roster.height <= SMALL_ROWS


def _eager_optimizations() -> pl.QueryOptFlags:
    """Polars' optimisations for the small frame collected first, less expression simplification: walking the
    rule expressions costs more than it saves on a few thousand rows (the result is the same either way)."""
    flags = pl.QueryOptFlags()
    flags.simplify_expression = False
    return flags


def _amount_sum(columns: frozenset[str]) -> pl.Expr:
    fen = pl.col("amount_fen").sum() if "amount_fen" in columns else pl.lit(None, pl.Int64)
    return fen.alias("amount_fen")


def form_fields(context: ValidationContext, rows: int, total_fen: int | None) -> dict[str, Any]:
    """The report's ``non_payee_lines`` and ``declared`` from the context, beside the roster's ``rows`` and
    ``total_fen`` (its sum of ``amount_fen``)."""
    count, total, source = context.declared()
    declared: dict[str, Any] = {}
    if count is not None or total is not None:
        declared = {
            "source": source,
            "count": count,
            "total_fen": total,
            "roster_rows": rows,
            "roster_total_fen": total_fen,
        }
    fields: dict[str, Any] = {"declared": declared}
    if context.form is not None:
        fields["non_payee_lines"] = context.form.non_payee_lines
    return fields


def prepare_run(
    roster: pl.DataFrame | pl.LazyFrame,
    *,
    item: SubsidyItem,
    period: str | Period,
    context: ValidationContext | None,
    rules: Sequence[Rule] | None,
) -> tuple[pl.LazyFrame, RuleEnv, list[Rule], dict[str, str]]:
    """What every runner does first: check the context, prepare the roster, and split the rules (every rule of the
    library when ``rules`` is None, and always the item's own rules of the catalogue) into those that run and those
    skipped.

    Returns:
        The prepared roster, the rules' environment, the active rules and the skipped ones (code → reason).
    """
    if rules is None:
        from yikatong.rules.registry import RULES

        rules = RULES
    from yikatong.rules.custom import item_rules

    given = {r.code for r in rules}
    rules = [*rules, *(r for r in item_rules(item) if r.code not in given)]
    ctx = context or ValidationContext()
    ctx.check()
    lf = prepare_roster(roster)
    per = period_of_kind(period, item.period, item=item.code)
    env = RuleEnv(item=item, period=per, context=ctx, columns=frozenset(lf.collect_schema().names()))
    active, skipped = select_rules(rules, env)
    return lf, env, active, skipped


def prepare_roster(roster: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """The roster as the rules read it: ``row_id`` numbered from 1 when absent, missing flag columns false.

    Raises:
        ValueError: when the roster has no ``id_number`` column.
    """
    lf = roster.lazy()
    names = lf.collect_schema().names()
    if "id_number" not in names:
        raise ValueError("the roster has no id_number column / 名单缺少身份证号列")
    if "row_id" not in names:
        lf = lf.with_row_index("row_id", offset=1).with_columns(pl.col("row_id").cast(pl.Int64))
    missing_flags = [pl.lit(False).alias(c) for c in FLAG_COLUMNS if c not in names]
    return lf.with_columns(missing_flags) if missing_flags else lf


@frozen
class Plan:
    """The lazy outputs of one rule set over one prepared frame, sharing one cache point (``base``).

    Attributes:
        base: The prepared frame with the derivations applied and a hit and severity column per row rule.
        verdicts: ``row_id, verdict`` for every row.
        ranks: ``row_id, _rank`` for every row: the verdict as the Int8 rank of the row's worst finding (``-1`` none,
            ``0`` fix, ``1`` review, ``2`` block), for a caller that merges verdicts with findings made elsewhere.
        issues: Every finding (row-level and batch-level) in ``ISSUES_SCHEMA``.
    """

    base: pl.LazyFrame
    verdicts: pl.LazyFrame
    ranks: pl.LazyFrame
    issues: pl.LazyFrame


def build_plan(
    lf: pl.LazyFrame,
    env: RuleEnv,
    active: Sequence[Rule],
    *,
    derive: bool = True,
    extra: Sequence[Derivation] = (),
    eager: bool = False,
) -> Plan:
    """Compile ``active`` into one lazy plan over ``lf`` (a frame from
    [`prepare_roster`][yikatong.rules.engine.prepare_roster]).

    With ``derive=False`` the derivations are not applied: the caller's frame already has the columns they add
    (the partitioned runner prepares them itself for the rules it evaluates apart). ``extra`` names derivations to
    apply even when no rule asks for them, so that ``base`` carries their columns. With ``eager=True`` the frame
    with every row rule evaluated is collected now and ``base`` is that frame in memory, not a cache point: the
    branches then plan over one in-memory frame (for small rosters, where planning is the larger cost).
    """
    if derive:
        for derivation in _ordered_derivations(active, extra):
            lf = derivation.apply(lf, env)
    item = env.item
    row_rules = [(r, r.build(env)) for r in active if r.key_in(env) != "batch"]
    batch_rules = [(r, r.build(env)) for r in active if r.key_in(env) == "batch"]

    hits: list[pl.Expr] = []
    ranks: list[pl.Expr] = []
    for rule, finding in row_rules:
        hit_col = f"_hit_{rule.code}"
        hits.append(finding.hit.fill_null(False).alias(hit_col))
        hits.append(_severity_expr(rule, finding, item).alias(f"_sev_{rule.code}"))
        ranks.append(
            pl.when(pl.col(hit_col)).then(severity_rank(pl.col(f"_sev_{rule.code}"))).otherwise(pl.lit(-1, pl.Int8))
        )
    # One cache point: the verdicts, every issue branch and the examples read the same evaluated rules, which
    # common-subplan elimination alone does not guarantee across collect_all's branches.
    base = lf.with_columns(hits) if hits else lf
    if eager:  # only the rules that found something get an issue branch (most find nothing on a small roster)
        evaluated = base.collect(optimizations=_eager_optimizations())
        found = evaluated.select(pl.col(f"_hit_{r.code}").any() for r, _ in row_rules).row(0) if row_rules else ()
        row_rules = [pair for pair, hit in zip(row_rules, found, strict=True) if hit]
        base = evaluated.lazy()
    else:
        base = base.cache()
    rank = pl.max_horizontal(ranks) if ranks else pl.lit(-1, pl.Int8)
    verdicts_lf = base.select(pl.col("row_id"), verdict_expr(rank).alias("verdict"))
    ranks_lf = base.select(pl.col("row_id"), rank.alias("_rank"))

    parts = [
        base.filter(pl.col(f"_hit_{rule.code}")).select(
            pl.col("row_id"),
            pl.lit(rule.code).alias("code"),
            pl.col(f"_sev_{rule.code}").alias("severity"),
            pl.lit(rule.message_zh).alias("message_zh"),
            pl.lit(rule.message_en).alias("message_en"),
            _evidence(finding),
        )
        for rule, finding in row_rules
    ]
    for rule, finding in batch_rules:
        parts.append(
            base.select(
                finding.hit.fill_null(False).alias("_hit"),
                pl.lit(None, pl.Int64).alias("row_id"),
                pl.lit(rule.code).alias("code"),
                _severity_expr(rule, finding, item).first().alias("severity"),
                pl.lit(rule.message_zh).alias("message_zh"),
                pl.lit(rule.message_en).alias("message_en"),
                _evidence(finding),
            )
            .filter(pl.col("_hit"))
            .drop("_hit")
        )
    empty = pl.LazyFrame(schema=ISSUES_SCHEMA)
    issues_lf = pl.concat([empty, *(p.cast(pl.Schema(ISSUES_SCHEMA)) for p in parts)], how="vertical")
    return Plan(base=base, verdicts=verdicts_lf, ranks=ranks_lf, issues=issues_lf)


def _evidence(finding: Finding) -> pl.Expr:
    """A finding's evidence as text, every long number in it masked ([`yikatong.privacy.scrub`][]): evidence
    may echo a cell, and a cell may hold an ID or a card number that slipped into the wrong column."""
    if finding.evidence is None:
        return pl.lit("").alias("evidence")
    return scrub_expr(finding.evidence.cast(pl.String)).alias("evidence")


def verdict_expr(rank: pl.Expr) -> pl.Expr:
    """The verdict of a rank (2 block, 1 review, otherwise pass)."""
    return pl.when(rank == 2).then(pl.lit("block")).when(rank == 1).then(pl.lit("review")).otherwise(pl.lit("pass"))


def severity_rank(severity: pl.Expr) -> pl.Expr:
    """The rank of a severity column (``fix`` 0, ``review`` 1, ``block`` 2) as Int8."""
    return severity.replace_strict(_RANK, return_dtype=pl.Int8)


def examples_plan(issues: pl.LazyFrame, rows: pl.LazyFrame, columns: frozenset[str], limit: int) -> pl.LazyFrame:
    """The first ``limit`` row-level findings per code (in ``issues`` order), with the row's personal data masked.

    ``rows`` supplies ``row_id`` and whichever of ``source_line``, ``name``, ``id_number``, ``amount_fen`` are in
    ``columns`` (the others come out null).
    """
    example_cols = [pl.col("row_id")]
    example_cols.append(
        pl.col("source_line") if "source_line" in columns else pl.lit(None, pl.Int64).alias("source_line")
    )
    example_cols.append(pl.col("name") if "name" in columns else pl.lit(None, pl.String).alias("name"))
    example_cols.append(pl.col("id_number"))
    example_cols.append(pl.col("amount_fen") if "amount_fen" in columns else pl.lit(None, pl.Int64).alias("amount_fen"))
    return (
        issues.filter(pl.col("row_id").is_not_null())
        .filter(pl.int_range(pl.len()).over("code") < limit)
        .select("code", "row_id", "evidence")
        .join(rows.select(example_cols), on="row_id", how="left")
        .with_columns(  # only the few example rows
            mask_id_expr(pl.col("id_number")).alias("id_masked"), scrub_expr(pl.col("name")).alias("name")
        )
        .select("code", "row_id", "source_line", "name", "id_masked", "amount_fen", "evidence")
    )


def _polars_engine(engine: Engine) -> Literal["in-memory", "streaming"]:
    return engine


def select_rules(rules: Sequence[Rule], env: RuleEnv) -> tuple[list[Rule], dict[str, str]]:
    """Split ``rules`` into those that run and those skipped (code → reason: a missing column or input, or the
    rule's own reason).

    Raises:
        ValueError: when a code is given twice.
    """
    available = env.context.available_inputs()
    active: list[Rule] = []
    skipped: dict[str, str] = {}
    seen: set[str] = set()
    for rule in rules:
        if rule.code in seen:
            raise ValueError(f"rule {rule.code} given twice")
        seen.add(rule.code)
        missing_cols = [c for c in rule.columns if c not in env.columns]
        missing_inputs = [i for i in rule.inputs if i not in available]
        if missing_cols:
            skipped[rule.code] = f"roster has no column {', '.join(missing_cols)}"
        elif missing_inputs:
            skipped[rule.code] = f"not supplied: {', '.join(missing_inputs)}"
        elif (reason := rule.applies(env)) is not None:
            skipped[rule.code] = reason
        else:
            active.append(rule)
    return active, skipped


def _ordered_derivations(rules: Sequence[Rule], extra: Sequence[Derivation] = ()) -> list[Derivation]:
    ordered: list[Derivation] = []
    state: dict[str, Derivation | None] = {}  # name -> derivation once done; None while being visited

    def visit(d: Derivation) -> None:
        if d.name in state:
            done = state[d.name]
            if done is None:
                raise ValueError(f"derivation {d.name!r} depends on itself")
            if done is not d and done != d:
                raise ValueError(f"two different derivations are named {d.name!r}")
            return
        state[d.name] = None
        for dep in d.after:
            visit(dep)
        state[d.name] = d
        ordered.append(d)

    for rule in rules:
        for d in rule.derivations:
            visit(d)
    for d in extra:
        visit(d)
    return ordered


def _severity_expr(rule: Rule, finding: Finding, item: SubsidyItem) -> pl.Expr:
    override: Severity | None = item.severity.get(rule.code)
    if override is not None:
        return pl.lit(override)
    if finding.severity is not None:
        return finding.severity.cast(pl.String)
    return pl.lit(rule.severity)
