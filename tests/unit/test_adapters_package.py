"""The adapters package names its implementations, and each satisfies the port it implements."""

from __future__ import annotations

import importlib
from pathlib import Path

import yikatong.adapters as adapters
from yikatong.ports import Bank, Clock, DisclosureSink, Store, Treasury


def test_every_exported_name_is_importable_from_the_package() -> None:
    for name in adapters.__all__:
        assert getattr(adapters, name) is not None, name


def test_a_submodule_imported_first_does_not_break_the_package() -> None:
    module = importlib.import_module("yikatong.adapters.bankfile.adapter")
    assert module.FileExchangeBank is adapters.FileExchangeBank


def test_the_shipped_adapters_satisfy_their_ports(tmp_path: Path) -> None:
    assert isinstance(adapters.MemoryStore(), Store)
    assert isinstance(adapters.SimulatedBank(seed=1), Bank)
    assert isinstance(adapters.SimulatedTreasury(seed=1), Treasury)
    assert isinstance(adapters.FileExchangeBank(tmp_path, adapters.builtin_layout("delimited-gb18030")), Bank)
    assert isinstance(adapters.DisclosureFileSink(tmp_path / "out"), DisclosureSink)
    assert isinstance(adapters.MemoryDisclosureSink(), DisclosureSink)
    assert isinstance(adapters.SystemClock(), Clock)
