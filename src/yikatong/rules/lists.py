"""Reference-list screening: deceased persons, public employees, and the lists an item requires or excludes.

Every list is a left join on the integer ID key (``yikatong.rules._keys``) inside the same lazy plan; each list
is reduced to one row per person first, so the roster keeps exactly its rows. A list the item needs but the caller
did not supply skips the rule, and the skip reason names the list.
"""

from __future__ import annotations

import polars as pl

from yikatong.catalog import ReferenceListName
from yikatong.rules._keys import ID_KEY, cached, id_key_expr
from yikatong.rules._rule import Derivation, Finding, Rule, RuleEnv

__all__ = ["REFERENCE_JOIN", "RULES", "lists_used"]


def lists_used(env: RuleEnv) -> tuple[ReferenceListName, ...]:
    """The lists the item's rules look at: deceased always, public employees for means-tested items, and the
    item's required and excluded lists."""
    names: list[ReferenceListName] = ["deceased"]
    if env.item.means_tested:
        names.append("public_employee")
    names.extend(env.item.requires_lists)
    names.extend(env.item.excludes_lists)
    return tuple(dict.fromkeys(names))


def _join_lists(lf: pl.LazyFrame, env: RuleEnv) -> pl.LazyFrame:
    for name in lists_used(env):
        frame = env.context.reference.get(name)
        if frame is None:
            continue
        keyed = frame.select(
            id_key_expr(pl.col("id_number")).alias("_id_key"), *([pl.col("death_date")] if name == "deceased" else [])
        ).filter(pl.col("_id_key").is_not_null())
        if name == "deceased":
            # A person listed twice keeps the earliest date: the first report of death is the one to check.
            per_person = keyed.group_by("_id_key").agg(pl.col("death_date").min().alias("_death_date"))
        else:
            per_person = keyed.unique("_id_key").with_columns(pl.lit(True).alias(f"_on_{name}"))
        lf = lf.join(per_person, on="_id_key", how="left", maintain_order="left")
        if name != "deceased":
            lf = lf.with_columns(pl.col(f"_on_{name}").fill_null(False))
    return lf


REFERENCE_JOIN = Derivation(name="reference_lists", apply=cached(_join_lists), after=(ID_KEY,))
"""Adds ``_death_date`` (deceased list) and ``_on_<list>`` booleans for every list the item uses and the caller
supplied."""


def _deceased(env: RuleEnv) -> Finding:
    start = pl.lit(env.period.start)
    return Finding(
        hit=pl.col("_death_date") < start,
        evidence=pl.concat_str(
            pl.lit("deceased list: died "),
            pl.col("_death_date").cast(pl.String),
            pl.lit(f", before period {env.period} starts"),
        ),
    )


def _deceased_during(env: RuleEnv) -> Finding:
    died = pl.col("_death_date")
    return Finding(
        hit=(died >= pl.lit(env.period.start)) & (died <= pl.lit(env.period.end)),
        evidence=pl.concat_str(
            pl.lit("deceased list: died "), died.cast(pl.String), pl.lit(f", within period {env.period}")
        ),
    )


def _public_employee(env: RuleEnv) -> Finding:
    return Finding(hit=pl.col("_on_public_employee"), evidence=pl.lit("on list: public_employee"))


def _means_tested(env: RuleEnv) -> str | None:
    return None if env.item.means_tested else f"item {env.item.code} is not means-tested"


def _missing_lists(names: tuple[ReferenceListName, ...], env: RuleEnv) -> str | None:
    missing = [n for n in names if n not in env.context.reference]
    return f"not supplied: {', '.join(f'reference:{n}' for n in missing)}" if missing else None


def _requires_applies(env: RuleEnv) -> str | None:
    if not env.item.requires_lists:
        return f"item {env.item.code} requires no list"
    return _missing_lists(env.item.requires_lists, env)


def _excludes_applies(env: RuleEnv) -> str | None:
    if not env.item.excludes_lists:
        return f"item {env.item.code} excludes no list"
    return _missing_lists(env.item.excludes_lists, env)


def _names_where(names: tuple[ReferenceListName, ...], present: bool, prefix: str) -> Finding:
    conditions = [pl.col(f"_on_{n}") if present else ~pl.col(f"_on_{n}") for n in names]
    listed = pl.concat_str(
        [pl.when(c).then(pl.lit(n)) for c, n in zip(conditions, names, strict=True)], separator=", ", ignore_nulls=True
    )
    return Finding(hit=pl.any_horizontal(conditions), evidence=pl.concat_str(pl.lit(prefix), listed))


def _required_missing(env: RuleEnv) -> Finding:
    return _names_where(env.item.requires_lists, False, "not on required list: ")


def _excluded_present(env: RuleEnv) -> Finding:
    return _names_where(env.item.excludes_lists, True, "on excluded list: ")


RULES: tuple[Rule, ...] = (
    Rule(
        code="DECEASED",
        family="duplicates",
        severity="block",
        message_zh="死亡人员名单显示该人员在本期开始前已死亡",
        message_en="on the deceased list with a death date before the period starts",
        build=_deceased,
        columns=("id_number",),
        inputs=("reference:deceased",),
        derivations=(REFERENCE_JOIN,),
        key="person",
    ),
    Rule(
        code="DECEASED_DURING_PERIOD",
        family="duplicates",
        severity="review",
        message_zh="死亡人员名单显示该人员在本期内死亡，请核实本期是否应发",
        message_en="on the deceased list with a death date inside the period; confirm whether this period is due",
        build=_deceased_during,
        columns=("id_number",),
        inputs=("reference:deceased",),
        derivations=(REFERENCE_JOIN,),
        key="person",
    ),
    Rule(
        code="PUBLIC_EMPLOYEE",
        family="duplicates",
        severity="review",
        message_zh="该人员在财政供养人员名单中，本项目为家庭经济状况审核类项目",
        message_en="on the public-employee list (财政供养人员) for a means-tested item",
        build=_public_employee,
        columns=("id_number",),
        inputs=("reference:public_employee",),
        derivations=(REFERENCE_JOIN,),
        applies=_means_tested,
        key="person",
    ),
    Rule(
        code="LIST_REQUIRED_MISSING",
        family="duplicates",
        severity="block",
        message_zh="该人员不在本项目要求的名单中",
        message_en="not on a list the item requires",
        build=_required_missing,
        columns=("id_number",),
        derivations=(REFERENCE_JOIN,),
        applies=_requires_applies,
        key="person",
    ),
    Rule(
        code="LIST_EXCLUDED_PRESENT",
        family="duplicates",
        severity="block",
        message_zh="该人员在本项目排除的名单中",
        message_en="on a list the item excludes",
        build=_excluded_present,
        columns=("id_number",),
        derivations=(REFERENCE_JOIN,),
        applies=_excludes_applies,
        key="person",
    ),
)
