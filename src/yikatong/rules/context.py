"""What the caller supplies besides the roster: registry, reference lists, ledger, bank verification, declarations."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl
from attrs import field, frozen

from yikatong.catalog import Catalog, ReferenceListName
from yikatong.errors import ReferenceDataError
from yikatong.ingest import RosterForm

__all__ = ["REQUIRED_COLUMNS", "ValidationContext"]

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "registry": ("id_number", "account", "account_kind", "holder_name", "status"),
    "ledger": ("id_number", "item", "period", "amount_fen", "status"),
    "bank_verification": ("row_id", "verified"),
    "reference": ("id_number",),
    "reference:deceased": ("id_number", "death_date"),
}
"""Columns each context frame must have (``yikatong.ingest`` loads files into frames of this shape)."""


def _frozen_mapping(
    value: Mapping[ReferenceListName, pl.LazyFrame] | None,
) -> dict[ReferenceListName, pl.LazyFrame]:
    return dict(value or {})


def _text_mapping(value: Mapping[str, str] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (value or {}).items()}


@frozen(kw_only=True)
class ValidationContext:
    """Other frames and facts the rules may use. Every field is optional; rules needing a missing one are skipped.

    Attributes:
        catalog: The whole catalogue, for rules that look at other items (mutually exclusive items).
        registry: The one-card account registry snapshot: ``id_number, account, account_kind, bank, holder_name,
            status`` (status ``active``/``frozen``/``closed``/``pending``).
        reference: Reference lists by name, each a frame with ``id_number`` (and ``death_date`` for ``deceased``).
        ledger: Payments already made or in flight: ``id_number, item, period, amount_fen, status``.
        bank_verification: The bank's bulk verification (联网核查) result: ``row_id, verified`` (bool) and
            optionally ``reason``.
        declared_count: The row count the department declared for the batch.
        declared_total_fen: The total amount (fen) the department declared for the batch.
        waived_controls: Mandatory controls
            ([`yikatong.catalog.SubsidyItem.required_controls`][yikatong.SubsidyItem.required_controls]) that finance
            waived for this batch, each with its reason: their absence is reported, not ``CONTROL_MISSING``.
        form: The roster file as [`yikatong.ingest.read_form`][] read it: the report lists its non-payee lines,
            and the amount (and count) of its 合计 line is the declared total (count) when ``declared_total_fen``
            (``declared_count``) is not given.
    """

    catalog: Catalog | None = None
    registry: pl.LazyFrame | None = None
    reference: dict[ReferenceListName, pl.LazyFrame] = field(factory=dict, converter=_frozen_mapping)
    ledger: pl.LazyFrame | None = None
    bank_verification: pl.LazyFrame | None = None
    declared_count: int | None = None
    declared_total_fen: int | None = None
    waived_controls: dict[str, str] = field(factory=dict, converter=_text_mapping)
    form: RosterForm | None = None

    def declared(self) -> tuple[int | None, int | None, str]:
        """The declared count and total (fen) to check the batch against, and where they come from: the caller's
        own figures first (``"declared"``), else those of the form's 合计 line (``"form line 38"``)."""
        count, total = self.declared_count, self.declared_total_fen
        sources: list[str] = []
        if count is not None or total is not None:
            sources.append("declared")
        form = self.form
        if form is not None and form.declared_line is not None:
            used = False
            if count is None and form.declared_count is not None:
                count, used = form.declared_count, True
            if total is None and form.declared_total_fen is not None:
                total, used = form.declared_total_fen, True
            if used:
                sources.append(f"form line {form.declared_line}")
        return count, total, " and ".join(sources)

    def check(self) -> None:
        """Check that every supplied frame has the columns the rules read (only the schemas are looked at).

        Raises:
            ReferenceDataError: naming the input and the missing columns.
        """
        frames: list[tuple[str, str, pl.LazyFrame]] = []
        for name in ("registry", "ledger", "bank_verification"):
            frame = getattr(self, name)
            if frame is not None:
                frames.append((name, name, frame))
        for list_name, frame in self.reference.items():
            key = f"reference:{list_name}"
            frames.append((key, key if key in REQUIRED_COLUMNS else "reference", frame))
        for label, kind, frame in frames:
            present = set(frame.collect_schema().names())
            missing = [c for c in REQUIRED_COLUMNS[kind] if c not in present]
            if missing:
                hint = (
                    " (load files with yikatong.ingest, which converts yuan to amount_fen)" if kind == "ledger" else ""
                )
                raise ReferenceDataError(
                    f"{label}: missing column(s) {', '.join(missing)}{hint} / {label} 缺少列 {', '.join(missing)}"
                )

    def supplied_controls(self) -> frozenset[str]:
        """The controls present (see [`yikatong.catalog.CONTROLS`][]): ``registry``, ``ledger``,
        ``bank_verification`` and each reference list by its name."""
        names: set[str] = set(self.reference)
        for name in ("registry", "ledger", "bank_verification"):
            if getattr(self, name) is not None:
                names.add(name)
        return frozenset(names)

    def available_inputs(self) -> frozenset[str]:
        """Names of the inputs present, as rules declare them: ``catalog``, ``registry``, ``ledger``,
        ``bank_verification``, ``declared``, and ``reference:<list>`` per list."""
        names = {f"reference:{name}" for name in self.reference}
        if self.catalog is not None:
            names.add("catalog")
        if self.registry is not None:
            names.add("registry")
        if self.ledger is not None:
            names.add("ledger")
        if self.bank_verification is not None:
            names.add("bank_verification")
        count, total, _ = self.declared()
        if count is not None or total is not None:
            names.add("declared")
        return frozenset(names)
