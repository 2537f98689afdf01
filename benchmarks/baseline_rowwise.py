"""The issue-3 checks written row by row in plain Python: python-stdnum, loops and dicts.

This is the yardstick ``bench_rules`` measures the vectorized engine against. It does the same checks with the
same decisions (see :mod:`yikatong.rules.identity`, :mod:`yikatong.rules.amounts`,
:mod:`yikatong.rules.duplicates`): python-stdnum's ``stdnum.cn.ric`` for the check character and the birth date,
a dict of region codes for the region rule (``ric.get_birth_place`` would reject legitimate numbers whose code
was created after the birth year), and plain loops for the rest. It returns the set of codes per row (the
ingestion rules included: they read the reader's ``flag_*`` columns).
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal
from typing import Any

from stdnum.cn import ric

from yikatong.catalog import FixedStandard, RateStandard, SubsidyItem, TableStandard
from yikatong.period import Period
from yikatong.regions import region_codes
from yikatong.schema import FLAG_COLUMNS

__all__ = ["validate_rows"]

_WELL_FORMED = re.compile(r"^[0-9]{15}(?:[0-9]{2}[0-9X])?$")
_DIGITS = re.compile(r"[0-9０-９]")
_LATIN = re.compile(r"[A-Za-zＡ-Ｚａ-ｚ]")
_ROUNDING = {"half_up": ROUND_HALF_UP, "down": ROUND_DOWN, "up": ROUND_UP}


def _upgrade(number: str) -> str:
    body = number[:6] + "19" + number[6:]
    return body + ric.calc_check_digit(body + "0")


def validate_rows(
    rows: Sequence[dict[str, Any]],
    *,
    item: SubsidyItem,
    period: Period,
    declared_count: int | None = None,
    declared_total_fen: int | None = None,
) -> tuple[list[set[str]], bool]:
    """Check every row; returns the codes found per row and whether the batch totals mismatch."""
    last_year = {
        code: (9999 if to is None else to)
        for code, to in zip(region_codes()["region_code"].to_list(), region_codes()["valid_to"].to_list(), strict=True)
    }
    found: list[set[str]] = [set() for _ in rows]
    person: list[str | None] = [None] * len(rows)
    start_ymd = period.start.year * 10000 + period.start.month * 100 + period.start.day
    for i, row in enumerate(rows):
        codes = found[i]
        for flag, flag_code in FLAG_COLUMNS.items():
            if row.get(flag):
                codes.add(flag_code)
        number = row.get("id_number")
        if number is None or not number.strip():
            codes.add("ID_MISSING")
        elif not _WELL_FORMED.match(number):
            codes.add("ID_FORMAT")
        else:
            if len(number) == 15:
                codes.add("ID_15_DIGIT")
                number = _upgrade(number)
            elif ric.calc_check_digit(number) != number[17]:
                codes.add("ID_CHECKSUM")
            person[i] = number
            try:
                birth = ric.get_birth_date(number)
                if birth.year < 1800 or birth > period.end:
                    raise ValueError
            except Exception:
                codes.add("ID_BIRTH_DATE")
                birth = None
            last = last_year.get(int(number[:6]))
            if last is None or int(number[6:10]) > last:
                codes.add("ID_REGION_UNKNOWN")
            odd = int(number[16]) % 2 == 1
            sex = (row.get("sex") or "").strip()
            if (sex == "男" and not odd) or (sex == "女" and odd):
                codes.add("ID_SEX_MISMATCH")
            if birth is not None and (item.age_min is not None or item.age_max is not None):
                age = (start_ymd - (birth.year * 10000 + birth.month * 100 + birth.day)) // 10000
                if (item.age_min is not None and age < item.age_min) or (
                    item.age_max is not None and age > item.age_max
                ):
                    codes.add("AGE_NOT_ELIGIBLE")
        name = row.get("name")
        if (
            name is None
            or not name.strip()
            or _DIGITS.search(name)
            or (not item.allow_latin_names and _LATIN.search(name))
            or len(name) > 50
        ):
            codes.add("NAME_INVALID")
        amount = row.get("amount_fen")
        if amount is None or amount <= 0:
            codes.add("AMOUNT_INVALID")
            continue
        std = item.standard
        if isinstance(std, FixedStandard):
            expected: int | None = std.amount
        elif isinstance(std, RateStandard):
            q = row.get("quantity")
            expected = None
            if q is not None and q > 0 and (std.max_quantity is None or q <= Decimal(repr(std.max_quantity))):
                expected = int((Decimal(q) * std.rate).quantize(Decimal(1), rounding=_ROUNDING[std.rounding]))
        else:
            assert isinstance(std, TableStandard)
            expected = std.amounts.get((row.get("category") or "").strip())
        if expected is None or amount != expected:
            codes.add("AMOUNT_STANDARD_MISMATCH")
        if item.cap_per_period is not None and amount > item.cap_per_period:
            codes.add("AMOUNT_OVER_CAP")

    # Cross-row checks: duplicates, outliers, households, batch totals.
    copies: dict[tuple[str, Any], list[int]] = defaultdict(list)
    for i, number in enumerate(person):
        if number is not None:
            copies[(number, rows[i].get("item"))].append(i)
    for members in copies.values():
        if len(members) > 1:
            for i in members:
                found[i].add("DUP_IN_BATCH")
    valid = [r["amount_fen"] for r in rows if r.get("amount_fen") is not None and r["amount_fen"] > 0]
    median = statistics.median(valid) if valid else None
    payees: dict[str, set[str]] = defaultdict(set)
    limit = item.max_payees_per_household
    if limit is not None:
        for i, row in enumerate(rows):
            head = row.get("household_head_id")
            if head and person[i] is not None:
                payees[head].add(person[i])  # type: ignore[arg-type]
    for i, row in enumerate(rows):
        amount = row.get("amount_fen")
        if median is not None and amount is not None and amount > 0 and amount > item.outlier_factor * median:
            found[i].add("AMOUNT_OUTLIER")
        head = row.get("household_head_id")
        if limit is not None and head and len(payees.get(head, ())) > limit:
            found[i].add("AMOUNT_OUTLIER")
    total = sum(r["amount_fen"] for r in rows if r.get("amount_fen") is not None)
    batch = (declared_count is not None and declared_count != len(rows)) or (
        declared_total_fen is not None and declared_total_fen != total
    )
    return found, batch
