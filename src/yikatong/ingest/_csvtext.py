"""Delimited text (CSV, tab-separated) to one row per data line, without losing a line.

A general CSV parser stops at or skips a broken line, and an unbalanced quote makes it swallow the rest of the
file. Rosters need every line back with its line number, so this module parses in vectorized steps it controls:

1. decode the bytes once (``decode``: UTF-8, UTF-8 with BOM, UTF-16 with BOM, GB18030; never plain GBK);
2. split into physical lines with Polars, and find the header among the first non-empty lines (a title line may
   precede it; see ``yikatong.ingest._headers.header_index``);
3. join lines into one record only where a quoted cell legitimately spans lines: the lines between an odd quote
   count and the next are merged, and the merge is kept only if the result is a well-formed record of the header's
   width; otherwise the first of those lines stands on its own and the scan resumes after it (so one stray quote
   never swallows the rest of the file);
4. check each record: without quotes, count its delimiters; with quotes, match it against a regular expression of
   a well-formed record and count the delimiters outside quoted cells;
5. split into cells: records without quotes by a plain split; well-formed quoted records of the header's width by
   Polars' own CSV parser (checked to give back exactly one row per record, else a field regex does the work);
   wider ones by the field regex; broken ones naively on the delimiter, so that what can be filled is filled.

A line that is empty, or holds only delimiters, quotes and whitespace (``,,,,`` left by a spreadsheet export), is
not a data row. Extra trailing fields that are all empty (``a,b,c,,``) are tolerated; any other count of fields
different from the header's, or quoting that does not close, makes the row malformed.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Mapping
from typing import Final

import attrs
import polars as pl

from yikatong.errors import RosterFormatError
from yikatong.ingest._fastcsv import body_offset, read_lines, reader_lines
from yikatong.ingest._fastcsv import records as clean_records
from yikatong.ingest._form import NON_PAYEE_SCHEMA, FormLines, classify
from yikatong.ingest._headers import HEADER_SCAN, header_index, resolve_columns
from yikatong.ingest._normalise import INVISIBLE

__all__ = ["ParsedText", "decode", "parse_text"]

_ASCII: Final = bytes(range(128))
_SAMPLE_BYTES: Final = 1 << 20  # a megabyte each side of the first failure shows any real file's pattern
_DELIMITERS: Final = (",", "\t", ";", "|")
_MAX_RESCANS: Final = 16
_BLANK: Final = INVISIBLE
_QUOTED: Final = r'"(?:[^"]|"")*"'
_QUOTED_FIELD: Final = rf"=?{_QUOTED}"  # ="500241…", the spreadsheet idiom that keeps an ID as text, is quoted too
_REGEX_ESCAPES: Final = {"\t": r"\t", "|": r"\|"}


def _rx(delimiter: str) -> str:
    """The delimiter as a regular-expression atom (Rust syntax: only meta characters may be escaped)."""
    return _REGEX_ESCAPES.get(delimiter, delimiter)


def decode(data: bytes) -> tuple[str, str]:
    """Decode a text roster; return the text and the encoding used (``"utf-8"`` only when the bytes are valid).

    A BOM decides (UTF-8 or UTF-16). Otherwise valid UTF-8 wins. For bytes that are not valid UTF-8, UTF-8 is still
    chosen when the header line is non-ASCII valid UTF-8 (GB18030 Chinese text practically never is), or when few
    sequences fail in the megabytes around the first failure (a damaged UTF-8 file: failures are rare, whereas
    GB18030 text fails on about every other byte); otherwise GB18030, the superset of GBK that also encodes 䶮
    and 𠮷. Undecodable bytes become U+FFFD, which the reader turns into ``TEXT_ENCODING``.
    """
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", "replace"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", "replace"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        first_failure = exc.start
    first_line = data[: data.find(b"\n")] if b"\n" in data else data
    if len(first_line) < first_failure and not first_line.isascii():
        return data.decode("utf-8", "replace"), "utf-8, damaged"
    window = data[max(0, first_failure - _SAMPLE_BYTES) : first_failure + _SAMPLE_BYTES]
    failures = window.decode("utf-8", "replace").count("\ufffd")
    non_ascii = len(window.translate(None, _ASCII))
    if failures * 20 <= non_ascii:
        return data.decode("utf-8", "replace"), "utf-8, damaged"
    return data.decode("gb18030", "replace"), "gb18030"


@attrs.frozen
class ParsedText:
    """A text roster: its titles, which title feeds each canonical column, the payee records (``source_line``,
    ``malformed`` and the cells ``f0``, ``f1``…, as many as titles), and the lines that are not payees."""

    titles: tuple[str, ...]
    columns: dict[str, int]
    records: pl.DataFrame
    form: FormLines


def _split_lines(utf8: bytes) -> pl.DataFrame:
    """Physical lines (``line``, ``text``): CR, LF and CRLF each end a line, mixed freely in one file.

    Files from Windows end lines in CRLF, old Mac exports in CR, and a file edited in two programs can hold all
    three; a line end the split missed would fold two payees into one row or drop one. A bare CR (one not followed
    by LF) is therefore made an LF before the split (a CR byte never occurs inside a multi-byte UTF-8 sequence), and
    the CR of CRLF is removed after it. Polars' CSV reader with no quote character and a separator the text lacks
    does the split in parallel; its count of lines is checked against the newlines, and a plain split is the
    fallback. ``utf8`` is the text encoded in UTF-8.
    """
    raw = utf8
    if raw.count(b"\r") != raw.count(b"\r\n"):
        raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    lines = reader_lines(raw) if raw else None  # empty text is one empty line, as the plain split gives
    if lines is None:
        lines = pl.Series("text", [raw.decode("utf-8")], dtype=pl.String).str.split("\n").explode()
    lines = lines.str.strip_suffix("\r")
    return lines.to_frame().with_row_index("line", offset=1).with_columns(pl.col("line").cast(pl.Int64))


def _is_blank(text: pl.Expr, delimiter: str) -> pl.Expr:
    return text.str.strip_chars(_BLANK + delimiter + '"') == ""


def _sniff_delimiter(header: str) -> str:
    outside = re.sub(_QUOTED, "", header)
    counts = {d: outside.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _header_titles(header: str, delimiter: str) -> tuple[str, ...]:
    try:
        row = next(csv.reader([header], delimiter=delimiter), [])
    except csv.Error:  # a stray carriage return or NUL: take the titles as they stand
        row = [t.strip('"') for t in header.split(delimiter)]
    titles = [t.strip() for t in row]
    while titles and not titles[-1]:
        titles.pop()
    return tuple(titles)


def _well_formed(text: pl.Expr, delimiter: str) -> pl.Expr:
    d = _rx(delimiter)
    field = rf'(?:{_QUOTED_FIELD}|[^"{d}]*)'
    return text.str.contains(rf"^{field}(?:{d}{field})*$")


def _field_count(text: pl.Expr, delimiter: str) -> pl.Expr:
    outside = text.str.replace_all(_QUOTED, "")
    return (outside.str.count_matches(delimiter, literal=True) + 1).cast(pl.Int64)


def _fits(text: pl.Expr, d: str, width: int) -> pl.Expr:
    """A well-formed record has at least ``width`` fields and any beyond them are empty."""
    outside = text.str.replace_all(_QUOTED, "Q")
    tail = outside.str.splitn(d, width + 1).struct.field(f"field_{width}")
    enough = outside.str.count_matches(d, literal=True) + 1 >= width
    return enough & (tail.is_null() | (tail.str.strip_chars(_BLANK + d) == ""))


def _merge_pass(lines: pl.DataFrame, d: str, width: int) -> tuple[pl.DataFrame, int | None]:
    """One scan: records up to the first unsound multi-line group, and that group's opening line (None if none)."""
    odd = (pl.col("text").str.count_matches('"', literal=True) % 2).cast(pl.Int64)
    marked = lines.with_columns(open_after=odd.cum_sum() % 2).with_columns(
        start=pl.col("open_after").shift(1, fill_value=0) == 0
    )
    marked = marked.with_columns(group=pl.col("start").cum_sum())
    single = pl.col("start") & (pl.col("open_after") == 0)
    alone = marked.filter(single).select("line", "text")
    spanning = marked.filter(~single)
    if spanning.height == 0:
        return alone, None
    groups = spanning.group_by("group", maintain_order=True).agg(
        pl.col("line"), pl.col("text").str.join("\n").alias("joined")
    )
    sound = _well_formed(pl.col("joined"), d) & _fits(pl.col("joined"), d, width)
    groups = groups.with_columns(sound=sound & (pl.col("line").list.len() > 1), first=pl.col("line").list.first())
    unsound = groups.filter(~pl.col("sound"))
    opener = None if unsound.height == 0 else int(unsound["first"].min())  # type: ignore[arg-type]
    merged = groups.filter(pl.col("sound")).select(pl.col("first").alias("line"), pl.col("joined").alias("text"))
    records = pl.concat([alone, merged])
    if opener is not None:
        records = records.filter(pl.col("line") < opener)
    return records, opener


