"""Records to bytes and back, as the layout says, one vectorized Polars pass per field.

``render`` turns a frame of string columns into the bytes of a whole file; ``parse`` turns the bytes of a
file into a frame of string columns, refusing the file at the first thing that does not fit the layout. Neither
knows what the fields mean: [`writer`][yikatong.adapters.bankfile.writer] and
[`reader`][yikatong.adapters.bankfile.reader] do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import polars as pl
from attrs import frozen

from yikatong._spreadsheet import CONTROL_CHARACTERS
from yikatong.adapters.bankfile.layout import FieldSpec, FileSection, RecordSpec
from yikatong.errors import BankFileError

__all__ = ["ParsedFile", "byte_lengths", "parse", "parse_amount", "parse_count", "render"]

_BOM = b"\xef\xbb\xbf"
_CRLF_BREAKERS = re.compile(rb"(?<!\r)\n|\r(?!\n)")
_LF_BREAKERS = re.compile(rb"\r")


@frozen
class ParsedFile:
    """A file read as the layout says: header and trailer values, and the detail rows as string columns.

    Attributes:
        header: Header field → text (``literal`` and ``filler`` left out); empty without a header.
        rows: One String column per detail field (``literal``/``filler`` left out) and ``line`` (Int64, 1-based).
        trailer: Trailer field → text; empty without a trailer.
    """

    header: dict[str, str]
    rows: pl.DataFrame
    trailer: dict[str, str]


def byte_lengths(values: pl.Series, encoding: str, *, file: str, first_line: int) -> pl.Series:
    """Length in bytes of each value in ``encoding`` (UInt32); values must not contain line breaks.

    Raises:
        BankFileError: when a value cannot be encoded; names the line.
    """
    if encoding == "utf-8":
        return values.str.len_bytes()
    if values.is_empty():  # joining no values gives one empty line, not none
        return pl.Series(dtype=pl.UInt32)
    text = "\n".join(values.to_list())
    try:
        encoded = text.encode(encoding)
    except UnicodeEncodeError as exc:
        line = first_line + text.count("\n", 0, exc.start)
        raise BankFileError(f"a value cannot be encoded in {encoding}", file=file, line=line) from None
    return pl.Series(encoded.split(b"\n"), dtype=pl.Binary).bin.size()


def _first(mask: pl.Series) -> int | None:
    """Index of the first ``True`` in ``mask``, or ``None``."""
    hits = mask.fill_null(True).arg_true()
    return int(hits[0]) if len(hits) else None


def _render_record(
    record: RecordSpec,
    section: FileSection,
    rows: pl.DataFrame,
    values: Mapping[str, str],
    *,
    file: str,
    first_line: int,
) -> pl.Series:
    n = rows.height
    columns: list[pl.Series] = []
    for spec in record.fields:
        if spec.name in rows.columns:
            col = rows[spec.name].cast(pl.String)
        elif spec.name in ("literal", "filler"):
            col = pl.Series([spec.value or ""] * n, dtype=pl.String)
        elif spec.name == "memo":
            col = pl.Series([(spec.value or "").format_map(dict(values))] * n, dtype=pl.String)
        elif spec.name in values:
            col = pl.Series([values[spec.name]] * n, dtype=pl.String)
        else:
            raise BankFileError(f"no value for field {spec.name!r}", file=file)
        columns.append(col)
    lines = _lines_if_all_fit(record, section, columns, n)
    if lines is None:  # something does not fit: field by field, name the first value that does not
        for col, spec in zip(columns, record.fields, strict=True):
            _refuse_misfit(col, spec, section, file=file, first_line=first_line)
        raise BankFileError("a value does not fit the layout", file=file)  # the pass above names every misfit
    return lines


def _lines_if_all_fit(record: RecordSpec, section: FileSection, columns: list[pl.Series], n: int) -> pl.Series | None:
    """The record's lines in one pass over every field, when every value fits; None when any does not (or cannot
    be encoded), for the field-by-field pass to name the first.

    On a header, a trailer or a correction batch's few rows, several Polars operations per field cost more than the
    work itself: one select for the whole record does the common case."""
    fields = {f"f{i}": c for i, c in enumerate(columns)}
    frame = pl.DataFrame(fields, height=n)
    bad: list[pl.Expr] = []
    for name in fields:
        value = pl.col(name)
        bad.append(value.is_null() | value.str.contains(CONTROL_CHARACTERS))
        if section.format == "delimited":
            bad.append(value.str.contains(section.separator or "", literal=True))
    # Text with a line break in it must be refused before byte_lengths, which reads the values as lines.
    if frame.select(pl.any_horizontal(bad).fill_null(True).any()).item():
        return None
    if section.format == "delimited":
        ending = [pl.lit("")] if section.trailing_separator else []
        return frame.select(
            pl.concat_str([*map(pl.col, fields), *ending], separator=section.separator or "")
        ).to_series()
    try:
        sizes = [byte_lengths(c, section.encoding, file="", first_line=1).cast(pl.Int64) for c in columns]
    except BankFileError:
        return None
    frame = frame.with_columns(size.alias(f"n{i}") for i, size in enumerate(sizes))
    too_wide: list[pl.Expr] = []
    padded: list[pl.Expr] = []
    for i, spec in enumerate(record.fields):
        value, size, width = pl.col(f"f{i}"), pl.col(f"n{i}"), spec.width or 0
        too_wide.append(size > width)
        pad = value.str.pad_start if spec.alignment == "right" else value.str.pad_end
        padded.append(pad(value.str.len_chars().cast(pl.Int64) + (width - size), spec.pad))
    if frame.select(pl.any_horizontal(too_wide).any()).item():
        return None
    return frame.select(pl.concat_str(padded, separator="").alias("line")).to_series()


def _refuse_misfit(col: pl.Series, spec: FieldSpec, section: FileSection, *, file: str, first_line: int) -> None:
    """Raise for the first value of the field that cannot be written: empty, with a control character or the
    separator, not encodable, or too wide."""
    bad = _first(col.is_null())
    if bad is not None:
        raise BankFileError(f"field {spec.name!r} is empty", file=file, line=first_line + bad)
    bad = _first(col.str.contains(CONTROL_CHARACTERS))
    if bad is not None:
        raise BankFileError(
            f"field {spec.name!r} contains a line break or another control character (NUL, U+0085, U+2028…)",
            file=file,
            line=first_line + bad,
        )
    if section.format == "delimited":
        bad = _first(col.str.contains(section.separator or "", literal=True))
        if bad is not None:
            raise BankFileError(f"field {spec.name!r} contains the separator", file=file, line=first_line + bad)
        return
    width = spec.width or 0
    nbytes = byte_lengths(col, section.encoding, file=file, first_line=first_line).cast(pl.Int64)
    bad = _first(nbytes > width)
    if bad is not None:
        raise BankFileError(
            f"field {spec.name!r} is {nbytes[bad]} bytes in {section.encoding}, wider than its {width}",
            file=file,
            line=first_line + bad,
        )


def render(
    section: FileSection,
    rows: pl.DataFrame,
    values: Mapping[str, str],
    *,
    file: str,
) -> bytes:
    """The bytes of a whole file: header (from ``values``), one detail record per row, trailer.

    Args:
        section: The file's layout.
        rows: One String column per per-row field of the detail record.
        values: Text of the header/trailer fields (``batch_id``, ``date``, ``count``, ``total``…) and of ``{…}``
            placeholders in ``memo`` values; a detail field missing from ``rows`` is taken from here.
        file: File name, for messages.

    Raises:
        BankFileError: when a value does not fit: too wide, empty, containing the separator, a line break or
            another control character, or not encodable; the message names the line and the field, never the value.
    """
    parts: list[pl.Series] = []
    one = pl.DataFrame(height=1)
    line = 1
    if section.header is not None:
        parts.append(_render_record(section.header, section, one, values, file=file, first_line=line))
        line += 1
    parts.append(_render_record(section.detail, section, rows, values, file=file, first_line=line))
    if section.trailer is not None:
        last = line + rows.height
        parts.append(_render_record(section.trailer, section, one, values, file=file, first_line=last))
    text = "".join(section.eol.join(p.to_list()) + section.eol for p in parts if len(p))
    try:
        return text.encode(section.encoding)
    except UnicodeEncodeError as exc:
        raise BankFileError(
            f"cannot be encoded in {section.encoding}", file=file, line=1 + text.count("\n", 0, exc.start)
        ) from None


_THREE_BYTE_UTF8 = re.compile("[\u0800-\U0010ffff]")


def _decode(section: FileSection, data: bytes, file: str) -> bytes:
    """Check the encoding and the line endings; return the bytes without a UTF-8 byte order mark."""
    if not data:
        raise BankFileError("the file is empty", file=file)
    if data.startswith(_BOM):
        if section.encoding != "utf-8":
            raise BankFileError(f"the file starts with a UTF-8 byte order mark; expected {section.encoding}", file=file)
        data = data[len(_BOM) :]
    if section.encoding == "gb18030" and not data.isascii():
        try:
            as_utf8 = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            # Chinese text in UTF-8 takes three bytes a character (U+0800 up). A few GB18030 characters can also
            # happen to be valid UTF-8 (司 is CB BE, read as U+02FE), but only ever as two-byte characters.
            if _THREE_BYTE_UTF8.search(as_utf8):
                raise BankFileError("the file is UTF-8 encoded; the layout expects GB18030", file=file)
    try:
        data.decode(section.encoding)
    except UnicodeDecodeError as exc:
        line = 1 + data.count(b"\n", 0, exc.start)
        raise BankFileError(
            f"bytes that are not valid {section.encoding}: wrong encoding?", file=file, line=line
        ) from None
    eol = section.eol.encode("ascii")
    if not data.endswith(eol):
        raise BankFileError("truncated: the last line has no line ending", file=file, line=1 + data.count(b"\n"))
    pairs = data.count(b"\r\n")
    if section.line_ending == "crlf":
        clean = data.count(b"\n") == pairs and data.count(b"\r") == pairs
    else:
        clean = b"\r" not in data
    wrong = None if clean else (_CRLF_BREAKERS if section.line_ending == "crlf" else _LF_BREAKERS).search(data)
    if wrong is not None:
        raise BankFileError(
            f"line endings are not {section.line_ending.upper()}",
            file=file,
            line=1 + data.count(b"\n", 0, wrong.start()),
        )
    return data


def _strip(value: pl.Expr, spec: FieldSpec) -> pl.Expr:
    """A fixed-width field's text without its padding (a zero-filled number of only zeros is ``0``)."""
    if spec.alignment == "right":
        stripped = value.str.strip_chars_start(spec.pad).str.strip_chars_end(" ")
        if spec.pad == "0":
            stripped = pl.when(stripped == "").then(pl.lit("0")).otherwise(stripped)
        return stripped
    return value.str.strip_chars_end(spec.pad).str.strip_chars_start(" ")


