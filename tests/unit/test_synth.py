"""The synthetic roster generator: realistic clean rows, defects exactly where the truth says."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yikatong.catalog import Catalog
from yikatong.errors import UnknownItem
from yikatong.regions import region_codes
from yikatong.synth import DEFECT_KINDS, HEADERS, PAIR_KINDS, SynthData, applicable_kinds, generate
from yikatong.synth._kinds import kind_counts
from yikatong.synth._names import DOT_LOOKALIKES, RARE_CHARS

ROWS = 4000
RATE = 0.3
PERIOD_START = dt.date(2026, 11, 1)
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def checksum_ok(number: str) -> bool:
    """GB 11643 check, written out independently of the generator."""
    if not re.fullmatch(r"[0-9]{17}[0-9X]", number):
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == number[17]


def luhn_ok(number: str) -> bool:
    digits = [int(d) for d in reversed(number)]
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(digits))
    return total % 10 == 0


@pytest.fixture(scope="module")
def data(catalog: Catalog) -> SynthData:
    return generate(ROWS, catalog=catalog, item="GLJT", period="2026-11", seed=7, defect_rate=RATE)


@pytest.fixture(scope="module")
def rows(data: SynthData) -> pl.DataFrame:
    """The roster with its 1-based row_id and the must-codes of each row (empty list when clean)."""
    must = data.truth.filter(pl.col("expected") == "must").group_by("row_id").agg(pl.col("defect").alias("codes"))
    return (
        data.roster.with_row_index("row_id", offset=1)
        .with_columns(pl.col("row_id").cast(pl.Int64))
        .join(must, on="row_id", how="left")
        .with_columns(pl.col("codes").fill_null([]))
    )


def _with(rows: pl.DataFrame, code: str) -> pl.DataFrame:
    return rows.filter(pl.col("codes").list.contains(code))


def _clean(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.filter(pl.col("codes").list.len() == 0)


def test_rows_in_equal_rows_out_and_headers_are_a_departments(data: SynthData) -> None:
    assert data.roster.height == ROWS
    assert list(data.roster.columns) == [h for h in HEADERS if h in data.roster.columns]
    assert all(dtype == pl.String for dtype in data.roster.dtypes)


def test_clean_ids_pass_the_checksum_and_are_unique(rows: pl.DataFrame) -> None:
    clean = _clean(rows)
    assert clean.height > ROWS * 0.6
    assert all(checksum_ok(x) for x in clean["身份证号"])
    assert clean["身份证号"].n_unique() == clean.height


def test_clean_rows_have_sex_birth_date_and_age_the_item_admits(rows: pl.DataFrame) -> None:
    clean = _clean(rows)
    for number, sex in zip(clean["身份证号"], clean["性别"], strict=True):
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        age = PERIOD_START.year - born.year - ((PERIOD_START.month, PERIOD_START.day) < (born.month, born.day))
        assert 80 <= age <= 105
        assert sex == ("男" if int(number[16]) % 2 else "女")


def test_region_codes_are_real_and_in_use_at_birth(rows: pl.DataFrame) -> None:
    table = region_codes()
    last_year = dict(zip(table["region_code"].to_list(), table["valid_to"].to_list(), strict=True))
    clean = _clean(rows)
    regions = [int(x[:6]) for x in clean["身份证号"]]
    assert all(code in last_year for code in regions)
    for number in clean["身份证号"]:
        end = last_year[int(number[:6])]
        assert end is None or int(number[6:10]) <= end
    share = sum(code in (500241, 512330) for code in regions) / len(regions)
    assert share > 0.7  # a Xiushan roster


def test_id_checksum_rows_really_fail_the_checksum(rows: pl.DataFrame) -> None:
    bad = _with(rows, "ID_CHECKSUM")
    assert bad.height > 0
    assert not any(checksum_ok(x) for x in bad["身份证号"])
    assert all(re.fullmatch(r"[0-9]{17}[0-9X]", x) for x in bad["身份证号"])


def test_id_defects_look_like_their_rule(rows: pl.DataFrame) -> None:
    codes = set(region_codes()["region_code"].to_list())
    assert all(x == "" for x in _with(rows, "ID_MISSING")["身份证号"])
    assert all(len(x) == 15 and x.isdigit() for x in _with(rows, "ID_15_DIGIT")["身份证号"])
    assert all(not re.fullmatch(r"[0-9]{17}[0-9X]", x) for x in _with(rows, "ID_FORMAT")["身份证号"])
    assert all(re.fullmatch(r"\d\.\d*E\+17|\d{15}000\.0", x) for x in _with(rows, "ID_EXCEL_MANGLED")["身份证号"])
    unknown = _with(rows, "ID_REGION_UNKNOWN")["身份证号"]
    assert all(checksum_ok(x) and int(x[:6]) not in codes for x in unknown)
    for number in _with(rows, "ID_BIRTH_DATE")["身份证号"]:
        assert checksum_ok(number)
        with pytest.raises(ValueError, match=r"out of range|must be in"):
            dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    for number, sex in zip(*_with(rows, "ID_SEX_MISMATCH").select("身份证号", "性别").get_columns(), strict=True):
        assert sex != ("男" if int(number[16]) % 2 else "女")
    normalised = _with(rows, "ID_NORMALISED")["身份证号"]
    assert all(not re.fullmatch(r"[0-9]{17}[0-9X]", x) for x in normalised)
    assert all(any(ch in x for ch in "０１２３４５６７８９Ｘx \u200b") for x in normalised)


def test_name_defects_look_like_their_rule(rows: pl.DataFrame) -> None:
    assert all(any(dot in x for dot in DOT_LOOKALIKES) for x in _with(rows, "NAME_NORMALISED")["姓名"])
    assert all(x.endswith("?") for x in _with(rows, "TEXT_ENCODING")["姓名"])
    invalid = _with(rows, "NAME_INVALID")["姓名"]
    assert all(x == "" or re.search(r"[0-9A-Za-z]", x) or len(x) > 50 for x in invalid)
    clean = _clean(rows)["姓名"]
    assert all(2 <= len(x) <= 4 or "·" in x for x in clean)  # 欧阳 and other two-character surnames
    assert any("·" in x for x in _with(rows, "NAME_NORMALISED")["姓名"].str.replace_all("[・•．‧⋅∙･]", "·"))


def test_some_clean_names_need_more_than_gbk(catalog: Catalog) -> None:
    data = generate(20_000, catalog=catalog, item="GLJT", period="2026-11", seed=1, defect_rate=0.0)
    names = data.roster["姓名"]
    assert names.str.contains("·", literal=True).any()
    assert any(any(ch in name for ch in RARE_CHARS) for name in names)
    top = names.str.slice(0, 1).value_counts(sort=True).head(8)["姓名"].to_list()
    assert "杨" in top  # Xiushan's Tujia and Miao surnames are frequent


def test_defect_counts_are_exact_for_every_applicable_kind(catalog: Catalog, data: SynthData) -> None:
    expected = kind_counts(ROWS, catalog["GLJT"], RATE)
    truth = data.truth.filter(pl.col("expected") == "must")
    targets = truth.group_by("defect").len()
    got = dict(zip(targets["defect"].to_list(), targets["len"].to_list(), strict=True))
    for kind in applicable_kinds(catalog["GLJT"]):
        want = expected[kind] * (2 if kind in PAIR_KINDS else 1)
        if kind == "AMOUNT_STANDARD_MISMATCH":
            want += expected["AMOUNT_OVER_CAP"]
        if kind == "ACCOUNT_MISMATCH":
            want += expected["ACCOUNT_FORMAT"]
        assert got.get(kind, 0) == want, kind
    assert sum(expected.values()) == round(RATE * ROWS)
    assert set(got) <= set(DEFECT_KINDS)


def test_defect_rate_spreads_evenly_within_one_row_per_kind(catalog: Catalog) -> None:
    counts = kind_counts(100_000, catalog["GLJT"], 0.05)
    assert sum(counts.values()) == 5000
    assert max(counts.values()) - min(counts.values()) <= 1


def test_dup_in_batch_rows_have_a_twin(rows: pl.DataFrame) -> None:
    dups = _with(rows, "DUP_IN_BATCH")
    assert dups.height > 0
    groups = dups.group_by(*HEADERS[:7]).len()
    assert (groups["len"] >= 2).all()


def test_dup_near_pairs_are_one_person_under_two_ids(rows: pl.DataFrame) -> None:
    near = _with(rows, "DUP_NEAR").with_columns(pl.col("身份证号").str.slice(6, 8).alias("birth"))
    for _, pair in near.group_by("姓名", "birth", "村(社区)"):
        assert pair.height == 2
        first, second = pair["身份证号"].to_list()
        assert checksum_ok(first)
        assert checksum_ok(second)
        assert sum(a != b for a, b in zip(first[:17], second[:17], strict=True)) == 1


def test_account_shared_rows_pay_into_one_account_for_two_people(rows: pl.DataFrame) -> None:
    shared = _with(rows, "ACCOUNT_SHARED")
    for _, pair in shared.group_by("一卡通账号"):
        assert pair.height == 2
        assert pair["身份证号"].n_unique() == 2


def test_clean_rows_are_paid_the_standard_into_their_registered_account(data: SynthData, rows: pl.DataFrame) -> None:
    clean = _clean(rows)
    assert (clean["补贴金额"] == "100.00").all()
    assert all(luhn_ok(x) for x in clean["一卡通账号"])
    joined = clean.join(data.registry, left_on="身份证号", right_on="id_number", how="left").filter(
        pl.col("status") == "active"
    )
    assert joined.height == clean.height
    assert (joined["一卡通账号"] == joined["account"]).all()
    assert (
        joined["姓名"].str.replace("·", "", literal=True) == joined["holder_name"].str.replace("·", "", literal=True)
    ).all()


def test_context_defects_break_exactly_one_fact(data: SynthData, rows: pl.DataFrame) -> None:
    registry = data.registry
    assert not _with(rows, "ACCOUNT_NOT_REGISTERED")["身份证号"].is_in(registry["id_number"].implode()).any()
    inactive = _with(rows, "ACCOUNT_INACTIVE").join(registry, left_on="身份证号", right_on="id_number")
    assert inactive["status"].is_in(["frozen", "closed", "pending"]).all()
    holder = _with(rows, "HOLDER_NAME_MISMATCH").join(registry, left_on="身份证号", right_on="id_number")
    assert (holder["姓名"].str.slice(0, 1) != holder["holder_name"].str.slice(0, 1)).all()
    deceased = data.references["deceased"]
    dead = _with(rows, "DECEASED").join(deceased, left_on="身份证号", right_on="id_number")
    assert (dead["death_date"] < PERIOD_START).all()
    assert dead.height == _with(rows, "DECEASED").height
    during = _with(rows, "DECEASED_DURING_PERIOD").join(deceased, left_on="身份证号", right_on="id_number")
    assert during["death_date"].is_between(PERIOD_START, dt.date(2026, 11, 30)).all()
    assert not _clean(rows)["身份证号"].is_in(deceased["id_number"].implode()).any()


def test_ledger_has_this_period_paid_only_for_already_paid_rows(data: SynthData, rows: pl.DataFrame) -> None:
    paid_now = data.ledger.filter((pl.col("period") == "2026-11") & pl.col("status").is_in(["paid", "sent"]))
    dup = _with(rows, "DUP_ALREADY_PAID")["身份证号"]
    assert set(paid_now["id_number"].to_list()) == set(dup.to_list())
    earlier = data.ledger.filter(pl.col("period") == "2026-10")
    assert earlier.height > ROWS * 0.6
    assert earlier["amount"].str.contains(r"^\d+\.\d{2}$").all()


def test_lists_follow_the_item(catalog: Catalog) -> None:
    data = generate(3000, catalog=catalog, item="CJRLXBT", period="2026-11", seed=3, defect_rate=0.2)
    must = data.truth.filter(pl.col("expected") == "must")
    flagged = must["row_id"].implode()
    clean = data.roster.with_row_index("row_id", offset=1).filter(~pl.col("row_id").cast(pl.Int64).is_in(flagged))
    disabled = data.references["disabled"]
    on_list = clean.join(disabled, left_on="身份证号", right_on="id_number", how="inner")
    assert on_list.height == clean.height
    assert (on_list["grade"] == on_list["类别"]).all()
    missing = must.filter(pl.col("defect") == "LIST_REQUIRED_MISSING")["row_id"]
    ids = data.roster.with_row_index("row_id", offset=1).filter(
        pl.col("row_id").cast(pl.Int64).is_in(missing.implode())
    )
    assert missing.len() > 0
    assert not ids["身份证号"].is_in(disabled["id_number"].implode()).any()
    assert disabled.height > data.roster.height  # people on the list who are not on the roster too


def test_rate_items_pay_rate_times_area(catalog: Catalog) -> None:
    data = generate(2000, catalog=catalog, item="GDLBZ", period="2026-11", seed=4, defect_rate=0.0)
    from decimal import ROUND_HALF_UP, Decimal

    for area, amount in zip(data.roster["数量"], data.roster["补贴金额"], strict=True):
        want = (Decimal("95.80") * Decimal(area)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert Decimal(amount) == want
    assert (data.roster["户主身份证号"] == data.roster["身份证号"]).all()  # a household item pays the head


def test_several_items_share_one_roster_with_an_item_column(catalog: Catalog) -> None:
    data = generate(1600, catalog=catalog, items=("GLJT", "GDLBZ", "CJRLXBT", "DB"), period="2026-11", seed=5)
    assert data.roster["项目代码"].value_counts().height == 4
    assert {"类别", "数量"} <= set(data.roster.columns)
    assert data.roster.height == 1600


def test_each_item_is_paid_for_its_own_kind_of_period(catalog: Catalog) -> None:
    data = generate(800, catalog=catalog, items=("GLJT", "GDLBZ"), period="2026-11", seed=5)
    assert data.item_periods == {"GLJT": "2026-11", "GDLBZ": "2026"}
    periods = data.ledger.group_by("item").agg(pl.col("period").unique().sort())
    by_item = dict(zip(periods["item"], periods["period"].to_list(), strict=True))
    assert set(by_item["GDLBZ"]) <= {"2026", "2025", "2024"}
    assert set(by_item["GLJT"]) <= {"2026-11", "2026-10", "2026-09"}


def test_same_seed_same_data_and_another_seed_other_data(catalog: Catalog) -> None:
    a = generate(1500, catalog=catalog, period="2026-11", seed=11)
    b = generate(1500, catalog=catalog, period="2026-11", seed=11)
    c = generate(1500, catalog=catalog, period="2026-11", seed=12)
    assert a.roster.equals(b.roster)
    assert a.truth.equals(b.truth)
    assert a.registry.equals(b.registry)
    assert a.ledger.equals(b.ledger)
    assert all(a.references[k].equals(b.references[k]) for k in a.references)
    assert not a.roster.equals(c.roster)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"rows": 0}, ValueError),
        ({"rows": 10, "defect_rate": 0.9}, ValueError),
        ({"rows": 10, "defect_rate": -0.1}, ValueError),
        ({"rows": 10, "items": ("GLJT", "GLJT")}, ValueError),
        ({"rows": 10, "item": "NOPE"}, UnknownItem),
    ],
)
def test_bad_arguments_raise_clear_errors(catalog: Catalog, kwargs: dict[str, object], error: type[Exception]) -> None:
    rows = kwargs.pop("rows")
    with pytest.raises(error):
        generate(rows, catalog=catalog, period="2026-11", **kwargs)  # type: ignore[arg-type]


def test_a_period_that_is_not_a_period_is_refused(catalog: Catalog) -> None:
    with pytest.raises(ValueError, match="period"):
        generate(10, catalog=catalog, period="November")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.integers(min_value=1, max_value=300),
    rate=st.floats(min_value=0.0, max_value=0.5),
    several=st.booleans(),
    seed=st.integers(min_value=0, max_value=2**31),
)
def test_any_size_and_rate_keeps_rows_in_equal_rows_out(
    catalog: Catalog, rows: int, rate: float, several: bool, seed: int
) -> None:
    items = ("GLJT", "GDLBZ", "CJRLXBT", "DB") if several else None
    data = generate(rows, catalog=catalog, period="2026-11", items=items, seed=seed, defect_rate=rate)
    assert data.roster.height == rows
    assert data.truth["row_id"].is_between(1, rows).all()
    targets = data.truth.filter(pl.col("expected") == "must")["row_id"].n_unique()
    assert targets <= rows
    clean_ids = data.roster.with_row_index("row_id", offset=1).filter(
        ~pl.col("row_id").cast(pl.Int64).is_in(data.truth["row_id"].implode())
    )["身份证号"]
    assert all(checksum_ok(x) for x in clean_ids)


def test_parts_of_one_large_roster_never_share_an_id_or_an_account(catalog: Catalog) -> None:
    parts = [generate(3000, catalog=catalog, period="2026-11", seed=9, part=k, parts=3) for k in range(3)]
    well_formed = pl.col("身份证号").str.contains(r"^[0-9]{17}[0-9X]$")
    within = sum(p.roster.filter(well_formed)["身份证号"].is_duplicated().sum() for p in parts)
    combined = pl.concat([p.roster for p in parts]).filter(well_formed)["身份证号"].is_duplicated().sum()
    assert combined == within  # only the injected duplicates, none across parts
    registry = pl.concat([p.registry for p in parts])
    assert registry["account"].is_duplicated().sum() == sum(p.registry["account"].is_duplicated().sum() for p in parts)
    with pytest.raises(ValueError, match="part"):
        generate(10, catalog=catalog, period="2026-11", part=3, parts=3)
