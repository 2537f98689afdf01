"""The rows of a large worksheet written as sheet XML by Polars, instead of one Python call per cell.

``report.xlsx``'s 问题清单 sheet has a row per roster line: a million lines are some ten million cells, and
xlsxwriter, which builds each cell in Python, spends about a minute on them. Here the workbook is still made by
xlsxwriter (the header row, frozen panes, filters, column widths and formats, the other sheets), with that sheet's
header only; the data rows are then built column by column as XML text with Polars expressions and streamed into
the sheet's part of the package, each chunk of rows built while the one before is deflated. Cells are what
xlsxwriter would write, read back alike: text as an in-line string, neutralised against formulas
(``yikatong._spreadsheet``), XML-escaped, control characters as ``_xHHHH_``, marked to keep its spaces when it starts
or ends with one; integers as numbers; nulls left out; the column's format on each cell.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Final

import polars as pl
from xlsxwriter.utility import xl_col_to_name

from yikatong._spreadsheet import FORMULA_START, neutralise_expr

__all__ = ["ahead", "fits", "rows_xml", "with_rows"]

_TEXT_LIMIT: Final = 16383  # xlsxwriter truncates text over 32,767 UTF-16 units; shorter text is never cut
_CHUNK: Final = 100_000
_CONTROL: Final = [chr(c) for c in [*range(0x09), *range(0x0B, 0x20)]]
_ESCAPED: Final = [f"_x{ord(c):04X}_" for c in _CONTROL]
_FROM: Final = [*_CONTROL, "\ufffe", "\uffff", "&", "<", ">"]
_TO: Final = [*_ESCAPED, "_xFFFE_", "_xFFFF_", "&amp;", "&lt;", "&gt;"]
"""Control characters and non-characters as Excel escapes them, then XML's own escapes: one pass for all."""
_SPECIAL: Final = r"[\x00-\x08\x0b-\x1f&<>\x{fffe}\x{ffff}]|_x[0-9a-fA-F]{4}_"


def fits(frame: pl.DataFrame) -> bool:
    """Whether the rows can be written here: text and integer columns only, no text long enough to be cut."""
    for name, dtype in frame.schema.items():
        if dtype == pl.String:
            longest = frame.select(pl.col(name).str.len_chars().max()).item()
            if longest is not None and longest > _TEXT_LIMIT:
                return False
        elif not dtype.is_integer():
            return False
    return True


_ROW: Final = "\x00row"
"""The column holding each row's sheet row number as text, added to the chunk for the row's build (a name no
frame of the library uses)."""

_Piece = str | pl.Expr


def _text_cell(values: pl.Series, letter: str, style: str) -> list[_Piece]:
    """The pieces of a text column's cells; each step is skipped when no value of the column needs it (the common
    case)."""
    text = pl.col(values.name)
    if values.str.contains(FORMULA_START).any():
        text = neutralise_expr(text)
    if values.str.contains(_SPECIAL).any():
        text = text.str.replace_all(r"(_x[0-9a-fA-F]{4}_)", "_x005F$1").str.replace_many(_FROM, _TO)
    head: list[_Piece] = [f'<c r="{letter}', pl.col(_ROW), f'"{style} t="inlineStr"><is><t']
    if values.str.contains(r"^\s|\s$").any():
        head.append(pl.when(text.str.contains(r"^\s|\s$")).then(pl.lit(' xml:space="preserve"')).otherwise(pl.lit("")))
    return _unless_null(values, [*head, ">", text, "</t></is></c>"])


def _number_cell(values: pl.Series, letter: str, style: str) -> list[_Piece]:
    pieces: list[_Piece] = [f'<c r="{letter}', pl.col(_ROW), f'"{style}><v>', pl.col(values.name).cast(pl.String)]
    return _unless_null(values, [*pieces, "</v></c>"])


def _unless_null(values: pl.Series, pieces: list[_Piece]) -> list[_Piece]:
    """``pieces`` as they are, to be joined straight into the row, when the column has no null; otherwise one
    expression giving no cell at all where the value is null."""
    if not values.null_count():
        return pieces
    return [pl.when(pl.col(values.name).is_null()).then(pl.lit("")).otherwise(pl.concat_str(_exprs(pieces)))]


def _exprs(pieces: list[_Piece]) -> list[pl.Expr]:
    """The pieces as expressions, neighbouring texts joined into one literal."""
    out: list[pl.Expr] = []
    text = ""
    for piece in pieces:
        if isinstance(piece, str):
            text += piece
            continue
        if text:
            out.append(pl.lit(text))
            text = ""
        out.append(piece)
    if text:
        out.append(pl.lit(text))
    return out


def rows_xml(frame: pl.DataFrame, first_row: int, styles: Mapping[int, int]) -> Iterator[bytes]:
    """The ``<row>`` elements of ``frame``'s rows, the first at 1-based sheet row ``first_row``, in chunks.

    ``styles`` maps a column's position to the format index its cells carry (the column's own format). Each row is
    one concatenation of all its pieces, with no string made per cell first.
    """
    for start in range(0, frame.height, _CHUNK):
        part = frame.slice(start, _CHUNK)
        pieces: list[_Piece] = ['<row r="', pl.col(_ROW), '">']
        for j, (name, dtype) in enumerate(part.schema.items()):
            style = f' s="{styles[j]}"' if j in styles else ""
            cell = _text_cell if dtype == pl.String else _number_cell
            pieces.extend(cell(part.get_column(name), xl_col_to_name(j), style))
        pieces.append("</row>")
        number = pl.int_range(first_row + start, first_row + start + part.height, dtype=pl.Int64).cast(pl.String)
        rows = pl.concat_str(_exprs(pieces))
        chunk = part.with_columns(number.alias(_ROW)).select(rows.str.join("").cast(pl.Binary)).item()
        yield chunk if isinstance(chunk, bytes) else b""


def ahead(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """``chunks``, each next one made in a worker thread while the caller deflates the one it has: Polars and zlib
    both release the GIL, so building the XML and compressing it share the cores instead of taking turns."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="yikatong-sheet") as pool:
        pending = pool.submit(next, chunks, None)
        while (chunk := pending.result()) is not None:
            pending = pool.submit(next, chunks, None)
            yield chunk


_DIMENSION: Final = re.compile(rb'<dimension ref="[^"]*"/>')


def with_rows(package: bytes, part: str, frame: pl.DataFrame, styles: Mapping[int, int]) -> bytes:
    """The XLSX ``package`` with ``frame``'s rows added after the header row of worksheet ``part``.

    The sheet's ``<dimension>`` is set to cover them; every other part is copied unchanged.
    """
    source = zipfile.ZipFile(io.BytesIO(package))
    sheet = source.read(part)
    end = sheet.index(b"</sheetData>")
    last = f"{xl_col_to_name(max(frame.width - 1, 0))}{frame.height + 1}"
    head = _DIMENSION.sub(f'<dimension ref="A1:{last}"/>'.encode(), sheet[:end], count=1)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for info in source.infolist():
            if info.filename != part:
                target.writestr(info, source.read(info.filename))
                continue
            with target.open(part, "w", force_zip64=True) as stream:
                stream.write(head)
                for chunk in ahead(rows_xml(frame, 2, styles)):
                    stream.write(chunk)
                stream.write(sheet[end:])
    return out.getvalue()