def _split_fields(
    record: RecordSpec, section: FileSection, lines: list[bytes], *, file: str, first_line: int
) -> pl.DataFrame:
    """The text of each field of each line (column ``f{i}`` for the record's field ``i``), checked against the
    record's shape."""
    if section.format == "delimited":
        texts = pl.Series(b"\n".join(lines).decode(section.encoding).split("\n"), dtype=pl.String)
        parts = texts.str.split(section.separator or "")
        expected = len(record.fields) + (1 if section.trailing_separator else 0)
        counts = parts.list.len()
        bad = _first(counts != expected)
        if bad is not None:
            raise BankFileError(f"expected {expected} fields, found {counts[bad]}", file=file, line=first_line + bad)
        if section.trailing_separator:
            bad = _first(parts.list.get(expected - 1) != "")
            if bad is not None:
                raise BankFileError("the record does not end with the separator", file=file, line=first_line + bad)
        split = pl.col("parts")
        return pl.DataFrame({"parts": parts}).select(
            split.list.get(i).str.strip_chars(" ").alias(f"f{i}") for i in range(len(record.fields))
        )
    sizes = pl.Series(lines, dtype=pl.Binary).bin.size().cast(pl.Int64)
    bad = _first(sizes != record.width())
    if bad is not None:
        raise BankFileError(
            f"the record is {sizes[bad]} bytes; the layout says {record.width()}", file=file, line=first_line + bad
        )
    fields: dict[str, list[str]] = {}
    offset = 0
    for i, spec in enumerate(record.fields):
        width = spec.width or 0
        joined = b"\n".join(record_bytes[offset : offset + width] for record_bytes in lines)
        offset += width
        try:
            text = joined.decode(section.encoding)
        except UnicodeDecodeError as exc:
            line = first_line + joined.count(b"\n", 0, exc.start)
            raise BankFileError(
                f"field {spec.name!r} cuts a character in half or holds invalid bytes", file=file, line=line
            ) from None
        fields[f"f{i}"] = text.split("\n")
    raw = pl.DataFrame(fields, schema=dict.fromkeys(fields, pl.String))
    return raw.select(_strip(pl.col(f"f{i}"), spec).alias(f"f{i}") for i, spec in enumerate(record.fields))


