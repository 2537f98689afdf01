"""The shared preparation of the account rules: who is paid, into which account, and what the registry says.

The registry snapshot is reduced once to one row per person, keyed by the Int64 ID key: how many entries, how many
open, which statuses, and the person's most usable entry (the first active one when there is one: its account,
kind, holder, and whether anyone else holds that account). The roster joins it once, on the integer key. Nearly
every roster row names that entry's account or none (paid into the active one), so everything it needs is in the
person's row. The few rows naming another account find the payee's own entry of it and who else holds it through
two more joins in which every other row's key is null, so matches nothing: the roster's plan is read once (reading
it a second time, to pick those rows out first, made the planner's work a fixed few tenths of a second per
validation). The registry is grouped by account text only for the accounts listed more than once, and the roster
keeps its rows and their order. For household items (``unit = "household"``) the payee is the household
head: ``household_head_id``, or the row's own ID when that is null or empty.

Columns added: ``_payee_id``, ``_payee_key``, ``_account`` (the roster's account, empty text as null),
``_reg_n``, ``_reg_open_n``, ``_reg_bits`` (the statuses held, see ``registry_statuses_expr``),
``_reg_active_account``, ``_m_status`` (the status of the roster's own account in the registry), ``_pay_account``,
``_pay_kind``, ``_holder``, ``_owner_other``. Without a registry only ``_payee_*``, ``_account``, ``_pay_account``
and ``_pay_kind`` (null) are added.
"""

from __future__ import annotations

import polars as pl

from yikatong.rules._keys import cached, id_key_expr
from yikatong.rules._rule import Derivation, RuleEnv

__all__ = [
    "REGISTRY_JOIN",
    "account_owners",
    "owner_other_expr",
    "payee_id_expr",
    "registry_rows",
    "registry_statuses_expr",
]

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


def _ordered(reg: pl.LazyFrame) -> pl.LazyFrame:
    """``registry_rows`` with ``_o`` (the status's rank: active, frozen, pending, closed, anything else), ``_r``
    (that rank, then the registry's own order, as one Int64: the first row of any group in ``_r`` order is its most
    usable row, the first listed among equals) and ``_dup``, whether the account may be listed more than once.

    Accounts are told apart as 64-bit hashes for ``_dup``: only the rows it flags are ever grouped by account text,
    and a collision only sends a few more rows to that exact grouping."""
    rank = pl.col("status").replace_strict(_STATUS_ORDER, default=9, return_dtype=pl.Int8)
    return (
        reg.with_row_index("_i")
        .with_columns(rank.alias("_o"), pl.col("account").hash().is_duplicated().alias("_dup"))
        .with_columns((pl.col("_o").cast(pl.Int64) * (1 << 40) + pl.col("_i").cast(pl.Int64)).alias("_r"))
        .drop("_i")
    )


def _per_person(reg: pl.LazyFrame) -> pl.LazyFrame:
    """One row per holder (Int64 ``_rkey``): how many entries, how many open, which statuses (``_reg_bits``, bit
    ``rank`` set per status held), and the holder's most usable entry (``_f_*``: the first active one when there
    is one) with ``_f_shared``, whether anyone else holds that entry's account.

    Whether an account has several holders is asked only of the accounts ``_dup`` flags, which are few: the rest
    of the registry is never grouped by account text.
    """
    shared = reg.filter(pl.col("_dup")).with_columns(
        (pl.col("_rkey").n_unique().over("account") > 1).alias("_f_shared")
    )
    single = reg.filter(~pl.col("_dup")).with_columns(pl.lit(False).alias("_f_shared"))
    bit = pl.col("status").replace_strict(
        {s: 1 << o for s, o in _STATUS_ORDER.items()}, default=0, return_dtype=pl.Int8
    )
    return (
        pl.concat([single, shared], how="vertical")
        .sort("_r")
        .group_by("_rkey")
        .agg(
            pl.len().cast(pl.Int64).alias("_reg_n"),
            (pl.col("_o") <= 1).sum().cast(pl.Int64).alias("_reg_open_n"),
            bit.bitwise_or().alias("_reg_bits"),
            pl.col("_o").first().alias("_f_o"),
            pl.col("account").first().alias("_f_account"),
            pl.col("status").first().alias("_f_status"),
            pl.col("account_kind").first().alias("_f_kind"),
            pl.col("holder_name").first().alias("_f_holder"),
            pl.col("_f_shared").first(),
        )
    )