def _merge_multiline(lines: pl.DataFrame, d: str, width: int) -> pl.DataFrame:
    """Records (``line``, ``text``) from physical lines, merging a quoted cell that spans lines when that is sound.

    A group of lines that does not merge into a sound record leaves its first line (the stray quote) on its own and
    the scan restarts on the line after it, so a stray quote costs only its own line. After ``_MAX_RESCANS`` stray
    quotes, the remaining lines are taken one by one.
    """
    done: list[pl.DataFrame] = []
    rest = lines
    for _ in range(_MAX_RESCANS):
        records, opener = _merge_pass(rest, d, width)
        done.append(records)
        if opener is None:
            return pl.concat(done).sort("line")
        done.append(rest.filter(pl.col("line") == opener))
        rest = rest.filter(pl.col("line") > opener)
    done.append(rest)
    return pl.concat(done).sort("line")


def _cells(n: int) -> list[str]:
    return [f"f{i}" for i in range(n)]


def _split_cells(frame: pl.DataFrame, d: str, width: int, strip_quotes: bool) -> pl.DataFrame:
    """Cells ``f0…`` of records split naively on the delimiter (no quotes, or quotes too broken to honour)."""
    parts = pl.col("text").str.split_exact(d, width - 1).struct.rename_fields(_cells(width))
    out = frame.select("line", "malformed", parts.alias("_cells")).unnest("_cells")
    if strip_quotes:
        out = out.with_columns(pl.col(c).str.strip_chars('"') for c in _cells(width))
    return out


