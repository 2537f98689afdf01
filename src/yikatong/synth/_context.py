"""What the rules check the roster against: the one-card registry, the reference lists and the payment ledger.

Every file is keyed by the person's ID as the household register holds it (``_id``): a clean person has exactly one
active account whose holder name is the person's name, is on every list the row's item requires and on none it
excludes, and has earlier periods' payments in the ledger but none for the roster's period. Each context defect
breaks exactly one of these facts. The lists also hold people who are not on the roster, in realistic proportions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Final

import polars as pl

from yikatong.catalog import REFERENCE_LISTS, ReferenceListName
from yikatong.period import Period
from yikatong.synth._frame import copy_from_partner, patch, patch_many, yuan_text
from yikatong.synth._names import different_name
from yikatong.synth._rng import Rng, take
from yikatong.synth._spec import ItemSpec, by_item, epoch_days

__all__ = ["LEDGER_SCHEMA", "REGISTRY_SCHEMA", "ledger", "previous_periods", "references", "registry"]

REGISTRY_SCHEMA: Final = {
    "id_number": pl.String(),
    "account": pl.String(),
    "account_kind": pl.String(),
    "bank": pl.String(),
    "holder_name": pl.String(),
    "status": pl.String(),
}
LEDGER_SCHEMA: Final = {
    "id_number": pl.String(),
    "item": pl.String(),
    "period": pl.String(),
    "amount": pl.String(),
    "status": pl.String(),
}
_GRADES: Final = ("一级", "二级", "三级", "四级")
# Share of clean roster people found on a list their item neither requires nor excludes.
_BACKGROUND: Final[dict[str, float]] = {
    "public_employee": 0.02,
    "disabled": 0.05,
    "supported": 0.01,
    "dibao": 0.03,
    "registered_poor": 0.08,
}
# Share of list-only people (not on the roster) on each list.
_OTHERS_SHARE: Final[dict[str, float]] = {
    "deceased": 0.08,
    "public_employee": 0.12,
    "disabled": 0.2,
    "supported": 0.04,
    "dibao": 0.16,
    "registered_poor": 0.24,
}


def registry(frame: pl.DataFrame, others: pl.DataFrame, rng: Rng) -> pl.DataFrame:
    """The one-card account registry snapshot (``id_number, account, account_kind, bank, holder_name, status``)."""
    kind = pl.col("_kind")
    year = pl.col("_birth").cast(pl.Date).dt.year()
    sex = pl.when(pl.col("_male")).then(pl.lit("男")).otherwise(pl.lit("女"))
    clean = kind.is_null() & pl.col("_partner_of").is_null()
    full = frame.with_columns(
        pl.col("_acct").alias("_r_account"),
        pl.col("_acct_kind").alias("_r_kind"),
        pl.col("_bank").alias("_r_bank"),
        pl.col("_name").alias("_r_holder"),
        pl.lit("active").alias("_r_status"),
    )
    full = patch(
        full,
        "_r_holder",
        kind == "HOLDER_NAME_MISMATCH",
        different_name(rng, birth_year=year, sex=sex, name=pl.col("_name")),
    )
    dotless = clean & pl.col("_name").str.contains("·", literal=True) & (rng.uniform("registry.dotless") < 0.3)
    full = patch(full, "_r_holder", dotless, pl.col("_name").str.replace("·", "", literal=True))
    inactive = take(("frozen", "closed", "pending"), rng.integers("registry.inactive", 3))
    full = patch(full, "_r_status", kind == "ACCOUNT_INACTIVE", inactive)
    full = patch_many(
        full,
        "_r_account",
        [(kind == "DUP_NEAR", pl.col("_acct_alt")), (kind == "ACCOUNT_LUHN", pl.col("一卡通账号"))],
    )
    # A shared account: the target declared its partner's card as its own.
    full = full.drop("_r_account", "_r_kind", "_r_bank").hstack(
        copy_from_partner(
            full.select("_kind", "_partner", "_r_account", "_r_kind", "_r_bank"),
            "ACCOUNT_SHARED",
            ("_r_account", "_r_kind", "_r_bank"),
        ).select("_r_account", "_r_kind", "_r_bank")
    )
    # A copied row (DUP_IN_BATCH target) is its partner, who is already in the registry.
    main = full.filter(kind.is_null() | ~kind.is_in(["ACCOUNT_NOT_REGISTERED", "DUP_IN_BATCH"])).select(
        pl.col("_id").alias("id_number"),
        pl.col("_r_account").alias("account"),
        pl.col("_r_kind").alias("account_kind"),
        pl.col("_r_bank").alias("bank"),
        pl.col("_r_holder").alias("holder_name"),
        pl.col("_r_status").alias("status"),
    )
    history = frame.filter(clean & (rng.uniform("registry.history") < 0.01)).select(
        pl.col("_id").alias("id_number"),
        pl.col("_acct_alt").alias("account"),
        pl.col("_acct_kind").alias("account_kind"),
        pl.col("_bank").alias("bank"),
        pl.col("_name").alias("holder_name"),
        pl.lit("closed").alias("status"),
    )
    other_rng = Rng(rng.key("registry.others"), pl.col("_o"))
    extra = others.filter(other_rng.uniform("in") < 0.4).select(
        pl.col("_id").alias("id_number"),
        pl.col("_acct").alias("account"),
        pl.col("_acct_kind").alias("account_kind"),
        pl.col("_bank").alias("bank"),
        pl.col("_name").alias("holder_name"),
        take(("active", "frozen", "closed"), other_rng.choice("status", [0.96, 0.02, 0.02])).alias("status"),
    )
    return pl.concat([main, history, extra]).cast(REGISTRY_SCHEMA)  # type: ignore[arg-type]


def _on_list(name: ReferenceListName, specs: Sequence[ItemSpec], rng: Rng) -> pl.Expr:
    kind = pl.col("_kind")
    required = by_item([name in spec.item.requires_lists for spec in specs], pl.Boolean())
    excluded = by_item([name in spec.item.excludes_lists for spec in specs], pl.Boolean())
    means_tested = by_item([spec.item.means_tested for spec in specs], pl.Boolean())
    background_ok = ~required & ~excluded & ~(means_tested & (name == "public_employee"))
    on = (required & (kind.is_null() | (kind != "LIST_REQUIRED_MISSING"))).fill_null(False)
    if name in _BACKGROUND:
        on = on | (background_ok & (rng.uniform(f"list.{name}") < _BACKGROUND[name]))
    on = on | (excluded & (kind == "LIST_EXCLUDED_PRESENT")).fill_null(False)
    if name == "public_employee":
        on = on | (kind == "PUBLIC_EMPLOYEE").fill_null(False)
    if name == "deceased":
        on = on | kind.is_in(["DECEASED", "DECEASED_DURING_PERIOD"]).fill_null(False)
    return on


def references(
    frame: pl.DataFrame, others: pl.DataFrame, specs: Sequence[ItemSpec], periods: Sequence[Period], rng: Rng
) -> dict[str, pl.DataFrame]:
    """The reference lists by name: ``deceased`` (``id_number, death_date``), ``disabled`` (``id_number, grade``)
    and ``public_employee``, ``supported``, ``dibao``, ``registered_poor`` (``id_number``). Death dates fall
    before, or inside, the period of each row's item (``periods``, one per item of ``specs``)."""
    start = by_item([epoch_days(p.start) for p in periods], pl.Int64())
    length = by_item([(p.end - p.start).days + 1 for p in periods], pl.Int64())
    earliest = min(epoch_days(p.start) for p in periods)
    out: dict[str, pl.DataFrame] = {}
    other_rng = Rng(rng.key("lists.others"), pl.col("_o"))
    requires_disabled_table = by_item(
        [("disabled" in spec.item.requires_lists) and spec.kind == "table" for spec in specs], pl.Boolean()
    )
    person = frame.filter(pl.col("_kind").is_null() | (pl.col("_kind") != "DUP_IN_BATCH"))  # a copy is its partner
    for name in REFERENCE_LISTS:
        mine = person.filter(_on_list(name, specs, rng))
        theirs = others.filter(other_rng.uniform(name) < _OTHERS_SHARE[name])
        if name == "deceased":
            before = start - 1 - (rng.uniform("death.before") * 730).cast(pl.Int64)
            during = start + (rng.uniform("death.during") * length).cast(pl.Int64)
            death = pl.when(pl.col("_kind") == "DECEASED_DURING_PERIOD").then(during).otherwise(before)
            other_death = earliest - 1 - (other_rng.uniform("death") * 1800).cast(pl.Int64)
            parts = [
                mine.select(pl.col("_id").alias("id_number"), death.cast(pl.Date).alias("death_date")),
                theirs.select(pl.col("_id").alias("id_number"), other_death.cast(pl.Date).alias("death_date")),
            ]
        elif name == "disabled":
            grade = take(_GRADES, rng.integers("list.grade", len(_GRADES)))
            parts = [
                mine.select(
                    pl.col("_id").alias("id_number"),
                    pl.when(requires_disabled_table & pl.col("_category").is_in(_GRADES))
                    .then(pl.col("_category"))
                    .otherwise(grade)
                    .alias("grade"),
                ),
                theirs.select(
                    pl.col("_id").alias("id_number"),
                    take(_GRADES, other_rng.integers("grade", len(_GRADES))).alias("grade"),
                ),
            ]
        else:
            parts = [mine.select(pl.col("_id").alias("id_number")), theirs.select(pl.col("_id").alias("id_number"))]
        out[name] = pl.concat(parts)
    return out


