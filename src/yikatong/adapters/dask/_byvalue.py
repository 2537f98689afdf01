"""A department's own rules travel to the workers as code, not as a module name the workers must import.

A rule written outside the library (``yikatong validate --rules village_rules:RULES``, a notebook, a host's
package not installed on the cluster) is a set of functions. Pickled as Python pickles functions, by their module's
name, a worker would have to import ``village_rules`` itself, which it cannot when the module sits in the client's
folder or was never installed on the workers. So what carries such rules (the shipped environment, the routing) is
pickled once here with ``cloudpickle``, the modules of those rules registered to travel by value; the workers unpickle
it with plain ``pickle.loads`` and get the very objects back.

Rules of the library, and of modules under ``yikatong``, still travel by name: every worker has the library.
"""

from __future__ import annotations

import pickle
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any, TypeVar, cast

import cloudpickle

from yikatong.rules._rule import Derivation, Rule

__all__ = ["carried", "own_modules"]

T = TypeVar("T")


def _derivations(rule: Rule) -> Iterator[Derivation]:
    seen: set[int] = set()
    stack = list(rule.derivations)
    while stack:
        step = stack.pop()
        if id(step) not in seen:
            seen.add(id(step))
            yield step
            stack.extend(step.after)


def _callables(rule: Rule) -> Iterator[Callable[..., Any]]:
    yield rule.build
    yield rule.applies
    if callable(rule.key):
        yield rule.key
    for step in _derivations(rule):
        yield step.apply
        yield from (aggregation for _, aggregation in step.facts)


def own_modules(rules: Iterable[Rule]) -> tuple[ModuleType, ...]:
    """The modules outside the library that define a function of ``rules`` (``__main__`` excepted: ``cloudpickle``
    already sends what it defines by value)."""
    found: dict[str, ModuleType] = {}
    for rule in rules:
        for fn in _callables(rule):
            name = getattr(fn, "__module__", None)
            if not name or name == "__main__" or name == "yikatong" or name.startswith("yikatong."):
                continue
            module = sys.modules.get(name)
            if module is not None:
                found[name] = module
    return tuple(found[name] for name in sorted(found))


@contextmanager
def _by_value(modules: tuple[ModuleType, ...]) -> Iterator[None]:
    registered = set(cloudpickle.list_registry_pickle_by_value())
    added = [m for m in modules if m.__name__ not in registered]
    for module in added:
        cloudpickle.register_pickle_by_value(module)
    try:
        yield
    finally:
        for module in added:
            cloudpickle.unregister_pickle_by_value(module)


class _ByValue:
    """Pickles as the object it was made from, that object's own-module functions included as code."""

    def __init__(self, obj: object, modules: tuple[ModuleType, ...]) -> None:
        with _by_value(modules):
            self._payload = cloudpickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)

    def __reduce__(self) -> tuple[Callable[[bytes], object], tuple[bytes]]:
        return pickle.loads, (self._payload,)


def carried(obj: T, modules: tuple[ModuleType, ...]) -> T:
    """``obj`` as a task's argument: itself when ``modules`` is empty, else a stand-in that unpickles on the worker
    as ``obj``, the functions of ``modules`` sent as code.

    The stand-in is only ever unpickled, never used where it is made: pass it to ``Client.submit`` and nothing else.
    """
    if not modules:
        return obj
    return cast(T, _ByValue(obj, modules))
