"""The rules a catalogue item defines for itself (``[[item.rules]]``) and the parameters its checks may name.

A department adds a check of its own to an item without code: a local code (``X_`` followed by capitals, digits
and ``_``, so it never collides with a code of the library), a severity, a Chinese and an English message, and a
boolean SQL ``check`` over the roster's columns and the item's parameters (see [`yikatong.expressions`][]).
[`check_item_rules`][yikatong.catalog_rules.check_item_rules] compiles every check when the catalogue is loaded, so a
check that cannot be trusted is refused then, naming the item, the rule and the position, and never reaches a
validation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field

from yikatong.codes import ALL_CODES, Severity
from yikatong.expressions import COLUMNS, FUNCTIONS, KEYWORDS, ExpressionError, ParamValue, compile_check

if TYPE_CHECKING:
    from yikatong.catalog import SubsidyItem

__all__ = ["LOCAL_CODE", "ItemRule", "check_item_rules", "check_param_names", "is_known_code", "item_parameters"]

LOCAL_CODE = r"^X_[A-Z0-9_]{1,40}$"
"""The form of a local rule code: ``X_`` then capitals, digits and ``_`` (``X_GDLBZ_AREA``)."""


class ItemRule(BaseModel):
    """One rule an item defines in the catalogue.

    Attributes:
        code: The local code (``X_GDLBZ_AREA``), reported like any rule code and accepted in severity overrides.
        severity: ``block``, ``review`` or ``fix``; the item's ``[item.severity]`` may still override it.
        message_zh: The Chinese message shown to department users.
        message_en: The English message.
        check: A boolean SQL expression that must hold for a row to pass; the rule fires where it is false.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: Annotated[str, Field(pattern=LOCAL_CODE)]
    severity: Severity
    message_zh: Annotated[str, Field(min_length=1)]
    message_en: Annotated[str, Field(min_length=1)]
    check: Annotated[str, Field(min_length=1)]


def is_known_code(code: str) -> bool:
    """True for a code of the library or a local code (``X_…``): what a severity override may name."""
    import re

    return code in ALL_CODES or re.fullmatch(LOCAL_CODE, code) is not None


def item_parameters(item: SubsidyItem) -> dict[str, ParamValue]:
    """The parameters an item's checks may name: its standard, caps and ages (amounts in fen), then its own
    ``[item.params]``."""
    from yikatong.catalog import FixedStandard, RateStandard

    built: dict[str, ParamValue] = {}
    standard = item.standard
    if isinstance(standard, FixedStandard):
        built["standard_fen"] = standard.amount
    if isinstance(standard, RateStandard):
        built["rate_fen"] = standard.rate
        if standard.max_quantity is not None:
            built["max_quantity"] = standard.max_quantity
    optional: dict[str, int | None] = {
        "cap_per_period_fen": item.cap_per_period,
        "cap_per_year_fen": item.cap_per_year,
        "age_min": item.age_min,
        "age_max": item.age_max,
    }
    built.update({name: value for name, value in optional.items() if value is not None})
    return {**built, **item.params}


BUILT_IN_PARAMETERS = ("standard_fen", "rate_fen", "max_quantity", "cap_per_period_fen", "cap_per_year_fen")


def check_param_names(names: Sequence[str]) -> None:
    """Refuse ``[item.params]`` names that would shadow a column, a built-in parameter or an SQL word.

    Raises:
        ValueError: naming the clashing parameters, in Chinese and English.
    """
    clash = sorted(
        n
        for n in names
        if n in COLUMNS or n in BUILT_IN_PARAMETERS or n in ("age_min", "age_max") or n.upper() in KEYWORDS | FUNCTIONS
    )
    if clash:
        listed = ", ".join(clash)
        raise ValueError(
            f"参数名与列名、内置参数或 SQL 关键字重复：{listed} / parameter name(s) taken by a column, a built-in "
            f"parameter or an SQL word: {listed}"
        )


def check_item_rules(rules: Sequence[ItemRule], params: Mapping[str, ParamValue]) -> None:
    """Compile every rule's check; refuse duplicate codes.

    Raises:
        ExpressionError: for the first rule that cannot be trusted, naming the rule, the position and the field
            (``rules[N].check``, counted from 1).
        ValueError: when two rules share a code or a rule reuses a code of the library.
    """
    seen: set[str] = set()
    for index, rule in enumerate(rules, start=1):
        if rule.code in seen:
            raise ValueError(f"规则代码重复：{rule.code} / duplicate rule code {rule.code}")
        seen.add(rule.code)
        try:
            compile_check(rule.check, params=params)
        except ExpressionError as exc:
            raise ExpressionError(
                f"规则 {rule.code} {exc.message_zh}",
                f"rule {rule.code}: {exc.message_en}",
                position=exc.position,
                field=f"rules[{index}].check",
                value=rule.check,
            ) from None
