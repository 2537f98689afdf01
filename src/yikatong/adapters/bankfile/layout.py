"""Bank file layouts: how one paying bank wants its 代发 files, described in TOML.

County banks each have their own batch-pay file format. A layout names, for each of the four files of the exchange,
how records look: the outgoing pay order (``order``), the result file coming back (``result``), and the account
verification 联网核查 request and response (``verify_request``, ``verify_response``). Each file is delimited or
fixed width, encoded UTF-8 or GB18030, with an optional header and trailer record carrying the record count and
control total. Fixed widths count **bytes of the encoding**, so a Chinese character takes 2 bytes in GB18030 and 3 in
UTF-8; a value never gets cut, it is refused when it does not fit.

A layout is untrusted input (a file edited by people), so it is parsed with pydantic; a bad one raises
[`BankLayoutError`][yikatong.errors.BankLayoutError] naming the file and the field. Two example layouts ship in the
package (``yikatong/adapters/bankfile/layouts/``, loaded by [`builtin_layout`][yikatong.adapters.builtin_layout]).
"""

from __future__ import annotations

import string
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from yikatong.errors import BankLayoutError

__all__ = [
    "BUILTIN_LAYOUTS",
    "BankLayout",
    "FieldName",
    "FieldSpec",
    "FileSection",
    "RecordSpec",
    "builtin_layout",
    "load_layout",
]

FieldName = Literal[
    "literal",
    "filler",
    "serial",
    "row_id",
    "account",
    "name",
    "id_number",
    "amount",
    "item",
    "period",
    "memo",
    "batch_id",
    "bank_code",
    "date",
    "count",
    "total",
    "paid_count",
    "paid_total",
    "failed_count",
    "failed_total",
    "reversed_count",
    "reversed_total",
    "status",
    "reason_code",
    "reason",
]
"""What a field carries. ``literal`` is a fixed text (``value``) checked on reading, ``filler`` is ignored on
reading; ``amount``/``total``/``*_total`` are written in the section's ``amount_unit``; in verification files
``batch_id`` carries the request id. ``bank_code`` (header or trailer) carries the code of the paying bank the file is
for or from: a file naming another bank is refused. ``memo`` writes ``value`` with ``{item}``, ``{period}``,
``{batch_id}`` filled."""

_CONTROL_FIELDS: tuple[str, ...] = tuple(
    name for name in get_args(FieldName) if name in ("count", "total") or name.endswith(("_count", "_total"))
)
"""The record counts and control totals (``count``, ``total``, ``paid_count``, …): every one is a number, and every
one belongs in a header or trailer record, never in a detail record."""

NUMERIC_FIELDS: frozenset[str] = frozenset(["serial", "row_id", "amount", *_CONTROL_FIELDS])
_CONSTANT_FIELDS: frozenset[str] = frozenset(["literal", "filler", "memo"])
_DETAIL_ONLY: frozenset[str] = frozenset(
    ["serial", "row_id", "account", "name", "id_number", "amount", "status", "reason_code", "reason"]
)
_SUMMARY_ONLY: frozenset[str] = frozenset(["bank_code", "date", *_CONTROL_FIELDS])


MEMO_PLACEHOLDERS: frozenset[str] = frozenset(["item", "period", "batch_id", "date"])
FILE_NAME_PLACEHOLDERS: frozenset[str] = frozenset(["bank", "batch_id", "request_id", "date", "seq"])


def _check_placeholders(pattern: str, allowed: frozenset[str], what: str) -> None:
    try:
        names = [field for _, field, _, _ in string.Formatter().parse(pattern) if field is not None]
    except ValueError as exc:
        raise ValueError(f"{what} {pattern!r}: {exc}") from None
    unknown = sorted(set(names) - allowed)
    if unknown or any(not n for n in names):
        raise ValueError(f"{what} {pattern!r}: placeholders must be among {sorted(allowed)}, not {unknown or ['{}']}")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(_Model):
    """One field of a record.

    Attributes:
        name: What the field carries ([`FieldName`][yikatong.adapters.bankfile.layout.FieldName]).
        width: Width in bytes of the encoding; required in fixed-width files, ignored in delimited ones.
        align: ``left`` (text, padded on the right) or ``right`` (padded on the left); numbers default to right.
        pad: The single ASCII padding character (``" "``, or ``"0"`` for zero-filled numbers).
        value: The text of a ``literal``, ``filler`` or ``memo`` field.
    """

    name: FieldName
    width: int | None = Field(default=None, ge=1, le=4096)
    align: Literal["left", "right"] | None = None
    pad: str = " "
    value: str | None = None

    @field_validator("pad")
    @classmethod
    def _one_ascii_char(cls, pad: str) -> str:
        if len(pad) != 1 or not pad.isascii() or pad in "\r\n":
            raise ValueError("pad must be one ASCII character")
        return pad

    @model_validator(mode="after")
    def _value_where_needed(self) -> FieldSpec:
        if self.name == "literal" and not self.value:
            raise ValueError("a literal field needs a value")
        if self.value is not None and self.name not in _CONSTANT_FIELDS:
            raise ValueError(f"field {self.name!r} takes its value from the data, not from 'value'")
        if self.name == "memo" and self.value is not None:
            _check_placeholders(self.value, MEMO_PLACEHOLDERS, "memo value")
        elif self.value is not None and ("{" in self.value or "}" in self.value):
            raise ValueError(f"a {self.name} value is written as it is: no {{placeholders}}")
        return self

    @property
    def alignment(self) -> Literal["left", "right"]:
        """The effective alignment: as declared, else right for numbers and left for text."""
        if self.align is not None:
            return self.align
        return "right" if self.name in NUMERIC_FIELDS else "left"


