"""An in-memory [`ReferenceData`][yikatong.ports.ReferenceData]: reference lists held as Polars frames."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from yikatong.catalog import REFERENCE_LISTS, ReferenceListName
from yikatong.errors import ReferenceDataError
from yikatong.ports import ReferenceData

__all__ = ["MemoryReference", "reference_context"]


class MemoryReference:
    """Reference lists supplied as frames.

    Args:
        lists: Frames by list name; each needs an ``id_number`` column (String), and ``deceased`` a
            ``death_date`` column (Date).

    Raises:
        ReferenceDataError: an unknown list name, or a frame without the columns its list needs.
    """

    def __init__(self, lists: Mapping[str, pl.DataFrame | pl.LazyFrame]) -> None:
        self._lists: dict[ReferenceListName, pl.LazyFrame] = {}
        for name, frame in lists.items():
            known = _list_name(name)
            lf = frame.lazy()
            schema = lf.collect_schema()
            needed = {"id_number": pl.String(), **({"death_date": pl.Date()} if known == "deceased" else {})}
            for column, dtype in needed.items():
                if column not in schema:
                    raise ReferenceDataError(f"reference list {name}: no column {column} / 缺少列 {column}")
                if schema[column] != dtype:
                    raise ReferenceDataError(
                        f"reference list {name}, column {column}: expected {dtype}, got {schema[column]}"
                    )
            self._lists[known] = lf

    def available(self) -> frozenset[ReferenceListName]:
        """The names of the lists held."""
        return frozenset(self._lists)

    def frame(self, name: ReferenceListName) -> pl.LazyFrame:
        """The list ``name``.

        Raises:
            KeyError: when the list was not supplied.
        """
        try:
            return self._lists[name]
        except KeyError:
            raise KeyError(f"reference list {name!r} not supplied") from None


def _list_name(name: str) -> ReferenceListName:
    for known in REFERENCE_LISTS:
        if known == name:
            return known
    raise ReferenceDataError(f"unknown reference list {name!r}: use one of {', '.join(REFERENCE_LISTS)}")


def reference_context(source: ReferenceData) -> dict[ReferenceListName, pl.LazyFrame]:
    """Every list of ``source`` by name, ready for [`yikatong.rules.ValidationContext`][yikatong.ValidationContext]
    ``reference=``."""
    return {name: source.frame(name) for name in sorted(source.available())}
