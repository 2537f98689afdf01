"""Header mapping: the column titles found in real rosters, to the canonical roster columns.

Titles are compared after ``normalise_header`` (NFKC, so full-width brackets and letters become ASCII; every
space removed; lower case; a trailing ``*`` required-field marker dropped). A title that does not match as a whole
is tried once more without its parenthesised parts, so ``补贴金额(元)`` and ``身份证号码（18位）`` are recognised.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Final

from yikatong.errors import RosterFormatError

__all__ = ["ALIASES", "HEADER_SCAN", "TARGETS", "header_index", "normalise_header", "resolve_columns"]

TARGETS: Final = (
    "name",
    "id_number",
    "sex",
    "account",
    "amount",
    "quantity",
    "category",
    "town",
    "village",
    "household_head_id",
    "item",
)
"""Canonical columns a source column can feed (``amount`` fills ``amount_raw`` and ``amount_fen``)."""

_TARGET_SYNONYMS: Final = {"amount_raw": "amount"}

HEADER_SCAN: Final = 20
"""How many leading non-empty lines may precede the header (a title such as 某某镇高龄津贴发放花名册, a date line)."""

_ALIAS_LISTS: Final[dict[str, tuple[str, ...]]] = {
    "name": ("姓名", "户主姓名", "补贴对象姓名", "名字", "name", "姓名/名称"),
    "id_number": (
        "身份证号",
        "身份证号码",
        "身份证",
        "公民身份号码",
        "公民身份证号码",
        "证件号码",
        "证件号",
        "id",
        "id_number",
        "idnumber",
        "id_no",
        "idno",
    ),
    "sex": ("性别", "sex", "gender"),
    "account": (
        "一卡通账号",
        "一卡通帐号",
        "一卡通账户",
        "银行账号",
        "银行帐号",
        "银行卡号",
        "账号",
        "帐号",
        "卡号",
        "社保卡号",
        "存折号",
        "account",
        "account_no",
        "bank_account",
    ),
    "amount": ("补贴金额", "金额", "发放金额", "应发金额", "amount", "amount_raw", "amount_yuan"),
    "quantity": ("数量", "面积", "计税面积", "补贴面积", "确权面积", "quantity", "area"),
    "category": ("类别", "等级", "档次", "category", "grade"),
    "town": ("乡镇", "街道", "乡镇(街道)", "乡镇街道", "乡镇/街道", "town", "township"),
    "village": ("村", "村(社区)", "社区", "村社区", "村/社区", "村(居)", "village"),
    "household_head_id": (
        "户主身份证号",
        "户主身份证号码",
        "户主公民身份号码",
        "户主证件号码",
        "household_head_id",
    ),
    "item": ("项目", "项目代码", "补贴项目", "项目编码", "item", "item_code"),
}


def normalise_header(title: str) -> str:
    """The comparable form of a column title: NFKC, no whitespace or zero-width characters, lower case."""
    text = unicodedata.normalize("NFKC", title)
    text = re.sub(r"[\s\u200b-\u200d\ufeff\u2060\"']", "", text).lower()
    return text.rstrip("*")


ALIASES: Final[dict[str, str]] = {
    normalise_header(alias): target for target, aliases in _ALIAS_LISTS.items() for alias in aliases
}
"""Normalised title → canonical column."""


def _match(title: str) -> str | None:
    key = normalise_header(title)
    if key in ALIASES:
        return ALIASES[key]
    bare = re.sub(r"\(.*?\)", "", key)
    return ALIASES.get(bare)


def _target_of(title: str, mapping: Mapping[str, str | None]) -> str | None:
    if title in mapping:
        target = mapping[title]
    else:
        by_form = {normalise_header(k): v for k, v in mapping.items()}
        key = normalise_header(title)
        if key not in by_form:
            return _match(title)
        target = by_form[key]
    return _TARGET_SYNONYMS.get(target, target) if target is not None else None


def header_index(candidates: Sequence[Sequence[str]], mapping: Mapping[str, str | None] | None) -> int:
    """The position among ``candidates`` (the first non-empty rows) of the header: the first row with an ID column.

    Rows before it are a preamble (a title, a date, a unit line), not data. When no row has an ID column, 0: the
    first row is taken as the header and ``resolve_columns`` reports what is wrong with it.
    """
    usable = mapping if isinstance(mapping, Mapping) and all(isinstance(k, str) for k in mapping) else {}
    for k, titles in enumerate(candidates[:HEADER_SCAN]):
        if any(_target_of(t, usable) == "id_number" for t in titles):
            return k
    return 0


def resolve_columns(titles: Sequence[str], mapping: Mapping[str, str | None] | None) -> dict[str, int]:
    """Decide which source column feeds each canonical column.

    Args:
        titles: The source's column titles in order.
        mapping: The caller's own titles → canonical column (or ``None`` to ignore a column the built-in aliases
            would pick up). Given titles are matched exactly first, then in normalised form.

    Returns:
        Canonical column → position in ``titles``.

    Raises:
        RosterFormatError: ``bad_mapping`` when the mapping names a column the source lacks or an unknown target,
            or when two source columns would feed the same canonical column; ``no_id_column`` when no column
            feeds ``id_number``.
    """
    explicit: dict[int, str | None] = {}
    if mapping is not None and (
        not isinstance(mapping, Mapping)
        or not all(isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in mapping.items())
    ):
        raise RosterFormatError(
            "bad_mapping",
            "mapping 必须是“源列名 → 规范列名或 None”的字典",
            "mapping must be a dict of source title → canonical column name or None",
        )
    for given, target in (mapping or {}).items():
        canonical = _TARGET_SYNONYMS.get(target, target) if target is not None else None
        if canonical is not None and canonical not in TARGETS:
            raise RosterFormatError(
                "bad_mapping",
                f"映射的目标列“{target}”不是名单的规范列（可用：{'、'.join(TARGETS)}）",
                f"mapping target {target!r} is not a roster column (use one of {', '.join(TARGETS)})",
            )
        positions = [i for i, t in enumerate(titles) if t == given] or [
            i for i, t in enumerate(titles) if normalise_header(t) == normalise_header(given)
        ]
        if not positions:
            raise RosterFormatError(
                "bad_mapping",
                f"映射中的列“{given}”在文件中不存在",
                f"the mapping names column {given!r}, which the source does not have",
            )
        for i in positions:
            explicit[i] = canonical
    chosen: dict[str, int] = {}
    for i, title in enumerate(titles):
        target = explicit[i] if i in explicit else _match(title)
        if target is None:
            continue
        if target in chosen:
            first = titles[chosen[target]]
            raise RosterFormatError(
                "bad_mapping",
                f"列“{first}”和“{title}”都对应“{target}”，请用 mapping 指定使用哪一列",
                f"columns {first!r} and {title!r} both map to {target!r}; pass mapping= to choose one "
                "(map the other to None)",
            )
        chosen[target] = i
    if "id_number" not in chosen:
        raise RosterFormatError(
            "no_id_column",
            "找不到身份证号列（如“身份证号”“公民身份号码”），可用 mapping 指定",
            "no ID number column found (such as 身份证号 or 公民身份号码); pass mapping= to name it",
        )
    return chosen
