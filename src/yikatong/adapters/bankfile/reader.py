"""Reading the files of the exchange, refusing any file that does not add up.

A result file from the bank is checked whole before anything of it is returned: the encoding, the line endings, a
truncated last line, the shape of every record, the header and trailer control count and totals (overall and per
outcome where the layout carries them), the batch it names, unknown status codes, rows that are not in the order,
rows that appear twice, and amounts or accounts that differ from the order. Any of these raises
[`BankFileError`][yikatong.errors.BankFileError] naming the file and the line; a file is returned only when all of it is
good, so nothing of a refused file is ever applied.
"""

from __future__ import annotations

import polars as pl

from yikatong.adapters.bankfile._codec import ParsedFile, parse, parse_amount, parse_count
from yikatong.adapters.bankfile._files import safe_name
from yikatong.adapters.bankfile.layout import BankLayout, FileSection
from yikatong.errors import BankFileError
from yikatong.privacy import mask_account

__all__ = ["RESULT_SCHEMA", "VERIFY_SCHEMA", "read_order", "read_result", "read_verify_request", "read_verify_response"]

RESULT_SCHEMA: dict[str, pl.DataType] = {
    "row_id": pl.Int64(),
    "outcome": pl.String(),
    "amount_fen": pl.Int64(),
    "reason_code": pl.String(),
    "reason": pl.String(),
}
"""The frame [`yikatong.ports.Bank.results`][] returns."""

VERIFY_SCHEMA: dict[str, pl.DataType] = {"row_id": pl.Int64(), "verified": pl.Boolean(), "reason": pl.String()}
"""The frame [`yikatong.ports.Bank.verify_accounts`][] returns."""

_COUNTS = {"count": None, "paid_count": "paid", "failed_count": "failed", "reversed_count": "reversed"}
_TOTALS = {"total": None, "paid_total": "paid", "failed_total": "failed", "reversed_total": "reversed"}


def _first(mask: pl.Series) -> int | None:
    hits = mask.fill_null(True).arg_true()
    return int(hits[0]) if len(hits) else None


def _ints(col: pl.Series, what: str, *, file: str, lines: pl.Series) -> pl.Series:
    bad = _first(~col.str.contains(r"^[0-9]{1,18}$"))
    if bad is not None:
        raise BankFileError(f"{what} is not a whole number", file=file, line=int(lines[bad]))
    return col.cast(pl.Int64)


def _check_controls(
    section: FileSection,
    parsed: ParsedFile,
    *,
    file: str,
    batch_id: str,
    outcomes: pl.Series | None,
    amounts: pl.Series | None,
    bank: str | None = None,
) -> None:
    """Check header and trailer values against the rows (and the paying bank, when ``bank`` is given); raise at the
    first that does not add up."""
    n = parsed.rows.height
    last_line = n + (section.header is not None) + 1
    for where, values, line in (("header", parsed.header, 1), ("trailer", parsed.trailer, last_line)):
        for key, text in values.items():
            if key == "batch_id" and text not in (batch_id, safe_name(batch_id)):
                raise BankFileError(f"the {where} names another batch or request", file=file, line=line)
            if key == "bank_code" and bank is not None and text != bank:
                named = text or "(none)"
                message = f"the {where} names bank {named}, not {bank} / 文件所属代发银行不符"
                raise BankFileError(message, file=file, line=line)
            if key in _COUNTS:
                wanted = _COUNTS[key]
                declared = parse_count(text, f"the {where} {key}", file=file, line=line)
                actual = n if wanted is None or outcomes is None else int((outcomes == wanted).sum())
                if declared != actual:
                    raise BankFileError(
                        f"the {where} {key} says {declared}, the file has {actual}", file=file, line=line
                    )
            if key in _TOTALS:
                if amounts is None:
                    continue
                wanted = _TOTALS[key]
                one = pl.Series([text], dtype=pl.String)
                declared = int(
                    parse_amount(
                        one, section.amount_unit, what=f"the {where} {key}", file=file, lines=pl.Series([line])
                    )[0]
                )
                picked = amounts if wanted is None or outcomes is None else amounts.filter(outcomes == wanted)
                actual = int(picked.sum() or 0)
                if declared != actual:
                    raise BankFileError(
                        f"the {where} {key} is {declared} fen, the rows add up to {actual} fen", file=file, line=line
                    )


def _status(section: FileSection, parsed: ParsedFile, *, file: str) -> pl.Series:
    codes = parsed.rows["status"]
    mapped = codes.replace_strict(section.statuses, default=None, return_dtype=pl.String)
    bad = _first(mapped.is_null())
    if bad is not None:
        raise BankFileError("an unknown status code", file=file, line=int(parsed.rows["line"][bad]))
    return mapped


