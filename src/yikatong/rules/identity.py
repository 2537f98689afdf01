"""Identity rules (GB 11643-1999): the ID number, the birth date and region in it, sex, age and the name.

Every rule reads the private columns of the shared ID parse (``yikatong.rules._idparse``), so the ID is parsed
once however many rules run. A rule about the ID's contents fires only on a well-formed ID: a missing or malformed
one is already blocked by ``ID_MISSING`` / ``ID_FORMAT`` and nothing more can be read from it. A 15-digit ID is
upgraded first, and the other rules judge its upgraded form.

Decisions:
- ``ID_FORMAT`` is judged on the ID as the roster holds it: [`yikatong.read_roster`][] has already normalised
  full-width digits, a lower-case ``x`` and stray spaces (``ID_NORMALISED``), so any of them left in a frame built
  elsewhere is a format error. Its evidence never shows what may be birth digits.
- ``ID_BIRTH_DATE`` fires when the eight birth digits are not a real date, the year is before 1800, or the date is
  after the period's last day. The period, not today's date, keeps the result reproducible: nobody born after
  the period can be paid for it.
- ``ID_REGION_UNKNOWN`` fires when the six region digits never existed in GB/T 2260 (never in any year). A code
  created after the birth year is normal and passes. A code whose last year in use is before the birth year also
  fires (review), because an ID is issued after birth, in a code in use then; the evidence says which case it is.
- ``AGE_NOT_ELIGIBLE`` counts whole years on the period's first day: ``(start - birth) // 10000`` on ``YYYYMMDD``
  integers, so a person born on 29 February turns a year older on 1 March in common years.
"""

from __future__ import annotations

import polars as pl

from yikatong._spreadsheet import CONTROL_CHARACTERS, FORMULA_START
from yikatong.privacy import mask_id_expr
from yikatong.regions import region_codes
from yikatong.rules._idparse import ID_PARSE, check_char_expr, upgraded_id_expr
from yikatong.rules._rule import Derivation, Finding, Rule, RuleEnv

__all__ = ["REGION_LOOKUP", "RULES"]

_STILL_IN_USE = 9999


def _apply_region(lf: pl.LazyFrame, env: RuleEnv) -> pl.LazyFrame:
    table = region_codes()
    last_year = table["valid_to"].fill_null(_STILL_IN_USE)
    return lf.with_columns(
        pl.col("_id_region")
        .replace_strict(table["region_code"], last_year, default=None, return_dtype=pl.Int16)
        .alias("_id_region_to")
    )


REGION_LOOKUP = Derivation(name="id_region", apply=_apply_region, after=(ID_PARSE,))
"""Adds ``_id_region_to``: the last year the ID's region code was in use (9999 = still in use; null = never
existed)."""

_OK = pl.col("_id_ok_format")
_BIRTH_YEAR = pl.col("_id_birth_ymd") // 10000


def _ymd(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.String)


def _build_missing(env: RuleEnv) -> Finding:
    return Finding(hit=pl.col("_id_missing"), evidence=pl.lit("id_number empty"))


def _build_format(env: RuleEnv) -> Finding:
    idc = pl.col("id_number")
    n = idc.str.len_chars().cast(pl.Int64)  # signed: n - 6 must not wrap below zero
    # Shorter than 18 characters, the last four may be birth digits: then only the first six are shown.
    masked = (
        pl.when(n >= 18)
        .then(mask_id_expr(idc))
        .otherwise(pl.concat_str(idc.str.slice(0, 6), pl.lit("*").repeat_by((n - 6).clip(0)).list.join("")))
    )
    evidence = pl.concat_str(pl.lit("ID "), masked, pl.lit(" ("), n.cast(pl.String), pl.lit(" characters)"))
    return Finding(hit=~pl.col("_id_missing") & ~_OK, evidence=evidence)


def _build_15(env: RuleEnv) -> Finding:
    evidence = pl.concat_str(pl.lit("upgraded to "), mask_id_expr(upgraded_id_expr()))
    return Finding(hit=_OK & pl.col("_id_is15"), evidence=evidence)


def _build_checksum(env: RuleEnv) -> Finding:
    evidence = pl.concat_str(
        pl.lit("check character "),
        pl.col("id_number").str.slice(17, 1),
        pl.lit(", expected "),
        check_char_expr(pl.col("_id_check_calc")),
    )
    return Finding(hit=_OK & ~pl.col("_id_is15") & ~pl.col("_id_check_ok"), evidence=evidence)


def _build_birth(env: RuleEnv) -> Finding:
    end = env.period.end
    birth = pl.col("_id_birth")
    evidence = (
        pl.when(birth.is_null())
        .then(pl.concat_str(pl.lit("birth digits "), _ymd(pl.col("_id_birth_ymd")), pl.lit(" not a real date")))
        .otherwise(
            pl.concat_str(
                pl.lit("birth date "), birth.cast(pl.String), pl.lit(f" after the period's last day {end.isoformat()}")
            )
        )
    )
    return Finding(hit=_OK & (birth.is_null() | (birth > pl.lit(end))), evidence=evidence)


def _build_region(env: RuleEnv) -> Finding:
    region = pl.col("_id_region").cast(pl.String).str.zfill(6)
    last = pl.col("_id_region_to")
    evidence = (
        pl.when(last.is_null())
        .then(pl.concat_str(pl.lit("region code "), region, pl.lit(" never existed in GB/T 2260")))
        .otherwise(
            pl.concat_str(
                pl.lit("region code "),
                region,
                pl.lit(" last in use "),
                last.cast(pl.String),
                pl.lit(", before the birth year "),
                _BIRTH_YEAR.cast(pl.String),
            )
        )
    )
    return Finding(hit=_OK & (last.is_null() | (last < _BIRTH_YEAR)), evidence=evidence)


