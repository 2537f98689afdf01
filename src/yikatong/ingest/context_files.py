"""Loading the validation inputs from files: the account registry, reference lists and the payment ledger.

Each loader reads a CSV (UTF-8, UTF-8 with BOM or GB18030; every column read as text, so IDs and account numbers
keep their digits) or a Parquet file, checks the columns and values, and returns the frame that
[`yikatong.rules.ValidationContext`][yikatong.ValidationContext] expects. Anything unusable raises
[`ReferenceDataError`][yikatong.errors.ReferenceDataError] naming the file, the column and the first bad line, never an
ID or account number. Work is vectorized; only the distinct period labels of a ledger are parsed one by one.

File formats:

* registry: ``id_number, account, account_kind, bank, holder_name, status`` (``account_kind`` card, passbook or
  social_security; ``status`` active, frozen, closed or pending);
* reference list: ``id_number``, plus ``death_date`` (``YYYY-MM-DD``, ``YYYY/MM/DD`` or ``YYYYMMDD``) for
  ``deceased``;
* ledger: ``id_number, item, period, amount, status`` (``amount`` in yuan with at most two decimals, converted
  exactly to integer fen; ``status`` sent, paid, failed, returned or reissued).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from yikatong.catalog import REFERENCE_LISTS, ReferenceListName
from yikatong.errors import ReferenceDataError
from yikatong.money import MAX_YUAN_DIGITS, yuan_fen_expr
from yikatong.period import Period
from yikatong.registry import ACCOUNT_KINDS, ACCOUNT_STATUSES

__all__ = [
    "LEDGER_STATUSES",
    "load_ledger",
    "load_reference",
    "load_registry",
    "parse_reference_option",
    "read_table",
]

LEDGER_STATUSES: tuple[str, ...] = ("sent", "paid", "failed", "returned", "reissued")
_TEXT_COLUMNS = ("id_number", "account")

PathLike = str | os.PathLike[str]


def read_table(path: PathLike, *, what: str) -> pl.DataFrame:
    """Read a CSV or Parquet file; CSV columns are all text, header names and values trimmed.

    Args:
        path: The file.
        what: What the file is (``registry``, ``ledger``, ``reference list deceased``), for messages.

    Raises:
        ReferenceDataError: the file is missing, of an unknown kind, or unreadable.
    """
    p = Path(path)
    label = f"{what} file {p.name}"
    if not p.is_file():
        raise ReferenceDataError(f"{label}: not found / 文件不存在")
    suffix = p.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            frame = pl.read_parquet(p)
        elif suffix in (".csv", ".txt"):
            frame = pl.read_csv(_decode(p, label).encode("utf-8"), infer_schema=False)
        else:
            raise ReferenceDataError(f"{label}: unknown file kind {suffix or '(none)'}; use .csv or .parquet")
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise ReferenceDataError(f"{label}: unreadable ({type(exc).__name__}) / 无法读取") from None
    frame = frame.rename({c: c.strip().lstrip("\ufeff") for c in frame.columns})
    strings = [c for c, t in frame.schema.items() if t == pl.String]
    return frame.with_columns(pl.col(strings).str.strip_chars()) if strings else frame


def _decode(path: Path, label: str) -> str:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ReferenceDataError(f"{label}: neither UTF-8 nor GB18030 text / 文件编码无法识别")


def _require(frame: pl.DataFrame, columns: Sequence[str], label: str) -> None:
    for column in columns:
        if column not in frame.columns:
            raise ReferenceDataError(f"{label}: no column {column} / 缺少列 {column}")
    for column in _TEXT_COLUMNS:
        if column in columns and frame.schema[column] != pl.String:
            raise ReferenceDataError(
                f"{label}, column {column}: must be text, not {frame.schema[column]} (a numeric column loses digits)"
            )


def _first_bad(frame: pl.DataFrame, bad: pl.Expr, column: str, label: str, problem: str) -> None:
    rows = frame.select(pl.int_range(1, pl.len() + 1).filter(bad.fill_null(True)))
    if rows.height:
        first = rows.item(0, 0)
        raise ReferenceDataError(
            f"{label}, column {column}, data row {first} (CSV line {first + 1}): {problem} ({rows.height} rows)"
        )


def _id_column(frame: pl.DataFrame, label: str) -> pl.DataFrame:
    cleaned = frame.with_columns(pl.col("id_number").str.replace_all(r"\s", "").str.to_uppercase())
    _first_bad(cleaned, pl.col("id_number").str.len_chars() == 0, "id_number", label, "empty ID")
    return cleaned


def _one_of(frame: pl.DataFrame, column: str, allowed: Sequence[str], label: str) -> pl.DataFrame:
    cleaned = frame.with_columns(pl.col(column).cast(pl.String).str.to_lowercase())
    _first_bad(cleaned, ~pl.col(column).is_in(list(allowed)), column, label, f"not one of {', '.join(allowed)}")
    return cleaned


def load_registry(path: PathLike) -> pl.LazyFrame:
    """Load a registry snapshot file (see the module docstring).

    Raises:
        ReferenceDataError: missing file or column, an empty ID or account, an unknown kind or status.
    """
    label = f"registry file {Path(path).name}"
    frame = read_table(path, what="registry")
    columns = ("id_number", "account", "account_kind", "bank", "holder_name", "status")
    _require(frame, columns, label)
    frame = _id_column(frame.select(columns), label)
    _first_bad(frame, pl.col("account").str.len_chars() == 0, "account", label, "empty account")
    frame = _one_of(frame, "account_kind", ACCOUNT_KINDS, label)
    frame = _one_of(frame, "status", ACCOUNT_STATUSES, label)
    return frame.with_columns(pl.col("bank", "holder_name").cast(pl.String)).lazy()


def load_reference(name: str, path: PathLike) -> tuple[ReferenceListName, pl.LazyFrame]:
    """Load reference list ``name`` (``deceased``, ``public_employee``, ``disabled``, ``supported``, ``dibao``,
    ``registered_poor``).

    Returns:
        The list name and its frame: ``id_number`` (and ``death_date`` as Date for ``deceased``).

    Raises:
        ReferenceDataError: unknown list name, missing file or column, empty ID, unparseable death date.
    """
    known = next((n for n in REFERENCE_LISTS if n == name), None)
    if known is None:
        raise ReferenceDataError(f"unknown reference list {name!r}: use one of {', '.join(REFERENCE_LISTS)}")
    label = f"reference list {name} file {Path(path).name}"
    frame = read_table(path, what=f"reference list {name}")
    columns = ("id_number", "death_date") if known == "deceased" else ("id_number",)
    _require(frame, columns, label)
    frame = _id_column(frame.select(columns), label)
    if known == "deceased":
        frame = frame.with_columns(_as_date(frame, "death_date"))
        _first_bad(frame, pl.col("death_date").is_null(), "death_date", label, "not a date (use YYYY-MM-DD)")
    return known, frame.lazy()


def _as_date(frame: pl.DataFrame, column: str) -> pl.Expr:
    dtype = frame.schema[column]
    if dtype == pl.Date:
        return pl.col(column)
    if isinstance(dtype, pl.Datetime):
        return pl.col(column).dt.date()
    text = pl.col(column).cast(pl.String).str.replace_all("/", "-")
    return pl.coalesce(
        text.str.to_date("%Y-%m-%d", strict=False),
        text.str.to_date("%Y%m%d", strict=False),
    ).alias(column)


def _amount_fen(frame: pl.DataFrame, label: str) -> pl.Expr:
    """``amount`` (yuan) as exact ``amount_fen`` by the one grammar of [`yikatong.money`][]; the first line that
    breaks it (or is negative, or too large to be an amount) is refused, never wrapped or rounded."""
    dtype = frame.schema["amount"]
    if dtype.is_float():
        raise ReferenceDataError(f"{label}, column amount: floating-point amounts are not exact; store yuan as text")
    if dtype.is_integer():
        limit = 10**MAX_YUAN_DIGITS
        yuan = pl.col("amount").cast(pl.Int128, strict=False)
        _first_bad(
            frame,
            (yuan < 0) | (yuan >= limit),
            "amount",
            label,
            f"金额超出范围 / amount out of range (0 to {MAX_YUAN_DIGITS} integer digits)",
        )
        return (pl.col("amount").cast(pl.Int64) * 100).alias("amount_fen")
    fen = yuan_fen_expr(pl.col("amount").cast(pl.String))
    _first_bad(
        frame,
        fen.is_null() | (fen < 0),
        "amount",
        label,
        f"金额格式错误 / not an amount in yuan (at most {MAX_YUAN_DIGITS} integer digits and two decimals; "
        "no sign, exponent, underscore or inner space)",
    )
    return fen.alias("amount_fen")


def load_ledger(path: PathLike) -> pl.LazyFrame:
    """Load a payment ledger file: ``amount`` (yuan) becomes exact ``amount_fen``; period labels are made canonical.

    Raises:
        ReferenceDataError: missing file or column, empty ID or item, a bad amount, period or status.
    """
    label = f"ledger file {Path(path).name}"
    frame = read_table(path, what="ledger")
    _require(frame, ("id_number", "item", "period", "amount", "status"), label)
    frame = _id_column(frame.select("id_number", "item", "period", "amount", "status"), label)
    frame = frame.with_columns(pl.col("item", "period").cast(pl.String).str.strip_chars())
    _first_bad(frame, pl.col("item").str.len_chars() == 0, "item", label, "empty item code")
    frame = _one_of(frame, "status", LEDGER_STATUSES, label)
    frame = frame.with_columns(_amount_fen(frame, label))
    canonical: dict[str, str | None] = {}
    for text in frame["period"].drop_nulls().unique().to_list():
        try:
            canonical[text] = str(Period.parse(text))
        except ValueError:
            canonical[text] = None
    frame = frame.with_columns(pl.col("period").replace_strict(canonical, default=None, return_dtype=pl.String))
    _first_bad(frame, pl.col("period").is_null(), "period", label, "not a period (YYYY-MM, YYYY-Qn, YYYY)")
    return frame.select("id_number", "item", "period", "amount_fen", "status").lazy()


def parse_reference_option(text: str) -> tuple[str, str]:
    """Split a command-line ``NAME=FILE`` into its name and path.

    Raises:
        ReferenceDataError: when there is no ``=`` or either side is empty.
    """
    name, sep, path = text.partition("=")
    if not sep or not name.strip() or not path.strip():
        raise ReferenceDataError(f"--reference expects NAME=FILE, got {text!r}")
    return name.strip(), path.strip()
