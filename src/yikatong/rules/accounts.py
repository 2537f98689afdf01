"""Account rules 一人一卡: is the payee's account registered, active, well formed, theirs, and theirs alone?

All rules read the columns of the shared registry derivation (``yikatong.rules._registry_join``); for household
items they judge the household head's account. Decisions taken where ``docs/domain.md`` leaves room:

* ``ACCOUNT_NOT_REGISTERED``: the payee has no account at all in the registry. A payee whose accounts are all
  closed, frozen or pending gets ``ACCOUNT_INACTIVE`` instead.
* ``ACCOUNT_MISMATCH``: the roster names an account other than the active one. A roster row without an account
  is paid into the registered account and is not a mismatch.
* ``ACCOUNT_FORMAT``: the account paid (the roster's, else the registered active one) must be digits, of a length
  accepted for its kind ([`yikatong.registry.ACCOUNT_LENGTHS`][]); when the kind is unknown (the roster's
  account is not in the registry) any length accepted for some kind passes (10–25). No account at all fails.
* ``ACCOUNT_LUHN``: only for cards and social-security cards (or an unknown kind of card length 13–19); passbook
  account numbers carry no Luhn digit.
* ``HOLDER_NAME_MISMATCH``: scored with ``rapidfuzz.fuzz.ratio`` on name keys (``_holder_names.py``); for
  household items only the head's own row is compared, since other members' names are not the holder's.
* ``ACCOUNT_SHARED`` (its batch counts in ``_account_spread.py``): block when, in this batch, the account pays
  several different persons; review when the registry records the account under someone else (the ledger carries
  no account numbers, so it cannot tell).
* ``PERSON_MULTIPLE_ACCOUNTS``: review when, in this batch, the payee is reached through several accounts, or the
  registry shows more than one open (active or frozen) account for the payee. A pending change next to the active
  account is the normal way to change accounts and is not counted.
"""

from __future__ import annotations

import polars as pl

from yikatong.privacy import mask_account_expr, mask_id_expr
from yikatong.rules._account_spread import (
    BATCH_SPREAD,
    batch_spread,
    multiple_accounts_finding,
    shared_account_finding,
)
from yikatong.rules._holder_names import NAME_SCORE, holder_name_finding, name_scores
from yikatong.rules._keys import cached
from yikatong.rules._registry_join import REGISTRY_JOIN, registry_statuses_expr
from yikatong.rules._rule import Derivation, Finding, Rule, RuleEnv

__all__ = ["RULES", "batch_spread", "luhn_ok_expr", "name_scores"]


