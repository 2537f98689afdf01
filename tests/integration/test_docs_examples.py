"""The documentation cannot rot: every Python example in the docs runs, and every command line it shows parses.

Each ``python`` block of a page runs in order in one namespace (a page's examples build on each other), from a
temporary folder holding a copy of the repository's ``examples/``, so relative paths work as they would from the
repository root and nothing is written into the tree. Each ``$ yikatong …`` line of a ``console`` block is parsed
by the real command-line parser, and every option it uses must exist.
"""

from __future__ import annotations

import argparse
import re
import shlex
import shutil
from pathlib import Path

import pytest

from yikatong.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = (
    "usage.md",
    "architecture.md",
    "workflow.md",
    "index.md",
    "domain.md",
    "custom-rules.md",
    "work-views.md",
    "resident-lookup.md",
)
PAGES_WITH_EXAMPLES = (
    "usage.md",
    "architecture.md",
    "workflow.md",
    "custom-rules.md",
    "work-views.md",
    "resident-lookup.md",
)
KNOWN_PENDING = frozenset({"rules.md", "benchmarks.md"})
"""Pages other parts of the project generate: linked before they land, checked like any other once they exist."""
FENCE = re.compile(r"^```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def blocks(page: str, lang: str) -> list[tuple[int, str]]:
    """The fenced blocks of ``lang`` in ``docs/page``, each with the line its fence opens on."""
    text = (DOCS / page).read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, m.start()) + 1, m.group("body")) for m in FENCE.finditer(text) if m.group("lang") == lang
    ]


def commands(page: str) -> list[tuple[int, list[str]]]:
    """The ``yikatong`` command lines of the ``console`` blocks of ``docs/page``, continuation lines joined."""
    found: list[tuple[int, list[str]]] = []
    for line, body in blocks(page, "console"):
        joined = body.replace("\\\n", " ")
        for text in joined.splitlines():
            if text.startswith("$ yikatong"):
                found.append((line, shlex.split(text[2:])[1:]))
    return found


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_pages_the_docs_promise_exist() -> None:
    for page in PAGES:
        assert (DOCS / page).is_file(), page


def test_the_pages_have_examples_to_run() -> None:
    assert len(blocks("usage.md", "python")) >= 10
    assert all(blocks(page, "python") for page in PAGES_WITH_EXAMPLES)
    assert {argv[0] for _, argv in commands("usage.md")} >= {"validate", "synth", "simulate", "demo", "audit"}


def test_every_relative_link_in_the_docs_points_at_a_file() -> None:
    for page in PAGES:
        text = (DOCS / page).read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if "://" in target:
                continue
            assert (DOCS / target).resolve().exists() or target in KNOWN_PENDING, f"{page} links to {target}"


@pytest.mark.parametrize("page", PAGES_WITH_EXAMPLES)
def test_every_python_example_of_the_page_runs(page: str, workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    namespace: dict[str, object] = {"__name__": f"docs_{page.removesuffix('.md')}"}
    for line, body in blocks(page, "python"):
        code = compile(body, f"docs/{page}:{line}", "exec")
        try:
            exec(code, namespace)
        except Exception as exc:  # name the block in the failure
            pytest.fail(f"the example at docs/{page} line {line} failed: {type(exc).__name__}: {exc}")
    capsys.readouterr()


def test_every_command_line_of_the_docs_parses() -> None:
    parser = build_parser()
    shown = [(page, line, argv) for page in PAGES for line, argv in commands(page)]
    assert shown
    for page, line, argv in shown:
        try:
            args = parser.parse_args(argv)
        except SystemExit:
            pytest.fail(f"the command at docs/{page} line {line} does not parse: yikatong {shlex.join(argv)}")
        assert isinstance(args, argparse.Namespace)
