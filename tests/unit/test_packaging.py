"""The package carries what it needs to run once installed: its catalogue, its version, its licence."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import yikatong
from yikatong.catalog import Catalog
from yikatong.cli import main

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_example_catalogue_loads_from_inside_the_package() -> None:
    catalog = Catalog.example()
    assert "GLJT" in catalog
    assert catalog["GDLBZ"].name == "耕地地力保护补贴"


def test_version_prints_the_one_version_the_package_carries(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"yikatong {yikatong.__version__}"
    assert "version" not in PYPROJECT["project"]
    assert PYPROJECT["project"]["dynamic"] == ["version"]


def test_python_dash_m_yikatong_is_the_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "yikatong", "--version"], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"yikatong {yikatong.__version__}"


def test_the_licence_file_is_the_licence_pyproject_declares() -> None:
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text
    assert "Version 2.0, January 2004" in text


def test_every_dependency_has_an_upper_bound() -> None:
    extras = PYPROJECT["project"]["optional-dependencies"]
    requirements = [*PYPROJECT["project"]["dependencies"], *(r for group in extras.values() for r in group)]
    unbounded = [r for r in requirements if "<" not in r and not r.startswith("yikatong[")]
    assert unbounded == []


def test_the_constraints_pin_every_dependency_within_its_range() -> None:
    pins = dict(
        line.split("==", 1)
        for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    )
    names = {name.lower().replace("_", "-"): version for name, version in pins.items()}
    for requirement in PYPROJECT["project"]["dependencies"]:
        name = requirement.split(">", 1)[0].split("[", 1)[0].strip().lower()
        assert name in names, f"{name} is not pinned in constraints.txt"


def test_the_changelog_has_an_unreleased_section() -> None:
    assert "\n## Unreleased\n" in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")


def test_a_contract_kit_without_pytest_names_the_extra_to_install() -> None:
    code = "import sys; sys.modules['pytest'] = None; import yikatong.testing.bank_contract"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode != 0
    assert "pip install 'yikatong[testing]'" in done.stderr
    assert "合约测试套件需要 pytest" in done.stderr
