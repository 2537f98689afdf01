"""docs/domain.md is in the repository, speaks for the code, and is the only domain document the code cites."""

from __future__ import annotations

import re
from pathlib import Path

from scripts.domain_doc import render_domain

from yikatong.actors import ROLES
from yikatong.rules import RULES
from yikatong.workflow.statuses import ROW_STATUSES

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = ROOT / "docs" / "domain.md"


def test_the_domain_page_lists_every_rule_role_and_status_of_the_code() -> None:
    text = DOMAIN.read_text(encoding="utf-8")
    for rule in RULES:
        assert f"`{rule.code}`" in text, rule.code
    for role in ROLES:
        assert f"`{role}`" in text, role
    for status in ROW_STATUSES:
        assert f"| `{status}` |" in text, status


def test_the_generated_blocks_are_refilled_and_the_prose_kept(tmp_path: Path) -> None:
    page = tmp_path / "domain.md"
    page.write_text(
        "# Prose\n\n<!-- generated: rules -->\nA STALE TABLE\n<!-- end generated: rules -->\n\nMore prose \\d.\n\n"
        "<!-- generated: statuses -->\n<!-- end generated: statuses -->\n",
        encoding="utf-8",
    )
    text = render_domain(page)
    assert text.startswith("# Prose\n\n<!-- generated: rules -->\n| family | code |")
    assert "A STALE TABLE" not in text
    assert "More prose \\d." in text
    assert "| `pending` | `passed`, `review`, `blocked`, `withdrawn` |  |" in text


def test_the_code_cites_the_domain_page_by_its_path_in_the_repository() -> None:
    cited, loose = [], []
    for path in [*(ROOT / "src").rglob("*.py"), *(ROOT / "scripts").rglob("*.py"), ROOT / "README.md"]:
        text = path.read_text(encoding="utf-8")
        cited += re.findall(r"docs/domain\.md", text)
        loose += [str(path.relative_to(ROOT)) for _ in re.finditer(r'(?<![/\w"])domain\.md', text)]
    assert loose == []
    assert len(cited) >= 10
