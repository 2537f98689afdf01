"""The generated parts of ``docs/domain.md``: the rule catalogue and the row statuses, written from the code.

The page is prose written by hand with blocks between ``<!-- generated: NAME -->`` and ``<!-- end generated: NAME
-->`` markers; :func:`render_domain` refills every block from the code and leaves the prose as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

from yikatong.codes import CODES_BY_FAMILY
from yikatong.rules import RULES, Rule
from yikatong.workflow.statuses import FINAL_STATUSES, LEGAL_MOVES, ROW_STATUSES

__all__ = ["BLOCKS", "render_domain", "rule_table", "status_table"]

_FAMILIES = {
    "ingestion": "导入与规范化 ingestion and normalisation",
    "identity": "身份 identity",
    "accounts": "一人一卡 accounts",
    "duplicates": "重复与资格 duplicates and eligibility",
    "amounts": "金额 amounts",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def rule_table(rules: Sequence[Rule] = RULES) -> str:
    """Every rule of the library by family: code, default severity, Chinese and English message."""
    by_code = {r.code: r for r in rules}
    lines = ["| family | code | severity | 说明 | message |", "|---|---|---|---|---|"]
    for family, codes in CODES_BY_FAMILY.items():
        for code in codes:
            rule = by_code.get(code)
            if rule is None:
                continue
            scope = " (batch)" if rule.batch_level else ""
            lines.append(
                f"| {_FAMILIES.get(family, family)} | `{code}` | {rule.severity}{scope} | {_cell(rule.message_zh)} "
                f"| {_cell(rule.message_en)} |"
            )
    return "\n".join(lines)


def status_table() -> str:
    """Every row status, where it may move next, and whether a row may end there."""
    lines = ["| status | may move to | final |", "|---|---|---|"]
    for status in ROW_STATUSES:
        after = [to for frm, to in LEGAL_MOVES if frm == status]
        moves = ", ".join(f"`{to}`" for to in after) or "—"
        lines.append(f"| `{status}` | {moves} | {'yes' if status in FINAL_STATUSES else ''} |")
    return "\n".join(lines)


BLOCKS: dict[str, Callable[[], str]] = {"rules": rule_table, "statuses": status_table}
"""Block name → the function writing its content."""


def render_domain(path: Path) -> str:
    """The page at ``path`` with every generated block refilled from the code.

    Raises:
        ValueError: when a block's markers are missing from the page.
    """
    text = path.read_text(encoding="utf-8")
    for name, render in BLOCKS.items():
        pattern = re.compile(rf"<!-- generated: {name} -->\n.*?<!-- end generated: {name} -->", re.S)
        if not pattern.search(text):
            raise ValueError(f"{path.name}: no generated block {name!r}")
        block = f"<!-- generated: {name} -->\n{render()}\n<!-- end generated: {name} -->"
        text = pattern.sub(block.replace("\\", "\\\\"), text)
    return text
