"""The registry join (one row per person, one join on the integer key, the few other accounts looked up apart) says
exactly what joining the registry three ways (per person, per person and account, per account) says."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.idnumbers import with_check as _id
from yikatong.catalog import Catalog
from yikatong.period import Period
from yikatong.rules import ValidationContext
from yikatong.rules._registry_join import REGISTRY_JOIN, registry_rows, registry_statuses_expr
from yikatong.rules._rule import RuleEnv

PEOPLE = [_id(f"5002411940010{i:04d}") for i in range(5)]
ACCOUNTS = ["6217000000000001", "6217000000000002", "6217000000000003", "2001234567890123456789", "12AB"]
STATUSES = ["active", "frozen", "pending", "closed"]
ORDER = {"active": 0, "frozen": 1, "pending": 2, "closed": 3}


def _reference(roster: pl.LazyFrame, registry: pl.LazyFrame) -> pl.LazyFrame:
    """The registry's columns worked out the plain way: three group-bys of the registry joined onto the roster."""
    reg = registry_rows(registry)
    active = pl.col("status") == "active"
    per_person = reg.group_by("_rkey").agg(
        pl.len().cast(pl.Int64).alias("_reg_n"),
        pl.col("account").filter(active).first().alias("_reg_active_account"),
        pl.col("account_kind").filter(active).first().alias("_reg_active_kind"),
        pl.col("holder_name").filter(active).first().alias("_reg_active_holder"),
        pl.col("status").is_in(["active", "frozen"]).sum().cast(pl.Int64).alias("_reg_open_n"),
        pl.concat_str(
            [pl.when((pl.col("status") == s).any()).then(pl.lit(s)) for s in STATUSES], separator=",", ignore_nulls=True
        ).alias("_statuses"),
    )
    per_account = (
        reg.with_columns(pl.col("status").replace_strict(ORDER, default=9, return_dtype=pl.Int8).alias("_o"))
        .sort("_o", maintain_order=True)
        .group_by("_rkey", "account")
        .agg(
            pl.col("status").first().alias("_m_status"),
            pl.col("account_kind").first().alias("_m_kind"),
            pl.col("holder_name").first().alias("_m_holder"),
        )
    )
    owners = reg.group_by("account").agg(
        pl.col("_rkey").n_unique().alias("_n"), pl.col("_rkey").min().alias("_lo"), pl.col("_rkey").max().alias("_hi")
    )
    key = pl.col("_payee_key")
    named = pl.col("_account").is_not_null()
    return (
        roster.join(per_person, left_on="_payee_key", right_on="_rkey", how="left", maintain_order="left")
        .join(
            per_account,
            left_on=["_payee_key", "_account"],
            right_on=["_rkey", "account"],
            how="left",
            maintain_order="left",
        )
        .with_columns(pl.coalesce("_account", "_reg_active_account").alias("_pay_account"))
        .join(owners, left_on="_pay_account", right_on="account", how="left", maintain_order="left")
        .select(
            "row_id",
            "_reg_n",
            "_reg_open_n",
            "_statuses",
            "_reg_active_account",
            "_m_status",
            "_pay_account",
            pl.when(named).then(pl.col("_m_kind")).otherwise(pl.col("_reg_active_kind")).alias("_pay_kind"),
            pl.when(named).then(pl.col("_m_holder")).otherwise(pl.col("_reg_active_holder")).alias("_holder"),
            (
                (pl.col("_n") > 1)
                | (pl.col("_lo") != key)
                | (pl.col("_hi") != key)
                | (pl.col("_n").is_not_null() & key.is_null())
            ).alias("_owner_other"),
        )
    )


_entry = st.tuples(
    st.sampled_from([*PEOPLE, "5002411940BAD"]),
    st.sampled_from(ACCOUNTS),
    st.sampled_from(["card", "passbook", "social_security"]),
    st.sampled_from(["张伟", "王秀英", "李娜"]),
    st.sampled_from([*STATUSES, "lost"]),
)
_row = st.tuples(
    st.sampled_from([*PEOPLE, _id("11010519491231002"), "not an id"]),
    st.sampled_from([*ACCOUNTS, "6222020000000009", "", "  ", None]),
)


@settings(max_examples=150, deadline=None)
@given(entries=st.lists(_entry, max_size=14), rows=st.lists(_row, min_size=1, max_size=10))
def test_the_registry_join_says_what_three_plain_joins_say(
    entries: list[tuple[str, str, str, str, str]], rows: list[tuple[str, str | None]]
) -> None:
    registry = pl.LazyFrame(
        [list(e) for e in entries] or None,
        schema=dict.fromkeys(("id_number", "account", "account_kind", "holder_name", "status"), pl.String),
        orient="row",
    )
    roster = pl.LazyFrame(
        {"row_id": list(range(1, len(rows) + 1)), "id_number": [r[0] for r in rows], "account": [r[1] for r in rows]},
        schema={"row_id": pl.Int64, "id_number": pl.String, "account": pl.String},
    )
    catalog = Catalog.example()
    env = RuleEnv(
        item=catalog["GLJT"],
        period=Period.parse("2026-11"),
        context=ValidationContext(registry=registry),
        columns=frozenset(roster.collect_schema().names()),
    )
    joined = REGISTRY_JOIN.apply(roster, env)
    got = joined.select(_OURS).collect(engine="in-memory")
    want = _reference(joined.select("row_id", "_payee_key", "_account"), registry).collect(engine="in-memory")
    known = pl.col("_reg_n").is_not_null()  # statuses only speak of people in the registry
    assert got.with_columns(pl.when(known).then("_statuses")).equals(want), (got, want)
    assert joined.select(pl.len()).collect(engine="in-memory").item() == len(rows)
    assert joined.select(_OURS).collect(engine="streaming").equals(got)


_OURS = [
    "row_id",
    "_reg_n",
    "_reg_open_n",
    registry_statuses_expr().alias("_statuses"),
    "_reg_active_account",
    "_m_status",
    "_pay_account",
    "_pay_kind",
    "_holder",
    "_owner_other",
]
