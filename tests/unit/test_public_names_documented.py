"""Every public name says what it is: each class and function a public module lists in ``__all__`` has a docstring,
and so has every public method and property those classes define.

Public modules are ``yikatong`` and every module under it whose path has no ``_``-prefixed part (``ingest``,
``rules``, ``registry``, ``workflow``, the adapters, ``testing``, ``simulation``, …). The contract kits' ``test_*``
methods are pytest tests: their names are the sentence that documents them.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import yikatong


def _public_modules() -> list[ModuleType]:
    names = ["yikatong"] + [
        info.name
        for info in pkgutil.walk_packages(yikatong.__path__, "yikatong.")
        if not any(part.startswith("_") for part in info.name.split(".")[1:])
    ]
    return [importlib.import_module(name) for name in names]


def _own_doc(obj: object) -> str:
    doc = vars(obj).get("__doc__") if inspect.isclass(obj) else getattr(obj, "__doc__", None)
    return (doc or "").strip()


def _undocumented_members(cls: type) -> list[str]:
    missing = []
    for name, member in vars(cls).items():
        if name.startswith(("_", "test_")):
            continue
        if isinstance(member, property):
            member = member.fget
        elif isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        if inspect.isfunction(member) and member.__module__.startswith("yikatong") and not _own_doc(member):
            missing.append(f"{cls.__module__}.{cls.__qualname__}.{name}")
    return missing


def _undocumented() -> tuple[int, set[str]]:
    checked = 0
    missing: set[str] = set()
    for module in _public_modules():
        for name in module.__all__:
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            checked += 1
            if not _own_doc(obj):
                missing.add(f"{module.__name__}.{name}")
            if inspect.isclass(obj) and obj.__module__.startswith("yikatong"):
                missing.update(_undocumented_members(obj))
    return checked, missing


def test_every_public_module_declares_all() -> None:
    lacking = [m.__name__ for m in _public_modules() if not hasattr(m, "__all__")]
    assert not lacking, f"public modules without __all__: {lacking}"


def test_every_public_class_function_and_method_has_a_docstring() -> None:
    checked, missing = _undocumented()
    assert checked > 200  # the walk reaches the package's public names
    assert not missing, f"public names without a docstring: {sorted(missing)}"


def test_a_class_without_its_own_docstring_is_caught() -> None:
    class Documented:
        """Says what it is."""

        def method(self) -> None:
            """Says what it does."""

    class Bare(Documented):
        def method(self) -> None:
            pass

    assert _own_doc(Documented)
    assert not _own_doc(Bare)
    assert _undocumented_members(Bare) == []  # defined here, outside the package: not checked
    Bare.__module__ = "yikatong.example"
    Bare.method.__module__ = "yikatong.example"
    assert _undocumented_members(Bare) == [f"yikatong.example.{Bare.__qualname__}.method"]
