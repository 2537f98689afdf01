"""The shared preparation of the account rules: who is paid, into which account, and what the registry says.

One derivation joins the registry snapshot three ways, each reduced to one row per key first so the roster keeps
its rows: per person (how many accounts, the active one), per (person, account) (the status, kind and holder of the
roster's own account), and per account (who else holds it). For household items (``unit = "household"``) the payee
is the household head: ``household_head_id``, or the row's own ID when that is null or empty.

Columns added: ``_payee_id``, ``_payee_key``, ``_account`` (the roster's account, empty text as null),
``_reg_n``, ``_reg_active_account``, ``_reg_active_kind``, ``_reg_active_holder``, ``_reg_open_n``,
``_reg_statuses``, ``_m_status``, ``_m_kind``, ``_m_holder``, ``_pay_account``, ``_pay_kind``, ``_holder``,
``_owner_n``, ``_owner_other``. Without a registry only ``_payee_*``, ``_account``, ``_pay_account`` and
``_pay_kind`` (null) are added.
"""

from __future__ import annotations

import polars as pl

from yikatong.rules._keys import cached, id_key_expr
from yikatong.rules._rule import Derivation, RuleEnv

__all__ = ["REGISTRY_JOIN", "account_owners", "owner_other_expr", "payee_id_expr", "registry_rows"]

_STATUS_ORDER = {"active": 0, "frozen": 1, "pending": 2, "closed": 3}


def _blank_to_null(expr: pl.Expr) -> pl.Expr:
    text = expr.cast(pl.String).str.strip_chars()
    return pl.when(text.str.len_chars() > 0).then(text)


def payee_id_expr(env: RuleEnv) -> pl.Expr:
    """The ID of the person paid: the household head for household items (the row's own ID when the head is
    blank), otherwise the row's own ID."""
    own = pl.col("id_number")
    if env.item.unit == "household" and "household_head_id" in env.columns:
        return pl.coalesce(_blank_to_null(pl.col("household_head_id")), own)
    return own


def _payee(lf: pl.LazyFrame, env: RuleEnv) -> pl.LazyFrame:
    payee = payee_id_expr(env)
    account = _blank_to_null(pl.col("account")) if "account" in env.columns else pl.lit(None, pl.String)
    return lf.with_columns(payee.alias("_payee_id"), account.alias("_account")).with_columns(
        id_key_expr(pl.col("_payee_id")).alias("_payee_key")
    )


def registry_rows(registry: pl.LazyFrame) -> pl.LazyFrame:
    """The registry as the joins read it: ``_rkey`` (the holder's ID key), ``account`` (trimmed), ``account_kind``,
    ``holder_name``, ``status``; rows whose holder ID is malformed are left out (they can match no one)."""
    return registry.select(
        id_key_expr(pl.col("id_number")).alias("_rkey"),
        pl.col("account").cast(pl.String).str.strip_chars(),
        pl.col("account_kind").cast(pl.String),
        pl.col("holder_name").cast(pl.String),
        pl.col("status").cast(pl.String),
    ).filter(pl.col("_rkey").is_not_null())


def account_owners(reg: pl.LazyFrame) -> pl.LazyFrame:
    """Per account of ``registry_rows``, its distinct holders: ``account, _owner_n, _owner_min, _owner_max``."""
    return reg.group_by("account").agg(
        pl.col("_rkey").n_unique().cast(pl.Int64).alias("_owner_n"),
        pl.col("_rkey").min().alias("_owner_min"),
        pl.col("_rkey").max().alias("_owner_max"),
    )


def owner_other_expr() -> pl.Expr:
    """True where the paid account is registered to anyone but the payee (from ``account_owners`` joined on
    ``_pay_account``), null where the account is not in the registry."""
    return (
        (pl.col("_owner_n") > 1)
        | (pl.col("_owner_min") != pl.col("_payee_key"))
        | (pl.col("_owner_max") != pl.col("_payee_key"))
        | (pl.col("_owner_n").is_not_null() & pl.col("_payee_key").is_null())
    )


def _join(lf: pl.LazyFrame, env: RuleEnv) -> pl.LazyFrame:
    lf = _payee(lf, env)
    registry = env.context.registry
    if registry is None:
        return lf.with_columns(pl.col("_account").alias("_pay_account"), pl.lit(None, pl.String).alias("_pay_kind"))
    reg = registry_rows(registry)
    active = pl.col("status") == "active"
    # The first active row of a person gives account, kind and holder together (a registry keeps one active
    # account per person; should a file hold two, the first one listed is taken as the registered one).
    per_person = reg.group_by("_rkey").agg(
        pl.len().cast(pl.Int64).alias("_reg_n"),
        pl.col("account").filter(active).first().alias("_reg_active_account"),
        pl.col("account_kind").filter(active).first().alias("_reg_active_kind"),
        pl.col("holder_name").filter(active).first().alias("_reg_active_holder"),
        pl.col("status").is_in(["active", "frozen"]).sum().cast(pl.Int64).alias("_reg_open_n"),
        *((pl.col("status") == s).any().alias(f"_reg_has_{s}") for s in _STATUS_ORDER),
    )
    # A snapshot has one row per account; should a file repeat one, the most usable status speaks for it.
    per_account = (
        reg.with_columns(pl.col("status").replace_strict(_STATUS_ORDER, default=9, return_dtype=pl.Int8).alias("_o"))
        .sort("_o")
        .group_by("_rkey", "account")
        .agg(
            pl.col("status").first().alias("_m_status"),
            pl.col("account_kind").first().alias("_m_kind"),
            pl.col("holder_name").first().alias("_m_holder"),
        )
    )
    owners = account_owners(reg)
    lf = (
        lf.join(per_person, left_on="_payee_key", right_on="_rkey", how="left", maintain_order="left")
        .join(
            per_account,
            left_on=["_payee_key", "_account"],
            right_on=["_rkey", "account"],
            how="left",
            maintain_order="left",
        )
        .with_columns(pl.coalesce("_account", "_reg_active_account").alias("_pay_account"))
        .join(owners, left_on="_pay_account", right_on="account", how="left", maintain_order="left")
    )
    roster_named = pl.col("_account").is_not_null()
    return lf.with_columns(
        pl.when(roster_named).then(pl.col("_m_kind")).otherwise(pl.col("_reg_active_kind")).alias("_pay_kind"),
        pl.when(roster_named).then(pl.col("_m_holder")).otherwise(pl.col("_reg_active_holder")).alias("_holder"),
        owner_other_expr().alias("_owner_other"),
        pl.concat_str(
            [pl.when(pl.col(f"_reg_has_{s}")).then(pl.lit(s)) for s in _STATUS_ORDER], separator=",", ignore_nulls=True
        ).alias("_reg_statuses"),
    ).drop("_owner_min", "_owner_max", *(f"_reg_has_{s}" for s in _STATUS_ORDER))


REGISTRY_JOIN = Derivation(name="registry_join", apply=cached(_join))
"""Payee, account and registry columns for the account rules (see the module docstring)."""
