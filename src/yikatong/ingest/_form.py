"""Form-style rosters: the lines of a printed 花名册 that are not payees, and the office's own control total.

Offices send the form they print: a title row (某某镇2026年11月高龄津贴发放花名册), a unit row (填报单位：… 单位：元),
the header (often with 序号), the payees, a 合计 row, a blank row, then signature and note lines (制表人, 审核人,
负责人, 填报日期, 备注, 说明, 盖章…). None of these is a payee, and every one is still accounted for with its line
number and one of the kinds of [`LINE_KINDS`][yikatong.ingest.LINE_KINDS]:

* ``title``: a non-empty line before the header;
* ``header``: the header, and a copy of it repeated further down (a form printed over several pages);
* ``total``: a line whose first filled cell starts with 合计, 总计, 共计 or 小计 (本页合计, 合 计 … too);
* ``note``: a line whose first filled cell starts with a signature or note word (制表人, 审核人, 负责人, 填报日期,
  备注, 说明, 盖章, 经办人, 联系电话, 注：…);
* ``blank``: an empty line, or one where only the 序号 column is filled (the unused numbered rows of a form).

A line is only ever taken for a total, a note or a repeated header when its ID cell holds fewer than 15 digits, so a
payee with an ID is never dropped, whatever else the line says. The last 合计 / 总计 / 共计 line (never a 小计, which
is a part) gives the office's declared total: its amount cell, and the count written on it (``35人``, ``共35户``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Final, Literal

import polars as pl
from attrs import frozen

from yikatong.ingest._headers import ALIASES, normalise_header
from yikatong.ingest._normalise import INVISIBLE, parse_amount_fen

__all__ = [
    "LINE_KINDS",
    "NON_PAYEE_SCHEMA",
    "FormLines",
    "LineKind",
    "classify",
    "empty_lines",
    "serial_columns",
]

LineKind = Literal["title", "header", "total", "note", "blank"]
LINE_KINDS: Final[tuple[LineKind, ...]] = ("title", "header", "total", "note", "blank")
"""The kinds of line that are not payees."""

NON_PAYEE_SCHEMA: Final = {"source_line": pl.Int64(), "kind": pl.String()}
"""``source_line`` (the physical line or sheet row) and ``kind`` (one of [`LINE_KINDS`][yikatong.ingest.LINE_KINDS])."""

_TOTAL: Final = r"^(?:本页|本表|全部|总|全|共)?(?:合计|总计|共计|小计)"
_GRAND: Final = re.compile(r"^(?:本表|全部|总|全|共)?(?:合计|总计|共计)")
_NOTE: Final = (
    r"^(?:制表|审核|审批|复核|负责人|单位负责人|主管|分管|领导|经办|填报|填表|报送|备注|说明|注[:：]|盖章|单位盖章"
    r"|签字|签名|签章|日期|联系人|联系电话|电话|公章)"
)
_SERIAL_TITLES: Final = frozenset({"序号", "序", "编号", "no", "no.", "number", "序列号"})
_COUNT: Final = re.compile(r"(?:共|计)?\s*(\d+)\s*(?:人|户|名|笔)")
_ID_DIGITS: Final = 15


@frozen
class FormLines:
    """What ``classify`` found: the non-payee lines and the declared total of the form's 合计 line.

    Attributes:
        lines: ``source_line, kind`` of every non-payee line (``NON_PAYEE_SCHEMA``), in line order.
        declared_total_fen: The amount of the last 合计 / 总计 line, in fen; None when there is none or it is not
            an amount.
        declared_count: The count written on that line (``35人``); None when it gives none.
        declared_line: The line the declared total comes from.
    """

    lines: pl.DataFrame
    declared_total_fen: int | None = None
    declared_count: int | None = None
    declared_line: int | None = None


def empty_lines() -> pl.DataFrame:
    """An empty frame of non-payee lines."""
    return pl.DataFrame(schema=NON_PAYEE_SCHEMA)


def serial_columns(titles: Sequence[str]) -> list[int]:
    """Positions of the 序号 (serial number) columns among ``titles``."""
    return [i for i, t in enumerate(titles) if normalise_header(t) in _SERIAL_TITLES]


def _squeezed(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.String).fill_null("").str.replace_all(r"[\s\u3000]", "")


def _is_id_title(cell: pl.Expr) -> pl.Expr:
    id_titles = [alias for alias, target in ALIASES.items() if target == "id_number"]
    return cell.str.to_lowercase().str.replace_all(r"[()（）].*$", "").is_in(id_titles)


def classify(
    records: pl.DataFrame, cells: Sequence[str], titles: Sequence[str], chosen: Mapping[str, int]
) -> FormLines:
    """Find the totals, notes, repeated headers and blank lines among the records after the header.

    Args:
        records: ``source_line`` and the cells of each record, as text (one column per title).
        cells: The names of the cell columns of ``records``, in title order.
        titles: The header's titles.
        chosen: Canonical column → position, as ``yikatong.ingest._headers.resolve_columns`` gives it.

    Returns:
        The non-payee lines among ``records`` (kinds ``header``, ``total``, ``note``, ``blank``) and the declared
        total of the form's last 合计 line.
    """
    id_cell = cells[chosen["id_number"]]
    id_text = pl.col(id_cell).cast(pl.String).fill_null("")
    # An ID cell opening with 15 ASCII digits has enough digits: only the others are counted (a regex per digit).
    long_id = id_text.str.slice(0, _ID_DIGITS).str.strip_chars("0123456789") == ""
    short_id = id_text.str.len_chars() < _ID_DIGITS
    maybe = (
        records.filter(short_id | ~long_id)
        .filter(id_text.str.count_matches(r"\d") < _ID_DIGITS)
        .select("source_line", *cells)
    )
    if maybe.height == 0:
        return FormLines(lines=empty_lines())
    serial = set(serial_columns(titles))
    squeezed = [_squeezed(c) for c in cells]
    first = pl.coalesce([pl.when(s != "").then(s) for s in squeezed])
    rest_empty = pl.all_horizontal(
        pl.lit(True), *(s.str.strip_chars(INVISIBLE + '"') == "" for i, s in enumerate(squeezed) if i not in serial)
    )
    kind = (
        pl.when(first.str.contains(_TOTAL))
        .then(pl.lit("total"))
        .when(first.str.contains(_NOTE))
        .then(pl.lit("note"))
        .when(_is_id_title(_squeezed(id_cell)))
        .then(pl.lit("header"))
        .when(rest_empty)
        .then(pl.lit("blank"))
        .otherwise(pl.lit(None, pl.String))
    )
    amount = (
        parse_amount_fen(pl.col(cells[chosen["amount"]]).cast(pl.String).str.strip_chars())
        if "amount" in chosen
        else pl.lit(None, pl.Int64)
    )
    found = maybe.select(
        pl.col("source_line").cast(pl.Int64),
        kind.alias("kind"),
        first.alias("_first"),
        pl.concat_str(squeezed, separator=" ").alias("_text"),
        amount.alias("_fen"),
    ).filter(pl.col("kind").is_not_null())
    total, count, line = None, None, None
    for source_line, first_cell, text, fen in (
        found.filter(pl.col("kind") == "total").select("source_line", "_first", "_text", "_fen").iter_rows()
    ):
        if _GRAND.match(first_cell or ""):
            counted = _COUNT.search(text or "")
            total, count, line = fen, int(counted.group(1)) if counted else None, source_line
    return FormLines(
        lines=found.select("source_line", "kind"),
        declared_total_fen=total,
        declared_count=count,
        declared_line=line,
    )
