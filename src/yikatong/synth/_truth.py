"""The truth file: which rule each defective row should trigger (``must``) and which it may also trigger (``may``).

``must``: the rule the defect was injected for, plus rules the defect necessarily triggers as well (an amount over
the cap also differs from the standard; an account with a letter in it is also not the registered one). Both rows
of a pair carry the pair's code.

``may``: rules a correct implementation may or may not report as a consequence, depending on whether it treats the
damaged value as "not applicable" — e.g. a roster ID damaged by Excel no longer finds the person's account, so
``ACCOUNT_NOT_REGISTERED`` may fire. Score ``must`` rows for recall; do not count ``may`` rows as false positives.
A rule firing on a row that has neither is a false positive: clean rows are clean by construction, with one
exception the generator cannot avoid: two different people drawn with the same name and the same birth date. The
catalogue's ``DUP_NEAR`` asks to review exactly such pairs, so those rows carry ``DUP_NEAR`` as ``may``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import polars as pl

__all__ = ["ALSO_MAY", "ALSO_MUST", "truth_frame"]

_ID_DAMAGE: Final = (
    "ID_FORMAT",
    "ID_CHECKSUM",
    "ID_BIRTH_DATE",
    "ID_REGION_UNKNOWN",
    "ID_SEX_MISMATCH",
    "AGE_NOT_ELIGIBLE",
    "DUP_IN_BATCH",
    "DUP_NEAR",
    "ACCOUNT_NOT_REGISTERED",
    "ACCOUNT_SHARED",
    "LIST_REQUIRED_MISSING",
)

ALSO_MUST: Final[Mapping[str, tuple[str, ...]]] = {
    "AMOUNT_OVER_CAP": ("AMOUNT_STANDARD_MISMATCH",),
    "ACCOUNT_FORMAT": ("ACCOUNT_MISMATCH",),
}
"""Rules a kind necessarily triggers besides its own."""

ALSO_MAY: Final[Mapping[str, tuple[str, ...]]] = {
    "ID_MISSING": _ID_DAMAGE,
    "ID_FORMAT": _ID_DAMAGE,
    "ID_EXCEL_MANGLED": _ID_DAMAGE,
    "ID_15_DIGIT": _ID_DAMAGE,
    "TEXT_ENCODING": ("HOLDER_NAME_MISMATCH", "DUP_NEAR"),
    "NAME_INVALID": ("HOLDER_NAME_MISMATCH", "DUP_NEAR"),
    "AMOUNT_OVER_CAP": ("AMOUNT_OUTLIER",),
    "DUP_IN_BATCH": ("AMOUNT_OUTLIER",),
}
"""Rules a kind may trigger as a consequence (see the module docstring)."""


def truth_frame(kinds: pl.DataFrame) -> pl.DataFrame:
    """The truth from ``_i``, ``_kind`` and ``_partner_of``: ``row_id`` (1-based), ``defect``, ``expected``."""
    rows = kinds.select(
        (pl.col("_i") + 1).alias("row_id"), pl.col("_kind").cast(pl.String), pl.col("_partner_of").cast(pl.String)
    )
    parts = [
        rows.filter(pl.col("_kind").is_not_null()).select("row_id", pl.col("_kind").alias("defect")),
        rows.filter(pl.col("_partner_of").is_not_null()).select("row_id", pl.col("_partner_of").alias("defect")),
    ]
    must = pl.concat(parts).with_columns(pl.lit("must").alias("expected"))
    extra: list[pl.DataFrame] = [must]
    for mapping, label in ((ALSO_MUST, "must"), (ALSO_MAY, "may")):
        pairs = [(kind, code) for kind, codes in mapping.items() for code in codes if code != kind]
        table = pl.DataFrame(pairs, schema={"_src": pl.String, "defect": pl.String}, orient="row")
        extra.append(
            must.select("row_id", pl.col("defect").alias("_src"))
            .join(table, on="_src", how="inner")
            .select("row_id", "defect", pl.lit(label).alias("expected"))
        )
    if {"_name", "_birth", "_id"} <= set(kinds.columns):
        extra.append(_namesakes(kinds))
    out = pl.concat(extra).with_columns(pl.col("row_id").cast(pl.Int64))
    # A code that is "must" for a row is never also listed as "may" for it.
    out = out.sort("row_id", "defect", pl.col("expected") != "must").unique(["row_id", "defect"], keep="first")
    return out.sort("row_id", "defect")


def _namesakes(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows sharing name and birth date with another person (a different ID): ``DUP_NEAR`` may fire on them."""
    group = ("_name", "_birth")
    return frame.filter(pl.col("_id").n_unique().over(group) > 1).select(
        (pl.col("_i") + 1).cast(pl.Int64).alias("row_id"),
        pl.lit("DUP_NEAR").alias("defect"),
        pl.lit("may").alias("expected"),
    )
