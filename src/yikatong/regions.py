"""GB/T 2260 region codes with the years each was in use, from the packaged ``data/regions.csv``.

An ID number keeps the region code of the place where it was first issued, for life. So a code created after the
holder's birth year is normal (people get their number years after birth, and a Xiushan resident born in 1941 may
hold a 500241 number although 500241 dates from 1997), and a historical code such as 512330 (Xiushan under Sichuan)
is as legitimate as a current one. The table is built by ``scripts/build_region_codes.py`` from the list that
python-stdnum ships; the library itself only reads the CSV.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import polars as pl

__all__ = ["REGION_SCHEMA", "region_codes"]

REGION_SCHEMA: dict[str, pl.DataType] = {
    "region_code": pl.Int32(),
    "valid_from": pl.Int16(),  # first year in use; null = since the first edition of the standard
    "valid_to": pl.Int16(),  # last year in use; null = still in use
    "name": pl.String(),
}
"""The columns of [`region_codes`][yikatong.regions.region_codes]: a code, the years it was in use, and its name."""


@cache
def region_codes() -> pl.DataFrame:
    """Every region code that ever existed, one row each, sorted by code (read once, then cached).

    Returns:
        A frame in [`REGION_SCHEMA`][yikatong.regions.REGION_SCHEMA].
    """
    source = resources.files("yikatong").joinpath("data/regions.csv")
    with resources.as_file(source) as path:
        return pl.read_csv(path, comment_prefix="#", schema=REGION_SCHEMA)
