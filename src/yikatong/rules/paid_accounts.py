"""The account each row is paid into: the one validation approves and the bank order carries.

With a registry, a row is paid into the payee's active registered account (the household head's for household
items), never into the account the roster names: a roster account that differs is ``ACCOUNT_MISMATCH``, and a blank
one is simply paid into the registered account. Without a registry there is nothing else to pay into than the
roster's account, which the workflow accepts only where the registry is not a mandatory control of the item (or
finance waived it for the batch; see [`yikatong.rules.controls`][]).
"""

from __future__ import annotations

from typing import Final, Literal

import polars as pl

from yikatong.catalog import SubsidyItem
from yikatong.period import Period
from yikatong.rules._keys import canonical_id_expr
from yikatong.rules._registry_join import REGISTRY_JOIN
from yikatong.rules._rule import RuleEnv
from yikatong.rules.context import ValidationContext
from yikatong.rules.engine import prepare_roster

__all__ = ["PAID_ACCOUNTS_SCHEMA", "AccountSource", "paid_accounts"]

AccountSource = Literal["registry", "roster"]

PAID_ACCOUNTS_SCHEMA: Final[dict[str, pl.DataType]] = {
    "row_id": pl.Int64(),
    "pay_account": pl.String(),
    "account_source": pl.String(),
}
"""Columns of [`paid_accounts`][yikatong.rules.paid_accounts.paid_accounts]: ``pay_account`` is null where there is no
account to pay into."""


def paid_accounts(
    roster: pl.DataFrame | pl.LazyFrame,
    /,
    *,
    item: SubsidyItem,
    period: str | Period,
    registry: pl.LazyFrame | None,
) -> pl.DataFrame:
    """The account each roster row is paid into and where it comes from, in one join against the registry.

    Args:
        roster: Rows in the canonical schema (``row_id``, ``id_number``, ``account``, ``household_head_id``…).
        item: The item: for household items the household head is paid.
        period: The period paid for.
        registry: The registry snapshot validation uses, or None when there is none.

    A first-generation 15-digit ID is looked up under its 18-digit upgrade, as the ledger keys it.

    Returns:
        One row per roster row in [`PAID_ACCOUNTS_SCHEMA`][yikatong.rules.paid_accounts.PAID_ACCOUNTS_SCHEMA]: with a
        registry the payee's active registered account (null when the payee has none) and ``account_source``
        ``registry``; without one the roster's account (null when blank) and ``roster``.
    """
    lf = prepare_roster(roster)
    # A first-generation 15-digit ID is the same person as its upgrade, under which the registry holds them.
    ids = [c for c in ("id_number", "household_head_id") if c in lf.collect_schema().names()]
    lf = lf.with_columns(canonical_id_expr(pl.col(c)).alias(c) for c in ids)
    env = RuleEnv(
        item=item,
        period=Period.parse(period),
        context=ValidationContext(registry=registry),
        columns=frozenset(lf.collect_schema().names()),
    )
    joined = REGISTRY_JOIN.apply(lf, env)
    account = "_account" if registry is None else "_reg_active_account"
    source: AccountSource = "roster" if registry is None else "registry"
    return (
        joined.select(
            pl.col("row_id").cast(pl.Int64),
            pl.col(account).cast(pl.String).alias("pay_account"),
            pl.lit(source, pl.String).alias("account_source"),
        )
        .collect()
        .cast(PAID_ACCOUNTS_SCHEMA)  # type: ignore[arg-type]
    )
