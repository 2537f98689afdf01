"""The state diagram in docs/ is generated from the machine; a stale committed copy fails this test."""

from __future__ import annotations

from pathlib import Path

from scripts.generate_docs import GENERATED, stale

from yikatong.workflow import LEGAL_MOVES, TRIGGERS
from yikatong.workflow.diagram import render_row_diagram, render_state_diagram, state_diagram_markdown

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_state_diagram_is_up_to_date() -> None:
    path = ROOT / "docs" / "state-diagram.md"
    assert path.read_text(encoding="utf-8") == state_diagram_markdown(), "run: python -m scripts.generate_docs"


def test_no_generated_doc_is_stale() -> None:
    assert "docs/state-diagram.md" in GENERATED
    assert stale(ROOT) == []


def test_a_changed_file_is_reported_stale(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "state-diagram.md").write_text("old", encoding="utf-8")
    assert "docs/state-diagram.md" in stale(tmp_path)


def test_the_diagram_shows_every_trigger_with_its_roles() -> None:
    diagram = render_state_diagram()
    assert diagram.startswith("stateDiagram-v2\n")
    for trigger in TRIGGERS:
        assert f": {trigger} (" in diagram
    assert "send_back (finance) [reason]" in diagram
    assert "confirm_reviews (department) [maker-checker]" in diagram


def test_the_row_diagram_shows_every_legal_move_and_the_expiry() -> None:
    diagram = render_row_diagram()
    for source, dest in LEGAL_MOVES:
        assert f"    {source} --> {dest}\n" in diagram
    assert "returned --> expired" in diagram
    assert "expired --> returned" in diagram
    assert "## Row statuses" in state_diagram_markdown()