def _build_sex(env: RuleEnv) -> Finding:
    sex = pl.col("sex").str.strip_chars()
    odd = pl.col("_id_sex_odd")
    hit = _OK & (((sex == "男") & ~odd) | ((sex == "女") & odd))
    evidence = pl.concat_str(
        pl.lit("17th digit "),
        pl.when(odd).then(pl.lit("odd (male)")).otherwise(pl.lit("even (female)")),
        pl.lit(", sex column "),
        sex,
    )
    return Finding(hit=hit, evidence=evidence)


def _age_applies(env: RuleEnv) -> str | None:
    if env.item.age_min is None and env.item.age_max is None:
        return "item has no age range"
    return None


def _build_age(env: RuleEnv) -> Finding:
    start = env.period.start
    start_ymd = start.year * 10000 + start.month * 100 + start.day
    age = (pl.lit(start_ymd) - pl.col("_id_birth_ymd")) // 10000
    lo, hi = env.item.age_min, env.item.age_max
    outside = pl.lit(False)
    if lo is not None:
        outside = outside | (age < lo)
    if hi is not None:
        outside = outside | (age > hi)
    # A birth date that is not real or lies after the period is ID_BIRTH_DATE's finding, not an age.
    hit = _OK & (pl.col("_id_birth") <= pl.lit(env.period.end)) & outside
    wanted = f"{'' if lo is None else lo}–{'' if hi is None else hi}"
    evidence = pl.concat_str(
        pl.lit("age "), age.cast(pl.String), pl.lit(f" on {start.isoformat()}, item requires {wanted}")
    )
    return Finding(hit=hit, evidence=evidence)


_MAX_NAME = 50


def _build_name(env: RuleEnv) -> Finding:
    name = pl.col("name")
    empty = name.is_null() | (name.str.strip_chars() == "")
    digits = name.str.contains(r"[0-9０-９]")
    latin = name.str.contains(r"[A-Za-zＡ-Ｚａ-ｚ]")
    too_long = name.str.len_chars() > _MAX_NAME
    control = name.str.contains(CONTROL_CHARACTERS)
    formula = name.str.contains(FORMULA_START)
    latin_bad = pl.lit(False) if env.item.allow_latin_names else latin
    hit = empty | digits | latin_bad | too_long | control | formula
    evidence = pl.concat_str(
        pl.when(empty).then(pl.lit("name empty")),
        pl.when(digits).then(pl.lit("name contains digits")),
        pl.when(latin_bad).then(pl.lit("name contains Latin letters")),
        pl.when(control).then(pl.lit("name contains a control character")),
        pl.when(formula).then(pl.lit("name begins with a formula character (= + - @)")),
        pl.when(too_long).then(
            pl.concat_str(
                pl.lit("name has "), name.str.len_chars().cast(pl.String), pl.lit(f" characters (>{_MAX_NAME})")
            )
        ),
        separator="; ",
        ignore_nulls=True,
    )
    return Finding(hit=hit, evidence=evidence)


_P = (ID_PARSE,)

RULES: tuple[Rule, ...] = (
    Rule(
        code="ID_MISSING",
        family="identity",
        severity="block",
        message_zh="身份证号为空",
        message_en="ID number is empty",
        build=_build_missing,
        derivations=_P,
    ),
    Rule(
        code="ID_FORMAT",
        family="identity",
        severity="block",
        message_zh="身份证号格式错误（应为17位数字加1位数字或X）",
        message_en="ID number is not 17 digits followed by a digit or X",
        build=_build_format,
        derivations=_P,
    ),
    Rule(
        code="ID_15_DIGIT",
        family="identity",
        severity="review",
        message_zh="一代15位身份证号，已按标准升位为18位，请核实",
        message_en="first-generation 15-digit ID, upgraded to 18 digits; please confirm",
        build=_build_15,
        derivations=_P,
    ),
    Rule(
        code="ID_CHECKSUM",
        family="identity",
        severity="block",
        message_zh="身份证号校验位错误",
        message_en="ID check character is wrong",
        build=_build_checksum,
        derivations=_P,
    ),
    Rule(
        code="ID_BIRTH_DATE",
        family="identity",
        severity="block",
        message_zh="身份证号中的出生日期不是有效日期或晚于发放期间",
        message_en="birth date in the ID is not a real date or lies after the period",
        build=_build_birth,
        derivations=_P,
    ),
    Rule(
        code="ID_REGION_UNKNOWN",
        family="identity",
        severity="review",
        message_zh="身份证号前六位行政区划代码从未存在，或在出生前已撤销",
        message_en="the ID's region code never existed, or was retired before the birth year",
        build=_build_region,
        derivations=(REGION_LOOKUP,),
    ),
    Rule(
        code="ID_SEX_MISMATCH",
        family="identity",
        severity="review",
        message_zh="身份证号第17位表示的性别与名单中的性别不一致",
        message_en="sex given by the ID's 17th digit differs from the roster's sex column",
        build=_build_sex,
        columns=("sex",),
        derivations=_P,
    ),
    Rule(
        code="AGE_NOT_ELIGIBLE",
        family="identity",
        severity="block",
        message_zh="按期间首日计算的年龄不符合该补贴项目的年龄条件",
        message_en="age on the period's first day is outside the item's age range",
        build=_build_age,
        derivations=_P,
        applies=_age_applies,
    ),
    Rule(
        code="NAME_INVALID",
        family="identity",
        severity="block",
        message_zh="姓名为空、含数字、含不允许的拉丁字母、含控制字符、以公式字符开头或超过50个字符",
        message_en="name is empty, contains digits, Latin letters the item does not allow or control characters, "
        "begins with a formula character, or exceeds 50 characters",
        build=_build_name,
        columns=("name",),
    ),
)
