"""Amount rules: every amount is integer fen, checked against the item's standard, caps and the batch's own shape.

The standard is computed exactly: a rate standard multiplies the row's quantity (``Decimal(38, 4)``, so
``quantity × 10^4`` is an exact integer) by the rate in fen and rounds the product to the fen by the catalogue's
``rounding`` rule, all in ``Int64`` arithmetic. No float touches money. The outlier threshold (``outlier_factor``
× the batch median) is a heuristic and the only comparison made in floating point.

Decisions:
- ``AMOUNT_STANDARD_MISMATCH`` and ``AMOUNT_OVER_CAP`` skip rows whose amount is missing or not positive:
  ``AMOUNT_INVALID`` already blocks them. A quantity above the rate standard's ``max_quantity``, a missing or
  non-positive quantity, and a category missing from the table are mismatches (evidence says which).
- ``AMOUNT_OVER_CAP`` checks ``cap_per_period`` per row; with a ledger in the context it also checks
  ``cap_per_year``: this amount plus the person's ledger payments of the item in the same calendar year with a
  counting status (``paid``/``sent``). The rule runs when at least one of the two checks can.
- ``AMOUNT_OUTLIER`` compares with the median of the roster's valid amounts (the roster validated against one item
  is that item's roster), except under a rate standard, where a large amount only means a large quantity (a big
  farm) that the standard and ``max_quantity`` already bound exactly. When ``max_payees_per_household`` is set and
  the roster has ``household_head_id``, it also flags every row of a household with more distinct payees than
  allowed.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from yikatong.catalog import FixedStandard, RateStandard, TableStandard
from yikatong.rules._idparse import ID_PARSE, id_key_expr
from yikatong.rules._rule import Derivation, Finding, Key, Rule, RuleEnv
from yikatong.rules.ledger import COUNTING_STATUSES

__all__ = ["LEDGER_YEAR", "OUTLIER_STATS", "RULES", "amount_median_expr", "household_limit_checked", "yuan_expr"]

_SCALE = 10**4  # quantity decimal places (schema.QUANTITY_SCALE)
_MAX_Q4 = 10**12  # quantities above 10^8 units are not data; also keeps q4 × rate inside Int64


def yuan_expr(fen: pl.Expr) -> pl.Expr:
    """Integer fen as a yuan string with two decimals (``12345`` → ``"123.45"``, ``-5`` → ``"-0.05"``)."""
    absolute = fen.abs()
    return pl.concat_str(
        pl.when(fen < 0).then(pl.lit("-")).otherwise(pl.lit("")),
        (absolute // 100).cast(pl.String),
        pl.lit("."),
        (absolute % 100).cast(pl.String).str.zfill(2),
    )


def format_yuan(fen: int) -> str:
    """Integer fen as plain yuan text, written like [`yuan_expr`][yikatong.rules.amounts.yuan_expr] (no thousands
    separators)."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


_amount = pl.col("amount_fen")
_valid = _amount.is_not_null() & (_amount > 0)


# --- AMOUNT_INVALID -------------------------------------------------------------------------------------------


def _build_invalid(env: RuleEnv) -> Finding:
    raw = pl.col("amount_raw").str.strip_chars() if "amount_raw" in env.columns else pl.lit(None, pl.String)
    evidence = (
        pl.when(_amount.is_not_null())
        .then(pl.concat_str(pl.lit("amount "), yuan_expr(_amount), pl.lit(" yuan is not positive")))
        .when(raw.is_not_null() & (raw != ""))
        .then(pl.concat_str(pl.lit("amount as written: '"), raw, pl.lit("' (not an amount with at most two decimals)")))
        .otherwise(pl.lit("amount missing"))
    )
    return Finding(hit=~_valid, evidence=evidence)


# --- AMOUNT_STANDARD_MISMATCH ---------------------------------------------------------------------------------


def _standard_applies(env: RuleEnv) -> str | None:
    std = env.item.standard
    if isinstance(std, RateStandard) and "quantity" not in env.columns:
        return "roster has no column quantity"
    if isinstance(std, TableStandard) and "category" not in env.columns:
        return "roster has no column category"
    return None


