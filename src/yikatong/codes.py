"""The stable rule codes of the rule catalogue (``docs/domain.md``), grouped by family.

These strings are a public contract: host systems store and filter on them. Never rename one.
"""

from __future__ import annotations

from typing import Final, Literal

__all__ = ["ALL_CODES", "CODES_BY_FAMILY", "Severity"]

Severity = Literal["block", "review", "fix"]

CODES_BY_FAMILY: Final[dict[str, tuple[str, ...]]] = {
    "ingestion": (
        "ROW_MALFORMED",
        "TEXT_ENCODING",
        "ID_EXCEL_MANGLED",
        "ID_NORMALISED",
        "NAME_NORMALISED",
        "TEXT_INVALID",
    ),
    "identity": (
        "ID_MISSING",
        "ID_FORMAT",
        "ID_15_DIGIT",
        "ID_CHECKSUM",
        "ID_BIRTH_DATE",
        "ID_REGION_UNKNOWN",
        "ID_SEX_MISMATCH",
        "AGE_NOT_ELIGIBLE",
        "NAME_INVALID",
    ),
    "accounts": (
        "ACCOUNT_NOT_REGISTERED",
        "ACCOUNT_MISMATCH",
        "ACCOUNT_INACTIVE",
        "ACCOUNT_FORMAT",
        "ACCOUNT_LUHN",
        "HOLDER_NAME_MISMATCH",
        "ACCOUNT_SHARED",
        "PERSON_MULTIPLE_ACCOUNTS",
        "BANK_VERIFY_FAILED",
    ),
    "duplicates": (
        "DUP_IN_BATCH",
        "DUP_ALREADY_PAID",
        "DUP_EXCLUSIVE_ITEMS",
        "DUP_NEAR",
        "DECEASED",
        "DECEASED_DURING_PERIOD",
        "PUBLIC_EMPLOYEE",
        "LIST_REQUIRED_MISSING",
        "LIST_EXCLUDED_PRESENT",
    ),
    "amounts": (
        "AMOUNT_INVALID",
        "AMOUNT_STANDARD_MISMATCH",
        "AMOUNT_OVER_CAP",
        "AMOUNT_OUTLIER",
        "BATCH_TOTAL_MISMATCH",
    ),
    "controls": ("CONTROL_MISSING",),
}

ALL_CODES: Final[frozenset[str]] = frozenset(c for codes in CODES_BY_FAMILY.values() for c in codes)
