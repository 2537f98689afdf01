"""Public notices 公示 as files: CSV for Excel, XLSX, and a printable HTML page per village.

[`DisclosureFileSink`][yikatong.adapters.DisclosureFileSink] implements [`yikatong.ports.DisclosureSink`][]. For each
batch it writes into ``folder/<batch>/``:

* ``<town>_<item>_<period>_<batch>.csv`` — UTF-8 with a byte order mark, so Excel opens the Chinese text; the rows
  of every village of the town, a 小计 line after each village and a 合计 line for the town;
* ``<town>_<item>_<period>_<batch>.xlsx`` — a 汇总 sheet with per-village and town totals, and one sheet per village;
* ``<town>_<village>_<item>_<period>_<batch>.html`` — one printable page per village (A4, repeated table header),
  with the village and town totals, for the village notice board.

Every file is written atomically (temporary file, fsync, rename); publishing a batch again replaces its files and
removes those of villages no longer in it. Amounts are formatted from integer fen as yuan text, exactly. File names
stay readable and never coincide for two different places (``平凯街道(东)`` and ``平凯街道（东）`` get two files; see
``yikatong.adapters._disclosure_names``), and a file system refusal is a
[`DisclosureError`][yikatong.errors.DisclosureError]. Text a roster supplied (a town or village such as
``=HYPERLINK(…)``) never becomes a formula: the CSV and XLSX go through ``yikatong._spreadsheet``.

The notice is masked upstream ([`yikatong.workflow.disclosure.build_notice`][]); this sink checks it once more
and refuses, with [`DisclosureError`][yikatong.errors.DisclosureError], a notice whose names are not masked or whose
text holds something shaped like an ID, account or phone number. Only the published columns are ever written.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import polars as pl
from attrs import frozen

from yikatong._spreadsheet import csv_bytes, workbook, write_table, write_text
from yikatong.adapters._disclosure_html import html_lines, html_page
from yikatong.adapters._disclosure_names import NoticeNames
from yikatong.adapters.bankfile._files import safe_name, write_all_atomic
from yikatong.errors import DisclosureError
from yikatong.localtime import COUNTY_ZONE, local_date, zone_info
from yikatong.records import DisclosureNotice

__all__ = ["HEADERS", "DisclosureFileSink"]

HEADERS: dict[str, str] = {
    "town": "乡镇(街道)",
    "village": "村(社区)",
    "name_masked": "姓名",
    "item_name": "补贴项目",
    "period": "发放期间",
    "standard": "补贴标准",
    "amount": "发放金额(元)",
    "pay_date": "发放日期",
}
"""The published columns and their Chinese headings, in order."""

_TEXT_COLUMNS = ("town", "village", "name_masked", "item_name", "period", "standard")
_PERSONAL = r"[0-9]{11,}|[0-9]{17}[0-9Xx]|1[3-9][0-9]{9}"
"""Shaped like an ID (18 characters), an account (11+ digits) or a mobile phone number."""


def _date_text(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A pay date as ``2026-11-20`` whether it comes as a date, a datetime or text."""
    return expr.dt.strftime("%Y-%m-%d") if dtype.is_temporal() else expr.cast(pl.String)


