"""The result of validation: a verdict per row, a long frame of issues, a summary, capped examples."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

import polars as pl
from attrs import field, frozen

from yikatong.ingest._form import NON_PAYEE_SCHEMA
from yikatong.period import Period
from yikatong.rules.controls import ControlReport

__all__ = ["ISSUES_SCHEMA", "VERDICTS", "ValidationReport"]

VERDICTS: tuple[str, ...] = ("pass", "review", "block")

ISSUES_SCHEMA: dict[str, pl.DataType] = {
    "row_id": pl.Int64(),  # null for a batch-level issue
    "code": pl.String(),
    "severity": pl.String(),
    "message_zh": pl.String(),
    "message_en": pl.String(),
    "evidence": pl.String(),
}


@frozen
class ValidationReport:
    """What [`yikatong.validate`][] found.

    Attributes:
        item: The item code validated against.
        period: The period validated for.
        verdicts: One row per roster row: ``row_id``, ``verdict`` (``pass``/``review``/``block``).
        issues: One row per finding: ``row_id`` (null for batch-level findings), ``code``, ``severity``,
            ``message_zh``, ``message_en``, ``evidence``.
        examples: Up to a few example rows per code, with masked personal data: ``code``, ``row_id``,
            ``source_line``, ``name``, ``id_masked``, ``amount_fen``, ``evidence``.
        skipped: Rules not run, with the reason (``code → reason``).
        rules_run: Codes of the rules that ran.
        controls: Which controls (registry, ledger, bank verification, reference lists) the validation had, which
            mandatory ones it lacked and which finance waived for the batch.
        non_payee_lines: ``source_line, kind`` of every line of the roster file that is not a payee (``title``,
            ``header``, ``total``, ``note``, ``blank``), from the context's ``form``; empty without one.
        declared: The declared count and total beside the roster's own: ``source`` (``"declared"`` or
            ``"form line N"``), ``count``, ``total_fen``, ``roster_rows``, ``roster_total_fen``; empty when nothing
            was declared.
    """

    item: str
    period: Period
    verdicts: pl.DataFrame
    issues: pl.DataFrame
    examples: pl.DataFrame
    skipped: dict[str, str]
    rules_run: tuple[str, ...]
    controls: ControlReport = field(factory=ControlReport)
    non_payee_lines: pl.DataFrame = field(factory=lambda: pl.DataFrame(schema=NON_PAYEE_SCHEMA))
    declared: dict[str, Any] = field(factory=dict)

    @property
    def rows(self) -> int:
        """Number of roster rows validated (equal to the rows read)."""
        return self.verdicts.height

    @property
    def batch_issues(self) -> pl.DataFrame:
        """Findings about the batch as a whole (row_id null), such as ``BATCH_TOTAL_MISMATCH``."""
        return self.issues.filter(pl.col("row_id").is_null())

    @property
    def batch_blocked(self) -> bool:
        """True when a batch-level finding of severity ``block`` stops the whole batch."""
        return bool((self.batch_issues["severity"] == "block").any())

    @property
    def counts_by_verdict(self) -> dict[str, int]:
        """Rows per verdict, every verdict present (zero when none)."""
        counts = dict.fromkeys(VERDICTS, 0)
        for verdict, n in self.verdicts.group_by("verdict").len().iter_rows():
            counts[str(verdict)] = int(n)
        return counts

    @property
    def counts_by_code(self) -> pl.DataFrame:
        """Findings per code and severity: ``code, severity, message_zh, message_en, rows``, most frequent first."""
        return (
            self.issues.group_by("code", "severity")
            .agg(
                pl.col("message_zh").first(),
                pl.col("message_en").first(),
                pl.len().alias("rows"),
            )
            .sort(["rows", "code"], descending=[True, False])
        )

    def verdict_counts(self) -> dict[str, int]:
        """Deprecated: use the [`counts_by_verdict`][yikatong.ValidationReport.counts_by_verdict] property (every
        derived value of a report is a property)."""
        warnings.warn(
            "ValidationReport.verdict_counts() is deprecated; use the counts_by_verdict property",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.counts_by_verdict

    def code_counts(self) -> pl.DataFrame:
        """Deprecated: use the [`counts_by_code`][yikatong.ValidationReport.counts_by_code] property (every derived
        value of a report is a property)."""
        warnings.warn(
            "ValidationReport.code_counts() is deprecated; use the counts_by_code property",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.counts_by_code

    @property
    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary: controls, rows, counts per verdict, counts per code, batch-level findings, skipped
        rules, the roster file's non-payee lines and the declared figures beside the roster's own."""
        codes: dict[str, Any] = {}
        for code, severity, zh, en, n in self.counts_by_code.iter_rows():
            entry = codes.setdefault(code, {"message_zh": zh, "message_en": en, "rows": 0, "by_severity": {}})
            entry["rows"] += int(n)
            entry["by_severity"][severity] = int(n)
        return {
            "item": self.item,
            "period": str(self.period),
            "controls": self.controls.summary,
            "rows": self.rows,
            "verdicts": self.counts_by_verdict,
            "codes": codes,
            "batch_issues": self.batch_issues.select("code", "severity", "evidence").to_dicts(),
            "batch_blocked": self.batch_blocked,
            "rules_run": list(self.rules_run),
            "skipped": dict(sorted(self.skipped.items())),
            "non_payee_lines": self.non_payee_lines.to_dicts(),
            "declared": dict(self.declared),
        }

    def write_parquet(self, directory: str | os.PathLike[str]) -> list[Path]:
        """Write ``verdicts.parquet`` and ``issues.parquet`` into ``directory`` (created when missing)."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        paths = [out / "verdicts.parquet", out / "issues.parquet"]
        self.verdicts.write_parquet(paths[0])
        self.issues.write_parquet(paths[1])
        return paths

    def write_json(self, path: str | os.PathLike[str]) -> Path:
        """Write [`summary`][yikatong.ValidationReport.summary] as UTF-8 JSON (Chinese kept readable)."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(self.summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return p
