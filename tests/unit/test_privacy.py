from __future__ import annotations

import polars as pl
import pytest

from yikatong.privacy import (
    mask_account,
    mask_account_expr,
    mask_id,
    mask_id_expr,
    mask_name,
    mask_name_expr,
)

NAMES = ["张三", "张小三", "欧阳娜娜", "阿依古丽·买买提", "李", "", None]


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张三", "张*"), ("张小三", "张*三"), ("欧阳娜娜", "欧阳**"), ("阿依古丽·买买提", "阿*******")],
)
def test_names_are_masked_as_the_disclosure_norms_show(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_a_masked_id_hides_the_birth_digits() -> None:
    masked = mask_id("11010519491231002X")
    assert masked == "110105********002X"
    assert "19491231" not in masked


def test_a_masked_account_keeps_only_the_last_four_digits() -> None:
    assert mask_account("6217000010012345678") == "****5678"


def test_the_vectorized_masks_agree_with_the_plain_ones() -> None:
    ids = ["11010519491231002X", "440524188001010014", "123", None]
    frame = pl.DataFrame({"name": NAMES, "id": ids + [None] * 3, "acct": ["6217000010012345678", "12"] + [None] * 5})
    out = frame.select(
        mask_name_expr(pl.col("name")).alias("name"),
        mask_id_expr(pl.col("id")).alias("id"),
        mask_account_expr(pl.col("acct")).alias("acct"),
    )
    assert out["name"].to_list() == [mask_name(n) for n in NAMES]
    assert out["id"].to_list() == [mask_id(i) for i in frame["id"].to_list()]
    assert out["acct"].to_list() == [mask_account(a) for a in frame["acct"].to_list()]


def test_short_and_empty_values_are_masked_without_wrapping_a_length() -> None:
    values = ["", "x", "12345", "1234567890", "张"]
    frame = pl.DataFrame({"v": values})
    out = frame.select(
        mask_id_expr(pl.col("v")).alias("id"),
        mask_name_expr(pl.col("v")).alias("name"),
        mask_account_expr(pl.col("v")).alias("acct"),
    )
    assert out["id"].to_list() == [mask_id(v) for v in values]
    assert out["name"].to_list() == [mask_name(v) for v in values]
    assert out["acct"].to_list() == [mask_account(v) for v in values]
