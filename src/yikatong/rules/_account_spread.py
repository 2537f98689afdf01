"""Account spread in a batch: accounts that pay several persons, and persons reached through several accounts.

Two small group-bys over the batch (per account its distinct payees, per payee its distinct accounts), joined back
so evidence can name the other rows; ``ACCOUNT_SHARED`` and ``PERSON_MULTIPLE_ACCOUNTS`` (in
[`yikatong.rules.accounts`][]) read them, together with what the registry records.
"""

from __future__ import annotations

import polars as pl

from yikatong.privacy import mask_account_expr
from yikatong.rules._keys import cached
from yikatong.rules._registry_join import REGISTRY_JOIN
from yikatong.rules._rule import Derivation, Finding, RuleEnv

__all__ = ["BATCH_SPREAD", "batch_spread", "multiple_accounts_finding", "shared_account_finding"]


def _add_batch_spread(lf: pl.LazyFrame, env: RuleEnv) -> pl.LazyFrame:
    """Per account, the distinct payees in the batch; per payee, the distinct accounts: two small group-bys joined
    back, so evidence can name the other rows."""
    lf = lf.cache()  # read several times: the group-bys and the joins back
    base = lf.select("row_id", "_payee_key", "_pay_account")
    by_account = batch_spread(
        base.filter(pl.col("_pay_account").is_not_null()), "_pay_account", "_payee_key", "_acct_payees", "_acct_rows"
    )
    by_payee = batch_spread(
        base.filter(pl.col("_pay_account").is_not_null() & pl.col("_payee_key").is_not_null()),
        "_payee_key",
        "_pay_account",
        "_payee_accounts",
        "_payee_rows",
    )
    return lf.join(by_account, on="_pay_account", how="left", maintain_order="left").join(
        by_payee, on="_payee_key", how="left", maintain_order="left"
    )


def batch_spread(base: pl.LazyFrame, key: str, other: str, count_name: str, rows_name: str) -> pl.LazyFrame:
    """Keys with more than one distinct ``other``: the count, and the first ten row ids (listed only for those
    keys, which are few, so the row lists are not built for every account of the batch)."""
    counts = (
        base.group_by(key).agg(pl.col(other).n_unique().cast(pl.Int64).alias(count_name)).filter(pl.col(count_name) > 1)
    )
    rows = (
        base.join(counts.select(key), on=key, how="semi")
        .group_by(key)
        .agg(pl.col("row_id").sort().head(10).cast(pl.String).str.join(", ").alias(rows_name))
    )
    return counts.join(rows, on=key, how="left")


BATCH_SPREAD = Derivation(name="account_batch_spread", apply=cached(_add_batch_spread), after=(REGISTRY_JOIN,))


def shared_account_finding(env: RuleEnv) -> Finding:
    """``ACCOUNT_SHARED``: block when the account pays several persons in the batch, review when the registry
    records it under someone else."""
    in_batch = pl.col("_acct_payees") > 1
    registry = pl.col("_owner_other") if env.context.registry is not None else pl.lit(False)
    return Finding(
        hit=in_batch | registry,
        severity=pl.when(in_batch).then(pl.lit("block")).otherwise(pl.lit("review")),
        evidence=pl.when(in_batch)
        .then(
            pl.concat_str(
                pl.lit("account "),
                mask_account_expr(pl.col("_pay_account")),
                pl.lit(" pays "),
                pl.col("_acct_payees").cast(pl.String),
                pl.lit(" different persons in this batch (rows "),
                pl.col("_acct_rows"),
                pl.lit(")"),
            )
        )
        .otherwise(
            pl.concat_str(
                pl.lit("account "),
                mask_account_expr(pl.col("_pay_account")),
                pl.lit(" is registered to another person"),
            )
        ),
    )


def multiple_accounts_finding(env: RuleEnv) -> Finding:
    """``PERSON_MULTIPLE_ACCOUNTS``: the payee is reached through several accounts in the batch, or the registry
    shows more than one open account for them."""
    in_batch = pl.col("_payee_accounts") > 1
    batch_evidence = pl.concat_str(
        pl.lit("payee reached through "),
        pl.col("_payee_accounts").cast(pl.String),
        pl.lit(" accounts in this batch (rows "),
        pl.col("_payee_rows"),
        pl.lit(")"),
    )
    if env.context.registry is None:
        return Finding(hit=in_batch, evidence=batch_evidence)
    registry_evidence = pl.concat_str(
        pl.lit("registry: "), pl.col("_reg_open_n").cast(pl.String), pl.lit(" open accounts")
    )
    return Finding(
        hit=in_batch | (pl.col("_reg_open_n") > 1),
        evidence=pl.when(in_batch).then(batch_evidence).otherwise(registry_evidence),
    )