def _reason_codes(rows: pl.DataFrame) -> pl.Series:
    """The bank's reason code of each row; the status code where the file gives no reason code."""
    if "reason_code" not in rows.columns:
        return rows["status"]
    return rows.select(
        pl.when(pl.col("reason_code") == "").then(pl.col("status")).otherwise(pl.col("reason_code"))
    ).to_series()


def _match(
    section: FileSection, parsed: ParsedFile, sent: pl.DataFrame, *, file: str, what: str
) -> tuple[pl.DataFrame, pl.Series]:
    """The sent rows each parsed row answers (same order as ``parsed.rows``), after the key checks."""
    key = section.key
    lines = parsed.rows["line"]
    keys = _ints(parsed.rows[key], f"the {key}", file=file, lines=lines)
    dup = _first(~keys.is_first_distinct())
    if dup is not None:
        first = int(lines[_first(keys == keys[dup]) or 0])
        raise BankFileError(
            f"{key} {keys[dup]} appears twice in the file (first on line {first})", file=file, line=int(lines[dup])
        )
    joined = pl.DataFrame({key: keys}).join(sent, on=key, how="left", maintain_order="left")
    unknown = _first(joined["row_id"].is_null() if key != "row_id" else ~keys.is_in(sent["row_id"].implode()))
    if unknown is not None:
        raise BankFileError(f"{key} {keys[unknown]} is not in the {what}", file=file, line=int(lines[unknown]))
    if "account" in parsed.rows.columns:
        differs = _first(parsed.rows["account"] != joined["account"])
        if differs is not None:
            masked = mask_account(parsed.rows["account"][differs])
            raise BankFileError(
                f"the account {masked} differs from the {what} for {key} {keys[differs]}",
                file=file,
                line=int(lines[differs]),
            )
    return joined, keys


def read_order(data: bytes, layout: BankLayout, *, file: str, bank: str | None = None) -> pl.DataFrame:
    """Read an order file (the bank's side of the exchange) and check its control count and total, and, when
    ``bank`` is given, that its header names that paying bank.

    Returns:
        ``row_id`` (the file's ``row_id``, else its ``serial``), ``serial`` (Int64, when the file has it),
        ``account``, ``name``, ``id_number`` (empty when absent), ``amount_fen`` (Int64), and ``batch_id`` (String,
        from the header or trailer, null when neither carries it).

    Raises:
        BankFileError: when the file does not add up or does not fit the layout.
    """
    section = layout.order
    parsed = parse(section, data, file=file)
    rows = parsed.rows
    lines = rows["line"]
    amounts = parse_amount(rows["amount"], section.amount_unit, what="the amount", file=file, lines=lines)
    batch_id = parsed.header.get("batch_id", parsed.trailer.get("batch_id", ""))
    _check_controls(section, parsed, file=file, batch_id=batch_id, outcomes=None, amounts=amounts, bank=bank)
    out: dict[str, pl.Series] = {}
    for key in ("serial", "row_id"):
        if key in rows.columns:
            out[key] = _ints(rows[key], f"the {key}", file=file, lines=lines)
    dup = _first(out[section.key].is_duplicated())
    if dup is not None:
        raise BankFileError(f"{section.key} {out[section.key][dup]} appears twice", file=file, line=int(lines[dup]))
    out.setdefault("row_id", out[section.key])
    return pl.DataFrame(out).with_columns(
        account=rows["account"],
        name=rows["name"],
        id_number=rows["id_number"] if "id_number" in rows.columns else pl.lit(""),
        amount_fen=amounts,
        batch_id=pl.lit(batch_id or None, dtype=pl.String),
    )


