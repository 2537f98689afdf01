"""The subsidy catalogue 一张清单: every item, its department, legal basis, standard and rule parameters.

The catalogue is untrusted input (a TOML file edited by people), so it is parsed with pydantic; a bad entry raises
[`CatalogError`][yikatong.errors.CatalogError] naming the item and the field. Amounts are written in yuan as strings
(``"100.00"``) or integers and held as integer fen.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from yikatong._catalog_problems import problems_of, show_value
from yikatong.catalog_rules import ItemRule, check_item_rules, check_param_names, is_known_code, item_parameters
from yikatong.codes import Severity
from yikatong.errors import CatalogError, CatalogProblem, UnknownItem
from yikatong.money import parse_yuan

__all__ = [
    "CONTROLS",
    "REFERENCE_LISTS",
    "Catalog",
    "ControlName",
    "FixedStandard",
    "HolderNameThresholds",
    "ItemRule",
    "RateStandard",
    "ReferenceListName",
    "Rounding",
    "Standard",
    "SubsidyItem",
    "TableStandard",
]

ReferenceListName = Literal["deceased", "public_employee", "disabled", "supported", "dibao", "registered_poor"]
REFERENCE_LISTS: tuple[ReferenceListName, ...] = (
    "deceased",
    "public_employee",
    "disabled",
    "supported",
    "dibao",
    "registered_poor",
)
ControlName = Literal[
    "registry",
    "ledger",
    "bank_verification",
    "deceased",
    "public_employee",
    "disabled",
    "supported",
    "dibao",
    "registered_poor",
]
"""A control validation can run: the account registry, the payment ledger, the bank's account verification
(联网核查), or one of the reference lists."""
CONTROLS: tuple[ControlName, ...] = ("registry", "ledger", "bank_verification", *REFERENCE_LISTS)
"""Every control validation can run, in catalogue order (a [`ControlName`][yikatong.catalog.ControlName] each)."""
Rounding = Literal["half_up", "down", "up"]


def _to_fen(value: Any) -> Any:
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        return parse_yuan(value)
    return value


Fen = Annotated[int, BeforeValidator(_to_fen), Field(ge=0)]
"""An amount written in yuan in the file, held as integer fen."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FixedStandard(_Model):
    """Every payee gets the same amount per period."""

    kind: Literal["fixed"] = "fixed"
    amount: Fen


class RateStandard(_Model):
    """A rate per unit times the row's ``quantity`` (mu of land, months, persons).

    The product is computed exactly in integer arithmetic and rounded to the fen by ``rounding``.
    """

    kind: Literal["rate"] = "rate"
    rate: Fen
    unit_name: str = "亩"
    rounding: Rounding = "half_up"
    max_quantity: Annotated[float | None, Field(gt=0)] = None


class TableStandard(_Model):
    """An amount per category (e.g. disability grade, supported-person level), read from the row's ``category``."""

    kind: Literal["table"] = "table"
    amounts: dict[str, Fen]

    @field_validator("amounts")
    @classmethod
    def _not_empty(cls, value: dict[str, int]) -> dict[str, int]:
        if not value:
            raise ValueError("表格标准至少需要一个类别 / a table standard needs at least one category")
        return value


Standard = Annotated[FixedStandard | RateStandard | TableStandard, Field(discriminator="kind")]


