"""Every rule of the library, in catalogue order. Each family module exports its ``RULES`` tuple."""

from __future__ import annotations

from yikatong.rules import accounts, amounts, controls, duplicates, identity, ingestion, ledger, lists, near
from yikatong.rules._rule import Rule

__all__ = ["RULES", "rules_by_code"]

RULES: tuple[Rule, ...] = (
    *ingestion.RULES,
    *identity.RULES,
    *accounts.RULES,
    *duplicates.RULES,
    *ledger.RULES,
    *near.RULES,
    *lists.RULES,
    *amounts.RULES,
    *controls.RULES,
)
"""Every rule of the library, in catalogue order (the order ``docs/rules.md`` lists them in)."""


def rules_by_code() -> dict[str, Rule]:
    """The rules indexed by their stable code."""
    return {r.code: r for r in RULES}