class RecordSpec(_Model):
    """The fields of one record type (header, detail or trailer), in file order."""

    fields: list[FieldSpec] = Field(min_length=1)

    def names(self) -> list[str]:
        """The field names in order."""
        return [f.name for f in self.fields]

    def width(self) -> int:
        """Total width in bytes of a fixed-width record (0 when a field has no width)."""
        return sum(f.width or 0 for f in self.fields) if all(f.width for f in self.fields) else 0


class FileSection(_Model):
    """How one file of the exchange is written.

    Attributes:
        format: ``delimited`` (fields joined by ``separator``) or ``fixed`` (each field ``width`` bytes).
        separator: Field separator of a delimited file (``"|"``, ``","``, ``"\\t"``).
        trailing_separator: Whether each delimited record also ends with the separator (``a|b|c|``).
        encoding: ``utf-8`` or ``gb18030`` (never plain GBK: it lacks characters found in names).
        line_ending: ``crlf`` or ``lf``; every record, the last one included, ends with it.
        amount_unit: Amounts as integer ``fen`` or as ``yuan`` with exactly two decimals.
        date_format: ``strftime`` format of ``date`` fields and of ``{date}`` in file names.
        file_name: File name pattern: ``{bank}`` (the paying bank's code), ``{batch_id}`` (``{request_id}`` for
            verification files), ``{date}`` and, for files coming back, ``{seq}`` (any number: the bank may send
            several partial files).
        header: Optional first record; ``detail``: one record per row; ``trailer``: optional last record.
        statuses: For result and verification response files: the bank's status code → ``paid``/``failed``/
            ``reversed`` (results; ``reversed``: paid, then the money came back, 退汇) or ``verified``/``rejected``
            (verification).
        reasons: The bank's reason code → reason text, used where the file carries no text of its own.
    """

    format: Literal["delimited", "fixed"]
    separator: str | None = None
    trailing_separator: bool = False
    encoding: Literal["utf-8", "gb18030"]
    line_ending: Literal["crlf", "lf"] = "crlf"
    amount_unit: Literal["fen", "yuan"] = "yuan"
    date_format: str = "%Y%m%d"
    file_name: str
    header: RecordSpec | None = None
    detail: RecordSpec
    trailer: RecordSpec | None = None
    statuses: dict[str, Literal["paid", "failed", "reversed", "verified", "rejected"]] = Field(default_factory=dict)
    reasons: dict[str, str] = Field(default_factory=dict)

    @field_validator("file_name")
    @classmethod
    def _plain_file_name(cls, pattern: str) -> str:
        if "/" in pattern or "\\" in pattern or pattern.startswith("."):
            raise ValueError("file_name is a plain file name pattern, without folders")
        _check_placeholders(pattern, FILE_NAME_PLACEHOLDERS, "file_name")
        return pattern

    @model_validator(mode="after")
    def _consistent(self) -> FileSection:
        if self.format == "delimited":
            if not self.separator or any(c in self.separator for c in "\r\n"):
                raise ValueError("a delimited file needs a separator (not a line break)")
        else:
            for where, record in self.records():
                missing = [f.name for f in record.fields if f.width is None]
                if missing:
                    raise ValueError(f"fixed-width {where} fields need a width: {', '.join(missing)}")
                for spec in record.fields:
                    if spec.value is not None and len(spec.value.encode(self.encoding)) > (spec.width or 0):
                        raise ValueError(f"the value of {where} field {spec.name!r} is wider than its width")
        for where, record in self.records():
            data_fields = [n for n in record.names() if n not in _CONSTANT_FIELDS]
            twice = sorted({n for n in data_fields if data_fields.count(n) > 1})
            if twice:
                raise ValueError(f"the {where} record carries {twice} twice")
            bad = set(record.names()) & (_SUMMARY_ONLY if where == "detail" else _DETAIL_ONLY)
            if bad:
                raise ValueError(f"fields {sorted(bad)} do not belong in the {where} record")
        if not {"serial", "row_id"} & set(self.detail.names()):
            raise ValueError("the detail record needs a serial or row_id field to identify rows")
        return self

    def records(self) -> list[tuple[str, RecordSpec]]:
        """The declared records with their role: ``header``, ``detail``, ``trailer``."""
        found = [("header", self.header), ("detail", self.detail), ("trailer", self.trailer)]
        return [(where, record) for where, record in found if record is not None]

    @property
    def eol(self) -> str:
        """The line ending as text."""
        return "\r\n" if self.line_ending == "crlf" else "\n"

    @property
    def key(self) -> Literal["serial", "row_id"]:
        """The detail field that identifies a row: ``serial`` when present, else ``row_id``."""
        return "serial" if "serial" in self.detail.names() else "row_id"


