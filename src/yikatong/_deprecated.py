"""Old import paths that keep working for one release, each with a ``DeprecationWarning``.

The package was regrouped into rooms that say what they hold (``ingest``, ``registry``, ``simulation``, ``actors``,
``records``). Hosts that still import the old modules get the new ones, with a warning naming the new path.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Final

__all__ = ["MOVED_MODULES", "install", "moved_attributes"]

MOVED_MODULES: Final[dict[str, str]] = {
    "yikatong.roster": "yikatong.ingest.roster",
    "yikatong.inputs": "yikatong.ingest.context_files",
    "yikatong.accounts": "yikatong.registry",
}
"""Old module path → the module that now holds its public names (to be removed in the release after 0.2)."""


def _warn(old: str, new: str) -> None:
    warnings.warn(f"{old} is deprecated; import from {new} instead", DeprecationWarning, stacklevel=3)


class _AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolves an old module path to the new module itself, so both names share one module object."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MOVED_MODULES:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        new = MOVED_MODULES[spec.name]
        _warn(spec.name, new)
        return importlib.import_module(new)

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the module was imported under its new name."""


_FINDER: Final = _AliasFinder()


def install() -> None:
    """Put the alias finder on ``sys.meta_path`` (once)."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.append(_FINDER)


def moved_attributes(module: str, new: str, names: frozenset[str]) -> Callable[[str], object]:
    """A module ``__getattr__`` serving ``names`` from module ``new`` with a deprecation warning.

    Args:
        module: The old module's name (for the message and the ``AttributeError``).
        new: The module that now holds the names.
        names: The names that moved.
    """

    def __getattr__(name: str) -> object:  # noqa: N807 - the module hook Python looks for
        if name not in names:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        _warn(f"{module}.{name}", new)
        return getattr(importlib.import_module(new), name)

    return __getattr__
