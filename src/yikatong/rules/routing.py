"""How the runners that split a roster route the rules: by the key each rule declares, never by its code.

[`validate`][yikatong.validate] evaluates every rule over the whole roster. A runner that splits the roster (onto disk
with [`validate_partitioned`][yikatong.validate_partitioned], across a cluster with ``validate_distributed``) must put
every row sharing a rule's key into the same part. [`route`][yikatong.rules.routing.route] reads each active rule's
``Key`` for the item and roster at hand and groups the rules into *splits*:

- the **main** split, by the payee (the person paid: the household head for household items), where every row goes
  and the rules keyed by ``row`` and by the payee run; the registry is split the same way, by holder;
- a split by ``person`` or by ``household`` when that key is not the payee's (a person item with a limit of payees
  per household; a household item's windows over the person), the ledger and reference lists split by person;
- the ``account`` split, over the accounts the main split's registry join works out, with the registry split by
  account;
- the ``near`` split, rows sent to the part of each of their near-duplicate blocks, pairs merged after;
- ``batch`` rules and the whole-roster facts the derivations declare, computed over every row before the parts.

The functions here only build expressions and plans; the runners decide where the parts live.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final, Literal

import polars as pl
from attrs import evolve, frozen

from yikatong.rules._account_spread import batch_spread
from yikatong.rules._idparse import id_key_expr as person_key_expr
from yikatong.rules._registry_join import REGISTRY_JOIN, account_owners, owner_other_expr, registry_rows
from yikatong.rules._rule import Derivation, Rule, RuleEnv
from yikatong.rules.context import ValidationContext
from yikatong.rules.engine import build_plan, severity_rank, verdict_expr
from yikatong.rules.near import merge_pairs, near_pairs, near_per_row
from yikatong.rules.report import ISSUES_SCHEMA

__all__ = [
    "HOLDERS_SCHEMA",
    "KEYS_SCHEMA",
    "PART",
    "RANKS_SCHEMA",
    "Routing",
    "Split",
    "account_holders",
    "account_issues",
    "account_part_expr",
    "context_part_expr",
    "empty_issues",
    "merge_parts",
    "near_issues",
    "near_part_pairs",
    "part_context",
    "roster_part_expr",
    "route",
    "run_part",
    "split_context",
    "split_key_expr",
    "whole_roster_plans",
]

Split = Literal["person", "household"]
"""A split of whole roster rows by an ID key: the row's own person, or the household (the head, else the row)."""

PART: Final = "_part"
"""The column naming the part a row goes to."""

KEYS_SCHEMA: Final = pl.Schema({"row_id": pl.Int64(), "_payee_key": pl.Int64(), "_pay_account": pl.String()})
"""What the main split hands to the ``account`` split: each row's payee and the account it pays into."""

RANKS_SCHEMA: Final = pl.Schema({"row_id": pl.Int64(), "_rank": pl.Int8()})
"""The main parts' verdicts, as the Int8 rank of each row's worst finding (see ``Plan.ranks``)."""

HOLDERS_SCHEMA: Final = pl.Schema({"_rkey": pl.Int64(), "_pay_account": pl.String()})
"""The registry as the ``account`` split reads it ([`account_holders`][yikatong.rules.routing.account_holders])."""


@frozen
class Routing:
    """The active rules grouped by where they run (see the module docstring).

    Attributes:
        main: The split of the main parts (``person``, or ``household`` when the payee is the household head).
        splits: Rules per split of whole rows; ``splits[main]`` holds the rules keyed by ``row`` and the payee.
        account: Rules keyed by the account paid into.
        near: Rules keyed by the near-duplicate blocks.
        batch: Batch-level rules.
        facts: The whole-roster figures the derivations of the rules read (``name → aggregation``).
    """

    main: Split
    splits: dict[Split, list[Rule]]
    account: list[Rule]
    near: list[Rule]
    batch: list[Rule]
    facts: dict[str, Callable[[], pl.Expr]]

    @property
    def handover(self) -> tuple[Derivation, ...]:
        """Derivations the main parts apply for the ``account`` split even when none of their rules asks."""
        return (REGISTRY_JOIN,) if self.account else ()


def _payee_split(env: RuleEnv) -> Split:
    return "household" if env.item.unit == "household" and "household_head_id" in env.columns else "person"