def _own_entries(reg: pl.LazyFrame) -> pl.LazyFrame:
    """Per holder and account, the holder's most usable entry of it (``_s_status``, ``_s_kind``, ``_s_holder``: the
    first listed among equals), for holders with more than one entry: a holder with one entry has no entry of any
    account but the one in the person's row."""
    return (
        reg.filter(pl.col("_rkey").is_duplicated())
        .sort("_r")
        .group_by("_rkey", "account")
        .agg(
            pl.col("status").first().alias("_s_status"),
            pl.col("account_kind").first().alias("_s_kind"),
            pl.col("holder_name").first().alias("_s_holder"),
        )
    )


def _owners(reg: pl.LazyFrame) -> pl.LazyFrame:
    """``account_owners`` of the whole registry, grouping only the accounts ``_dup`` flags: an account listed once
    has its one holder."""
    single = reg.filter(~pl.col("_dup")).select(
        "account",
        pl.lit(1, pl.Int64).alias("_owner_n"),
        pl.col("_rkey").alias("_owner_min"),
        pl.col("_rkey").alias("_owner_max"),
    )
    return pl.concat([single, account_owners(reg.filter(pl.col("_dup")))], how="vertical")


def registry_statuses_expr() -> pl.Expr:
    """The statuses a payee holds in the registry as text (``active,closed``), from ``_reg_bits``; evidence reads
    it on the few rows that need it."""
    return pl.concat_str(
        [pl.when((pl.col("_reg_bits") & (1 << rank)) != 0).then(pl.lit(s)) for s, rank in _STATUS_ORDER.items()],
        separator=",",
        ignore_nulls=True,
    )


def _join(lf: pl.LazyFrame, env: RuleEnv) -> pl.LazyFrame:
    lf = _payee(lf, env)
    registry = env.context.registry
    if registry is None:
        return lf.with_columns(pl.col("_account").alias("_pay_account"), pl.lit(None, pl.String).alias("_pay_kind"))
    reg = _ordered(registry_rows(registry)).cache()
    lf = lf.join(_per_person(reg), left_on="_payee_key", right_on="_rkey", how="left", maintain_order="left")
    # The roster names the payee's most usable entry (or no account, paid into the active one): everything is in
    # the person's row. Otherwise (few rows) the account named is looked up on its own: the other rows join with
    # null keys, which match nothing.
    account = pl.col("_account")
    elsewhere = account.is_not_null() & (pl.col("_f_account").is_null() | (account != pl.col("_f_account")))
    lf = lf.with_columns(
        elsewhere.alias("_elsewhere"),
        pl.when(elsewhere).then(pl.col("_payee_key")).alias("_s_key"),
        pl.when(elsewhere).then(account).alias("_s_account"),
    )
    lf = lf.join(
        _own_entries(reg),
        left_on=["_s_key", "_s_account"],
        right_on=["_rkey", "account"],
        how="left",
        maintain_order="left",
    ).join(_owners(reg), left_on="_s_account", right_on="account", how="left", maintain_order="left")
    lf = lf.with_columns(owner_other_expr().alias("_s_owner_other"))
    active = pl.col("_f_o") == 0
    named = account.is_not_null()
    here = named & ~pl.col("_elsewhere")
    lf = lf.with_columns(
        pl.when(active).then(pl.col("_f_account")).alias("_reg_active_account"),
        pl.when(here).then(pl.col("_f_status")).otherwise(pl.col("_s_status")).alias("_m_status"),
        pl.when(here)
        .then(pl.col("_f_kind"))
        .when(named)
        .then(pl.col("_s_kind"))
        .when(active)
        .then(pl.col("_f_kind"))
        .alias("_pay_kind"),
        pl.when(here)
        .then(pl.col("_f_holder"))
        .when(named)
        .then(pl.col("_s_holder"))
        .when(active)
        .then(pl.col("_f_holder"))
        .alias("_holder"),
    ).with_columns(pl.coalesce(account, pl.col("_reg_active_account")).alias("_pay_account"))
    return lf.with_columns(
        pl.when(pl.col("_elsewhere"))
        .then(pl.col("_s_owner_other"))
        .when(pl.col("_pay_account").is_not_null())
        .then(pl.col("_f_shared"))
        .alias("_owner_other")
    ).drop(
        "_elsewhere",
        "_s_key",
        "_s_account",
        "_owner_n",
        "_owner_min",
        "_owner_max",
        "_f_o",
        "_f_account",
        "_f_status",
        "_f_kind",
        "_f_holder",
        "_f_shared",
        "_s_status",
        "_s_kind",
        "_s_holder",
        "_s_owner_other",
    )


REGISTRY_JOIN = Derivation(name="registry_join", apply=cached(_join))
"""Payee, account and registry columns for the account rules (see the module docstring)."""
