"""A department's own Python rules run on the cluster even when the workers cannot import their module."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import cloudpickle
import polars as pl
import pytest
from distributed import Client
from polars.testing import assert_frame_equal

from tests.idnumbers import with_check
from yikatong.adapters.dask import validate_distributed
from yikatong.catalog import Catalog
from yikatong.cli import main
from yikatong.rules import RULES, Rule, validate

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PAGE = (ROOT / "docs" / "custom-rules.md").read_text(encoding="utf-8")
PYTHON_BLOCK = PAGE.split("```python\n", 1)[1].split("```", 1)[0]


@pytest.fixture
def outside_module(tmp_path: Path) -> Iterator[ModuleType]:
    """The page's rules module, imported from a folder no worker has on its path, under a name no one else uses."""
    path = tmp_path / "county_rules_outside.py"
    path.write_text(PYTHON_BLOCK, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules[path.stem]


def test_a_rule_from_a_module_the_workers_cannot_import_gives_the_single_plan_report(
    client: Client, outside_module: ModuleType
) -> None:
    (rule,) = outside_module.RULES
    assert isinstance(rule, Rule)
    born = ["19400101", "19900101", "19500505", "19951212"]
    roster = pl.DataFrame({"id_number": [with_check(f"500241{b}001") for b in born], "amount": ["100"] * 4})
    item = Catalog.example()["GLJT"]
    rules = [*RULES, rule]
    one = validate(roster, item=item, period="2026-11", rules=rules)
    cluster = validate_distributed(roster, item=item, period="2026-11", client=client, rules=rules, partitions=3)
    hits = cluster.issues.filter(pl.col("code") == "X_VILLAGE_BONUS_AGE")
    assert hits["row_id"].to_list() == [2, 4]
    assert_frame_equal(one.verdicts, cluster.verdicts)
    assert_frame_equal(one.issues, cluster.issues)
    assert "county_rules_outside" not in cloudpickle.list_registry_pickle_by_value()


def test_validate_dask_runs_the_rules_of_rules_module_attr_on_the_cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delitem(sys.modules, "village_rules_dask", raising=False)
    (tmp_path / "village_rules_dask.py").write_text(PYTHON_BLOCK, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    args = ["validate", str(EXAMPLES / "roster.csv"), "--item", "GLJT", "--period", "2026-11"]
    args += ["--context", str(EXAMPLES), "--rules", "village_rules_dask:RULES"]
    assert main([*args, "--out", "one"]) == 0
    assert main([*args, "--out", "cluster", "--dask", "local:2", "--partitions", "2"]) == 0
    assert "rules by person 2/2" in capsys.readouterr().err
    one = json.loads((tmp_path / "one" / "summary.json").read_text(encoding="utf-8"))
    cluster = json.loads((tmp_path / "cluster" / "summary.json").read_text(encoding="utf-8"))
    assert "X_VILLAGE_BONUS_AGE" in cluster["rules_run"]
    assert one["verdicts"] == cluster["verdicts"]
    assert one["codes"] == cluster["codes"]