def route(active: Sequence[Rule], env: RuleEnv) -> Routing:
    """Group ``active`` by the key each rule declares for ``env``."""
    main = _payee_split(env)
    splits: dict[Split, list[Rule]] = {main: []}
    account: list[Rule] = []
    near: list[Rule] = []
    batch: list[Rule] = []
    facts: dict[str, Callable[[], pl.Expr]] = {}
    for rule in active:
        for derivation in _all_derivations(rule.derivations):
            facts.update(derivation.facts)
        key = rule.key_in(env)
        if key == "batch":
            batch.append(rule)
        elif key == "account":
            account.append(rule)
        elif key == "near":
            near.append(rule)
        elif key in ("row", "payee"):
            splits[main].append(rule)
        else:
            split: Split = "person" if key == "person" else "household"
            splits.setdefault(split, []).append(rule)
    return Routing(main=main, splits=splits, account=account, near=near, batch=batch, facts=facts)


def _all_derivations(derivations: Sequence[Derivation]) -> list[Derivation]:
    found: list[Derivation] = []
    for d in derivations:
        found.extend(_all_derivations(d.after))
        found.append(d)
    return found


def _blank_to_null(expr: pl.Expr) -> pl.Expr:
    text = expr.cast(pl.String).str.strip_chars()
    return pl.when(text.str.len_chars() > 0).then(text)


def split_key_expr(split: Split, env: RuleEnv) -> pl.Expr:
    """The Int64 key of a roster row in ``split``: its own person, or its household head (its own person when the
    head is blank), as the registry join finds the payee of a household item."""
    own = pl.col("id_number")
    if split == "household" and "household_head_id" in env.columns:
        return person_key_expr(pl.coalesce(_blank_to_null(pl.col("household_head_id")), own))
    return person_key_expr(own)


def roster_part_expr(split: Split, env: RuleEnv, n: int) -> pl.Expr:
    """``key mod n`` of a roster row in ``split``; rows without a key go by ``row_id`` (they share nothing)."""
    key = split_key_expr(split, env)
    return pl.coalesce(key % n, pl.col("row_id") % n).cast(pl.Int64).alias(PART)


def context_part_expr(n: int) -> pl.Expr:
    """``person key mod n`` of a context row (registry holder, ledger or list entry); rows without a key go to
    part 0, where they match nothing."""
    return pl.coalesce(person_key_expr(pl.col("id_number")) % n, pl.lit(0)).cast(pl.Int64).alias(PART)


def account_part_expr(n: int) -> pl.Expr:
    """``hash of _pay_account mod n``: the part of an account in the ``account`` split."""
    return (pl.col("_pay_account").hash(17) % n).cast(pl.Int64).alias(PART)


def split_context(routing: Routing, split: Split, env: RuleEnv) -> dict[str, pl.LazyFrame]:
    """The context frames split alongside the roster in ``split``, by name (``registry``, ``ledger``,
    ``reference:<list>``): the registry (joined on the payee) in the main split, the ledger and the lists (joined
    on the row's own person) in the ``person`` split. Every part reads the other frames whole."""
    ctx = env.context
    frames: dict[str, pl.LazyFrame] = {}
    if split == routing.main and ctx.registry is not None:
        frames["registry"] = ctx.registry
    if split == "person":
        if ctx.ledger is not None:
            frames["ledger"] = ctx.ledger
        frames.update({f"reference:{name}": frame for name, frame in ctx.reference.items()})
    return frames


def part_context(ctx: ValidationContext, parts: dict[str, pl.LazyFrame]) -> ValidationContext:
    """``ctx`` with the frames of one part (named as [`split_context`][yikatong.rules.routing.split_context] names them)
    in place of the whole."""
    reference = dict(ctx.reference)
    changes: dict[str, object] = {}
    for name, frame in parts.items():
        if name.startswith("reference:"):
            reference[name.split(":", 1)[1]] = frame  # type: ignore[index]
            changes["reference"] = reference
        else:
            changes[name] = frame
    return evolve(ctx, **changes)  # type: ignore[arg-type]


def run_part(
    rows: pl.LazyFrame, env: RuleEnv, rules: Sequence[Rule], *, main: bool, handover: Sequence[Derivation]
) -> tuple[pl.DataFrame | None, pl.DataFrame, pl.DataFrame | None]:
    """Validate one part of a split of whole rows (``env`` carries the part's context and the whole-roster facts).

    Returns:
        ``row_id, _rank`` for every row when ``main`` (else None), the part's issues, and, when ``handover`` is
        not empty, the rows' ``row_id, _payee_key, _pay_account`` for the ``account`` split (else None).
    """
    plan = build_plan(rows, env, rules, extra=handover)
    outputs = [plan.issues]
    if main:
        outputs.append(plan.ranks)
    if handover:
        outputs.append(plan.base.select(KEYS_SCHEMA.names()).filter(pl.col("_pay_account").is_not_null()))
    frames = pl.collect_all(outputs)
    issues = frames.pop(0)
    ranks = frames.pop(0) if main else None
    keys = frames.pop(0) if handover else None
    return ranks, issues, keys