def _regex_cells(frame: pl.DataFrame, d: str, width: int) -> pl.DataFrame:
    """Cells of well-formed quoted records by a field regex; also decides whether extra fields are all empty."""
    field_pattern = rf'(?:{_QUOTED_FIELD}|[^"{_rx(d)}]*){_rx(d)}'
    element = pl.element().str.slice(0, pl.element().str.len_chars() - 1)
    unquoted = (
        pl.when(element.str.starts_with('"'))
        .then(element.str.slice(1, element.str.len_chars() - 2).str.replace_all('""', '"', literal=True))
        .otherwise(element)
    )
    fields = pl.concat_str(pl.col("text"), pl.lit(d)).str.extract_all(field_pattern).list.eval(unquoted)
    with_fields = frame.with_columns(fields=fields)
    extra = pl.col("fields").list.slice(width).list.join("").str.strip_chars()
    return with_fields.select(
        "line",
        (pl.col("malformed") | (extra != "")).alias("malformed"),
        *(pl.col("fields").list.get(i, null_on_oob=True).alias(c) for i, c in enumerate(_cells(width))),
    )


def _csv_cells(frame: pl.DataFrame, d: str, width: int) -> pl.DataFrame:
    """Cells of well-formed quoted records of exactly ``width`` fields, by Polars' own CSV parser (fast path)."""
    if frame.height == 0:
        return _regex_cells(frame, d, width)
    joined = frame.select(pl.col("text").str.join("\n").cast(pl.Binary)).item()
    if not isinstance(joined, bytes):
        return _regex_cells(frame, d, width)
    try:
        cells = pl.read_csv(
            io.BytesIO(joined),
            has_header=False,
            separator=d,
            quote_char='"',
            schema=dict.fromkeys(_cells(width), pl.String),
            empty_string_is_null=False,
            comment_prefix=None,
            raise_if_empty=False,
        )
    except pl.exceptions.PolarsError:
        return _regex_cells(frame, d, width)
    if cells.height != frame.height:
        return _regex_cells(frame, d, width)
    return pl.concat([frame.select("line", "malformed"), cells], how="horizontal")


def _fields(records: pl.DataFrame, d: str, width: int) -> pl.DataFrame:
    """``source_line``, ``malformed`` and the cells ``f0…f{width-1}`` of each record."""
    quote = pl.col("text").str.contains('"', literal=True)
    bare = records.filter(~quote).with_columns(n=pl.col("text").str.count_matches(d, literal=True) + 1)
    narrow = bare.filter(pl.col("n") <= width).with_columns(malformed=pl.col("n") < width)
    tail = pl.col("text").str.splitn(d, width + 1).struct.field(f"field_{width}")
    wide_bare = bare.filter(pl.col("n") > width).with_columns(malformed=tail.str.strip_chars(_BLANK + d) != "")
    quoted = records.filter(quote).with_columns(well=_well_formed(pl.col("text"), d), n=_field_count(pl.col("text"), d))
    broken = quoted.filter(~pl.col("well") | (pl.col("n") < width)).with_columns(malformed=pl.lit(True))
    exact = quoted.filter(pl.col("well") & (pl.col("n") == width)).with_columns(malformed=pl.lit(False))
    wide = quoted.filter(pl.col("well") & (pl.col("n") > width)).with_columns(malformed=pl.lit(False))
    parts = [
        _split_cells(narrow, d, width, strip_quotes=False),
        _split_cells(wide_bare, d, width, strip_quotes=False),
        _split_cells(broken, d, width, strip_quotes=True),
        _csv_cells(exact, d, width),
        _regex_cells(wide, d, width),
    ]
    non_empty = [part for part in parts if part.height > 0]
    both = non_empty[0] if len(non_empty) == 1 else pl.concat(parts).sort("line")
    return both.rename({"line": "source_line"})