def _yuan(fen: pl.Expr) -> pl.Expr:
    """Integer fen as yuan text with two decimals and thousands separators, exactly (no float)."""
    whole = (fen.abs() // 100).cast(pl.String)
    grouped = whole.str.reverse().str.replace_all(r"(\d{3})", "$1,").str.reverse().str.strip_chars_start(",")
    sign = pl.when(fen < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.concat_str(sign, grouped, pl.lit("."), (fen.abs() % 100).cast(pl.String).str.zfill(2))


def _sheet_name(village: str, used: set[str]) -> str:
    base = "".join("_" if c in "[]:*?/\\" else c for c in village).strip("'") or "村"
    name, n = base[:31], 1
    while name in used or name == "汇总":
        n += 1
        suffix = f"({n})"
        name = base[: 31 - len(suffix)] + suffix
    used.add(name)
    return name


@frozen
class _TownLine:
    """A town's 合计: payees, fen, minors withheld, and the fen as yuan text."""

    payees: int
    fen: int
    minors: int
    amount: str


def _town_lines(totals: pl.DataFrame) -> dict[str, _TownLine]:
    """Town → its 合计 line, summed over its villages' totals in one query."""
    sums = (
        totals.group_by("town", maintain_order=True)
        .agg(pl.col("payees", "amount_fen", "minors_withheld").sum())
        .with_columns(_yuan(pl.col("amount_fen")).alias("amount"))
    )
    return {
        town: _TownLine(int(payees), int(fen), int(minors), amount)
        for town, payees, fen, minors, amount in sums.iter_rows()
    }


def _by_village(town_totals: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """Village → its (first) totals line."""
    found: dict[str, dict[str, Any]] = {}
    for vt in town_totals.iter_rows(named=True):
        found.setdefault(vt["village"], vt)
    return found


class DisclosureFileSink:
    """Writes each published notice as CSV, XLSX and per-village HTML files under ``folder/<batch>/``.

    Args:
        folder: Where the notice folders go; created when missing.
        formats: Which of ``csv``, ``xlsx``, ``html`` to write (all by default).
        zone: The county's IANA time zone, in which the files date the notice (``Asia/Shanghai`` by default; pay
            dates come in the notice already as county dates).

    Raises:
        ValueError: an unknown format or time zone.

    Attributes:
        written: The files written by the last [`publish`][yikatong.adapters.DisclosureFileSink.publish], in order.
    """

    def __init__(
        self, folder: str | Path, *, formats: tuple[str, ...] = ("csv", "xlsx", "html"), zone: str = COUNTY_ZONE
    ) -> None:
        unknown = set(formats) - {"csv", "xlsx", "html"}
        if unknown:
            raise ValueError(f"unknown disclosure formats: {sorted(unknown)}")
        zone_info(zone)
        self.folder = Path(folder)
        self.formats = formats
        self.zone = zone
        self.written: list[Path] = []

    def _since(self, notice: DisclosureNotice) -> str:
        """The county date the notice went up (a naive ``published_at`` is taken as UTC)."""
        moment = notice.published_at
        return local_date(moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC), self.zone).isoformat()

    def publish(self, notice: DisclosureNotice) -> None:
        """Write the notice's files, replacing an earlier publication of the same batch.

        Raises:
            DisclosureError: when the notice would publish personal data, lacks a published column, or the file
                system refuses a folder or file (too long a name, no space, no permission).
        """
        rows = self._checked(notice)
        totals = self._totals(notice, rows)
        out = self.folder / safe_name(notice.batch_id)
        names = NoticeNames()
        files: list[tuple[Path, bytes]] = []
        # Everything a town's files need is worked out once for the whole notice and split by town (a few queries
        # per notice, not a few per town and village).
        rows_of = {town: part for (town,), part in rows.partition_by("town", as_dict=True, maintain_order=True).items()}
        lines = _town_lines(totals)
        csvs = self._csv_tables(rows, totals, lines) if "csv" in self.formats else {}
        pages = html_lines(rows) if "html" in self.formats else {}
        for (town,), town_totals in totals.partition_by("town", as_dict=True, maintain_order=True).items():
            town_rows = rows_of.get(town, rows.clear())
            line = lines[town]
            parts = (str(town), notice.item, notice.period, notice.batch_id)
            if "csv" in self.formats:
                files.append((out / names.name(parts, ".csv"), csv_bytes(csvs[town])))
            if "xlsx" in self.formats:
                files.append(
                    (out / names.name(parts, ".xlsx"), self._xlsx(notice, str(town), town_rows, town_totals, line))
                )
            if "html" in self.formats:
                for village, page in self._html_pages(notice, str(town), pages.get(town, {}), town_totals, line):
                    village_parts = (str(town), village, *parts[1:])
                    files.append((out / names.name(village_parts, ".html"), page.encode("utf-8")))
        try:
            out.mkdir(parents=True, exist_ok=True)
            write_all_atomic(files)
            written = [path for path, _ in files]
            for stale in set(out.iterdir()) - set(written):
                if stale.is_file() and stale.suffix in (".csv", ".xlsx", ".html"):
                    stale.unlink()
        except OSError as exc:
            raise DisclosureError(
                f"cannot write the notice of batch {notice.batch_id}: {exc.strerror or type(exc).__name__} / "
                "无法写入公示文件"
            ) from None
        self.written = written

    @staticmethod
    def _checked(notice: DisclosureNotice) -> pl.DataFrame:
        missing = {"town", "village", "name_masked", "item_name", "period", "standard", "amount_fen", "pay_date"} - set(
            notice.rows.columns
        )
        if missing:
            raise DisclosureError(f"notice of batch {notice.batch_id} lacks columns {sorted(missing)}")
        rows = notice.rows.select(
            *(pl.col(c).cast(pl.String).fill_null("") for c in _TEXT_COLUMNS),
            pl.col("amount_fen").cast(pl.Int64),
            _date_text(pl.col("pay_date"), notice.rows.schema["pay_date"]).fill_null(""),
        )
        checks = rows.select(
            unmasked=(pl.col("name_masked").str.len_chars() >= 2)
            & ~pl.col("name_masked").str.contains("*", literal=True),
            personal=pl.any_horizontal(pl.col(*_TEXT_COLUMNS, "pay_date").str.contains(_PERSONAL)),
        ).with_columns(town=rows["town"], village=rows["village"])
        for flag, what in (("unmasked", "a name that is not masked"), ("personal", "an ID, account or phone number")):
            hit = checks.filter(pl.col(flag))
            if hit.height:
                town, village = hit.row(0)[2:4]
                raise DisclosureError(
                    f"notice of batch {notice.batch_id} would publish {what} ({hit.height} row(s); first in "
                    f"{town} {village}); refusing to write it"
                )
        return rows.with_columns(amount=_yuan(pl.col("amount_fen"))).sort("town", "village", "name_masked")

    @staticmethod
    def _totals(notice: DisclosureNotice, rows: pl.DataFrame) -> pl.DataFrame:
        """Per village: ``payees``, ``amount_fen``, ``minors_withheld`` — the notice's own when it has them."""
        if notice.totals is not None:
            totals = notice.totals.select(
                pl.col("town").cast(pl.String).fill_null(""),
                pl.col("village").cast(pl.String).fill_null(""),
                pl.col("payees").cast(pl.Int64),
                pl.col("amount_fen").cast(pl.Int64),
                (pl.col("minors_withheld") if "minors_withheld" in notice.totals.columns else pl.lit(0))
                .cast(pl.Int64)
                .alias("minors_withheld"),
            )
        else:
            totals = rows.group_by("town", "village").agg(
                pl.len().cast(pl.Int64).alias("payees"),
                pl.col("amount_fen").sum().alias("amount_fen"),
                pl.lit(0, dtype=pl.Int64).alias("minors_withheld"),
            )
        return totals.sort("town", "village").with_columns(amount=_yuan(pl.col("amount_fen")))

    @staticmethod
    def _csv_tables(rows: pl.DataFrame, totals: pl.DataFrame, lines: dict[str, _TownLine]) -> dict[str, pl.DataFrame]:
        """Per town, the CSV table: its rows by village, a 小计 line after each village, a 合计 line last."""
        listed = rows.select(*HEADERS).with_columns(pl.lit(0).alias("_order"), pl.lit(0).alias("_kind"))
        subtotals = totals.select(
            "town",
            "village",
            pl.lit("小计").alias("name_masked"),
            *(pl.lit("").alias(c) for c in ("item_name", "period")),
            pl.format("{}人", "payees").alias("standard"),
            "amount",
            pl.lit("").alias("pay_date"),
            pl.lit(0).alias("_order"),
            pl.lit(1).alias("_kind"),
        )
        towns = list(lines)
        grand = pl.DataFrame(
            {
                "town": towns,
                "village": [""] * len(towns),
                "name_masked": ["合计"] * len(towns),
                "item_name": [""] * len(towns),
                "period": [""] * len(towns),
                "standard": [f"{lines[t].payees}人" for t in towns],
                "amount": [lines[t].amount for t in towns],
                "pay_date": [""] * len(towns),
                "_order": [1] * len(towns),
                "_kind": [2] * len(towns),
            },
            schema_overrides={"town": pl.String, "standard": pl.String, "amount": pl.String},
        )
        # A stable sort of the whole keeps each town's lines in the order a sort of that town alone gives.
        table = pl.concat([listed, subtotals, grand], how="vertical_relaxed").sort(
            "_order", "village", "_kind", maintain_order=True
        )
        return {
            town: part.drop("_order", "_kind").rename(HEADERS)
            for (town,), part in table.partition_by("town", as_dict=True, maintain_order=True).items()
        }

    def _xlsx(
        self, notice: DisclosureNotice, town: str, town_rows: pl.DataFrame, town_totals: pl.DataFrame, line: _TownLine
    ) -> bytes:
        buffer = io.BytesIO()
        book = workbook(buffer)
        bold = book.add_format({"bold": True})
        title = f"{town} {notice.item_name} {notice.period} 发放公示"
        summary = town_totals.select(
            pl.col("village").alias("村(社区)"),
            pl.col("payees").alias("发放人数"),
            pl.col("amount").alias("发放金额(元)"),
            pl.col("minors_withheld").alias("其中未列名未成年人"),
        )
        summary = pl.concat(
            [
                summary,
                pl.DataFrame(
                    {
                        "村(社区)": ["合计"],
                        "发放人数": [line.payees],
                        "发放金额(元)": [line.amount],
                        "其中未列名未成年人": [line.minors],
                    }
                ),
            ],
            how="vertical_relaxed",
        )
        sheet = book.add_worksheet("汇总")
        write_text(sheet, 0, 0, title, bold)
        write_text(
            sheet,
            1,
            0,
            f"批次 {notice.batch_id}；公示期 {notice.window_days} 天，自 {self._since(notice)} 起",
        )
        write_table(sheet, summary, first_row=2, header_format=bold)
        sheet.autofit()
        used: set[str] = set()
        village_totals = _by_village(town_totals)
        tables = town_rows.select(*HEADERS).rename(HEADERS)
        for (village,), table in tables.partition_by(HEADERS["village"], as_dict=True, maintain_order=True).items():
            ws = book.add_worksheet(_sheet_name(str(village), used))
            write_text(ws, 0, 0, f"{town} {village} {notice.item_name} {notice.period} 发放公示", bold)
            write_text(ws, 1, 0, f"批次 {notice.batch_id}；公示期 {notice.window_days} 天")
            end = write_table(ws, table, first_row=2, header_format=bold)
            vt = village_totals[village]
            write_text(ws, end, 0, "小计", bold)
            write_text(ws, end, 1, f"{vt['payees']}人")
            write_text(ws, end, 6, str(vt["amount"]), bold)
            ws.autofit()
        book.close()
        return buffer.getvalue()

    def _html_pages(
        self,
        notice: DisclosureNotice,
        town: str,
        lines: dict[str, list[str]],
        town_totals: pl.DataFrame,
        line: _TownLine,
    ) -> list[tuple[str, str]]:
        """(village, page) for every village of the town's totals."""
        totals = _by_village(town_totals)
        return [
            (
                str(village),
                html_page(
                    notice,
                    town,
                    str(village),
                    lines.get(village, []),
                    totals[village],
                    (line.payees, line.minors, line.amount),
                    self._since(notice),
                ),
            )
            for village in town_totals["village"].to_list()
        ]
