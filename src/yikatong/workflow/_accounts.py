"""Which account each passing row is paid into at dispatch, and which rows are held because it changed.

Validation records, per row, the account it approved (``pay_account``) and where it came from
(``account_source``: the registry, or the roster where there is no registry). Dispatch pays exactly that account.
With a registry it looks again: the registry may have changed between validation and dispatch (a new declaration
reviewed, an account closed or frozen), and a row whose registered account is no longer the one validation approved
is held, not sent to an account nobody checked. A row with no account at all is held too: a blank never reaches
the bank.
"""

from __future__ import annotations

from typing import Final

import polars as pl

__all__ = ["CHANGED_NOTE", "NO_ACCOUNT_NOTE", "accounts_for_dispatch"]

CHANGED_NOTE: Final = (
    "校验后登记账户已变更，须更正后重新校验 / registered account changed after validation; correct and resubmit"
)
NO_ACCOUNT_NOTE: Final = "无可付款的账户 / no account to pay into"


def accounts_for_dispatch(passed: pl.DataFrame, current: pl.DataFrame | None) -> pl.DataFrame:
    """``passed`` (stored rows with ``pay_account``, ``account_source`` and ``account``) with the account to pay.

    Args:
        passed: The rows that passed validation (and review).
        current: [`yikatong.rules.paid_accounts`][] of those rows against the registry as it is now, or None
            when the service has no registry.

    Returns:
        ``passed`` with ``_pay`` (the account sent to the bank), ``_source`` (``registry``/``roster``),
        ``_hold_code`` and ``_hold_note`` (null unless the row is held: ``ACCOUNT_MISMATCH`` when the registry now
        names another account, ``ACCOUNT_INACTIVE`` when it names none, ``ACCOUNT_NOT_REGISTERED`` or
        ``ACCOUNT_FORMAT`` when there is no account to pay into at all).
    """
    approved = pl.col("pay_account")
    validated = pl.col("account_source").is_not_null()  # rows validated before accounts were recorded have none
    roster_account = pl.col("account").str.strip_chars()
    roster_account = pl.when(roster_account != "").then(roster_account)
    if current is None:
        frame = passed.with_columns(
            pl.when(validated).then(approved).otherwise(roster_account).alias("_pay"),
            pl.coalesce(pl.col("account_source"), pl.lit("roster")).alias("_source"),
            pl.lit(False).alias("_changed"),
        )
        none_code = "ACCOUNT_FORMAT"
    else:
        frame = passed.join(
            current.select("row_id", pl.col("pay_account").alias("_pay")), on="row_id", how="left"
        ).with_columns(
            pl.lit("registry").alias("_source"),
            (validated & approved.ne_missing(pl.col("_pay"))).alias("_changed"),
        )
        none_code = "ACCOUNT_NOT_REGISTERED"
    changed = pl.col("_changed")
    blank = pl.col("_pay").is_null()
    return frame.with_columns(
        pl.when(changed & blank)
        .then(pl.lit("ACCOUNT_INACTIVE"))
        .when(changed)
        .then(pl.lit("ACCOUNT_MISMATCH"))
        .when(blank)
        .then(pl.lit(none_code))
        .alias("_hold_code"),
        pl.when(changed).then(pl.lit(CHANGED_NOTE)).when(blank).then(pl.lit(NO_ACCOUNT_NOTE)).alias("_hold_note"),
    ).drop("_changed")
