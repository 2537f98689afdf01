"""The exception hierarchy.

Every error subclasses the built-in exception a caller would already catch (``ValueError`` for bad input,
``PermissionError`` for refused actions, ``KeyError`` for unknown names), so host systems need not import
yikatong to handle them. Messages name the file, row, field or rule at fault, never a full ID or account number.
"""

from __future__ import annotations

from collections.abc import Iterable

from attrs import frozen

__all__ = [
    "BankFileError",
    "BankLayoutError",
    "CatalogError",
    "CatalogProblem",
    "DisclosureError",
    "IllegalTransition",
    "PeriodKindError",
    "PermissionDenied",
    "ReconciliationError",
    "ReferenceDataError",
    "RosterFormatError",
    "StoreError",
    "UnknownItem",
    "WithdrawalRefused",
    "YikatongError",
]


class YikatongError(Exception):
    """Base class of every error the library raises on purpose."""


class RosterFormatError(YikatongError, ValueError):
    """A roster source cannot be read as a whole: unknown format, empty file, no recognisable ID column.

    Row-level problems never raise: they become rows carrying an issue. This error is for problems that leave
    no row to report on. The message states the problem in Chinese and in English.

    Attributes:
        problem: A stable machine-readable code (``unknown_format``, ``empty``, ``no_id_column``,
            ``unreadable``, ``bad_mapping``).
    """

    def __init__(self, problem: str, message_zh: str, message_en: str) -> None:
        self.problem = problem
        self.message_zh = message_zh
        self.message_en = message_en
        super().__init__(f"{message_zh} / {message_en}")


@frozen
class CatalogProblem:
    """One thing wrong in a catalogue, in the catalogue's own words.

    Attributes:
        item: The item's code as written (``#3`` for the third item when it has no usable code; empty for the
            file as a whole).
        field: The field's path as written in the file (``standard.amount``; ``(item)`` for the item as a whole).
        value: The value found, as TOML would show it (``"-5"``), or None when the field is missing.
        message_zh: What is wrong, in Chinese.
        message_en: The same in English.
    """

    item: str
    field: str
    value: str | None
    message_zh: str
    message_en: str

    def __str__(self) -> str:
        where_zh = f"项目 {self.item} 字段 {self.field}" if self.item else f"字段 {self.field}"
        where_en = f"item {self.item}, field {self.field}" if self.item else f"field {self.field}"
        if self.value is not None:
            where_zh, where_en = f"{where_zh} 值 {self.value}", f"{where_en}, value {self.value}"
        return f"{where_zh}：{self.message_zh} / {where_en}: {self.message_en}"


class CatalogError(YikatongError, ValueError):
    """The subsidy catalogue is invalid; the message lists every problem found, naming item, field and value.

    Attributes:
        problems: Every problem found, in file order (empty when the file as a whole cannot be read: not TOML, not
            UTF-8, no items).
    """

    def __init__(self, message: str, problems: Iterable[CatalogProblem] = ()) -> None:
        self.problems = tuple(problems)
        super().__init__(message)

    @classmethod
    def of(cls, problems: Iterable[CatalogProblem]) -> CatalogError:
        """The error listing ``problems``, one a line, after a count."""
        found = tuple(problems)
        lines = "\n".join(str(p) for p in found)
        return cls(f"补贴清单有 {len(found)} 处错误 / the catalogue has {len(found)} problem(s):\n{lines}", found)


class UnknownItem(YikatongError, KeyError):
    """An item code that the catalogue does not contain."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "unknown item"


class PeriodKindError(YikatongError, ValueError):
    """A period of another kind than the item's catalogue entry pays (a quarter for a monthly item); the message
    names the item, its kind and the period, in Chinese and in English."""


class ReferenceDataError(YikatongError, ValueError):
    """A reference list, registry or ledger input is unusable; the message names the file and column."""


class PermissionDenied(YikatongError, PermissionError):
    """An actor tried something its role, jurisdiction or the maker-checker rule does not allow."""


class IllegalTransition(YikatongError, ValueError):
    """A batch trigger or a row-status move that the life cycle does not allow from the current state."""


class ReconciliationError(YikatongError, ValueError):
    """A bank result that cannot be applied: unknown row, different amount, contradicting a final result."""


class StoreError(YikatongError, RuntimeError):
    """The store cannot be opened or used: not a yikatong store, a newer schema, or a failed write."""


class BankFileError(ReconciliationError):
    """A bank exchange file (代发 order, result or verification file) refused as a whole.

    Raised when an order cannot be written as the layout says, or when a file coming back from the bank does not
    add up: wrong control total or count, unknown or duplicate rows, a truncated last line, the wrong encoding.
    Nothing of a refused file is applied. The message names the file and the line, never a full ID or account.

    Attributes:
        file: Name of the file at fault.
        line: 1-based line number, or ``None`` when the problem is the file as a whole.
    """

    def __init__(self, message: str, *, file: str, line: int | None = None) -> None:
        self.file = file
        self.line = line
        where = file if line is None else f"{file}, line {line}"
        super().__init__(f"{where}: {message}")


class WithdrawalRefused(YikatongError, ValueError):
    """The bank refused to withdraw an order: its money has arrived (the batch is funded) or it was already paid.

    The order stands; the batch goes on to payment.
    """


class BankLayoutError(YikatongError, ValueError):
    """A bank file layout (TOML) is invalid; the message names the layout file and the field."""


class DisclosureError(YikatongError, ValueError):
    """A public notice that would publish personal data (an unmasked name, an ID, account or phone number), or
    that cannot be written; the message names the batch, town and village, never the value."""
