"""Sources to a staged frame: the mapped columns as text, one row per data row, with what the reader saw.

A *staged* frame has ``source_line`` (Int64), ``_malformed`` (Boolean), one ``String`` column per canonical target
found in the source (see ``yikatong.ingest._headers.TARGETS``), and optionally ``_numeric_<target>`` (the cell was a
number, for ID and account columns), ``_fen`` (integer fen given as such) and ``_given_<flag>`` (a flag the source
already carried). [`yikatong.ingest.roster`][] turns it into the canonical schema.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Final, Literal

import attrs
import fastexcel
import polars as pl

from yikatong.errors import RosterFormatError
from yikatong.ingest._csvtext import parse_text
from yikatong.ingest._form import NON_PAYEE_SCHEMA, FormLines, classify
from yikatong.ingest._headers import HEADER_SCAN, header_index, resolve_columns
from yikatong.schema import FLAG_COLUMNS

__all__ = ["Format", "detect_format", "load_bytes", "read_parquet", "stage_frame", "stage_sheet", "stage_text"]

Format = Literal["csv", "xlsx", "parquet"]

_SUFFIXES: Final[dict[str, Format]] = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xlsb": "xlsx",
    ".xls": "xlsx",
    ".ods": "xlsx",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_ID_TARGETS: Final = ("id_number", "household_head_id", "account")
_NUMERIC_TARGETS: Final = (*_ID_TARGETS, "amount")  # whose number cells are read differently from their text


def _unreadable(what_zh: str, what_en: str, exc: BaseException) -> RosterFormatError:
    kind = type(exc).__name__
    return RosterFormatError("unreadable", f"无法读取{what_zh}（{kind}）", f"cannot read {what_en} ({kind})")


def load_bytes(source: str | Path | bytes | bytearray | memoryview | IO[bytes]) -> tuple[bytes, str | None]:
    """The bytes of a path or file-like source, and its file name when it has one."""
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source), None
    if isinstance(source, str | Path):
        path = Path(source)
        try:
            return path.read_bytes(), path.name
        except OSError as exc:
            raise _unreadable(f"文件 {path.name}", f"file {path.name}", exc) from None
    try:
        data = source.read()
    except (OSError, ValueError) as exc:
        raise _unreadable("输入流", "the input stream", exc) from None
    if isinstance(data, str):
        return data.encode("utf-8"), getattr(source, "name", None)
    if not isinstance(data, bytes | bytearray | memoryview):
        raise RosterFormatError("unknown_format", "输入流没有返回字节", "the file-like source returned no bytes")
    name = getattr(source, "name", None)
    return bytes(data), name if isinstance(name, str) else None


def detect_format(data: bytes, name: str | None) -> Format:
    """Choose the reader from the file name's suffix, else from the content's signature (text means CSV)."""
    if name is not None:
        suffix = Path(name).suffix.lower()
        if suffix in _SUFFIXES:
            return _SUFFIXES[suffix]
    if data.startswith(b"PAR1"):
        return "parquet"
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        return "xlsx"
    if name is not None and Path(name).suffix:
        raise RosterFormatError(
            "unknown_format",
            f"无法识别的文件格式“{Path(name).suffix}”（支持 CSV、TXT、XLSX、XLS、Parquet）",
            f"unknown file format {Path(name).suffix!r} (CSV, TXT, XLSX, XLS and Parquet are supported)",
        )
    return "csv"


def stage_text(data: bytes, mapping: Mapping[str, str | None] | None) -> tuple[pl.LazyFrame, FormLines]:
    """Stage a delimited text roster (see ``yikatong.ingest._csvtext``), and list its non-payee lines."""
    parsed = parse_text(data, mapping)
    chosen = parsed.columns
    staged = parsed.records.lazy().select(
        pl.col("source_line"),
        pl.col("malformed").alias("_malformed"),
        *(pl.col(f"f{pos}").alias(target) for target, pos in chosen.items()),
    )
    return staged, parsed.form


def stage_sheet(
    data: bytes, sheet: int | str, mapping: Mapping[str, str | None] | None
) -> tuple[pl.LazyFrame, FormLines]:
    """Stage a spreadsheet: every cell read as text; the header is found as in text (a title row may precede it).

    ``source_line`` is the sheet's row number, counted from the first row the sheet uses (row 1 in any sheet that
    starts with its title or header; the reader cannot see rows above the used range). A row whose every cell is
    empty, and a row that is not a payee (see ``yikatong.ingest._form``), is not a data row; the second value
    lists them.
    """
    try:
        reader = fastexcel.read_excel(data)
        cells = reader.load_sheet(sheet, header_row=None, dtypes="string").to_polars()
    except (fastexcel.FastExcelError, pl.exceptions.PolarsError, ValueError) as exc:
        raise _unreadable("电子表格", "the spreadsheet", exc) from None
    if cells.width == 0 or cells.height == 0:
        raise RosterFormatError("empty", "工作表为空", "the worksheet is empty")
    original = cells.columns
    names = [f"c{i}" for i in range(cells.width)]
    cells = cells.rename(dict(zip(cells.columns, names, strict=True))).with_row_index("_idx")
    filled = pl.any_horizontal(pl.col(c).str.strip_chars().fill_null("") != "" for c in names)
    non_empty = cells.filter(filled)
    if non_empty.height == 0:
        raise RosterFormatError("empty", "工作表为空", "the worksheet is empty")
    candidates = [
        [str(v).strip() if v is not None else "" for v in row[1:]] for row in non_empty.head(HEADER_SCAN).iter_rows()
    ]
    k = header_index(candidates, mapping)
    header_idx = int(non_empty["_idx"][k])
    chosen = resolve_columns(candidates[k], mapping)
    body = non_empty.filter(pl.col("_idx") > header_idx)
    if body.height == 0:
        raise RosterFormatError("empty", "工作表只有表头，没有数据行", "the worksheet has a header but no data rows")
    sheet_row = (pl.col("_idx").cast(pl.Int64) + 1).alias("source_line")
    around = cells.select(
        sheet_row,
        pl.when(~filled)
        .then(pl.lit("blank"))
        .when(pl.col("_idx") < header_idx)
        .then(pl.lit("title"))
        .when(pl.col("_idx") == header_idx)
        .then(pl.lit("header"))
        .otherwise(pl.lit(None, pl.String))
        .alias("kind"),
    ).filter(pl.col("kind").is_not_null())
    form = classify(body.with_columns(sheet_row), names, candidates[k], chosen)
    if form.lines.height:
        body = body.filter(~(pl.col("_idx").cast(pl.Int64) + 1).is_in(form.lines["source_line"].implode()))
    if body.height == 0:
        raise RosterFormatError(
            "empty",
            "工作表中没有发放对象行（只有表头、合计或签字等行）",
            "the worksheet has no payee rows (only a header, totals, signature or note lines)",
        )
    form = attrs.evolve(
        form, lines=pl.concat([around.cast(pl.Schema(NON_PAYEE_SCHEMA)), form.lines]).sort("source_line")
    )
    id_columns = {original[chosen[t]]: f"_numeric_{t}" for t in _NUMERIC_TARGETS if t in chosen}
    cells_numeric = None
    if id_columns:
        # A cell read as boolean is a number cell (or a true/false cell); a text cell fails the conversion.
        try:
            as_bool = reader.load_sheet(
                sheet, header_row=None, use_columns=list(id_columns), dtypes=dict.fromkeys(id_columns, "boolean")
            ).to_polars()
        except (fastexcel.FastExcelError, pl.exceptions.PolarsError, ValueError) as exc:
            raise _unreadable("电子表格", "the spreadsheet", exc) from None
        cells_numeric = as_bool.select(pl.col(c).is_not_null().alias(name) for c, name in id_columns.items())
        cells_numeric = cells_numeric.with_row_index("_idx")
    staged = body.lazy()
    if cells_numeric is not None:
        staged = staged.join(cells_numeric.lazy(), on="_idx", how="left", maintain_order="left")
    text_bool = {f"_numeric_{t}": chosen[t] for t in _NUMERIC_TARGETS if t in chosen}
    staged = staged.select(
        (pl.col("_idx").cast(pl.Int64) + 1).alias("source_line"),
        pl.lit(False).alias("_malformed"),
        *(pl.col(f"c{pos}").alias(target) for target, pos in chosen.items()),
        *(
            (pl.col(flag) & ~pl.col(f"c{pos}").str.to_lowercase().is_in(["true", "false"]).fill_null(False)).alias(flag)
            for flag, pos in text_bool.items()
        ),
    )
    return staged, form


def _cell_text(name: str, dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.String:
        return pl.col(name)
    if (
        dtype.is_numeric()
        or dtype.is_temporal()
        or dtype in (pl.Boolean, pl.Categorical, pl.Null)
        or isinstance(dtype, pl.Enum)
    ):
        return pl.col(name).cast(pl.String)
    raise RosterFormatError(
        "bad_mapping",
        f"列“{name}”的类型 {dtype} 不能作为名单字段",
        f"column {name!r} has type {dtype}, which cannot hold a roster field",
    )


def stage_frame(frame: pl.LazyFrame, mapping: Mapping[str, str | None] | None) -> pl.LazyFrame:
    """Stage a Polars frame (also what a Parquet file holds): columns are mapped by name; every row is a data row.

    A frame already in the canonical schema maps to itself: ``amount_raw`` is re-parsed, an ``amount_fen`` given
    without ``amount_raw`` is kept, and ``flag_*`` columns it carries are kept (or-ed with what is found now).
    """
    schema = frame.collect_schema()
    names = schema.names()
    chosen = resolve_columns(names, mapping)
    exprs: list[pl.Expr] = [pl.lit(False).alias("_malformed")]
    if "source_line" in names and schema["source_line"].is_integer():
        exprs.append(pl.col("source_line").cast(pl.Int64))
    for target, pos in chosen.items():
        name = names[pos]
        exprs.append(_cell_text(name, schema[name]).alias(target))
        if target in _NUMERIC_TARGETS:
            exprs.append(pl.lit(schema[name].is_float()).alias(f"_numeric_{target}"))
    if "amount" not in chosen and "amount_fen" in names and schema["amount_fen"].is_integer():
        exprs.append(pl.col("amount_fen").cast(pl.Int64).alias("_fen"))
    exprs.extend(
        pl.col(flag).fill_null(False).alias(f"_given_{flag}")
        for flag in FLAG_COLUMNS
        if flag in names and schema[flag] == pl.Boolean
    )
    return frame.select(exprs)


def read_parquet(data: bytes) -> pl.DataFrame:
    """A Parquet file's rows; ``unreadable`` when it is not valid Parquet."""
    try:
        return pl.read_parquet(io.BytesIO(data))
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        raise _unreadable("Parquet 文件", "the Parquet file", exc) from None