def previous_periods(period: Period, count: int) -> list[Period]:
    """The ``count`` periods of the same kind before ``period``, most recent first."""
    out: list[Period] = []
    current = period
    for _ in range(count):
        day = current.start - dt.timedelta(days=1)
        if current.kind == "month":
            current = Period.parse(f"{day.year:04d}-{day.month:02d}")
        elif current.kind == "quarter":
            current = Period.parse(f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}")
        elif current.kind == "year":
            current = Period.parse(f"{day.year:04d}")
        else:
            current = Period.parse(day.isoformat())
        out.append(current)
    return out


def _max_fen(spec: ItemSpec) -> int:
    if spec.kind == "table":
        return max(spec.category_fen)
    if spec.kind == "rate":
        return (spec.rate_fen() * spec.max_quantity_hundredths() + 99) // 100
    return spec.fixed_fen()


def ledger(
    frame: pl.DataFrame,
    specs: Sequence[ItemSpec],
    periods: Sequence[Period],
    rng: Rng,
    *,
    exclusive_periods: Sequence[str] = (),
) -> pl.DataFrame:
    """Payments already made or in flight (``id_number, item, period, amount, status``; amount in yuan text).

    Each item is paid by its own kind of period (``periods``, one per item of ``specs``). Clean people have the
    previous period paid (and often the one before); within the year, earlier payments stay under the item's
    yearly cap. ``DUP_ALREADY_PAID`` rows have the item's own period paid or sent; a few clean rows have it
    *failed* or *returned*, which is not a duplicate. ``DUP_EXCLUSIVE_ITEMS`` rows were paid a mutually exclusive
    item for its period holding the item's (``exclusive_periods``, one per item; the item's own when empty).
    """
    kind = pl.col("_kind")
    code = by_item([spec.item.code for spec in specs], pl.String())
    amount = yuan_text(pl.col("_std_fen"))
    parts: list[pl.DataFrame] = []
    eligible = kind.is_null() | ~kind.is_in(["AGE_NOT_ELIGIBLE", "DUP_EXCLUSIVE_ITEMS"])
    earlier_by_item = [previous_periods(p, 2) for p in periods]
    for depth in (1, 2):
        allowed = []
        for spec, period, earlier in zip(specs, periods, earlier_by_item, strict=True):
            cap = spec.item.cap_per_year
            same_year = earlier[depth - 1].start.year == period.start.year
            allowed.append(not (cap is not None and same_year and (depth + 1) * _max_fen(spec) > cap))
        keep = eligible & by_item(allowed, pl.Boolean())
        if depth > 1:
            keep = keep & (rng.uniform(f"ledger.depth{depth}") < 0.6)
        status = take(
            ("paid", "reissued", "failed", "returned"), rng.choice(f"ledger.status{depth}", [0.95, 0.02, 0.02, 0.01])
        )
        parts.append(
            frame.filter(keep).select(
                pl.col("_id").alias("id_number"),
                code.alias("item"),
                by_item([e[depth - 1].label for e in earlier_by_item], pl.String()).alias("period"),
                amount.alias("amount"),
                status.alias("status"),
            )
        )
    own_label = by_item([p.label for p in periods], pl.String())
    clean = kind.is_null() & pl.col("_partner_of").is_null()
    trap = rng.uniform("ledger.trap")
    same = frame.filter((kind == "DUP_ALREADY_PAID") | (clean & (trap < 0.005))).select(
        pl.col("_id").alias("id_number"),
        code.alias("item"),
        own_label.alias("period"),
        amount.alias("amount"),
        pl.when(pl.col("_kind") == "DUP_ALREADY_PAID")
        .then(take(("paid", "sent"), rng.choice("ledger.dup", [0.7, 0.3])))
        .when(trap < 0.0025)
        .then(pl.lit("returned"))
        .otherwise(pl.lit("failed"))
        .alias("status"),
    )
    exclusive_code = by_item(
        [spec.item.exclusive_with[0] if spec.item.exclusive_with else "" for spec in specs], pl.String()
    )
    exclusive_label = by_item(list(exclusive_periods), pl.String()) if exclusive_periods else own_label
    exclusive = frame.filter(kind == "DUP_EXCLUSIVE_ITEMS").select(
        pl.col("_id").alias("id_number"),
        exclusive_code.alias("item"),
        exclusive_label.alias("period"),
        yuan_text(by_item([spec.exclusive_fen for spec in specs], pl.Int64())).alias("amount"),
        pl.lit("paid").alias("status"),
    )
    return pl.concat([*parts, same, exclusive]).cast(LEDGER_SCHEMA)  # type: ignore[arg-type]
