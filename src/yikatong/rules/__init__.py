"""Vectorized validation: every rule one Polars expression, an item's whole rule set one lazy plan.

The public API for rules of one's own (``docs/custom-rules.md``): a [`Rule`][yikatong.rules.Rule] is a code, a family, a
severity, two messages and a ``build`` function returning a [`Finding`][yikatong.rules.Finding] (``hit``, ``evidence``,
optional per-row ``severity``) for a [`RuleEnv`][yikatong.rules.RuleEnv] (the item, the period, the context, the
roster's columns). A rule may read the canonical roster columns and the documented derived columns of
[`ID_PARTS`][yikatong.rules.ID_PARTS]: ``_id_birth`` (Date), ``_id_sex_odd`` (Boolean), ``_id_region`` (Int32),
``_id_person`` (Int64 person key), ``_id_check_ok`` and ``_id_ok_format`` (Boolean). Give such rules to
[`validate`][yikatong.validate] with [`RULES`][yikatong.rules.RULES]; a catalogue item's own SQL rules
([`item_rules`][yikatong.rules.item_rules]) are added by [`validate`][yikatong.validate] itself.
"""

from yikatong.rules._idparse import ID_PARSE as ID_PARTS
from yikatong.rules._rule import Derivation, Finding, Rule, RuleEnv
from yikatong.rules.context import ValidationContext
from yikatong.rules.controls import ControlReport
from yikatong.rules.custom import item_rules
from yikatong.rules.engine import Engine, validate
from yikatong.rules.paid_accounts import paid_accounts
from yikatong.rules.partitioned import validate_partitioned
from yikatong.rules.registry import RULES, rules_by_code
from yikatong.rules.report import ValidationReport

__all__ = [
    "ID_PARTS",
    "RULES",
    "ControlReport",
    "Derivation",
    "Engine",
    "Finding",
    "Rule",
    "RuleEnv",
    "ValidationContext",
    "ValidationReport",
    "item_rules",
    "paid_accounts",
    "rules_by_code",
    "validate",
    "validate_partitioned",
]
