"""Mandatory controls: an item's catalogue entry names the inputs its validation must have.

A rule whose input is missing is skipped, and a skipped check pays everyone it would have stopped: without the
registry nobody's account is checked, without the ledger nobody is found already paid, without the deceased list
the dead are paid. So an item lists its ``mandatory_controls`` (and the lists it requires or excludes count too,
see [`required_controls`][yikatong.SubsidyItem.required_controls]). When one is not supplied, ``CONTROL_MISSING`` is a
batch-level block naming it, in Chinese and in English: the batch cannot be dispatched. Finance may waive a
control for one batch with a reason (maker-checker, audited; see [`yikatong.workflow.Service.waive_control`][]);
a waived control is listed in the report's [`ControlReport`][yikatong.rules.ControlReport], never silently dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl
from attrs import field, frozen

from yikatong.catalog import CONTROLS, SubsidyItem
from yikatong.rules._rule import Finding, Rule, RuleEnv
from yikatong.rules.context import ValidationContext

__all__ = ["CONTROL_LABELS", "RULES", "ControlReport", "control_report", "describe_controls"]

CONTROL_LABELS: dict[str, tuple[str, str]] = {
    "registry": ("一卡通账户登记库", "one-card account registry"),
    "ledger": ("发放台账", "payment ledger"),
    "bank_verification": ("银行联网核查", "bank account verification"),
    "deceased": ("死亡人员名单", "deceased list"),
    "public_employee": ("财政供养人员名单", "public-employee list"),
    "disabled": ("残疾人名单", "disabled persons list"),
    "supported": ("特困供养人员名单", "supported persons list"),
    "dibao": ("低保名单", "dibao list"),
    "registered_poor": ("建档立卡/监测对象名单", "registered poor list"),
}
"""Each control's name in Chinese and in English, for messages and summaries."""


@frozen
class ControlReport:
    """Which controls a validation had, and which mandatory ones it lacked.

    Attributes:
        required: The item's mandatory controls ([`required_controls`][yikatong.SubsidyItem.required_controls]).
        supplied: Every control the validation had, mandatory or not, in [`CONTROLS`][yikatong.catalog.CONTROLS] order.
        missing: Mandatory controls neither supplied nor waived: each is ``CONTROL_MISSING``.
        waived: Mandatory controls not supplied that finance waived for the batch, with the reason given.
    """

    required: tuple[str, ...] = ()
    supplied: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    waived: dict[str, str] = field(factory=dict)

    @property
    def summary(self) -> dict[str, Any]:
        """A JSON-ready form: ``required``, ``supplied``, ``missing`` (lists) and ``waived`` (control → reason)."""
        return {
            "required": list(self.required),
            "supplied": list(self.supplied),
            "missing": list(self.missing),
            "waived": dict(self.waived),
        }


def control_report(item: SubsidyItem, context: ValidationContext) -> ControlReport:
    """What ``context`` supplies of the controls ``item`` makes mandatory, with the waivers it carries.

    A waiver of a control that was supplied anyway, or that the item does not require, is not listed.
    """
    present = context.supplied_controls()
    required = item.required_controls
    absent = [c for c in required if c not in present]
    waived: dict[str, str] = {c: context.waived_controls[c] for c in absent if c in context.waived_controls}
    return ControlReport(
        required=tuple(required),
        supplied=tuple(c for c in CONTROLS if c in present),
        missing=tuple(c for c in absent if c not in waived),
        waived=waived,
    )


def describe_controls(names: Mapping[str, object] | tuple[str, ...] | list[str]) -> tuple[str, str]:
    """Controls named in Chinese and in English: ``("一卡通账户登记库 registry、发放台账 ledger", "registry (one-card
    account registry), ledger (payment ledger)")``."""
    zh = "、".join(f"{CONTROL_LABELS[n][0]} {n}" for n in names)
    en = ", ".join(f"{n} ({CONTROL_LABELS[n][1]})" for n in names)
    return zh, en


def _missing(env: RuleEnv) -> Finding:
    missing = control_report(env.item, env.context).missing
    zh, en = describe_controls(missing)
    return Finding(
        hit=pl.lit(bool(missing)),
        evidence=pl.lit(f"未提供必需的控制：{zh} / mandatory control(s) not supplied: {en}"),
    )


def _has_required(env: RuleEnv) -> str | None:
    return None if env.item.required_controls else f"item {env.item.code} names no mandatory control"


RULES: tuple[Rule, ...] = (
    Rule(
        code="CONTROL_MISSING",
        family="controls",
        severity="block",
        message_zh="本项目必需的控制（账户登记库、发放台账、银行核查或名单）未提供，批次不得发放，除非财政记录豁免",
        message_en="a control this item makes mandatory (registry, ledger, bank verification or a list) was not "
        "supplied; the batch cannot be paid unless finance records a waiver",
        build=_missing,
        applies=_has_required,
        batch_level=True,
    ),
)