def _record_frame(
    record: RecordSpec, section: FileSection, lines: list[bytes], *, file: str, first_line: int
) -> pl.DataFrame:
    split = _split_fields(record, section, lines, file=file, first_line=first_line)
    literals = [(f"f{i}", spec.value or "") for i, spec in enumerate(record.fields) if spec.name == "literal"]
    wrong = [(pl.col(column) != value).fill_null(True) for column, value in literals]
    if wrong and split.select(pl.any_horizontal(wrong).any()).item():
        for i, spec in enumerate(record.fields):
            if spec.name == "literal":
                bad = _first(split[f"f{i}"] != (spec.value or ""))
                if bad is not None:
                    raise BankFileError(f"expected {spec.value!r} in field {i + 1}", file=file, line=first_line + bad)
    kept = {
        spec.name: f"f{i}" for i, spec in enumerate(record.fields) if spec.name not in ("literal", "filler", "memo")
    }
    return split.select(
        *(pl.col(column).alias(name) for name, column in kept.items()),
        pl.int_range(first_line, first_line + len(lines), dtype=pl.Int64).alias("line"),
    )


def parse(section: FileSection, data: bytes, *, file: str) -> ParsedFile:
    """Read the bytes of a whole file as ``section`` says.

    Raises:
        BankFileError: the file is empty, in the wrong encoding, truncated, with the wrong line endings, a record
            of the wrong shape, a literal that does not match, or a character cut at a field boundary. The message
            names the file and the line.
    """
    data = _decode(section, data, file)
    eol = section.eol.encode("ascii")
    lines = data[: -len(eol)].split(eol)
    needed = (section.header is not None) + (section.trailer is not None)
    if len(lines) < needed:
        raise BankFileError(f"{len(lines)} line(s): too short for a header and a trailer", file=file)
    blank = _first(pl.Series(lines, dtype=pl.Binary).bin.size() == 0)
    if blank is not None:
        raise BankFileError("a blank line", file=file, line=blank + 1)
    header: dict[str, str] = {}
    trailer: dict[str, str] = {}
    start, end = 0, len(lines)
    if section.header is not None:
        header = (
            _record_frame(section.header, section, lines[:1], file=file, first_line=1).drop("line").row(0, named=True)
        )
        start = 1
    if section.trailer is not None:
        frame = _record_frame(section.trailer, section, lines[-1:], file=file, first_line=len(lines))
        trailer = frame.drop("line").row(0, named=True)
        end = len(lines) - 1
    details = lines[start:end]
    if details:
        rows = _record_frame(section.detail, section, details, file=file, first_line=start + 1)
    else:
        names = [f.name for f in section.detail.fields if f.name not in ("literal", "filler", "memo")]
        rows = pl.DataFrame({n: pl.Series([], dtype=pl.String) for n in names}).with_columns(
            line=pl.lit(None, dtype=pl.Int64)
        )
    return ParsedFile(header=header, rows=rows, trailer=trailer)


def parse_count(value: str, what: str, *, file: str, line: int) -> int:
    """A non-negative integer from a header or trailer field."""
    if not value.isascii() or not value.isdigit():
        raise BankFileError(f"{what} is not a whole number", file=file, line=line)
    return int(value)


def parse_amount(col: pl.Series, unit: str, *, what: str, file: str, lines: pl.Series) -> pl.Series:
    """Amounts in ``unit`` (``fen``: digits; ``yuan``: digits, a point and two decimals) as Int64 fen.

    Raises:
        BankFileError: at the first value that is not an amount in that unit; names its line.
    """
    pattern = r"^[0-9]{1,17}$" if unit == "fen" else r"^[0-9]{1,15}\.[0-9]{2}$"
    bad = _first(~col.str.contains(pattern))
    if bad is not None:
        raise BankFileError(f"{what} is not an amount in {unit}", file=file, line=int(lines[bad]))
    return col.str.replace(".", "", literal=True).cast(pl.Int64)