def _rounded(product: pl.Expr, rounding: str) -> pl.Expr:
    if rounding == "down":
        return product // _SCALE
    if rounding == "up":
        return (product + (_SCALE - 1)) // _SCALE
    return (product + _SCALE // 2) // _SCALE  # half_up; the product is never negative here


def _build_standard(env: RuleEnv) -> Finding:
    std = env.item.standard
    amount_text = pl.concat_str(pl.lit("amount "), yuan_expr(_amount), pl.lit(" yuan"))
    if isinstance(std, FixedStandard):
        hit = _valid & (_amount != std.amount)
        evidence = pl.concat_str(amount_text, pl.lit(f", standard {format_yuan(std.amount)} yuan"))
        return Finding(hit=hit, evidence=evidence)
    if isinstance(std, RateStandard):
        q = pl.col("quantity")
        q4 = (q.cast(pl.Decimal(38, 4)) * _SCALE).cast(pl.Int64, strict=False)
        sane = q4.is_not_null() & (q4 > 0) & (q4 <= _MAX_Q4)
        max_q4 = None if std.max_quantity is None else int(Decimal(repr(std.max_quantity)) * _SCALE)
        over_max = pl.lit(False) if max_q4 is None else q4 > max_q4
        expected = _rounded(q4 * std.rate, std.rounding)
        hit = _valid & (~sane | over_max | (_amount != expected))
        rate = f"{format_yuan(std.rate)} yuan/{std.unit_name}"
        q_text = q.cast(pl.String)
        evidence = (
            pl.when(q.is_null())
            .then(pl.lit("quantity missing for a rate standard"))
            .when(~sane)
            .then(pl.concat_str(pl.lit("quantity "), q_text, pl.lit(" is not a positive quantity")))
            .when(over_max)
            .then(
                pl.concat_str(
                    pl.lit("quantity "), q_text, pl.lit(f" above the item's maximum {std.max_quantity} {std.unit_name}")
                )
            )
            .otherwise(
                pl.concat_str(
                    amount_text,
                    pl.lit(f", standard {rate} × "),
                    q_text,
                    pl.lit(" = "),
                    yuan_expr(expected),
                    pl.lit(f" yuan (rounding {std.rounding})"),
                )
            )
        )
        return Finding(hit=hit, evidence=evidence)
    assert isinstance(std, TableStandard)
    category = pl.col("category").str.strip_chars()
    keys = list(std.amounts)
    expected = category.replace_strict(keys, [std.amounts[k] for k in keys], default=None, return_dtype=pl.Int64)
    hit = _valid & (expected.is_null() | (_amount != expected))
    evidence = (
        pl.when(category.is_null() | (category == ""))
        .then(pl.lit("category missing for a table standard"))
        .when(expected.is_null())
        .then(pl.concat_str(pl.lit("category '"), category, pl.lit(f"' not in the item's table ({', '.join(keys)})")))
        .otherwise(pl.concat_str(amount_text, pl.lit(", standard for "), category, pl.lit(" is "), yuan_expr(expected)))
    )
    return Finding(hit=hit, evidence=evidence)


# --- AMOUNT_OVER_CAP ------------------------------------------------------------------------------------------


def _yearly(env: RuleEnv) -> bool:
    return env.item.cap_per_year is not None and env.context.ledger is not None


def _join_ledger_year(lf: pl.LazyFrame, env: RuleEnv) -> pl.LazyFrame:
    if not _yearly(env):
        return lf
    assert env.context.ledger is not None
    earlier = (
        env.context.ledger.filter(
            (pl.col("item") == env.item.code)
            & (pl.col("period").cast(pl.String).str.slice(0, 4) == f"{env.period.year:04d}")
            & pl.col("status").is_in(COUNTING_STATUSES)
        )
        .group_by(id_key_expr(pl.col("id_number")).alias("_ledger_person"))
        .agg(pl.col("amount_fen").sum().alias("_ledger_year_fen"))
        .filter(pl.col("_ledger_person").is_not_null())
    )
    return lf.join(
        earlier, left_on="_id_person", right_on="_ledger_person", how="left", maintain_order="left"
    ).with_columns(pl.col("_ledger_year_fen").fill_null(0))


LEDGER_YEAR = Derivation(name="ledger_year_total", apply=_join_ledger_year, after=(ID_PARSE,))
"""Adds ``_ledger_year_fen``: the person's counting ledger payments of the item in the period's year (only when a
ledger is supplied and the item has a yearly cap)."""


def _cap_key(env: RuleEnv) -> Key:
    """The yearly cap sums the person's ledger payments; the cap per period looks at the row alone."""
    return "person" if _yearly(env) else "row"


def _cap_applies(env: RuleEnv) -> str | None:
    if env.item.cap_per_period is None and not _yearly(env):
        if env.item.cap_per_year is not None:
            return "item has no cap per period; yearly cap needs a ledger (not supplied)"
        return "item has no cap"
    return None


def _build_cap(env: RuleEnv) -> Finding:
    per_period = env.item.cap_per_period
    per_year = env.item.cap_per_year
    over_period = pl.lit(False) if per_period is None else _amount > per_period
    parts: list[pl.Expr] = []
    if per_period is not None:
        parts.append(
            pl.when(over_period).then(
                pl.concat_str(
                    pl.lit("amount "),
                    yuan_expr(_amount),
                    pl.lit(f" yuan above the cap per period {format_yuan(per_period)}"),
                )
            )
        )
    over_year = pl.lit(False)
    if _yearly(env) and per_year is not None:
        total = pl.col("_ledger_year_fen") + _amount
        over_year = total > per_year
        parts.append(
            pl.when(over_year).then(
                pl.concat_str(
                    pl.lit("this "),
                    yuan_expr(_amount),
                    pl.lit(f" + earlier {env.period.year} payments "),
                    yuan_expr(pl.col("_ledger_year_fen")),
                    pl.lit(" = "),
                    yuan_expr(total),
                    pl.lit(f" above the yearly cap {format_yuan(per_year)}"),
                )
            )
        )
    evidence = pl.concat_str(parts, separator="; ", ignore_nulls=True)
    return Finding(hit=_valid & (over_period | over_year), evidence=evidence)


# --- AMOUNT_OUTLIER -------------------------------------------------------------------------------------------


def household_limit_checked(env: RuleEnv) -> bool:
    """True when ``AMOUNT_OUTLIER`` also counts payees per household (the item sets a limit, the roster names heads)."""
    return env.item.max_payees_per_household is not None and "household_head_id" in env.columns


def amount_median_expr() -> pl.Expr:
    """The median of the frame's valid amounts (positive ``amount_fen``), as Float64: ``AMOUNT_OUTLIER``'s yardstick."""
    return _amount.filter(_valid).median().cast(pl.Float64)


def _apply_outlier_stats(lf: pl.LazyFrame, env: RuleEnv) -> pl.LazyFrame:
    # Frame-wide figures become columns here: a Finding's evidence is evaluated on the flagged rows only.
    known = "amount_median" in env.facts
    median = pl.lit(env.facts["amount_median"], pl.Float64) if known else amount_median_expr()
    stats = [median.alias("_amount_median")]
    if household_limit_checked(env):
        head = id_key_expr(pl.col("household_head_id"))
        payees = pl.col("_id_person").drop_nulls().n_unique().over(head)
        stats.append(pl.when(head.is_not_null()).then(payees).alias("_household_payees"))
    return lf.with_columns(stats)


OUTLIER_STATS = Derivation(
    name="amount_outlier_stats",
    apply=_apply_outlier_stats,
    after=(ID_PARSE,),
    facts=(("amount_median", amount_median_expr),),
)
"""Adds ``_amount_median`` (the batch median of valid amounts) and, when checked, ``_household_payees``."""


def _outlier_key(env: RuleEnv) -> Key:
    """Payees are counted per household when the item limits them; the median is a fact of the whole batch."""
    return "household" if household_limit_checked(env) else "row"


def _outlier_applies(env: RuleEnv) -> str | None:
    if isinstance(env.item.standard, RateStandard) and not household_limit_checked(env):
        return "rate standard: amounts follow the quantity (bounded by max_quantity); no household limit"
    return None


def _build_outlier(env: RuleEnv) -> Finding:
    factor = env.item.outlier_factor
    median = pl.col("_amount_median")
    too_high = pl.lit(False)
    if not isinstance(env.item.standard, RateStandard):
        too_high = _valid & (_amount.cast(pl.Float64) > factor * median)
    parts = [
        pl.when(too_high).then(
            pl.concat_str(
                pl.lit("amount "),
                yuan_expr(_amount),
                pl.lit(f" > {factor:g} × batch median "),
                yuan_expr(median.round(0).cast(pl.Int64)),
            )
        )
    ]
    crowded = pl.lit(False)
    if household_limit_checked(env):
        limit = env.item.max_payees_per_household
        payees = pl.col("_household_payees")
        crowded = payees > limit
        parts.append(
            pl.when(crowded).then(
                pl.concat_str(
                    pl.lit("household has "), payees.cast(pl.String), pl.lit(f" payees, the item allows {limit}")
                )
            )
        )
    evidence = pl.concat_str(parts, separator="; ", ignore_nulls=True)
    return Finding(hit=too_high | crowded, evidence=evidence)


# --- BATCH_TOTAL_MISMATCH -------------------------------------------------------------------------------------


def _build_batch(env: RuleEnv) -> Finding:
    count, total, source = env.context.declared()
    rows = pl.len()
    actual = _amount.sum()
    hit = pl.lit(False)
    if count is not None:
        hit = hit | (rows != count)
    if total is not None:
        hit = hit | (actual != total)
    declared = ", ".join(
        part
        for part in (
            None if count is None else f"{count} rows",
            None if total is None else f"{format_yuan(total)} yuan",
        )
        if part
    )
    evidence = pl.concat_str(
        pl.lit(f"declared {declared}{'' if source == 'declared' else f' ({source})'}; roster has "),
        rows.cast(pl.String),
        pl.lit(" rows, "),
        yuan_expr(actual),
        pl.lit(" yuan"),
    )
    return Finding(hit=hit, evidence=evidence)


RULES: tuple[Rule, ...] = (
    Rule(
        code="AMOUNT_INVALID",
        family="amounts",
        severity="block",
        message_zh="金额缺失、无法识别、不大于零或超过两位小数",
        message_en="amount missing, unparseable, not positive, or with more than two decimals",
        build=_build_invalid,
        columns=("amount_fen",),
    ),
    Rule(
        code="AMOUNT_STANDARD_MISMATCH",
        family="amounts",
        severity="block",
        message_zh="金额与该补贴项目的标准不符",
        message_en="amount differs from the item's standard",
        build=_build_standard,
        columns=("amount_fen",),
        applies=_standard_applies,
    ),
    Rule(
        code="AMOUNT_OVER_CAP",
        family="amounts",
        severity="block",
        message_zh="金额超过该项目每期上限，或与本年度已发放金额合计超过年度上限",
        message_en="amount above the item's cap per period, or with this year's earlier payments above the yearly cap",
        build=_build_cap,
        columns=("amount_fen",),
        derivations=(LEDGER_YEAR,),
        applies=_cap_applies,
        key=_cap_key,
    ),
    Rule(
        code="AMOUNT_OUTLIER",
        family="amounts",
        severity="review",
        message_zh="金额远高于本批次通常水平，或同一户内领取人数过多",
        message_en="amount far above the batch's usual amounts, or too many payees in one household",
        build=_build_outlier,
        columns=("amount_fen",),
        derivations=(OUTLIER_STATS,),
        applies=_outlier_applies,
        key=_outlier_key,
    ),
    Rule(
        code="BATCH_TOTAL_MISMATCH",
        family="amounts",
        severity="block",
        message_zh="申报的批次笔数或总金额与名单不一致",
        message_en="the declared batch count or total differs from the roster",
        build=_build_batch,
        columns=("amount_fen",),
        inputs=("declared",),
        key="batch",
    ),
)
