"""The fast path for clean delimited text: Polars' own CSV reader splits the cells, the lines say what it cannot.

Most rosters are plain: UTF-8, no quote after the header, no bare carriage return. For them the cells of every
line are exactly what the robust splitter (``yikatong.ingest._csvtext``) would produce by splitting each line on
the delimiter, and Polars' CSV reader (with no quote character, every column read as text) does that split in
parallel, several times faster than splitting line strings. What the reader does not say (how many fields a line
really had, since it fills missing fields with empty text, and whether extra fields were blank) is read from the
physical lines, which the robust path has already split. ``records`` returns the same frame the robust path gives,
or None when the text is not one it can vouch for, and the caller then takes the robust path: the two are
compared on generated text, nasty cases included, by a property test.
"""

from __future__ import annotations

import codecs
import io
from typing import Final

import polars as pl

from yikatong.ingest._normalise import INVISIBLE

__all__ = ["body_offset", "read_lines", "reader_lines", "records"]

_BLANK: Final = INVISIBLE
_UNUSED_SEPARATOR: Final = "\x1f"  # ASCII unit separator: absent from rosters (checked before use)


def _expected_lines(raw: bytes) -> int:
    """How many lines Polars' reader gives for ``raw``: one per newline, plus a last line without one."""
    if not raw:
        return 0
    newlines = raw.count(b"\n")
    return newlines if raw.endswith(b"\n") else newlines + 1


def reader_lines(raw: bytes) -> pl.Series | None:
    """The lines of ``raw`` as Polars' CSV reader splits them (at LF; a CR before it is kept), or None when ``raw``
    holds the unit separator, the reader refuses the bytes, or its count of lines is not the count of newlines."""
    if _UNUSED_SEPARATOR.encode() in raw:
        return None
    try:
        lines = pl.read_csv(
            io.BytesIO(raw),
            has_header=False,
            separator=_UNUSED_SEPARATOR,
            quote_char=None,
            comment_prefix=None,
            schema={"text": pl.String},
            empty_string_is_null=False,
            raise_if_empty=False,
        ).to_series()
    except pl.exceptions.PolarsError:
        return None
    return lines if lines.len() == _expected_lines(raw) else None


def read_lines(raw: bytes) -> pl.DataFrame | None:
    """Physical lines (``line``, ``text``) of bytes that are valid UTF-8 with LF or CRLF line ends, else None.

    Polars' reader validates UTF-8 as it reads (invalid bytes raise), so bytes it reads whole need no decoding in
    Python. None when the bytes start with a byte-order mark, hold a bare CR or the unit separator, are not valid
    UTF-8, or the reader's count of lines is not the count of newlines: the caller then decodes and splits as
    before.
    """
    if raw.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or not raw:
        return None
    carriage = b"\r" in raw
    if carriage and raw.count(b"\r") != raw.count(b"\r\n"):
        return None
    lines = reader_lines(raw)
    if lines is None:
        return None
    if carriage:
        lines = lines.str.strip_suffix("\r")
    return lines.to_frame().with_row_index("line", offset=1).with_columns(pl.col("line").cast(pl.Int64))


def body_offset(raw: bytes, header_line: int) -> int | None:
    """The byte offset just after the newline ending line ``header_line`` (1-based); None when there is none."""
    offset = 0
    for _ in range(header_line):
        found = raw.find(b"\n", offset)
        if found < 0:
            return None
        offset = found + 1
    return offset


def _cells(n: int) -> list[str]:
    return [f"f{i}" for i in range(n)]


def records(body: bytes, lines: pl.DataFrame, d: str, width: int) -> tuple[pl.DataFrame, pl.Series] | None:
    """The payee records of a clean body, and the lines of its blank records; None when the body is not clean.

    ``body`` is the text after the header line as UTF-8 bytes without a bare CR, ``lines`` its physical lines
    (``line``, ``text``, CR already removed; the caller has checked there is one per line of ``body``). Clean
    means: no quote character (so every line is one record and no cell is quoted), no byte-order mark at its start
    (the reader would drop it), and as many rows from the reader as lines. The records are ``line``, ``malformed``
    and ``f0…f{width-1}``, exactly as the robust path's: cells beyond a short line's fields are null, a line with
    more fields than the header's is malformed unless every extra field is blank, and a blank line (only
    whitespace, zero-width characters and delimiters) is not a record.
    """
    if not body or b'"' in body or body.startswith(codecs.BOM_UTF8):
        return None
    names = _cells(width)
    try:
        cells = pl.read_csv(
            io.BytesIO(body),
            has_header=False,
            separator=d,
            quote_char=None,
            comment_prefix=None,
            schema=dict.fromkeys(names, pl.String),
            empty_string_is_null=False,
            truncate_ragged_lines=True,
            missing_columns="insert",
            raise_if_empty=False,
        )
    except pl.exceptions.PolarsError:
        return None
    if cells.height != lines.height:
        return None
    count = lines["text"].str.count_matches(d, literal=True) + 1
    frame = pl.concat([lines.select("line", n=count), cells], how="horizontal")
    blank = _blank_lines(frame, lines, d)
    if blank.len():
        frame = frame.filter(~pl.col("line").is_in(blank.implode()))
    malformed = pl.col("n") < width
    wide = frame.filter(pl.col("n") > width)
    if wide.height:
        tail = (
            lines.join(wide.select("line"), on="line", how="semi")
            .select("line", extra=pl.col("text").str.splitn(d, width + 1).struct.field(f"field_{width}"))
            .filter(pl.col("extra").str.strip_chars(_BLANK + d) != "")
        )
        malformed = malformed | pl.col("line").is_in(tail["line"].implode())
    short = frame.filter(pl.col("n") < width).height > 0
    out = frame.select(
        "line",
        malformed.alias("malformed"),
        *(
            pl.when(pl.col("n") > i).then(pl.col(c)).otherwise(pl.lit(None, pl.String)).alias(c) if short else c
            for i, c in enumerate(names)
        ),
    )
    return out, blank


def _blank_lines(frame: pl.DataFrame, lines: pl.DataFrame, d: str) -> pl.Series:
    """Lines of ``frame`` whose text is only whitespace, zero-width characters and delimiters.

    A blank line's first cell is blank, so the text is only examined on lines whose first cell is.
    """
    candidates = frame.filter(pl.col("f0").str.strip_chars(_BLANK) == "").select("line")
    if candidates.height == 0:
        return pl.Series("line", [], dtype=pl.Int64)
    return (
        lines.join(candidates, on="line", how="semi")
        .filter(pl.col("text").str.strip_chars(_BLANK + d) == "")
        .get_column("line")
    )
