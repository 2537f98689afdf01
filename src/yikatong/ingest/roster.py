"""Reading rosters: any supported source to the canonical roster frame, losing no row.

[`read_roster`][yikatong.read_roster] accepts CSV and tab-separated text (UTF-8, UTF-8 with BOM, UTF-16 with BOM,
GB18030), XLSX and other spreadsheets (XLSM, XLSB, XLS, ODS), Parquet, and Polars frames. Every data row of the source
comes out once, in order, in [`yikatong.schema.ROSTER_SCHEMA`][]; what went wrong with a row is a ``flag_*`` column that
the ingestion rules ([`yikatong.rules.ingestion`][]) report. Only a problem that leaves no row to report on raises.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Final, TypeAlias, overload

import polars as pl
from attrs import frozen

from yikatong.errors import RosterFormatError
from yikatong.ingest import _normalise as norm
from yikatong.ingest._form import FormLines, empty_lines
from yikatong.ingest._headers import TARGETS
from yikatong.ingest._readers import (
    Format,
    detect_format,
    load_bytes,
    read_parquet,
    stage_frame,
    stage_sheet,
    stage_text,
)
from yikatong.schema import QUANTITY_SCALE, ROSTER_SCHEMA

__all__ = ["RosterForm", "RosterFormat", "RosterSource", "read_form", "read_roster"]

RosterSource: TypeAlias = str | Path | bytes | bytearray | memoryview | IO[bytes] | pl.DataFrame | pl.LazyFrame
"""What [`read_roster`][yikatong.read_roster] reads: a path, the file's bytes, a binary file object, or a Polars
frame."""

RosterFormat: TypeAlias = Format
"""The file formats [`read_roster`][yikatong.read_roster] can be told to use: ``"csv"``, ``"xlsx"``, ``"parquet"``."""

_FORMATS: Final = ("csv", "xlsx", "parquet")


@overload
def read_roster(
    source: pl.LazyFrame,
    /,
    *,
    format: RosterFormat | None = None,
    mapping: Mapping[str, str | None] | None = None,
    sheet: int | str = 0,
) -> pl.LazyFrame: ...


@overload
def read_roster(
    source: str | Path | bytes | bytearray | memoryview | IO[bytes] | pl.DataFrame,
    /,
    *,
    format: RosterFormat | None = None,
    mapping: Mapping[str, str | None] | None = None,
    sheet: int | str = 0,
) -> pl.DataFrame: ...


def read_roster(
    source: RosterSource,
    /,
    *,
    format: RosterFormat | None = None,
    mapping: Mapping[str, str | None] | None = None,
    sheet: int | str = 0,
) -> pl.DataFrame | pl.LazyFrame:
    """Read a roster into the canonical schema, one row per data row of the source.

    Columns are found by their titles: 姓名, 身份证号 / 公民身份号码 / 证件号码, 性别, 一卡通账号 / 银行账号 / 卡号 /
    社保卡号, 补贴金额 / 金额 / 发放金额, 数量 / 面积 / 计税面积 / 确权面积, 类别 / 等级 / 档次, 乡镇(街道), 村(社区),
    户主身份证号, 项目 / 项目代码, and their English names (see ``ingest/_headers.py``). Titles are compared after
    folding full-width characters and removing spaces; a parenthesised unit such as ``补贴金额(元)`` is ignored.
    Columns the roster schema has no place for (备注, 电话…) are dropped; canonical columns the source lacks are
    null, and their flags false.

    Rows: ``row_id`` is the 1-based position among the data rows. In text, ``source_line`` is the physical line
    where the row starts (line 1 is the first line of the file, normally the header; outside quotes CR, LF and
    CRLF each end a line, mixed freely in one file); in a spreadsheet, the sheet row (counted from the first row
    the sheet uses); for Parquet and frames, ``row_id + 1`` (or the frame's own ``source_line``). The header is
    the first of the first 20 non-empty lines or rows that has an ID column: lines before it
    (a title such as 某某镇高龄津贴发放花名册) are a preamble, not data. After the header, a text line or
    sheet row that is empty or holds only separators, quotes and whitespace is not a data row, nor is one that is
    not a payee: a 合计 / 小计 line, a signature or note line (制表人, 审核人, 填报日期, 备注…), a repeated header or
    a row with only its 序号 ([`read_form`][yikatong.ingest.read_form] lists them all). In Parquet and frames every row
    is a data row. A line with too many or too few fields or an unbalanced quote stays, filled as far as it can be, with
    ``flag_row_malformed``; a quoted cell spanning lines makes one row when the lines together form a record of
    the header's width.

    Cells: IDs (``id_number``, ``household_head_id``) lose spaces and zero-width characters, full-width digits
    and ``Ｘ`` / ``x`` become ASCII (``flag_id_normalised`` when the text changed); an ID or account written as
    ``5.00241E+17`` or ``…1234.0``, or read from a numeric spreadsheet cell (or float column) with more than 15
    digits, keeps its text and gets ``flag_id_excel_mangled``. Names get ``·`` for its look-alikes and are trimmed
    (``flag_name_normalised``); U+FFFD (an undecodable byte) in any column read, or ``?``/``？`` in a name, gives
    ``flag_text_encoding``. Accounts
    lose spaces, zero-width characters and full-width digits without a flag (grouped card numbers are routine).
    ``sex`` is 男/女 from 男, 女, 男性, 女性, M/F, male/female or the GB/T 2261.1 codes 1 and 2, else null.
    ``amount_raw`` keeps the amount cell as written; ``amount_fen`` is its exact value in fen, null unless it is an
    amount in yuan with at most two (non-zero) decimals (``1,234.50``, ``100元``, ``￥100``, full-width digits; see
    ``yikatong.ingest._normalise.parse_amount_fen``). A number cell of a spreadsheet (or a float column of a frame)
    holds a binary double, so ``3.3000000000000003`` (1.1 × 3 computed in the sheet) is read as the whole fen it
    lies within 10⁻⁶ fen of; text is never rounded. ``quantity`` is an exact ``Decimal(38, 4)``, null when invalid.

    Args:
        source: A path (``str`` or ``Path``), the file's bytes, a binary file object, or a Polars
            ``DataFrame`` / ``LazyFrame`` whose column names are titles as above.
        format: ``"csv"``, ``"xlsx"`` or ``"parquet"`` to override detection (by suffix, then by content).
        mapping: Source column title → canonical column (``name``, ``id_number``, ``sex``, ``account``,
            ``amount``, ``quantity``, ``category``, ``town``, ``village``, ``household_head_id``, ``item``), or to
            ``None`` to ignore a column. It takes precedence over the built-in titles.
        sheet: The worksheet of a spreadsheet, by 0-based index or name.

    Returns:
        A ``DataFrame`` in [`yikatong.schema.ROSTER_SCHEMA`][], or a ``LazyFrame`` when given one (nothing is
        collected; a problem in the frame's own plan surfaces when the caller collects it).

    Raises:
        RosterFormatError: the source as a whole cannot be read; ``problem`` is ``unknown_format`` (not a
            supported format), ``empty`` (no header or no data row), ``no_id_column`` (no column maps to
            ``id_number``), ``unreadable`` (missing file, corrupt spreadsheet or Parquet) or ``bad_mapping`` (the
            mapping names an unknown column or target, two columns map to the same target, or a frame column has
            a type that cannot hold text). The message gives the problem in Chinese and English and never a value
            from the rows.
    """
    if format is not None and format not in _FORMATS:
        raise RosterFormatError(
            "unknown_format",
            f"不支持的格式“{format}”（可用 csv、xlsx、parquet）",
            f"unsupported format {format!r} (use csv, xlsx or parquet)",
        )
    if isinstance(source, pl.LazyFrame):
        return _canonical(stage_frame(source, mapping))
    return read_form(source, format=format, mapping=mapping, sheet=sheet).rows


@frozen
class RosterForm:
    """A roster file as the office sent it: the payee rows, and every other line with its kind.

    Attributes:
        rows: The payees in [`yikatong.schema.ROSTER_SCHEMA`][], as [`read_roster`][yikatong.read_roster] returns them.
        non_payee_lines: ``source_line, kind`` of every line that is not a payee: ``title``, ``header``,
            ``total``, ``note`` or ``blank`` (see ``yikatong.ingest._form``); empty for Parquet and frames.
        declared_total_fen: The amount of the form's last 合计 / 总计 line in fen (the office's own control total);
            None when there is none.
        declared_count: The count written on that line (``35人``), or None.
        declared_line: The line the declared total comes from, or None.
    """

    rows: pl.DataFrame
    non_payee_lines: pl.DataFrame
    declared_total_fen: int | None = None
    declared_count: int | None = None
    declared_line: int | None = None


def read_form(
    source: str | Path | bytes | bytearray | memoryview | IO[bytes] | pl.DataFrame,
    /,
    *,
    format: RosterFormat | None = None,
    mapping: Mapping[str, str | None] | None = None,
    sheet: int | str = 0,
) -> RosterForm:
    """Read a roster as [`read_roster`][yikatong.read_roster] does, keeping what the form says besides its payees.

    A printed 花名册 has a title and a unit line, the header (often with 序号), the payees, a 合计 line, blank lines
    and signature and note lines (制表人, 审核人, 填报日期, 备注…). None of them is a payee, and every one is listed
    with its line and kind in ``RosterForm.non_payee_lines``, so each line of the file is accounted for: a line
    is the header, a preamble line, a payee row (``source_line`` of ``RosterForm.rows``, a quoted cell's
    further lines included) or a non-payee line. The last 合计 / 总计 line's amount (and count) is the declared total,
    which [`ValidationContext`][yikatong.ValidationContext] checks with ``BATCH_TOTAL_MISMATCH`` (pass ``form=``).

    Args:
        source: As for [`read_roster`][yikatong.read_roster] (a ``LazyFrame`` is not accepted: it has no lines to
            account for).
        format: As for [`read_roster`][yikatong.read_roster].
        mapping: As for [`read_roster`][yikatong.read_roster].
        sheet: As for [`read_roster`][yikatong.read_roster].

    Returns:
        The payee rows, the non-payee lines and the declared total.

    Raises:
        RosterFormatError: as [`read_roster`][yikatong.read_roster]; ``empty`` also when no payee row is left.
    """
    if format is not None and format not in _FORMATS:
        raise RosterFormatError(
            "unknown_format",
            f"不支持的格式“{format}”（可用 csv、xlsx、parquet）",
            f"unsupported format {format!r} (use csv, xlsx or parquet)",
        )
    if isinstance(source, pl.DataFrame):
        return RosterForm(rows=_collect(_canonical(stage_frame(source.lazy(), mapping))), non_payee_lines=empty_lines())
    if not isinstance(source, str | Path | bytes | bytearray | memoryview | io.IOBase) and not hasattr(source, "read"):
        raise RosterFormatError(
            "unknown_format",
            f"无法读取类型为 {type(source).__name__} 的输入",
            f"cannot read a roster from a {type(source).__name__}",
        )
    data, name = load_bytes(source)
    if not data or data.isspace():
        raise RosterFormatError("empty", "文件为空", "the file is empty")
    kind = format or detect_format(data, name)
    form = FormLines(lines=empty_lines())
    if kind == "csv":
        staged, form = stage_text(data, mapping)
    elif kind == "xlsx":
        staged, form = stage_sheet(data, sheet, mapping)
    else:
        table = read_parquet(data)
        if table.height == 0:
            raise RosterFormatError("empty", "Parquet 文件没有数据行", "the Parquet file has no rows")
        staged = stage_frame(table.lazy(), mapping)
    return RosterForm(
        rows=_collect(_canonical(staged)),
        non_payee_lines=form.lines,
        declared_total_fen=form.declared_total_fen,
        declared_count=form.declared_count,
        declared_line=form.declared_line,
    )


def _collect(lf: pl.LazyFrame) -> pl.DataFrame:
    try:
        return lf.collect()
    except pl.exceptions.PolarsError as exc:
        kind = type(exc).__name__
        raise RosterFormatError("unreadable", f"无法读取名单（{kind}）", f"cannot read the roster ({kind})") from None


def _canonical(staged: pl.LazyFrame) -> pl.LazyFrame:
    """The canonical schema from a staged frame (see ``yikatong.ingest._readers``).

    Three ``with_columns`` steps so that every cleaned value is computed once: the raw cells (blank → null), the
    cleaned values, then the flags and the final selection.
    """
    have = set(staged.collect_schema().names())
    present = [t for t in TARGETS if t in have]
    raw = {t: pl.col(f"_raw_{t}") if t in have else pl.lit(None, pl.String) for t in TARGETS}
    step = staged.with_columns(norm.blank_to_null(pl.col(t)).alias(f"_raw_{t}") for t in present)
    cleaners = {
        "id_number": norm.clean_id,
        "household_head_id": norm.clean_id,
        "account": norm.clean_account,
        "name": norm.clean_name,
    }
    clean = {t: pl.col(f"_clean_{t}") if t in have else pl.lit(None, pl.String) for t in cleaners}
    step = step.with_columns(
        *(cleaners[t](raw[t]).alias(f"_clean_{t}") for t in cleaners if t in have),
        *([norm.amount_parts(raw["amount"]).alias("_amount")] if "amount" in have else []),
        *([norm.quantity_parts(raw["quantity"]).alias("_quantity")] if "quantity" in have else []),
    )

    def changed(target: str) -> pl.Expr:
        return (raw[target].is_not_null() & (clean[target].fill_null("") != raw[target])).fill_null(False)

    mangled = pl.lit(False)
    id_changed = pl.lit(False)
    for target in ("id_number", "household_head_id", "account"):
        if target not in have:
            continue
        mangled = mangled | norm.id_text_mangled(clean[target])
        if f"_numeric_{target}" in have:
            numeric = pl.col(f"_numeric_{target}").fill_null(False)
            mangled = mangled | norm.numeric_cell_mangled(clean[target], numeric)
        if target != "account":
            id_changed = id_changed | changed(target)
    replacement = pl.any_horizontal(
        pl.lit(False), *(raw[t].str.contains("\ufffd", literal=True).fill_null(False) for t in present)
    )
    encoding = replacement | norm.name_has_encoding_damage(raw["name"])

    if "amount" in have:
        amount_raw = pl.when(raw["amount"].is_null()).then(pl.lit(None, pl.String)).otherwise(pl.col("amount"))
        amount_fen = norm.amount_fen(pl.col("_amount"))
        if "_numeric_amount" in have:
            numeric_amount = pl.col("_numeric_amount").fill_null(False)
            amount_fen = pl.when(numeric_amount).then(norm.float_cell_fen(raw["amount"])).otherwise(amount_fen)
    elif "_fen" in have:
        amount_fen = pl.col("_fen")
        amount_raw = norm.fen_to_yuan_text(pl.col("_fen"))
    else:
        amount_raw = pl.lit(None, pl.String)
        amount_fen = pl.lit(None, pl.Int64)

    def given(flag: str) -> pl.Expr:
        return pl.col(f"_given_{flag}") if f"_given_{flag}" in have else pl.lit(False)

    row_id = pl.int_range(1, pl.len() + 1, dtype=pl.Int64)
    source_line = pl.col("source_line").fill_null(row_id + 1) if "source_line" in have else row_id + 1
    flags = {
        "flag_row_malformed": pl.col("_malformed").fill_null(False),
        "flag_text_encoding": encoding,
        "flag_id_excel_mangled": mangled,
        "flag_id_normalised": id_changed,
        "flag_name_normalised": changed("name"),
    }
    columns = {
        "row_id": row_id,
        "source_line": source_line,
        "name": clean["name"],
        "id_number": clean["id_number"],
        "sex": norm.parse_sex(raw["sex"]) if "sex" in have else pl.lit(None, pl.String),
        "account": clean["account"],
        "amount_fen": amount_fen,
        "amount_raw": amount_raw,
        "quantity": norm.quantity(pl.col("_quantity"), QUANTITY_SCALE) if "quantity" in have else pl.lit(None),
        "category": raw["category"].str.strip_chars(),
        "town": raw["town"].str.strip_chars(),
        "village": raw["village"].str.strip_chars(),
        "household_head_id": clean["household_head_id"],
        "item": raw["item"].str.strip_chars(),
        **{flag: (expr | given(flag)).fill_null(False) for flag, expr in flags.items()},
    }
    return step.select(expr.cast(ROSTER_SCHEMA[col]).alias(col) for col, expr in columns.items())
