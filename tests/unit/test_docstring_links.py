"""Docstrings link to what they mention with mkdocstrings cross-references, and every link names a real object.

The documentation site turns ``[`Store`][yikatong.ports.Store]`` into a link (``mkdocs build --strict`` fails on one
it cannot resolve among the pages it renders); these tests catch the rest without building the site: a Sphinx role
(rendered as plain text by mkdocstrings) or a reference to a name that does not exist, in any module.
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import yikatong

PACKAGE = Path(yikatong.__file__).resolve().parent
SPHINX_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|attr|data|mod|exc|obj|const):`")
LINK = re.compile(r"\[`([^`]+)`\]\[([\w.]*)\]")


def _sources() -> dict[str, str]:
    return {p.relative_to(PACKAGE).as_posix(): p.read_text(encoding="utf-8") for p in sorted(PACKAGE.rglob("*.py"))}


def _has(obj: object, name: str) -> bool:
    """An attribute, an annotated name, or an attribute a class's ``__init__`` sets on ``self``."""
    if hasattr(obj, name) or name in getattr(obj, "__annotations__", {}):
        return True
    init = getattr(obj, "__init__", None) if inspect.isclass(obj) else None
    if init is None or not inspect.isfunction(init):
        return False
    return re.search(rf"\bself\.{re.escape(name)}\b\s*(:[^=]+)?=", inspect.getsource(init)) is not None


def _resolves(identifier: str) -> bool:
    """Whether ``identifier`` names a module, or an attribute reached from the longest importable module prefix."""
    parts = identifier.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            if not _has(obj, name):
                return False
            obj = getattr(obj, name, None)
        return True
    return False


def test_no_docstring_uses_a_sphinx_role() -> None:
    found = [f"{path}: {m.group(0)}" for path, text in _sources().items() for m in SPHINX_ROLE.finditer(text)]
    assert not found, f"write [`Name`][yikatong.path.Name] instead of Sphinx roles: {found[:10]}"


def test_every_docstring_link_names_an_object_of_the_package() -> None:
    links = [(path, m.group(2) or m.group(1)) for path, text in _sources().items() for m in LINK.finditer(text)]
    assert len(links) > 100  # the guard reads the links it is meant to check
    broken = [f"{path}: {ident}" for path, ident in links if not ident.startswith("yikatong") or not _resolves(ident)]
    assert not broken, f"links to names that do not exist: {broken}"


def test_the_link_check_refuses_a_name_that_does_not_exist() -> None:
    assert _resolves("yikatong.ports.Store")
    assert _resolves("yikatong.Service.dispatch")
    assert _resolves("yikatong.adapters.SecretKeys.fingerprint")  # set in __init__
    assert not _resolves("yikatong.ports.NoSuchPort")
    assert not _resolves("yikatong.no_such_module.Thing")