class HolderNameThresholds(_Model):
    """Fuzzy-score thresholds (0–100) for ``HOLDER_NAME_MISMATCH``: below ``block_below`` blocks, below
    ``review_below`` asks for review."""

    block_below: float = Field(default=60.0, ge=0, le=100)
    review_below: float = Field(default=100.0, ge=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> HolderNameThresholds:
        if self.block_below > self.review_below:
            raise ValueError("block_below 不能大于 review_below / block_below must not exceed review_below")
        return self


class SubsidyItem(_Model):
    """One subsidy item of the catalogue and the parameters its rules use."""

    code: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{0,31}$")]
    name: Annotated[str, Field(min_length=1)]
    department: Annotated[str, Field(min_length=1)]
    legal_basis: str = ""
    unit: Literal["person", "household"] = "person"
    period: Literal["month", "quarter", "year", "once"] = "month"
    standard: Standard
    cap_per_period: Fen | None = None
    cap_per_year: Fen | None = None
    age_min: Annotated[int | None, Field(ge=0, le=150)] = None
    age_max: Annotated[int | None, Field(ge=0, le=150)] = None
    means_tested: bool = False
    requires_lists: tuple[ReferenceListName, ...] = ()
    excludes_lists: tuple[ReferenceListName, ...] = ()
    mandatory_controls: tuple[ControlName, ...] = ()
    exclusive_with: tuple[str, ...] = ()
    severity: dict[str, Severity] = Field(default_factory=dict)
    holder_name: HolderNameThresholds = HolderNameThresholds()
    allow_latin_names: bool = False
    outlier_factor: Annotated[float, Field(gt=1)] = 3.0
    max_payees_per_household: Annotated[int | None, Field(ge=1)] = None
    correction_days: Annotated[int | None, Field(ge=1)] = None
    retention_years: Annotated[int | None, Field(ge=1, le=100)] = None
    """Years the payee detail (names, ID numbers, accounts) of the item's finished batches is kept; afterwards
    ``purge`` may remove it, keeping totals and the audit log. None (the default) keeps it for ever."""
    filed_by: Literal["department", "town"] = "department"
    """Who files the item's batches: ``town`` lets a town user create, submit and request funding for batches of
    its own residents (乡镇提交拨款申请); the department keeps every power it has either way."""
    objection_contact: Annotated[str, Field(max_length=200)] = ""
    """Where a resident raises an objection about the item's payments (an office, its window or telephone); the
    resident look-up shows it beside the department and town. Empty: the host's default contact."""
    params: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")], int | float | str | bool] = Field(
        default_factory=dict
    )
    """The item's own parameters, named in its rules' checks (``max_area_mu = 50``)."""
    rules: tuple[ItemRule, ...] = ()
    """The item's own rules (see [`yikatong.catalog_rules`][])."""

    @field_validator("params")
    @classmethod
    def _param_names(cls, value: dict[str, int | float | str | bool]) -> dict[str, int | float | str | bool]:
        check_param_names(list(value))
        return value

    @field_validator("severity")
    @classmethod
    def _known_codes(cls, value: dict[str, Severity]) -> dict[str, Severity]:
        unknown = sorted(code for code in value if not is_known_code(code))
        if unknown:
            raise ValueError(
                f"未知的规则代码：{', '.join(unknown)}（本地规则代码以 X_ 开头） / unknown rule code(s): "
                f"{', '.join(unknown)} (local codes start with X_)"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> SubsidyItem:
        if self.age_min is not None and self.age_max is not None and self.age_min > self.age_max:
            raise ValueError("age_min 不能大于 age_max / age_min must not exceed age_max")
        both = set(self.requires_lists) & set(self.excludes_lists)
        if both:
            names = ", ".join(sorted(both))
            raise ValueError(f"名单既被要求又被排除：{names} / list(s) both required and excluded: {names}")
        if self.code in self.exclusive_with:
            raise ValueError("项目不能与自身互斥 / an item cannot be exclusive with itself")
        if (
            self.cap_per_period is not None
            and self.cap_per_year is not None
            and self.cap_per_period > self.cap_per_year
        ):
            raise ValueError("cap_per_period 不能大于 cap_per_year / cap_per_period must not exceed cap_per_year")
        return self

    @property
    def required_controls(self) -> tuple[ControlName, ...]:
        """The controls validation must have for this item: its ``mandatory_controls``, and the lists it requires
        or excludes (without them ``LIST_REQUIRED_MISSING`` / ``LIST_EXCLUDED_PRESENT`` could not judge anyone).
        A missing one is ``CONTROL_MISSING`` unless finance waived it for the batch."""
        return tuple(dict.fromkeys((*self.mandatory_controls, *self.requires_lists, *self.excludes_lists)))

    @model_validator(mode="after")
    def _rules_compile(self) -> SubsidyItem:
        check_item_rules(self.rules, self.parameters())
        return self

    def parameters(self) -> dict[str, int | float | str | bool]:
        """What the item's rule checks may name besides columns: ``standard_fen`` or ``rate_fen`` and
        ``max_quantity``, ``cap_per_period_fen``, ``cap_per_year_fen``, ``age_min``, ``age_max`` where set (amounts in
        fen), then the item's own ``params``."""
        return item_parameters(self)

    def severity_of(self, code: str, default: Severity) -> Severity:
        """The severity of rule ``code`` for this item: the catalogue's override, else ``default``."""
        return self.severity.get(code, default)


_STANDARD_KINDS = frozenset({"fixed", "rate", "table"})


def _unknown_exclusive(code: str, other: str) -> CatalogProblem:
    return CatalogProblem(code, "exclusive_with", show_value(other), "清单中无此项目", "no such item in the catalogue")


class Catalog(_Model):
    """The subsidy catalogue: items by code.

    Load it with [`Catalog.from_toml`][yikatong.Catalog.from_toml] or [`Catalog.from_dict`][yikatong.Catalog.from_dict];
    look items up with ``catalog["GLJT"]``.
    """

    items: dict[str, SubsidyItem]

    @model_validator(mode="after")
    def _cross_references(self) -> Catalog:
        for code, item in self.items.items():
            for other in item.exclusive_with:
                if other not in self.items:
                    raise CatalogError(str(_unknown_exclusive(code, other)))
        return self

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Catalog:
        """Build a catalogue from the parsed TOML structure ``{"item": [{...}, ...]}``.

        Every item is checked before anything is refused, so one error lists every problem of the file.

        Raises:
            CatalogError: listing every problem (its ``problems``), each naming the item, the field and the value.
        """
        raw_items = data.get("item")
        if not isinstance(raw_items, list) or not raw_items:
            raise CatalogError("清单中没有补贴项目 [[item]] / the catalogue has no [[item]] entries")
        items: dict[str, SubsidyItem] = {}
        problems: list[CatalogProblem] = []
        for index, raw in enumerate(raw_items, start=1):
            code = raw.get("code") if isinstance(raw, dict) else None
            label = code if isinstance(code, str) and code else f"#{index}"
            if not isinstance(raw, dict):
                problems.append(CatalogProblem(label, "(item)", show_value(raw), "须为表 [[item]]", "must be a table"))
                continue
            try:
                item = SubsidyItem.model_validate(raw)
            except ValidationError as exc:
                problems += problems_of(exc, item=label, tags=_STANDARD_KINDS)
                continue
            if item.code in items:
                problems.append(
                    CatalogProblem(label, "code", show_value(item.code), "项目代码重复", "duplicate item code")
                )
            items[item.code] = item
        problems += [
            _unknown_exclusive(code, other)
            for code, item in items.items()
            for other in item.exclusive_with
            if other not in items and other not in {str(r.get("code")) for r in raw_items if isinstance(r, dict)}
        ]
        if problems:
            raise CatalogError.of(problems)
        return cls(items=items)

    @classmethod
    def from_toml(cls, path: str | Path) -> Catalog:
        """Load a catalogue from a TOML file.

        Raises:
            CatalogError: when the file is not valid TOML or an item is invalid.
            FileNotFoundError: when the file does not exist.
        """
        p = Path(path)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise CatalogError(f"{p.name}：不是有效的 TOML / {p.name}: not valid TOML: {exc}") from None
        except UnicodeDecodeError:
            raise CatalogError(f"{p.name}：不是 UTF-8 文本 / {p.name}: not UTF-8 text") from None
        return cls.from_dict(data)

    @classmethod
    def example(cls) -> Catalog:
        """The example catalogue shipped inside the package (``yikatong/data/catalog.toml``).

        It holds the items of Xiushan county used by the demo, the synthetic data and the documentation (a fixed
        amount, a rate per mu, tables by category, means-tested allowances). Copy it as a starting point for a
        county's own catalogue (``yikatong catalog example`` prints it); every command-line default uses it, so the
        installed package runs without any file of its own.
        """
        source = resources.files("yikatong").joinpath("data/catalog.toml")
        return cls.from_dict(tomllib.loads(source.read_text(encoding="utf-8")))

    def __getitem__(self, code: str) -> SubsidyItem:
        try:
            return self.items[code]
        except KeyError:
            raise UnknownItem(f"清单中无此补贴项目：{code} / unknown subsidy item {code!r}") from None

    def __contains__(self, code: object) -> bool:
        return code in self.items

    def __iter__(self) -> Iterator[SubsidyItem]:  # type: ignore[override]
        return iter(self.items.values())

    def __len__(self) -> int:
        return len(self.items)
