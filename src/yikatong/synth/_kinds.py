"""Which rows carry which injected defect: exact counts per item, no overlap, pairs kept within a block.

Every defective row carries exactly one injected *kind* (named by the rule code it is meant to trigger). The number
of rows of each kind is exact: ``round(defect_rate × rows of the item)`` spread evenly over the kinds that apply to
the item (``AGE_NOT_ELIGIBLE`` only where the item has an age range, ``PUBLIC_EMPLOYEE`` only for means-tested
items, and so on). Rows are picked by shuffling the candidate rows, so the choice is random but the counts are not.

Pair kinds (``DUP_IN_BATCH``, ``DUP_NEAR``, ``ACCOUNT_SHARED``) involve a second, otherwise clean row, the
*partner*. The roster is cut into blocks of 16 rows; a pair's target is the last row of a block and its partner an
earlier row of the same block (the row just before it for a copied row), so pairs never chain or overlap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import polars as pl

from yikatong.catalog import SubsidyItem
from yikatong.synth._rng import Rng

__all__ = [
    "BLOCK",
    "CONTEXT_KINDS",
    "DEFECT_KINDS",
    "KIND_DTYPE",
    "PAIR_KINDS",
    "ROSTER_KINDS",
    "applicable_kinds",
    "assign_kinds",
    "kind_counts",
]

BLOCK: Final = 16

ROSTER_KINDS: Final = (
    "ROW_MALFORMED",
    "TEXT_ENCODING",
    "ID_EXCEL_MANGLED",
    "ID_NORMALISED",
    "NAME_NORMALISED",
    "ID_MISSING",
    "ID_FORMAT",
    "ID_15_DIGIT",
    "ID_CHECKSUM",
    "ID_BIRTH_DATE",
    "ID_REGION_UNKNOWN",
    "ID_SEX_MISMATCH",
    "AGE_NOT_ELIGIBLE",
    "NAME_INVALID",
    "AMOUNT_INVALID",
    "AMOUNT_STANDARD_MISMATCH",
    "AMOUNT_OVER_CAP",
)
"""Kinds visible in the roster alone."""

CONTEXT_KINDS: Final = (
    "ACCOUNT_NOT_REGISTERED",
    "ACCOUNT_MISMATCH",
    "ACCOUNT_INACTIVE",
    "ACCOUNT_FORMAT",
    "ACCOUNT_LUHN",
    "HOLDER_NAME_MISMATCH",
    "DECEASED",
    "DECEASED_DURING_PERIOD",
    "PUBLIC_EMPLOYEE",
    "LIST_REQUIRED_MISSING",
    "LIST_EXCLUDED_PRESENT",
    "DUP_ALREADY_PAID",
    "DUP_EXCLUSIVE_ITEMS",
)
"""Kinds that show only against the registry, the reference lists or the ledger."""

PAIR_KINDS: Final = ("DUP_IN_BATCH", "DUP_NEAR", "ACCOUNT_SHARED")
"""Kinds that tie the target row to a partner row."""

DEFECT_KINDS: Final = (*PAIR_KINDS, *ROSTER_KINDS, *CONTEXT_KINDS)
"""Every kind the generator can inject, each named by the rule code it triggers."""


def applicable_kinds(item: SubsidyItem) -> tuple[str, ...]:
    """The kinds that make sense for ``item`` (a rule that cannot fire for the item gets no rows)."""
    skip: set[str] = set()
    if item.age_min is None and item.age_max is None:
        skip.add("AGE_NOT_ELIGIBLE")
    if item.cap_per_period is None:
        skip.add("AMOUNT_OVER_CAP")
    if not item.means_tested:
        skip.add("PUBLIC_EMPLOYEE")
    if not item.requires_lists:
        skip.add("LIST_REQUIRED_MISSING")
    if not [name for name in item.excludes_lists if name != "public_employee"]:
        skip.add("LIST_EXCLUDED_PRESENT")
    if not item.exclusive_with:
        skip.add("DUP_EXCLUSIVE_ITEMS")
    return tuple(kind for kind in DEFECT_KINDS if kind not in skip)


def kind_counts(rows: int, item: SubsidyItem, rate: float, *, rotate: int = 0) -> dict[str, int]:
    """Exact row counts per kind for ``rows`` rows of ``item`` at total defect rate ``rate``.

    The total is ``round(rate × rows)`` split evenly; the remainder goes one row each to the kinds starting at
    position ``rotate``, so small rosters of several items do not all favour the same kinds. Pair kinds are capped
    by the number of blocks available.
    """
    kinds = applicable_kinds(item)
    total = round(rate * rows)
    base, extra = divmod(total, len(kinds))
    counts = {kind: base + (1 if (i - rotate) % len(kinds) < extra else 0) for i, kind in enumerate(kinds)}
    slots = rows // BLOCK
    for kind in PAIR_KINDS:
        take_n = min(counts[kind], slots)
        counts[kind] = take_n
        slots -= take_n
    return counts


KIND_DTYPE: Final = pl.Enum(DEFECT_KINDS)
"""The dtype of the ``_kind`` column (comparisons against a kind name are integer comparisons)."""


def _shuffled(values: pl.Series, seed: int) -> pl.Series:
    return values.shuffle(seed=seed & ((1 << 63) - 1))


def assign_kinds(
    frame: pl.DataFrame, specs: Sequence[tuple[int, int]], counts: Sequence[dict[str, int]], rng: Rng
) -> pl.DataFrame:
    """Add ``_kind`` (the injected kind or null), ``_partner`` (a pair target's partner row) and ``_partner_of``
    (on a partner row: its target's kind).

    Args:
        frame: Has ``_i`` (0-based row).
        specs: Per item, its first row and row count; blocks start at multiples of ``BLOCK``.
        counts: Per item, the rows per kind (``kind_counts``).
        rng: The random streams (only its keys are used: picking rows is a shuffle, not a per-row draw).
    """
    n = frame.height
    code = {kind: i for i, kind in enumerate(DEFECT_KINDS)}
    kind_index = pl.select(pl.repeat(None, n, dtype=pl.Int64)).to_series()
    partner = kind_index.clone()
    partner_of = kind_index.clone()
    for item, ((start, rows), item_counts) in enumerate(zip(specs, counts, strict=True)):
        slots = pl.int_range(start + BLOCK - 1, start + rows, BLOCK, dtype=pl.Int64, eager=True)
        slots = _shuffled(slots, rng.key(f"kinds.slots.{item}"))
        pair_kinds = [k for k in PAIR_KINDS for _ in range(item_counts.get(k, 0))]
        targets = slots.head(len(pair_kinds))
        pair_codes = pl.Series([code[k] for k in pair_kinds], dtype=pl.Int64)
        back = (
            pl.DataFrame({"_i": targets, "_c": pair_codes})
            .select(
                pl.when(pl.col("_c") == code["DUP_IN_BATCH"])
                .then(0)
                .otherwise(Rng(rng.key(f"kinds.back.{item}"), pl.col("_i")).integers("back", BLOCK - 1))
            )
            .to_series()
        )
        partners = targets - 1 - back
        if targets.len():
            kind_index.scatter(targets, pair_codes)
            partner.scatter(targets, partners)
            partner_of.scatter(partners, pair_codes)
        taken = pl.concat([targets, partners]) - start
        free = pl.select(pl.repeat(True, rows, dtype=pl.Boolean)).to_series()
        if taken.len():
            free.scatter(taken, False)
        candidates = pl.int_range(start, start + rows, dtype=pl.Int64, eager=True).filter(free)
        candidates = _shuffled(candidates, rng.key(f"kinds.single.{item}"))
        single = [code[k] for k in DEFECT_KINDS if k not in PAIR_KINDS for _ in range(item_counts.get(k, 0))]
        chosen = candidates.head(len(single))
        if chosen.len():
            kind_index.scatter(chosen, pl.Series(single[: chosen.len()], dtype=pl.Int64))
    names = pl.Series(DEFECT_KINDS, dtype=KIND_DTYPE)
    return frame.with_columns(
        pl.lit(names).gather(kind_index).alias("_kind"),
        partner.alias("_partner"),
        pl.lit(names).gather(partner_of).alias("_partner_of"),
    )
