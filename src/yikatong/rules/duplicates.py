"""``DUP_IN_BATCH``: the same person twice for the same item and period in one batch.

The person is the integer key of the shared ID parse (``_id_person``), so a window over it is about three times
faster than over the 18-character text, and a 15-digit ID meets its 18-digit upgrade. When the roster carries an
``item`` column the key includes it (a roster may pay several items). A roster is validated for one period, so the
period is constant. Every copy is flagged; its evidence names the other copies' row ids. Rows whose ID is missing
or malformed have no key and are left to ``ID_MISSING`` / ``ID_FORMAT``, which block them anyway.
"""

from __future__ import annotations

import polars as pl

from yikatong.rules._idparse import ID_PARSE
from yikatong.rules._rule import Finding, Rule, RuleEnv

__all__ = ["RULES"]

_LISTED = 10  # other row ids named in the evidence; the rest are counted


def _keys(env: RuleEnv) -> list[str]:
    return ["_id_person", "item"] if "item" in env.columns else ["_id_person"]


def _build(env: RuleEnv) -> Finding:
    keys = _keys(env)
    person = pl.col("_id_person")
    hit = person.is_not_null() & (pl.len().over(keys) > 1)
    # Evidence runs on the flagged rows only, so this window sees exactly the copies of each person.
    row = pl.col("row_id")
    others = row.implode().over(keys).list.set_difference(pl.concat_list(row)).list.sort()
    n_others = others.list.len()
    listed = others.list.head(_LISTED).list.eval(pl.element().cast(pl.String)).list.join(", ")
    evidence = pl.concat_str(
        pl.lit("also in rows "),
        listed,
        pl.when(n_others > _LISTED).then(
            pl.concat_str(pl.lit(" and "), (n_others - _LISTED).cast(pl.String), pl.lit(" more"))
        ),
        ignore_nulls=True,
    )
    return Finding(hit=hit, evidence=evidence)


RULES: tuple[Rule, ...] = (
    Rule(
        code="DUP_IN_BATCH",
        family="duplicates",
        severity="block",
        message_zh="同一人员在本批次中就同一项目、同一期间出现多次",
        message_en="the same person appears more than once for the same item and period in this batch",
        build=_build,
        derivations=(ID_PARSE,),
        key="person",
    ),
)
