"""The rule catalogue as Markdown, generated from the rules themselves so the docs cannot drift from the code."""

from __future__ import annotations

from collections.abc import Sequence

from yikatong.codes import CODES_BY_FAMILY
from yikatong.rules._rule import Rule

__all__ = ["render_rule_catalogue"]

_FAMILY_TITLES = {
    "ingestion": "Ingestion and normalisation 导入与规范化",
    "identity": "Identity 身份 (GB 11643-1999)",
    "accounts": "Accounts 一人一卡",
    "duplicates": "Duplicates and eligibility 重复与资格",
    "amounts": "Amounts 金额",
    "controls": "Mandatory controls 必需的控制",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_rule_catalogue(rules: Sequence[Rule]) -> str:
    """Render every rule as a Markdown table per family: code, default severity, needs, Chinese and English message.

    Codes of ``codes.py`` that no rule implements are listed at the end, so a gap is visible in the docs.
    """
    by_code = {r.code: r for r in rules}
    lines = [
        "# Rule catalogue 规则目录",
        "",
        "Generated from the code by `scripts/generate_docs.py`; do not edit by hand.",
        "Severity is the default: `block` stops the row, `review` needs a department decision with a reason,",
        "`fix` was normalised automatically and recorded. An item's catalogue entry may override it",
        "(`[item.severity]`).",
        "",
    ]
    missing: list[str] = []
    for family, codes in CODES_BY_FAMILY.items():
        lines += [f"## {_FAMILY_TITLES.get(family, family)}", ""]
        lines += ["| code | severity | needs | 说明 | message |", "|---|---|---|---|---|"]
        for code in codes:
            rule = by_code.get(code)
            if rule is None:
                missing.append(code)
                continue
            needs = ", ".join([*(f"`{c}`" for c in rule.columns), *(f"*{i}*" for i in rule.inputs)]) or "—"
            scope = " (batch)" if rule.batch_level or rule.key == "batch" else ""
            lines.append(
                f"| `{code}` | {rule.severity}{scope} | {needs} | {_cell(rule.message_zh)} | {_cell(rule.message_en)} |"
            )
        lines.append("")
    if missing:
        lines += ["## Not yet implemented", "", ", ".join(f"`{c}`" for c in missing), ""]
    return "\n".join(lines)
