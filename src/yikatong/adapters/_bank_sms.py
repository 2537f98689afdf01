"""The SMS a paying bank sends each payee when money reaches their card: who, what item and period, how much.

The text names the account by its last four digits only, and the frame keeps the masked account, never the full one.
"""

from __future__ import annotations

import polars as pl

from yikatong.privacy import mask_account_expr

__all__ = ["SMS_SCHEMA", "sms_notices"]

SMS_SCHEMA: dict[str, pl.DataType] = {
    "batch_id": pl.String(),
    "row_id": pl.Int64(),
    "account_masked": pl.String(),
    "item": pl.String(),
    "period": pl.String(),
    "amount_fen": pl.Int64(),
    "text": pl.String(),
}
"""The columns of ``SimulatedBank.sms``."""


def sms_notices(paid: pl.DataFrame, *, batch_id: str, item: str, period: str) -> pl.DataFrame:
    """One SMS per paid row (``row_id``, ``account``, ``amount_fen``), in ``SMS_SCHEMA``.

    Args:
        paid: The rows paid.
        batch_id: Their batch.
        item: The item's name as the payee reads it (or its code).
        period: The period paid.
    """
    yuan = pl.concat_str(
        (pl.col("amount_fen") // 100).cast(pl.String),
        pl.lit("."),
        (pl.col("amount_fen") % 100).cast(pl.String).str.zfill(2),
    )
    return paid.select(
        pl.lit(batch_id).alias("batch_id"),
        "row_id",
        mask_account_expr(pl.col("account")).alias("account_masked"),
        pl.lit(item).alias("item"),
        pl.lit(period).alias("period"),
        "amount_fen",
        pl.concat_str(
            pl.lit("【一卡通】您尾号"),
            pl.col("account").str.slice(-4, 4),
            pl.lit(f"的账户收到{item}（{period}）"),
            yuan,
            pl.lit("元。"),
        ).alias("text"),
    ).cast(SMS_SCHEMA)  # type: ignore[arg-type]
