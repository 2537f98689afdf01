"""yikatong: rules and workflow for 惠民惠农财政补贴资金"一卡通" (one-card subsidy disbursement).

Import what you need from here; everything listed in ``__all__`` is public and stable.
"""

from yikatong import _deprecated
from yikatong.actors import Actor
from yikatong.catalog import (
    Catalog,
    FixedStandard,
    HolderNameThresholds,
    ItemRule,
    RateStandard,
    SubsidyItem,
    TableStandard,
)
from yikatong.errors import (
    BankFileError,
    BankLayoutError,
    CatalogError,
    DisclosureError,
    IllegalTransition,
    PeriodKindError,
    PermissionDenied,
    ReconciliationError,
    ReferenceDataError,
    RosterFormatError,
    StoreError,
    UnknownItem,
    WithdrawalRefused,
    YikatongError,
)
from yikatong.ingest import RosterForm, RosterFormat, RosterSource, read_form, read_roster
from yikatong.money import format_yuan, parse_yuan
from yikatong.period import Period
from yikatong.privacy import mask_account, mask_id, mask_name
from yikatong.rules import Finding, Rule, RuleEnv, ValidationContext, ValidationReport, validate, validate_partitioned
from yikatong.schema import ROSTER_SCHEMA
from yikatong.workflow import Service, build_service

__all__ = [
    "ROSTER_SCHEMA",
    "Actor",
    "BankFileError",
    "BankLayoutError",
    "Catalog",
    "CatalogError",
    "DisclosureError",
    "Finding",
    "FixedStandard",
    "HolderNameThresholds",
    "IllegalTransition",
    "ItemRule",
    "Period",
    "PeriodKindError",
    "PermissionDenied",
    "RateStandard",
    "ReconciliationError",
    "ReferenceDataError",
    "RosterForm",
    "RosterFormat",
    "RosterFormatError",
    "RosterSource",
    "Rule",
    "RuleEnv",
    "Service",
    "StoreError",
    "SubsidyItem",
    "TableStandard",
    "UnknownItem",
    "ValidationContext",
    "ValidationReport",
    "WithdrawalRefused",
    "YikatongError",
    "build_service",
    "format_yuan",
    "mask_account",
    "mask_id",
    "mask_name",
    "parse_yuan",
    "read_form",
    "read_roster",
    "validate",
    "validate_partitioned",
]

__version__ = "0.1.0"

_deprecated.install()
