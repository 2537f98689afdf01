"""pytest for the contract kits, or an error that says how to get it.

The kits are pytest test classes, so they need pytest; the library itself does not. Importing a kit without pytest
raises ``ImportError`` naming the extra that brings it in, instead of a bare "No module named 'pytest'".
"""

from __future__ import annotations

try:
    import pytest  # noqa: F401
except ModuleNotFoundError as exc:  # pragma: no cover - exercised in the installed-wheel check
    raise ModuleNotFoundError(
        "合约测试套件需要 pytest，请安装 yikatong[testing] / the contract kits in yikatong.testing need pytest: "
        "pip install 'yikatong[testing]'",
        name=exc.name,
    ) from None

__all__: list[str] = []
