"""The batch life cycle as a Mermaid state diagram, read from the machine itself so the docs cannot drift."""

from __future__ import annotations

import datetime as dt

from yikatong.records import BatchRecord
from yikatong.workflow.machine import STATES, TRANSITIONS, BatchFlow, build_machine
from yikatong.workflow.statuses import FINAL_STATUSES, LEGAL_MOVES, ROW_STATUSES

__all__ = ["render_row_diagram", "render_state_diagram", "state_diagram_markdown"]

_TERMINAL = ("rejected", "published", "cancelled", "sent_back")


def _edges() -> list[tuple[str, str, str]]:
    epoch = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    probe = BatchRecord(
        batch_id="-",
        item="-",
        period="-",
        department="-",
        state="draft",
        prepared_by="-",
        created_at=epoch,
        updated_at=epoch,
    )
    machine = build_machine(BatchFlow(probe))
    edges: list[tuple[str, str, str]] = []
    for name, event in machine.events.items():
        for source, transitions in event.transitions.items():
            for transition in transitions:
                edge = (source, transition.dest or source, name)
                if edge not in edges:
                    edges.append(edge)
    return edges


def _label(trigger: str, source: str, dest: str) -> str:
    specs = [t for t in TRANSITIONS if t.trigger == trigger and source in t.sources and t.dest == dest]
    roles = sorted({r for t in specs for r in t.roles})
    marks = []
    if any(t.checker for t in specs):
        marks.append("maker-checker")
    if any(t.reason for t in specs):
        marks.append("reason")
    if any(t.town_filed for t in specs):
        marks.append("town: town-filed items")
    guards = sorted({t.guard for t in specs if t.guard})
    extra = f" [{', '.join(marks + guards)}]" if marks or guards else ""
    return f"{trigger} ({' | '.join(roles)}){extra}"


def render_state_diagram() -> str:
    """The Mermaid ``stateDiagram-v2`` source of the batch machine: every state, every transition, with roles."""
    lines = ["stateDiagram-v2", "    [*] --> draft"]
    for source, dest, trigger in _edges():
        lines.append(f"    {source} --> {dest}: {_label(trigger, source, dest)}")
    for state in STATES:
        if state in _TERMINAL:
            lines.append(f"    {state} --> [*]")
    return "\n".join(lines) + "\n"


def render_row_diagram() -> str:
    """The Mermaid ``stateDiagram-v2`` source of the row statuses: every legal move of the status table."""
    lines = ["stateDiagram-v2", "    [*] --> pending"]
    lines += [f"    {source} --> {dest}" for source, dest in LEGAL_MOVES]
    lines += [f"    {status} --> [*]" for status in ROW_STATUSES if status in FINAL_STATUSES]
    return "\n".join(lines) + "\n"


def state_diagram_markdown() -> str:
    """``docs/state-diagram.md``: the diagram with a short legend."""
    return (
        "# Batch life cycle\n\n"
        "Generated from `yikatong.workflow.machine` by `scripts/generate_docs.py`; do not edit by hand "
        "(a test fails when this file is stale).\n\n"
        "Each transition is labelled `trigger (roles allowed) [rules]`: `maker-checker` means the batch's maker may "
        "not fire it, `reason` that a reason is required, `town: town-filed items` that a town fires it only for "
        'items the catalogue marks `filed_by = "town"`, other words name the guard deciding it.\n\n'
        "```mermaid\n" + render_state_diagram() + "```\n\n"
        "## Row statuses\n\n"
        "Generated from `yikatong.workflow.statuses.LEGAL_MOVES`: every move a step may ask for; any other raises. "
        "An end marker shows where a row may rest once its batch is over (`FINAL_STATUSES`).\n\n"
        "```mermaid\n" + render_row_diagram() + "```\n"
    )