def account_holders(registry: pl.LazyFrame) -> pl.LazyFrame:
    """The registry as the ``account`` split reads it: ``_rkey, _pay_account`` per holder and account."""
    return registry_rows(registry).select("_rkey", pl.col("account").alias("_pay_account"))


def account_issues(
    keys: pl.LazyFrame, holders: pl.LazyFrame | None, env: RuleEnv, rules: Sequence[Rule]
) -> pl.DataFrame:
    """The findings of the ``account`` rules over one part of the ``account`` split: every row paying into an
    account of the part (``keys``, [`KEYS_SCHEMA`][yikatong.rules.routing.KEYS_SCHEMA]) and every registry holder of it
    (``holders``, from [`account_holders`][yikatong.rules.routing.account_holders]; None without a registry)."""
    lf = keys.join(
        batch_spread(keys, "_pay_account", "_payee_key", "_acct_payees", "_acct_rows"), on="_pay_account", how="left"
    )
    if holders is not None:
        owners = account_owners(holders.rename({"_pay_account": "account"}))
        lf = lf.join(owners, left_on="_pay_account", right_on="account", how="left").with_columns(
            owner_other_expr().alias("_owner_other")
        )
    return build_plan(lf, env, rules, derive=False).issues.collect()


def near_part_pairs(rows: pl.LazyFrame, env: RuleEnv, part: int, n: int) -> pl.DataFrame:
    """The near-duplicate pairs of the blocks of part ``part`` of ``n`` (``rows``: that part of
    [`near_parts`][yikatong.rules.near.near_parts])."""
    pairs, _ = near_pairs(rows, env.columns, part=(part, n))
    return pairs.collect()


def near_issues(pairs: pl.LazyFrame, env: RuleEnv, rules: Sequence[Rule]) -> pl.DataFrame:
    """The findings of the ``near`` rules from every part's pairs."""
    return build_plan(near_per_row(merge_pairs(pairs)), env, rules, derive=False).issues.collect()


def whole_roster_plans(
    lf: pl.LazyFrame, env: RuleEnv, routing: Routing, *, count: bool
) -> tuple[pl.LazyFrame | None, pl.LazyFrame | None]:
    """What needs every row at once: one row of figures (``rows`` when ``count``, and the declared facts), and the
    batch rules' findings. None for what there is nothing of."""
    figures = [pl.len().alias("rows")] if count else []
    figures.extend(expr().alias(name) for name, expr in routing.facts.items())
    batch = build_plan(lf, env, routing.batch).issues if routing.batch else None
    return (lf.select(figures) if figures else None), batch


def merge_parts(
    ranks: pl.LazyFrame, issues: pl.LazyFrame, extra: Sequence[pl.DataFrame]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The report's issues and verdicts from the main parts' ``ranks``
    ([`RANKS_SCHEMA`][yikatong.rules.routing.RANKS_SCHEMA]) and ``issues``, and the findings of the other splits and the
    batch rules (``extra``), which raise the verdicts of their rows.

    Returns:
        The issues sorted by ``row_id`` and code (batch-level last) and the verdicts sorted by ``row_id``.
    """
    schema = pl.Schema(ISSUES_SCHEMA)
    merged = (
        pl.concat([issues.cast(schema), *(e.lazy().cast(schema) for e in extra)])
        .sort("row_id", "code", nulls_last=True)
        .collect()
    )
    raised = [e.filter(pl.col("row_id").is_not_null()) for e in extra]
    if any(e.height for e in raised):
        apart = (
            pl.concat([e.lazy().select("row_id", "severity") for e in raised])
            .group_by("row_id")
            .agg(severity_rank(pl.col("severity")).max().alias("_apart"))
        )
        ranks = ranks.join(apart, on="row_id", how="left").select(
            "row_id", pl.max_horizontal("_rank", "_apart").alias("_rank")
        )
    ordered = ranks.sort("row_id").collect()
    return merged, ordered.select("row_id", verdict_expr(pl.col("_rank")).alias("verdict"))


def empty_issues() -> pl.DataFrame:
    """An issues frame with no rows."""
    return pl.DataFrame(schema=ISSUES_SCHEMA)
