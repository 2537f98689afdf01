"""The generator: a roster with known defects and the registry, lists and ledger that match it."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from yikatong.catalog import Catalog
from yikatong.period import Period
from yikatong.synth._context import ledger, references, registry
from yikatong.synth._data import SynthData
from yikatong.synth._frame import copy_from_partner
from yikatong.synth._ids import id_string
from yikatong.synth._kinds import BLOCK, PAIR_KINDS, assign_kinds, kind_counts
from yikatong.synth._people import (
    add_accounts,
    add_birth_and_sex,
    add_households,
    add_identity,
    add_names,
    add_regions,
    assign_sequences,
    others_frame,
)
from yikatong.synth._rng import Rng
from yikatong.synth._roster import HEADERS, add_amounts, export_columns
from yikatong.synth._spec import item_specs
from yikatong.synth._truth import truth_frame

__all__ = ["generate"]

_MAX_RATE = 0.5


def generate(
    rows: int,
    /,
    *,
    catalog: Catalog,
    period: str | Period,
    item: str = "GLJT",
    items: Sequence[str] | None = None,
    seed: int = 0,
    defect_rate: float = 0.05,
    part: int = 0,
    parts: int = 1,
) -> SynthData:
    """Generate a synthetic roster with injected defects, its truth, and the matching context.

    Args:
        rows: Number of roster rows (≥ 1).
        catalog: The subsidy catalogue the items come from.
        period: The payment period of the roster (``"2026-11"`` or a [`Period`][yikatong.Period]). An item
            paid by another kind of period is paid for its period holding this one's first day (``2026`` for an
            annual item on a ``2026-11`` roster); ``SynthData.item_periods`` names them.
        item: The item of a single-item roster.
        items: Several items in one roster (rows split evenly, each item a contiguous block, a ``项目代码``
            column added); overrides ``item``.
        seed: Seed; the same arguments give the same data, on every machine.
        defect_rate: Share of rows carrying an injected defect (0 to 0.5), spread evenly over the kinds that apply
            to each item.
        part: Which part this call generates, for a roster too large for memory built as ``parts`` calls of
            ``rows`` rows each (part ``k`` is rows ``k × rows + 1`` onwards). Different parts draw different people
            whose ID numbers and accounts never coincide; part 0 of 1 is the ordinary single call.
        parts: How many parts the whole roster has (region shares and ID capacity follow the whole population).

    Returns:
        The roster (export headers, all text), the truth, the registry, the reference lists and the ledger.

    Raises:
        ValueError: when ``rows`` or ``defect_rate`` is out of range or an item repeats.
        UnknownItem: when an item code is not in the catalogue.
    """
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
        raise ValueError(f"rows must be a positive integer, got {rows!r}")
    if parts < 1 or not 0 <= part < parts:
        raise ValueError(f"part must be in 0..parts-1 and parts at least 1, got part {part}, parts {parts}")
    if not 0.0 <= defect_rate <= _MAX_RATE:
        raise ValueError(f"defect_rate must be between 0 and {_MAX_RATE}, got {defect_rate!r}")
    codes = tuple(items) if items is not None else (item,)
    if not codes or len(set(codes)) != len(codes):
        raise ValueError("items must be distinct and not empty")
    the_period = Period.parse(period)
    specs = item_specs(catalog, codes, rows, BLOCK)
    # Each item is paid for its own kind of period: an annual item on a November roster is paid for the year.
    periods = [the_period.within(spec.item.period) for spec in specs]
    exclusive_periods = [
        the_period.within(catalog[spec.item.exclusive_with[0]].period).label
        if spec.item.exclusive_with
        else periods[i].label
        for i, spec in enumerate(specs)
    ]
    rng = Rng(seed if part == 0 else Rng(seed).key(f"part {part}"))
    counts = [kind_counts(spec.rows, spec.item, defect_rate, rotate=spec.index * 11) for spec in specs]
    if any(spec.start % BLOCK for spec in specs):  # item blocks not aligned: a pair could span two items
        counts = [{kind: 0 if kind in PAIR_KINDS else n for kind, n in c.items()} for c in counts]

    frame = pl.select(pl.int_range(rows, dtype=pl.Int64).alias("_i"))
    starts = pl.Series([spec.start for spec in specs], dtype=pl.Int64)
    frame = frame.with_columns(
        (pl.lit(starts).search_sorted(pl.col("_i"), side="right").cast(pl.Int64) - 1).alias("_item")
    )
    frame = assign_kinds(frame, [(spec.start, spec.rows) for spec in specs], counts, rng)

    kind = pl.col("_kind")
    others_count = max(50, rows // 4)
    population = (rows + others_count) * parts
    # Account serials: 4 per roster row or list-only person of the whole multi-part roster, so none coincide.
    stride = max(rows, others_count)
    first = part * stride
    frame = add_birth_and_sex(frame, specs, periods, rng)
    frame = add_regions(frame, rng, population)
    frame = add_names(
        frame,
        rng,
        minority=(kind == "NAME_NORMALISED").fill_null(False) | (rng.uniform("name.minority") < 0.003),
        rare=(kind == "TEXT_ENCODING").fill_null(False) | (rng.uniform("name.rare") < 0.001),
    )
    others = others_frame(others_count, the_period, Rng(rng.key("others"), pl.col("_o")), population)
    frame, others = assign_sequences(frame, others, part=part, parts=parts)

    # A near-duplicate is its partner under a second ID: same name, birth date, sex, region and village.
    frame = copy_from_partner(frame, "DUP_NEAR", ("_male", "_birth", "_region", "_name", "_body"))
    frame = add_identity(frame, rng)
    others = others.with_columns(id_string(pl.col("_body")).alias("_id"))
    frame = add_households(frame, specs, rng)
    frame = copy_from_partner(frame, "DUP_NEAR", ("_town", "_village"))
    frame = frame.with_columns(
        pl.when(kind == "DUP_NEAR")
        .then(pl.col("_head").gather(pl.col("_partner").fill_null(pl.col("_i"))))
        .otherwise(pl.col("_head"))
        .alias("_head")
    )
    household_items = pl.lit(pl.Series([spec.household for spec in specs], dtype=pl.Boolean)).gather(pl.col("_item"))
    frame = frame.with_columns(pl.when(household_items).then(pl.col("_id")).otherwise(pl.col("_head")).alias("_head"))
    frame = add_accounts(
        frame,
        rng,
        serial=(pl.col("_i") + first) * 4,
        alt_serial=(pl.col("_i") + first) * 4 + 1,
        force_card=(kind == "ACCOUNT_LUHN").fill_null(False),
    )
    others = add_accounts(others, Rng(rng.key("others.accounts"), pl.col("_o")), serial=(pl.col("_o") + first) * 4 + 2)
    frame = add_amounts(frame, specs, rng)
    frame = copy_from_partner(frame, "DUP_NEAR", ("_qty", "_category", "_std_fen"))
    frame = export_columns(frame, specs, rng)

    # A copied row: every column of the partner, so the roster names the same person twice.
    headers = [h for h in HEADERS if h in frame.columns]
    keep = ("_id", "_name", "_birth", "_male", "_acct", "_acct_alt", "_acct_kind", "_bank", "_std_fen", "_category")
    frame = frame.select("_i", "_item", "_kind", "_partner", "_partner_of", *keep, *headers)
    frame = copy_from_partner(frame, "DUP_IN_BATCH", (*keep, *headers))

    roster = frame.select(pl.col(h).cast(pl.String) for h in headers)
    return SynthData(
        roster=roster,
        truth=truth_frame(frame),
        registry=registry(frame, others, rng),
        references=references(frame, others, specs, periods, rng),
        ledger=ledger(frame, specs, periods, rng, exclusive_periods=exclusive_periods),
        period=the_period.label,
        items=codes,
        item_periods={spec.item.code: p.label for spec, p in zip(specs, periods, strict=True)},
    )