def luhn_ok_expr(digits: pl.Expr) -> pl.Expr:
    """True when a digit string of at most 19 digits passes the Luhn check (vectorized, no per-row Python).

    The string is read once as an unsigned 64-bit integer (19 digits fit) and its digits taken by integer
    arithmetic from the right; leading zeros add nothing to the Luhn sum, so shorter numbers need no special case.
    """
    value = digits.str.to_integer(dtype=pl.UInt64, strict=False)
    total = pl.lit(0, pl.UInt64)
    for i in range(19):
        d = (value // (10**i)) % 10
        if i % 2 == 1:
            d = d * 2 - (d >= 5).cast(pl.UInt64) * 9
        total = total + d
    return total % 10 == 0


def _household_note(env: RuleEnv) -> pl.Expr:
    if env.item.unit != "household":
        return pl.lit("payee")
    return (
        pl.when(pl.col("_payee_id") != pl.col("id_number"))
        .then(pl.concat_str(pl.lit("household head "), mask_id_expr(pl.col("_payee_id"))))
        .otherwise(pl.lit("payee"))
    )


def _not_registered(env: RuleEnv) -> Finding:
    return Finding(
        hit=pl.col("_reg_n").is_null(),
        evidence=pl.concat_str(_household_note(env), pl.lit(": no one-card account in the registry")),
    )


def _inactive(env: RuleEnv) -> Finding:
    own_inactive = pl.col("_m_status").is_not_null() & (pl.col("_m_status") != "active")
    none_active = pl.col("_reg_n").is_not_null() & pl.col("_reg_active_account").is_null()
    return Finding(
        hit=own_inactive | none_active,
        evidence=pl.when(own_inactive)
        .then(
            pl.concat_str(
                pl.lit("account "), mask_account_expr(pl.col("_account")), pl.lit(" is "), pl.col("_m_status")
            )
        )
        .otherwise(pl.concat_str(pl.lit("no active account (registry: "), registry_statuses_expr(), pl.lit(")"))),
    )


def _mismatch(env: RuleEnv) -> Finding:
    return Finding(
        hit=pl.col("_account").is_not_null()
        & pl.col("_reg_active_account").is_not_null()
        & (pl.col("_account") != pl.col("_reg_active_account")),
        evidence=pl.concat_str(
            pl.lit("roster "),
            mask_account_expr(pl.col("_account")),
            pl.lit(", registered "),
            mask_account_expr(pl.col("_reg_active_account")),
        ),
    )


def _length_bounds() -> tuple[pl.Expr, pl.Expr]:
    kind = pl.col("_pay_kind")
    low = pl.when(kind.is_in(["card", "social_security"])).then(13).otherwise(10)
    high = pl.when(kind.is_in(["card", "social_security"])).then(19).otherwise(25)
    return low, high


def _format(env: RuleEnv) -> Finding:
    account = pl.col("_pay_account")
    n = account.str.len_chars()
    low, high = _length_bounds()
    digits = account.str.contains(r"^[0-9]+$")
    bad = account.is_null() | ~digits | (n < low) | (n > high)
    kind = pl.col("_pay_kind").fill_null("unknown kind")
    evidence = (
        pl.when(account.is_null())
        .then(pl.lit("no account"))
        .when(~digits)
        .then(
            pl.concat_str(pl.lit("account "), mask_account_expr(account), pl.lit(" has characters other than digits"))
        )
        .otherwise(
            pl.concat_str(
                pl.lit("account "),
                mask_account_expr(account),
                pl.lit(": "),
                n.cast(pl.String),
                pl.lit(" digits, "),
                kind,
                pl.lit(" needs "),
                low.cast(pl.String),
                pl.lit("-"),
                high.cast(pl.String),
            )
        )
    )
    return Finding(hit=bad, evidence=evidence)


def _luhn(env: RuleEnv) -> Finding:
    account = pl.col("_pay_account")
    n = account.str.len_chars()
    kind = pl.col("_pay_kind")
    card_like = kind.is_in(["card", "social_security"]) | (kind.is_null() & (n >= 13))
    applicable = account.str.contains(r"^[0-9]{13,19}$") & card_like
    return Finding(
        hit=applicable & ~luhn_ok_expr(account),
        evidence=pl.concat_str(pl.lit("card "), mask_account_expr(account), pl.lit(" fails the Luhn check")),
    )


def _join_verification(lf: pl.LazyFrame, env: RuleEnv) -> pl.LazyFrame:
    verification = env.context.bank_verification
    assert verification is not None  # the rule declares the input
    result = verification.group_by("row_id").agg(
        pl.col("verified").cast(pl.Boolean).all().alias("_bv_ok"),
        (
            pl.col("reason").cast(pl.String)
            if "reason" in verification.collect_schema().names()
            else pl.lit(None, pl.String)
        )
        .drop_nulls()
        .first()
        .alias("_bv_reason"),
    )
    return lf.join(result.with_columns(pl.col("row_id").cast(pl.Int64)), on="row_id", how="left", maintain_order="left")


VERIFICATION_JOIN = Derivation(name="bank_verification", apply=cached(_join_verification))


def _bank_failed(env: RuleEnv) -> Finding:
    return Finding(
        hit=pl.col("_bv_ok").not_(),
        evidence=pl.concat_str(pl.lit("bank verification: "), pl.col("_bv_reason").fill_null("rejected")),
    )


_REGISTRY = (REGISTRY_JOIN,)

RULES: tuple[Rule, ...] = (
    Rule(
        code="ACCOUNT_NOT_REGISTERED",
        family="accounts",
        severity="block",
        message_zh="收款人（户类项目为户主）在一卡通账户库中没有登记账户",
        message_en="the payee (the household head for household items) has no one-card account in the registry",
        build=_not_registered,
        columns=("id_number",),
        inputs=("registry",),
        derivations=_REGISTRY,
        key="payee",
    ),
    Rule(
        code="ACCOUNT_MISMATCH",
        family="accounts",
        severity="block",
        message_zh="名单中的账号与账户库登记的一卡通账号不一致",
        message_en="the roster names an account other than the registered one-card account",
        build=_mismatch,
        columns=("id_number", "account"),
        inputs=("registry",),
        derivations=_REGISTRY,
        key="payee",
    ),
    Rule(
        code="ACCOUNT_INACTIVE",
        family="accounts",
        severity="block",
        message_zh="登记的账户已销户、冻结或尚在审核中",
        message_en="the registered account is closed, frozen or pending review",
        build=_inactive,
        columns=("id_number",),
        inputs=("registry",),
        derivations=_REGISTRY,
        key="payee",
    ),
    Rule(
        code="ACCOUNT_FORMAT",
        family="accounts",
        severity="block",
        message_zh="账号格式无效（须为数字；银行卡13至19位，存折10至25位）",
        message_en="account number invalid: digits only; cards 13-19 digits, passbooks 10-25",
        build=_format,
        columns=("id_number", "account"),
        derivations=_REGISTRY,
        key="payee",
    ),
    Rule(
        code="ACCOUNT_LUHN",
        family="accounts",
        severity="review",
        message_zh="银行卡号未通过Luhn校验（部分真实借记卡也不通过，请核实）",
        message_en="card number fails the Luhn check (some real debit cards do; confirm it)",
        build=_luhn,
        columns=("id_number", "account"),
        derivations=_REGISTRY,
        key="payee",
    ),
    Rule(
        code="HOLDER_NAME_MISMATCH",
        family="accounts",
        severity="block",
        message_zh="账户开户人姓名与收款人姓名不一致",
        message_en="the account holder's name differs from the payee's name",
        build=holder_name_finding,
        columns=("id_number", "name"),
        inputs=("registry",),
        derivations=(NAME_SCORE,),
        key="payee",
    ),
    Rule(
        code="ACCOUNT_SHARED",
        family="accounts",
        severity="review",
        message_zh="同一账户为多个不同人员收款",
        message_en="one account receives for several different persons",
        build=shared_account_finding,
        columns=("id_number",),
        derivations=(BATCH_SPREAD,),
        key="account",
    ),
    Rule(
        code="PERSON_MULTIPLE_ACCOUNTS",
        family="accounts",
        severity="review",
        message_zh="同一人员通过多个账户收款",
        message_en="one person is reached through several accounts",
        build=multiple_accounts_finding,
        columns=("id_number",),
        derivations=(BATCH_SPREAD,),
        key="payee",
    ),
    Rule(
        code="BANK_VERIFY_FAILED",
        family="accounts",
        severity="block",
        message_zh="银行联网核查未通过（姓名、身份证号与账号不匹配）",
        message_en="the bank's verification (联网核查) rejected name, ID and account",
        build=_bank_failed,
        columns=("id_number",),
        inputs=("bank_verification",),
        derivations=(VERIFICATION_JOIN,),
    ),
)
