"""A department's own rules, both ways docs/custom-rules.md shows: in the catalogue, and in Python with --rules."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polars as pl
import pytest

from tests.idnumbers import with_check
from yikatong.cli import main
from yikatong.rules import RULES, Rule, validate

ROOT = Path(__file__).resolve().parents[2]
PAGE = (ROOT / "docs" / "custom-rules.md").read_text(encoding="utf-8")
EXAMPLES = ROOT / "examples"


def _python_block() -> str:
    return PAGE.split("```python\n", 1)[1].split("```", 1)[0]


def _rules_module(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delitem(sys.modules, "village_rules", raising=False)  # each test imports its own copy
    (folder / "village_rules.py").write_text(_python_block(), encoding="utf-8")
    return folder


def test_the_pages_catalogue_rule_is_the_one_the_example_catalogue_carries() -> None:
    from yikatong.catalog import Catalog

    toml = PAGE.split("```toml\n", 1)[1].split("```", 1)[0]
    (rule,) = Catalog.example()["GDLBZ"].rules
    for line in (f'code = "{rule.code}"', f'message_zh = "{rule.message_zh}"', f'check = "{rule.check}"'):
        assert line in toml


def test_the_pages_python_rule_runs_with_the_librarys_rules() -> None:
    namespace: dict[str, object] = {}
    exec(compile(_python_block(), "custom-rules.md", "exec"), namespace)
    rules = namespace["RULES"]
    assert isinstance(rules, tuple)
    (rule,) = rules
    assert isinstance(rule, Rule)
    roster = pl.DataFrame({"id_number": [with_check("50024119400101001"), with_check("50024119900101001")]})
    from yikatong.catalog import Catalog

    item = Catalog.example()["GLJT"]
    report = validate(roster, item=item, period="2026-11", rules=[*RULES, rule])
    hits = report.issues.filter(pl.col("code") == "X_VILLAGE_BONUS_AGE")
    assert hits["row_id"].to_list() == [2]
    assert hits["evidence"].to_list() == ["born 1990-01-01"]


def test_validate_rules_module_attr_runs_them_under_their_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(_rules_module(tmp_path, monkeypatch))
    args = [
        "validate",
        str(EXAMPLES / "roster.csv"),
        "--item",
        "GLJT",
        "--period",
        "2026-11",
        "--context",
        str(EXAMPLES),
    ]
    assert main([*args, "--rules", "village_rules:RULES", "--out", "report"]) == 0
    summary = json.loads((tmp_path / "report" / "summary.json").read_text(encoding="utf-8"))
    assert "X_VILLAGE_BONUS_AGE" in summary["rules_run"]


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("village_rules", "--rules expects module:attribute"),
        ("no_such_module:RULES", "cannot import the rules module no_such_module"),
        ("village_rules:NOPE", "village_rules has no attribute NOPE"),
        ("village_rules:dt", "is not a Rule or a sequence of Rule objects"),
        ("village_rules:CLASH", "rule code(s) of the library: ID_MISSING"),
    ],
)
def test_rules_that_cannot_be_loaded_are_refused_with_exit_2(
    spec: str, words: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _rules_module(tmp_path, monkeypatch)
    with (folder / "village_rules.py").open("a", encoding="utf-8") as module:
        module.write("\nimport attrs\nCLASH = attrs.evolve(VILLAGE_BONUS_AGE, code='ID_MISSING')\n")
    monkeypatch.chdir(folder)
    args = ["validate", str(EXAMPLES / "roster.csv"), "--item", "GLJT", "--period", "2026-11", "--rules", spec]
    assert main(args) == 2
    assert words in capsys.readouterr().err


def test_an_expression_rule_is_reported_by_the_command_in_memory_and_in_parts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = tmp_path / "roster.csv"
    lines = ["姓名,身份证号,数量,补贴金额"]
    for n, mu in enumerate((10, 55, 3, 70), start=1):
        lines.append(f"张三,{with_check(f'50024119600101{n:03d}')},{mu},{mu * 95.8:.2f}")
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8")
    base = ["validate", str(roster), "--item", "GDLBZ", "--period", "2026"]
    for extra in ([], ["--partitions", "2", "--workdir", str(tmp_path)]):
        assert main([*base, *extra]) == 0
        out = capsys.readouterr().out
        assert any(line.split()[:2] == ["2", "X_GDLBZ_AREA"] for line in out.splitlines()), out
