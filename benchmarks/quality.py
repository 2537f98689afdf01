"""Detection quality: precision and recall per rule against the synth truth file.

For every rule code: ``must`` rows of the truth are the rows the rule has to report; ``may`` rows are consequences a
correct rule set may or may not report (see :mod:`yikatong.synth`). A reported row is a true positive when it is a
``must`` row, neutral when it is a ``may`` row, and a false positive otherwise. Precision = TP / (TP + FP),
recall = TP / (must rows). ``ROW_MALFORMED`` exists only in CSV text and is not scored on the Parquet roster.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from benchmarks._data import Dataset

__all__ = ["score"]


def score(folder: str, issues: str, codes: list[str]) -> dict[str, Any]:
    """Precision and recall per code from the issues file (``row_id, code``) a validation run wrote, for the
    rules that ran (``codes``)."""
    data = Dataset(Path(folder))
    truth = data.read("truth").select("row_id", pl.col("defect").alias("code"), "expected")
    found = pl.read_parquet(issues).filter(pl.col("row_id").is_not_null()).unique()
    joined = found.join(truth, on=["row_id", "code"], how="left")
    reported = joined.group_by("code").agg(
        (pl.col("expected") == "must").sum().alias("tp"),
        pl.col("expected").is_null().sum().alias("fp"),
        (pl.col("expected") == "may").sum().alias("may"),
    )
    must = truth.filter(pl.col("expected") == "must").group_by("code").agg(pl.len().alias("must"))
    table = (
        must.join(reported, on="code", how="full", coalesce=True)
        .with_columns(pl.col("tp", "fp", "may", "must").fill_null(0).cast(pl.Int64))
        .with_columns(
            (pl.col("tp") / (pl.col("tp") + pl.col("fp"))).alias("precision"),
            (pl.col("tp") / pl.col("must")).alias("recall"),
        )
        .filter(pl.col("code").is_in(codes))
        .sort("code")
    )
    return {"rows": data.rows, "per_rule": table.to_dicts()}
