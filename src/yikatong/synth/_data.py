"""The generator's result and how it is written to files."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Final, Literal

import polars as pl
from attrs import field, frozen

__all__ = ["XLSX_MAX_ROWS", "Encoding", "Format", "SynthData"]

Format = Literal["csv", "parquet", "xlsx"]
Encoding = Literal["gb18030", "utf-8"]

XLSX_MAX_ROWS: Final = 100_000
"""Largest roster written as XLSX (a spreadsheet is for a county office, not a benchmark)."""

_MALFORMED_EXTRA: Final = "备注:已核实"
_CHUNK_ROWS: Final = 500_000


@frozen
class SynthData:
    """A synthetic roster, its truth and its context.

    Attributes:
        roster: The roster with a department's export headers (姓名, 性别, 身份证号, 乡镇(街道), 村(社区), 户主身份证号,
            一卡通账号, [类别], [数量], 补贴金额, [项目代码]); every column text, one row per data row.
        truth: ``row_id`` (1-based, as [`yikatong.read_roster`][] numbers rows), ``defect`` (a rule code) and
            ``expected`` (``must`` / ``may``; see [`yikatong.synth`][]). It describes the CSV file: the
            ``ROW_MALFORMED`` rows exist only there (use [`truth_for`][yikatong.synth.SynthData.truth_for] for other
            formats).
        registry: One-card accounts: ``id_number, account, account_kind, bank, holder_name, status``.
        references: Reference lists by name (``deceased`` with ``death_date``, ``disabled`` with ``grade``,
            ``public_employee``, ``supported``, ``dibao``, ``registered_poor``).
        ledger: Earlier payments: ``id_number, item, period, amount`` (yuan text) ``, status``.
        period: The roster's period label.
        items: The item codes on the roster.
        item_periods: Each item's own period label (``period`` itself for an item paid by its kind, the year
            holding it for an annual item, …): what a batch of that item is paid for.
    """

    roster: pl.DataFrame
    truth: pl.DataFrame
    registry: pl.DataFrame
    references: dict[str, pl.DataFrame]
    ledger: pl.DataFrame
    period: str
    items: tuple[str, ...]
    item_periods: dict[str, str] = field(factory=dict)

    def truth_for(self, format: Format) -> pl.DataFrame:
        """The truth for the roster written as ``format``: without ``ROW_MALFORMED`` except for CSV (a malformed
        line exists only in text; those rows are otherwise clean)."""
        if format == "csv":
            return self.truth
        return self.truth.filter(pl.col("defect") != "ROW_MALFORMED")

    def defect_counts(self) -> dict[str, int]:
        """Rows per defect code (``must`` entries only), by code."""
        counts = self.truth.filter(pl.col("expected") == "must").group_by("defect").len().sort("defect")
        return dict(zip(counts["defect"].to_list(), counts["len"].to_list(), strict=True))

    def write(
        self,
        out_dir: str | Path,
        /,
        *,
        format: Format = "csv",
        encoding: Encoding = "gb18030",
        context_format: Literal["parquet", "csv"] = "parquet",
    ) -> dict[str, Path]:
        """Write the roster, truth and context into ``out_dir`` (created if missing).

        Files: ``roster.csv`` / ``roster.parquet`` / ``roster.xlsx``, ``truth.parquet``, ``registry.<ext>``,
        ``reference/<name>.<ext>``, ``ledger.<ext>`` (``<ext>`` from ``context_format``; context CSVs are UTF-8).

        Returns:
            The path of each file by a short name (``roster``, ``truth``, ``registry``, ``ledger``,
            ``reference:<name>``).

        Raises:
            ValueError: for an unknown format or encoding, or an XLSX roster larger than
                [`XLSX_MAX_ROWS`][yikatong.synth.XLSX_MAX_ROWS].
        """
        if format not in ("csv", "parquet", "xlsx"):
            raise ValueError(f"unknown roster format {format!r}: choose csv, parquet or xlsx")
        if encoding not in ("gb18030", "utf-8"):
            raise ValueError(f"unknown encoding {encoding!r}: choose gb18030 or utf-8")
        if context_format not in ("parquet", "csv"):
            raise ValueError(f"unknown context format {context_format!r}: choose parquet or csv")
        if format == "xlsx" and self.roster.height > XLSX_MAX_ROWS:
            raise ValueError(f"an XLSX roster is limited to {XLSX_MAX_ROWS:,} rows; use csv or parquet")
        out = Path(out_dir)
        (out / "reference").mkdir(parents=True, exist_ok=True)
        paths: dict[str, Path] = {}
        roster_path = out / f"roster.{format}"
        if format == "csv":
            malformed = self.truth.filter(pl.col("defect") == "ROW_MALFORMED")["row_id"]
            _write_roster_csv(self.roster, roster_path, encoding=encoding, malformed_rows=malformed)
        elif format == "parquet":
            self.roster.write_parquet(roster_path, compression="lz4")
        else:
            self.roster.write_excel(roster_path, worksheet="名单", autofit=False)
        paths["roster"] = roster_path
        paths["truth"] = out / "truth.parquet"
        self.truth_for(format).write_parquet(paths["truth"], compression="lz4")
        context: dict[str, tuple[Path, pl.DataFrame]] = {
            "registry": (out / f"registry.{context_format}", self.registry),
            "ledger": (out / f"ledger.{context_format}", self.ledger),
        }
        for name, frame in self.references.items():
            context[f"reference:{name}"] = (out / "reference" / f"{name}.{context_format}", frame)
        for key, (path, frame) in context.items():
            if context_format == "csv":
                frame.write_csv(path)
            else:
                frame.write_parquet(path, compression="lz4")
            paths[key] = path
        return paths


def _write_roster_csv(roster: pl.DataFrame, path: Path, *, encoding: Encoding, malformed_rows: pl.Series) -> None:
    """Write the roster as a department's CSV export, in chunks (bounded memory, GB18030 by default).

    Rows listed in ``malformed_rows`` (1-based) get one extra field at the end of their line.
    """
    last = roster.columns[-1]
    frame = roster.with_columns(
        pl.when(pl.int_range(1, pl.len() + 1).is_in(malformed_rows.implode()))
        .then(pl.concat_str(pl.col(last).fill_null(""), pl.lit("," + _MALFORMED_EXTRA)))
        .otherwise(pl.col(last))
        .alias(last)
    )
    with path.open("wb") as sink:
        for offset in range(0, max(frame.height, 1), _CHUNK_ROWS):
            chunk = frame.slice(offset, _CHUNK_ROWS)
            buffer = io.BytesIO()
            chunk.write_csv(buffer, include_header=offset == 0, quote_style="never")
            data = buffer.getvalue()
            sink.write(data if encoding == "utf-8" else data.decode("utf-8").encode("gb18030"))