class BankLayout(_Model):
    """The four files one paying bank exchanges: order, result, verification request and response.

    Attributes:
        name: Short name of the layout (used in messages).
        bank: The bank it describes.
        code: The code of the paying bank whose files these are (``CQRCB``, ``PSBC``…): the exchange writes it into
            every file name (``{bank}``) and header (``bank_code``) unless the adapter is given another one.
        description: Free text.
    """

    name: str = Field(min_length=1)
    bank: str = ""
    code: str = Field(default="", pattern=r"^[A-Za-z0-9_-]{0,32}$")
    description: str = ""
    order: FileSection
    result: FileSection
    verify_request: FileSection
    verify_response: FileSection

    @model_validator(mode="after")
    def _sections_fit(self) -> BankLayout:
        for where in ("order", "verify_request"):
            section: FileSection = getattr(self, where)
            if section.statuses:
                raise ValueError(f"{where}: an outgoing file has no statuses")
            if "{seq}" in section.file_name:
                raise ValueError(f"{where}: an outgoing file name has no {{seq}}")
        needed = {"order": {"account", "name", "amount"}, "verify_request": {"account", "name", "id_number"}}
        for where, fields in needed.items():
            lacking = fields - set(getattr(self, where).detail.names())
            if lacking:
                raise ValueError(f"{where}: the detail record needs {sorted(lacking)}")
        mappings: dict[str, tuple[frozenset[str], frozenset[str]]] = {
            "result": (frozenset({"paid", "failed", "reversed"}), frozenset({"paid", "failed"})),
            "verify_response": (frozenset({"verified", "rejected"}), frozenset({"verified", "rejected"})),
        }
        for where, (outcomes, required) in mappings.items():
            section = getattr(self, where)
            if "status" not in section.detail.names():
                raise ValueError(f"{where}: the detail record needs a status field")
            mapped = frozenset(section.statuses.values())
            if not required <= mapped or not mapped <= outcomes:
                raise ValueError(f"{where}: statuses must map the bank's codes to {sorted(outcomes)}")
        if self.result.key != self.order.key:
            raise ValueError(f"result: rows must be identified by {self.order.key!r}, as in the order")
        if self.verify_response.key != self.verify_request.key:
            raise ValueError(f"verify_response: rows must be identified by {self.verify_request.key!r}")
        if "amount" not in self.result.detail.names():
            raise ValueError("result: the detail record needs the amount, to check it against the order")
        return self

    def files_missing_bank(self) -> list[str]:
        """Where the layout does not name the paying bank: each file whose name lacks ``{bank}`` or whose header
        and trailer lack ``bank_code`` (empty when every file names it, as the exchange requires)."""
        missing: list[str] = []
        for where in ("order", "result", "verify_request", "verify_response"):
            section: FileSection = getattr(self, where)
            if "{bank}" not in section.file_name:
                missing.append(f"{where}.file_name {{bank}}")
            summary = [r for r in (section.header, section.trailer) if r is not None]
            if not any("bank_code" in r.names() for r in summary):
                missing.append(f"{where}.header bank_code")
        return missing

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "<layout>") -> BankLayout:
        """Build a layout from parsed TOML.

        Raises:
            BankLayoutError: when the layout is invalid; the message names the source and the field.
        """
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '(layout)'}: {err['msg']}" for err in exc.errors()
            )
            raise BankLayoutError(f"{source}: invalid bank layout: {problems}") from None


def load_layout(path: str | Path) -> BankLayout:
    """Load a bank layout from a TOML file.

    Raises:
        BankLayoutError: when the file is not valid TOML or not a valid layout.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise BankLayoutError(f"{path.name}: cannot read the bank layout: {exc}") from None
    return BankLayout.from_dict(data, source=path.name)


BUILTIN_LAYOUTS: tuple[str, ...] = ("delimited-gb18030", "fixed-width-gb18030")
"""The example layouts shipped inside the package (``yikatong/adapters/bankfile/layouts/``)."""


def builtin_layout(name: str) -> BankLayout:
    """One of the layouts shipped with the package, for demos and rehearsals: see
    [`BUILTIN_LAYOUTS`][yikatong.adapters.bankfile.BUILTIN_LAYOUTS].

    Raises:
        BankLayoutError: when no shipped layout has that name.
    """
    if name not in BUILTIN_LAYOUTS:
        raise BankLayoutError(f"no shipped bank layout {name!r}; shipped: {', '.join(BUILTIN_LAYOUTS)}")
    source = resources.files("yikatong.adapters.bankfile").joinpath(f"layouts/{name}.toml")
    return BankLayout.from_dict(tomllib.loads(source.read_text(encoding="utf-8")), source=f"{name}.toml")
