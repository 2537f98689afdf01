"""What a rule is: a stable code, a default severity, two messages, and one Polars expression.

A rule never loops over rows. It declares the roster columns and the context inputs it needs; when one is missing
the engine skips it and says why. Work that several rules share (parsing the ID once, joining the registry once) is
a [`Derivation`][yikatong.rules.Derivation]: a named step that adds private ``_``-prefixed columns to the frame, applied
once however many rules ask for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Literal, TypeAlias

import polars as pl
from attrs import field, frozen

from yikatong.catalog import SubsidyItem
from yikatong.codes import Severity
from yikatong.period import Period
from yikatong.rules.context import ValidationContext

__all__ = ["KEYS", "Derivation", "Finding", "Key", "Rule", "RuleEnv"]

Key: TypeAlias = Literal["row", "person", "payee", "household", "account", "near", "batch"]
"""What a rule's cross-row state (its windows, group-bys and context joins) is grouped by. A runner that splits
the roster keeps rows sharing the key together; the rule code never matters to it.

``row``
    nothing beyond the row itself (and context joined on ``row_id``): any split will do.
``person``
    the row's own person (the ID key of ``id_number``): windows over the person, the ledger and reference lists
    joined on the person.
``payee``
    the person paid: the household head for household items, the row's own person otherwise; the registry is
    joined on it.
``household``
    the household head (``household_head_id``).
``account``
    the account paid into, which the registry join works out (rules reading ``_pay_account``, ``_acct_payees``,
    ``_acct_rows``, ``_owner_other``).
``near``
    the near-duplicate blocks of [`yikatong.rules.near`][] (rules reading ``_near_n``, ``_near_evidence``).
``batch``
    the whole batch: the hit is one boolean about the batch, reported with a null ``row_id``.
"""

KEYS: tuple[Key, ...] = ("row", "person", "payee", "household", "account", "near", "batch")
"""Every key a rule may declare."""


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
            hit, so it may be expensive. Never a full ID or account number (use [`yikatong.privacy`][]).
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
    facts: tuple[tuple[str, Callable[[], pl.Expr]], ...] = ()
    """Figures of the whole roster this step reads from ``RuleEnv.facts`` when a runner sees only part of the
    roster: ``(name, aggregation)`` pairs, each aggregation one value over the prepared roster (the batch median).
    A runner computes them over every row first; [`validate`][yikatong.validate] lets the step compute them."""


def _no_skip(env: RuleEnv) -> str | None:
    return None


@frozen
class Rule:
    """One rule of the catalogue.

    Attributes:
        code: The stable code of ``docs/domain.md``.
        family: ``ingestion``, ``identity``, ``accounts``, ``duplicates`` or ``amounts``.
        severity: Default severity; the item's catalogue entry may override it.
        message_zh: Chinese message shown to department users.
        message_en: English message.
        build: Returns the rule's [`Finding`][yikatong.rules.Finding] for this item and period.
        columns: Roster columns the rule needs; missing ones skip it.
        inputs: Context inputs the rule needs (see
            [`ValidationContext.available_inputs`][yikatong.ValidationContext.available_inputs]); missing ones skip it.
        derivations: Shared preparation steps, applied before ``build``'s expressions are evaluated.
        applies: Returns a reason to skip the rule for this item (no age range, no cap), or None to run it.
        batch_level: True for rules about the batch as a whole (``BATCH_TOTAL_MISMATCH``): their hit is a
            single boolean, reported with a null ``row_id``. The same as ``key="batch"``.
        key: What the rule's cross-row state is grouped by (see ``Key``), or a function of the environment
            giving it (a rule whose windows depend on the item). The runners route rules by it: rows sharing the
            key meet in one part. ``"row"`` by default.
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
    key: Key | Callable[[RuleEnv], Key] = "row"

    def key_in(self, env: RuleEnv) -> Key:
        """The key this rule's state is grouped by for ``env`` (``"batch"`` for a batch-level rule).

        Raises:
            ValueError: when the rule declares a key that is not one of ``KEYS``.
        """
        if self.batch_level:
            return "batch"
        key = self.key if isinstance(self.key, str) else self.key(env)
        if key not in KEYS:
            raise ValueError(f"rule {self.code} declares key {key!r}; use one of {', '.join(KEYS)}")
        return key
