"""``--rules module:attribute``: a department's own Python rules, added to the library's for one validation.

The attribute is a [`Rule`][yikatong.rules.Rule] or a sequence of them (``RULES = (MY_RULE,)``), importable from the
current folder or the installed packages. A code that is already a rule of the library is refused: a department's
rule never silently replaces one (use a local code, ``X_…``). See ``docs/custom-rules.md``.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable

from yikatong.cli._common import CliInputError
from yikatong.rules import RULES, Rule

__all__ = ["load_rules"]


def _import(module: str) -> object:
    folder = os.getcwd()
    added = folder not in sys.path
    if added:
        sys.path.insert(0, folder)
    try:
        return importlib.import_module(module)
    finally:
        if added:
            sys.path.remove(folder)


def load_rules(spec: str) -> tuple[Rule, ...]:
    """The rules named by ``module:attribute`` (the attribute may be dotted).

    Raises:
        CliInputError: when the text is not ``module:attribute``, the module cannot be imported, the attribute is
            missing or holds something other than rules, or a code is a code of the library.
    """
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise CliInputError(
            f"--rules 须写作 模块:属性，而不是 {spec!r}", f"--rules expects module:attribute, got {spec!r}"
        )
    try:
        found: object = _import(module_name)
    except Exception as exc:  # an import runs the host's code: any error it raises is reported, not raised
        raise CliInputError(
            f"无法导入规则模块 {module_name}",
            f"cannot import the rules module {module_name}",
            [f"{type(exc).__name__}: {exc}"],
        ) from None
    for part in attribute.split("."):
        if not hasattr(found, part):
            raise CliInputError(f"{module_name} 中没有 {attribute}", f"{module_name} has no attribute {attribute}")
        found = getattr(found, part)
    rules = (found,) if isinstance(found, Rule) else tuple(found) if isinstance(found, Iterable) else (found,)
    if not rules or not all(isinstance(r, Rule) for r in rules):
        raise CliInputError(
            f"{spec} 不是规则或规则列表", f"{spec} is not a Rule or a sequence of Rule objects (yikatong.rules.Rule)"
        )
    library = {r.code for r in RULES}
    taken = sorted({r.code for r in rules if isinstance(r, Rule)} & library)
    if taken:
        raise CliInputError(
            f"规则代码与库中规则重复：{', '.join(taken)}（本地规则请用 X_ 开头的代码）",
            f"rule code(s) of the library: {', '.join(taken)} (use local codes starting with X_)",
        )
    return tuple(r for r in rules if isinstance(r, Rule))