def _lines(data: bytes, fast: bool) -> tuple[pl.DataFrame, bytes | None]:
    """Physical lines of the roster, and its UTF-8 bytes when they are at hand (the data itself, or re-encoded)."""
    if fast:
        lines = read_lines(data)
        if lines is not None:  # valid UTF-8 without a BOM: what decode would call "utf-8"
            return lines, data
    text, encoding = decode(data)
    utf8 = data if encoding == "utf-8" else text.encode("utf-8")
    del text  # up to four bytes per character in Python; the lines now hold it as UTF-8
    return _split_lines(utf8), utf8


def parse_text(data: bytes, mapping: Mapping[str, str | None] | None, *, fast: bool = True) -> ParsedText:
    """Parse a delimited text roster into records, one per payee row after the header.

    The header is the first of the leading non-empty lines that has an ID column (see
    ``yikatong.ingest._headers.header_index``); lines before it are a preamble, not data. Lines that are not
    payees (titles, the header, totals, notes, blank lines: see ``yikatong.ingest._form``) are listed in
    ``form`` with their line numbers. A clean body (no quote, no bare CR, valid UTF-8 or decoded to it) goes
    through ``yikatong.ingest._fastcsv``, which gives the same records faster; ``fast=False`` always takes the
    robust steps (the property tests compare the two).

    Raises:
        RosterFormatError: ``empty`` when there is no header line or no payee line; ``no_id_column`` and
            ``bad_mapping`` as ``yikatong.ingest._headers.resolve_columns`` raises them.
    """
    lines, utf8 = _lines(data, fast)
    non_blank = lines.filter(pl.col("text").str.strip_chars(_BLANK) != "")
    if non_blank.height == 0:
        raise RosterFormatError("empty", "文件为空，没有表头和数据行", "the file is empty: no header and no data")
    leading = non_blank.head(HEADER_SCAN)
    candidates = [_header_titles(line, _sniff_delimiter(line)) for line in leading["text"]]
    k = header_index(candidates, mapping)
    header_line = int(leading["line"][k])
    delimiter = _sniff_delimiter(str(leading["text"][k]))
    titles = candidates[k]
    chosen = resolve_columns(titles, mapping)
    width = max(len(titles), 1)
    body = lines.filter(pl.col("line") > header_line)
    quick = _fast_records(utf8, body, header_line, delimiter, width) if fast else None
    if quick is None:
        records = _merge_multiline(body, delimiter, width)
        blank_lines = records.filter(_is_blank(pl.col("text"), delimiter)).get_column("line")
        records = records.filter(~_is_blank(pl.col("text"), delimiter))
    else:
        records, blank_lines = quick
    around = pl.concat(
        [
            lines.filter(pl.col("line") < header_line).select(
                pl.col("line").alias("source_line"),
                pl.when(pl.col("text").str.strip_chars(_BLANK) == "")
                .then(pl.lit("blank"))
                .otherwise(pl.lit("title"))
                .alias("kind"),
            ),
            pl.DataFrame({"source_line": [header_line], "kind": ["header"]}, schema=NON_PAYEE_SCHEMA),
            blank_lines.alias("source_line").to_frame().with_columns(kind=pl.lit("blank")),
        ]
    )
    if records.height == 0:
        raise RosterFormatError("empty", "文件只有表头，没有数据行", "the file has a header but no data rows")
    fields = _fields(records, delimiter, width) if quick is None else records.rename({"line": "source_line"})
    form = classify(fields, _cells(width), titles, chosen)
    if form.lines.height:
        fields = fields.join(form.lines.select("source_line"), on="source_line", how="anti", maintain_order="left")
    if fields.height == 0:
        raise RosterFormatError(
            "empty",
            "文件中没有发放对象行（只有表头、合计或签字等行）",
            "the file has no payee rows (only a header, totals, signature or note lines)",
        )
    lines_out = pl.concat([around.cast(pl.Schema(NON_PAYEE_SCHEMA)), form.lines]).sort("source_line")
    return ParsedText(titles=titles, columns=chosen, records=fields, form=attrs.evolve(form, lines=lines_out))


def _fast_records(
    utf8: bytes | None, body: pl.DataFrame, header_line: int, d: str, width: int
) -> tuple[pl.DataFrame, pl.Series] | None:
    """The fast path's records and blank lines (see ``yikatong.ingest._fastcsv``), or None to take the robust one."""
    if utf8 is None or (b"\r" in utf8 and utf8.count(b"\r") != utf8.count(b"\r\n")):
        return None
    offset = body_offset(utf8, header_line)
    if offset is None:
        return None
    return clean_records(utf8[offset:], body, d, width)
