"""Vectorized validation: every rule one Polars expression, an item's whole rule set one lazy plan."""

from yikatong.rules._rule import Derivation, Finding, Rule, RuleEnv
from yikatong.rules.context import ValidationContext
from yikatong.rules.controls import ControlReport
from yikatong.rules.engine import Engine, validate
from yikatong.rules.paid_accounts import paid_accounts
from yikatong.rules.partitioned import validate_partitioned
from yikatong.rules.registry import RULES, rules_by_code
from yikatong.rules.report import ValidationReport

__all__ = [
    "RULES",
    "ControlReport",
    "Derivation",
    "Engine",
    "Finding",
    "Rule",
    "RuleEnv",
    "ValidationContext",
    "ValidationReport",
    "paid_accounts",
    "rules_by_code",
    "validate",
    "validate_partitioned",
]