def read_result(
    data: bytes, layout: BankLayout, *, file: str, batch_id: str, sent: pl.DataFrame, bank: str | None = None
) -> pl.DataFrame:
    """Read a result file of a batch, checked whole against the rows sent (and, when ``bank`` is given, against the
    paying bank its header names).

    Args:
        data: The file's bytes.
        layout: The bank's layout.
        file: The file name, for messages.
        batch_id: The batch the file answers.
        sent: The order's rows as written: ``row_id``, ``serial`` (when the layout uses serials), ``account``,
            ``amount_fen``.

    Returns:
        The frame of [`yikatong.ports.Bank.results`][]
        ([`RESULT_SCHEMA`][yikatong.adapters.bankfile.reader.RESULT_SCHEMA]), in file order; a ``reversed`` row (退汇)
        carries its reason code like a failed one.

    Raises:
        BankFileError: when anything of the file does not add up; nothing of it is returned then.
    """
    section = layout.result
    parsed = parse(section, data, file=file)
    rows = parsed.rows
    lines = rows["line"]
    outcomes = _status(section, parsed, file=file)
    amounts = parse_amount(rows["amount"], section.amount_unit, what="the amount", file=file, lines=lines)
    _check_controls(section, parsed, file=file, batch_id=batch_id, outcomes=outcomes, amounts=amounts, bank=bank)
    joined, _ = _match(section, parsed, sent, file=file, what=f"order of batch {batch_id}")
    differs = _first(amounts != joined["amount_fen"])
    if differs is not None:
        raise BankFileError("the amount differs from the order", file=file, line=int(lines[differs]))
    code = _reason_codes(rows)
    known = code.replace_strict(section.reasons, default=None, return_dtype=pl.String)
    text = rows["reason"] if "reason" in rows.columns else pl.Series([""] * rows.height, dtype=pl.String)
    frame = pl.DataFrame(
        {
            "row_id": joined["row_id"],
            "outcome": outcomes,
            "amount_fen": amounts,
            "code": code,
            "known": known,
            "t": text,
        }
    )
    failed = pl.col("outcome").is_in(["failed", "reversed"])
    return frame.select(
        pl.col("row_id").cast(pl.Int64),
        "outcome",
        "amount_fen",
        reason_code=pl.when(failed).then(pl.col("code")),
        reason=pl.when(pl.col("t") != "")
        .then(pl.col("t"))
        .when(failed)
        .then(pl.coalesce("known", "code", pl.lit("未说明原因")))
        .otherwise(pl.lit("")),
    )


def read_verify_request(data: bytes, layout: BankLayout, *, file: str, bank: str | None = None) -> pl.DataFrame:
    """Read a verification request (the bank's side): ``row_id``, ``serial`` (when present), ``account``, ``name``,
    ``id_number``, and ``request_id`` (from the header or trailer, null when absent).

    Raises:
        BankFileError: when the file does not fit the layout or its count does not add up.
    """
    section = layout.verify_request
    parsed = parse(section, data, file=file)
    rows = parsed.rows
    request_id = parsed.header.get("batch_id", parsed.trailer.get("batch_id", ""))
    _check_controls(section, parsed, file=file, batch_id=request_id, outcomes=None, amounts=None, bank=bank)
    out: dict[str, pl.Series] = {}
    for key in ("serial", "row_id"):
        if key in rows.columns:
            out[key] = _ints(rows[key], f"the {key}", file=file, lines=rows["line"])
    out.setdefault("row_id", out[section.key])
    return pl.DataFrame(out).with_columns(
        account=rows["account"],
        name=rows["name"],
        id_number=rows["id_number"],
        request_id=pl.lit(request_id or None, dtype=pl.String),
    )


def read_verify_response(
    data: bytes, layout: BankLayout, *, file: str, request_id: str, sent: pl.DataFrame, bank: str | None = None
) -> pl.DataFrame:
    """Read a verification response, checked whole: every requested row answered exactly once, nothing else.

    Returns:
        [`VERIFY_SCHEMA`][yikatong.adapters.bankfile.reader.VERIFY_SCHEMA]: ``row_id``, ``verified``, ``reason`` (null
        when verified), one row per requested row.

    Raises:
        BankFileError: when the file does not add up, answers a row twice, answers an unknown row or leaves a
            requested row unanswered.
    """
    section = layout.verify_response
    parsed = parse(section, data, file=file)
    rows = parsed.rows
    outcomes = _status(section, parsed, file=file)
    _check_controls(section, parsed, file=file, batch_id=request_id, outcomes=None, amounts=None, bank=bank)
    joined, _ = _match(section, parsed, sent, file=file, what=f"verification request {request_id}")
    if rows.height != sent.height:
        raise BankFileError(f"the response answers {rows.height} of {sent.height} requested rows", file=file)
    code = _reason_codes(rows)
    known = code.replace_strict(section.reasons, default=None, return_dtype=pl.String)
    text = rows["reason"] if "reason" in rows.columns else pl.Series([""] * rows.height, dtype=pl.String)
    frame = pl.DataFrame({"row_id": joined["row_id"], "ok": outcomes == "verified", "c": code, "k": known, "t": text})
    return frame.select(
        pl.col("row_id").cast(pl.Int64),
        verified=pl.col("ok"),
        reason=pl.when(~pl.col("ok")).then(
            pl.when(pl.col("t") != "").then(pl.col("t")).otherwise(pl.coalesce("k", "c"))
        ),
    ).sort("row_id")
