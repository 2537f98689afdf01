"""What a rule is: a stable code, a default severity, two messages, and one Polars expression.

A rule never loops over rows. It declares the roster columns and the context inputs it needs; when one is missing
the engine skips it and says why. Work that several rules share (parsing the ID once, joining the registry once) is
a :class:`Derivation`: a named step that adds private ``_``-prefixed columns to the frame, applied once however many
rules ask for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import polars as pl
from attrs import field, frozen

from yikatong.catalog import SubsidyItem
from yikatong.codes import Severity
from yikatong.period import Period
from yikatong.rules.context import ValidationContext

__all__ = ["Derivation", "Finding", "Rule", "RuleEnv"]


@frozen
class RuleEnv:
    """What a rule may look at when it builds its expression: the item, the period, the caller's context, and
    the roster columns present.

    ``facts`` holds figures of the whole roster worked out before the rules run on one part of it (the partitioned
    runner sets ``amount_median``); a derivation that finds its figure there uses it instead of computing it over
    the frame it is given. Empty when the rules see the whole roster at once.
    """

    item: SubsidyItem
    period: Period
    context: ValidationContext
    columns: frozenset[str]
    facts: Mapping[str, float | None] = field(factory=dict)


@frozen
class Finding:
    """A rule's verdict on every row, as expressions over the prepared frame.

    Attributes:
        hit: Boolean expression, true where the rule fires. Null counts as "does not fire"; a rule that wants null
            to fire says so in its expression (``is_null()``).
        evidence: String expression naming the value, list or other row at fault. Evaluated only on the rows that
            hit, so it may be expensive. Never a full ID or account number (use :mod:`yikatong.privacy`).
        severity: Optional per-row severity (``"block"``/``"review"``/``"fix"``) for rules whose severity depends on
            the row (a holder-name score between two thresholds). It replaces the default, but an item's catalogue
            override still wins.
    """

    hit: pl.Expr
    evidence: pl.Expr | None = None
    severity: pl.Expr | None = None


@frozen
class Derivation:
    """A named, shared preparation step: adds columns (parsed fields, joined lists) to the lazy frame.

    Derivations run in the order rules first ask for them; each runs once, however many rules ask. ``after``
    lists the derivations that must run first (they are applied too, even if no rule names them).
    """

    name: str
    apply: Callable[[pl.LazyFrame, RuleEnv], pl.LazyFrame]
    after: tuple[Derivation, ...] = ()


def _no_skip(env: RuleEnv) -> str | None:
    return None


@frozen
class Rule:
    """One rule of the catalogue.

    Attributes:
        code: The stable code of ``domain.md``.
        family: ``ingestion``, ``identity``, ``accounts``, ``duplicates`` or ``amounts``.
        severity: Default severity; the item's catalogue entry may override it.
        message_zh: Chinese message shown to department users.
        message_en: English message.
        build: Returns the rule's :class:`Finding` for this item and period.
        columns: Roster columns the rule needs; missing ones skip it.
        inputs: Context inputs the rule needs (see :meth:`ValidationContext.available_inputs`); missing ones
            skip it.
        derivations: Shared preparation steps, applied before ``build``'s expressions are evaluated.
        applies: Returns a reason to skip the rule for this item (no age range, no cap), or None to run it.
        batch_level: True for rules about the batch as a whole (``BATCH_TOTAL_MISMATCH``): their hit is a
            single boolean, reported with a null ``row_id``.
    """

    code: str
    family: str
    severity: Severity
    message_zh: str
    message_en: str
    build: Callable[[RuleEnv], Finding]
    columns: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    derivations: tuple[Derivation, ...] = field(default=())
    applies: Callable[[RuleEnv], str | None] = _no_skip
    batch_level: bool = False
