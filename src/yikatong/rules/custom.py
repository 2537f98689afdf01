"""A department's own rules, written in its catalogue as SQL checks, turned into rules of the one plan.

Each ``[[item.rules]]`` entry of the catalogue ([`yikatong.catalog.ItemRule`][yikatong.ItemRule]) becomes a
[`Rule`][yikatong.rules.Rule] whose hit is "the check is false" (a check that gives null does not fire), whose evidence
names the values of the columns the check reads (never an ID, account or name), and whose needed columns are those
columns, so a roster without one of them skips the rule and the report says why. These rules look at one row at a time:
they need no other row, so every runner (in memory, partitioned) runs them wherever it runs row rules.

[`item_rules`][yikatong.rules.item_rules] is what [`yikatong.validate`][] adds to the library's rules for each item.
"""

from __future__ import annotations

import polars as pl

from yikatong.catalog import ItemRule, SubsidyItem
from yikatong.expressions import compile_check, referenced_columns
from yikatong.rules._rule import Finding, Rule, RuleEnv

__all__ = ["FAMILY", "PERSONAL_COLUMNS", "expression_rule", "item_rules"]

FAMILY = "custom"
"""The family of a catalogue's own rules."""

PERSONAL_COLUMNS: frozenset[str] = frozenset({"id_number", "account", "household_head_id", "name"})
"""Columns an expression may read but its evidence never shows."""


def _evidence(columns: tuple[str, ...]) -> pl.Expr:
    shown = [c for c in columns if c not in PERSONAL_COLUMNS]
    if not shown:
        return pl.lit("check failed / 校验未通过")
    parts: list[pl.Expr] = []
    for i, column in enumerate(shown):
        value = pl.col(column).cast(pl.String).fill_null("null")
        parts += [pl.lit(f"{'; ' if i else ''}{column} "), value]
    return pl.concat_str(parts)


def expression_rule(spec: ItemRule, item: SubsidyItem) -> Rule:
    """The rule a catalogue entry describes, its check compiled against ``item``'s parameters.

    Raises:
        ExpressionError: when the check cannot be compiled (a catalogue loaded through [`Catalog`][yikatong.Catalog]
            was already refused for it).
    """
    check = compile_check(spec.check, params=item.parameters())
    columns = referenced_columns(check)

    def build(env: RuleEnv) -> Finding:
        return Finding(hit=~check.fill_null(True), evidence=_evidence(columns))

    return Rule(
        code=spec.code,
        family=FAMILY,
        severity=spec.severity,
        message_zh=spec.message_zh,
        message_en=spec.message_en,
        build=build,
        columns=columns,
    )


def item_rules(item: SubsidyItem) -> tuple[Rule, ...]:
    """The rules ``item`` defines in the catalogue, in the order written."""
    return tuple(expression_rule(spec, item) for spec in item.rules)
