"""The roster as a department exports it: Chinese headers, every cell text, defects written into the cells."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import polars as pl

from yikatong.synth._frame import patch_many, yuan_text
from yikatong.synth._names import DOT_LOOKALIKES
from yikatong.synth._rng import Rng, take
from yikatong.synth._spec import ItemSpec, by_item

__all__ = ["HEADERS", "add_amounts", "export_columns"]

HEADERS: Final = (
    "姓名",
    "性别",
    "身份证号",
    "乡镇(街道)",
    "村(社区)",
    "户主身份证号",
    "一卡通账号",
    "类别",
    "数量",
    "补贴金额",
    "项目代码",
)
"""Every header a synthetic roster can carry, in export order (类别, 数量 and 项目代码 only when used)."""

_FULL_WIDTH: Final = {str(d): chr(0xFF10 + d) for d in range(10)} | {"X": "Ｘ"}
_LONG_NOTE: Final = "（备注：本人长期在外务工，户籍已迁出，由其子代为申领，待村委会核实后补录身份证复印件及银行卡信息）"


def add_amounts(frame: pl.DataFrame, specs: Sequence[ItemSpec], rng: Rng) -> pl.DataFrame:
    """Add ``_std_fen`` (the standard amount for the row), ``_qty`` (hundredths, rate items) and ``_category``."""
    kind = by_item([spec.kind for spec in specs], pl.String())
    fixed = by_item([spec.fixed_fen() for spec in specs], pl.Int64())
    rate = by_item([spec.rate_fen() for spec in specs], pl.Int64())
    max_q = by_item([spec.max_quantity_hundredths() for spec in specs], pl.Int64())
    rounding = by_item(
        [getattr(spec.item.standard, "rounding", "half_up") for spec in specs],
        pl.String(),
    )
    names: list[str] = []
    fens: list[int] = []
    offsets: list[int] = []
    counts: list[int] = []
    for spec in specs:
        offsets.append(len(names))
        cats = spec.categories or ("",)
        names.extend(cats)
        fens.extend(spec.category_fen or (0,))
        counts.append(len(cats))
    # Land per household in Xiushan's hills: 0.5 to 6.5 mu, most around 3.5 (a triangular spread, so no clean
    # row is far above the usual amount).
    spread = rng.uniform("amount.quantity") + rng.uniform("amount.quantity2")
    quantity = (50 + (300 * spread).floor().cast(pl.Int64)).clip(upper_bound=max_q)
    product = rate * quantity
    rate_fen = (
        pl.when(rounding == "down")
        .then(product // 100)
        .when(rounding == "up")
        .then((product + 99) // 100)
        .otherwise((product + 50) // 100)
    )
    cat_index = by_item(offsets, pl.Int64()) + rng.integers("amount.category", by_item(counts, pl.Int64()))
    return frame.with_columns(
        pl.when(kind == "rate").then(quantity).alias("_qty"),
        pl.when(kind == "table").then(take(tuple(names), cat_index)).alias("_category"),
        pl.when(kind == "fixed")
        .then(fixed)
        .when(kind == "rate")
        .then(rate_fen)
        .otherwise(pl.lit(pl.Series(fens, dtype=pl.Int64)).gather(cat_index))
        .alias("_std_fen"),
    )


def _id_patches(rng: Rng) -> list[tuple[str, pl.Expr]]:
    clean = pl.col("_id")
    variant = rng.integers("text.id_variant", 3)
    dropped = pl.concat_str(clean.str.slice(0, 10), clean.str.slice(11))
    extra = pl.concat_str(clean, clean.str.slice(16, 1))
    fifteen = pl.concat_str(clean.str.slice(0, 6), clean.str.slice(8, 6), clean.str.slice(14, 3))
    mantissa = clean.str.slice(1, 5).str.strip_chars_end("0")
    scientific = pl.concat_str(
        clean.str.slice(0, 1),
        pl.when(mantissa.str.len_chars() > 0).then(pl.concat_str(pl.lit("."), mantissa)).otherwise(pl.lit("")),
        pl.lit("E+17"),
    )
    # A float column's text: the 15 digits a double kept, zeros after them, and a decimal point.
    as_float = pl.concat_str(clean.str.slice(0, 15), pl.lit("000.0"))
    full_width = clean.str.replace_many(list(_FULL_WIDTH), list(_FULL_WIDTH.values()))
    zero_width = pl.concat_str(clean.str.slice(0, 6), pl.lit("\u200b"), clean.str.slice(6))
    lower_or_space = (
        pl.when(clean.str.ends_with("X"))
        .then(clean.str.to_lowercase())
        .otherwise(pl.concat_str(clean.str.slice(0, 6), pl.lit(" "), clean.str.slice(6)))
    )
    return [
        ("ID_MISSING", pl.lit("")),
        ("ID_FORMAT", pl.when(variant == 0).then(extra).otherwise(dropped)),
        ("ID_15_DIGIT", fifteen),
        ("ID_EXCEL_MANGLED", pl.when(variant == 0).then(as_float).otherwise(scientific)),
        (
            "ID_NORMALISED",
            pl.when(variant == 0).then(full_width).when(variant == 1).then(zero_width).otherwise(lower_or_space),
        ),
    ]


def _name_patches(rng: Rng) -> list[tuple[str, pl.Expr]]:
    name = pl.col("_name")
    lookalike = take(tuple(DOT_LOOKALIKES), rng.integers("text.dot", len(DOT_LOOKALIKES)))
    variant = rng.integers("text.name_variant", 4)
    invalid = (
        pl.when(variant == 0)
        .then(pl.concat_str(name, (rng.integers("text.name_digit", 9) + 1).cast(pl.String)))
        .when(variant == 1)
        .then(pl.lit(""))
        .when(variant == 2)
        .then(pl.concat_str(name, pl.lit("A")))
        .otherwise(pl.concat_str(name, pl.lit(_LONG_NOTE)))
    )
    return [
        ("NAME_NORMALISED", name.str.replace("·", lookalike, literal=True)),
        ("TEXT_ENCODING", pl.concat_str(name.str.slice(0, name.str.len_chars() - 1), pl.lit("?"))),
        ("NAME_INVALID", invalid),
    ]


def _amount_patches(specs: Sequence[ItemSpec], rng: Rng) -> list[tuple[str, pl.Expr]]:
    std = pl.col("_std_fen")
    cap = by_item([spec.item.cap_per_period or 0 for spec in specs], pl.Int64())
    cut = (std.cast(pl.Float64) * (0.1 + 0.4 * rng.uniform("amount.cut")) / 100).floor().cast(pl.Int64) * 100
    lower = std - pl.when(cut > 0).then(cut).otherwise(std // 2)
    over = cap + ((cap.cast(pl.Float64) * (0.1 + 0.4 * rng.uniform("amount.over")) / 100).floor().cast(pl.Int64) * 100)
    over = pl.max_horizontal(over, cap + 100)
    variant = rng.integers("amount.invalid", 5)
    invalid = (
        pl.when(variant == 0)
        .then(pl.lit(""))
        .when(variant == 1)
        .then(pl.concat_str(yuan_text(std), pl.lit("5")))
        .when(variant == 2)
        .then(yuan_text(-std))
        .when(variant == 3)
        .then(pl.lit("0.00"))
        .otherwise(pl.lit("壹佰元整"))
    )
    return [
        ("AMOUNT_INVALID", invalid),
        ("AMOUNT_STANDARD_MISMATCH", yuan_text(lower)),
        ("AMOUNT_OVER_CAP", yuan_text(over)),
    ]


def _account_patches(rng: Rng) -> list[tuple[str, pl.Expr]]:
    own = pl.col("_acct")
    last = own.str.slice(-1).cast(pl.Int64)
    bad_luhn = pl.concat_str(
        own.str.slice(0, own.str.len_chars() - 1),
        ((last + 1 + rng.integers("account.bad_luhn", 9)) % 10).cast(pl.String),
    )
    return [
        ("ACCOUNT_MISMATCH", pl.col("_acct_alt")),
        ("DUP_NEAR", pl.col("_acct_alt")),
        ("ACCOUNT_FORMAT", pl.concat_str(own.str.slice(0, 7), pl.lit("O"), own.str.slice(8))),
        ("ACCOUNT_LUHN", bad_luhn),
    ]


def export_columns(frame: pl.DataFrame, specs: Sequence[ItemSpec], rng: Rng) -> pl.DataFrame:
    """Add the roster's text columns (named by their Chinese headers) to ``frame``."""
    columns = [
        pl.col("_name").alias("姓名"),
        pl.when(pl.col("_male")).then(pl.lit("男")).otherwise(pl.lit("女")).alias("性别"),
        pl.col("_id").alias("身份证号"),
        pl.col("_town").alias("乡镇(街道)"),
        pl.col("_village").alias("村(社区)"),
        pl.col("_head").alias("户主身份证号"),
        pl.col("_acct").alias("一卡通账号"),
    ]
    if any(spec.kind == "table" for spec in specs):
        columns.append(pl.col("_category").alias("类别"))
    if any(spec.kind == "rate" for spec in specs):
        columns.append(yuan_text(pl.col("_qty")).alias("数量"))
    columns.append(yuan_text(pl.col("_std_fen")).alias("补贴金额"))
    if len(specs) > 1:
        columns.append(by_item([spec.item.code for spec in specs], pl.String()).alias("项目代码"))
    frame = frame.with_columns(columns)
    kind = pl.col("_kind")
    flipped = pl.when(pl.col("_male")).then(pl.lit("女")).otherwise(pl.lit("男"))
    patches = [
        *(("姓名", k, v) for k, v in _name_patches(rng)),
        ("性别", "ID_SEX_MISMATCH", flipped),
        *(("身份证号", k, v) for k, v in _id_patches(rng)),
        *(("一卡通账号", k, v) for k, v in _account_patches(rng)),
        *(("补贴金额", k, v) for k, v in _amount_patches(specs, rng)),
    ]
    for column in ("姓名", "性别", "身份证号", "一卡通账号", "补贴金额"):
        frame = patch_many(frame, column, [(kind == code, value) for col, code, value in patches if col == column])
    if "ACCOUNT_SHARED" in frame["_kind"].cast(pl.String).unique().to_list():
        frame = _share_accounts(frame)
    return frame


def _share_accounts(frame: pl.DataFrame) -> pl.DataFrame:
    mask = frame.select((pl.col("_kind") == "ACCOUNT_SHARED").fill_null(False)).to_series()
    index = frame.select(pl.arg_where(mask)).to_series().cast(pl.Int64)
    partners = frame["_partner"].gather(index)
    return frame.with_columns(frame["一卡通账号"].clone().scatter(index, frame["_acct"].gather(partners)))
