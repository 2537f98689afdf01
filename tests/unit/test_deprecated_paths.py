"""Old import paths keep working for one release, each with a DeprecationWarning naming the new path."""

from __future__ import annotations

import importlib
import sys

import pytest

import yikatong
from yikatong import actors, ingest, records, registry


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("yikatong.roster", "yikatong.ingest.roster"),
        ("yikatong.inputs", "yikatong.ingest.context_files"),
        ("yikatong.accounts", "yikatong.registry"),
    ],
)
def test_an_old_module_path_is_the_new_module_with_a_warning(old: str, new: str) -> None:
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=new.replace(".", r"\.")):
        module = importlib.import_module(old)
    assert module is importlib.import_module(new)


def test_old_names_resolve_to_the_same_objects() -> None:
    sys.modules.pop("yikatong.accounts", None)
    sys.modules.pop("yikatong.roster", None)
    with pytest.warns(DeprecationWarning, match="yikatong.registry"):
        old_accounts = importlib.import_module("yikatong.accounts")
    with pytest.warns(DeprecationWarning, match="yikatong.ingest"):
        old_roster = importlib.import_module("yikatong.roster")
    assert old_accounts.Actor is actors.Actor
    assert old_accounts.declare is registry.operations.declare
    assert old_roster.read_roster is ingest.read_roster
    assert ingest.read_roster is yikatong.read_roster


def test_records_imported_from_the_ports_module_warn_and_are_the_records() -> None:
    import yikatong.ports as ports

    with pytest.warns(DeprecationWarning, match=r"yikatong\.records"):
        batch_record = ports.BatchRecord  # type: ignore[attr-defined]
    assert batch_record is records.BatchRecord


def test_an_unknown_name_of_the_ports_module_is_an_attribute_error() -> None:
    import yikatong.ports as ports

    with pytest.raises(AttributeError, match="NoSuchPort"):
        _ = ports.NoSuchPort


def test_the_workflow_and_the_registry_share_one_actor_type() -> None:
    from yikatong.workflow import Actor as WorkflowActor

    assert WorkflowActor is registry.Actor is actors.Actor is yikatong.Actor


def test_the_report_count_methods_still_work_with_a_warning() -> None:
    import polars as pl

    from yikatong.period import Period
    from yikatong.rules.report import ISSUES_SCHEMA, ValidationReport

    report = ValidationReport(
        item="GLJT",
        period=Period.parse("2026-11"),
        verdicts=pl.DataFrame({"row_id": [1, 2], "verdict": ["pass", "block"]}),
        issues=pl.DataFrame(schema=ISSUES_SCHEMA),
        examples=pl.DataFrame(),
        skipped={},
        rules_run=(),
    )
    with pytest.warns(DeprecationWarning, match="counts_by_verdict"):
        assert report.verdict_counts() == report.counts_by_verdict == {"pass": 1, "review": 0, "block": 1}
    with pytest.warns(DeprecationWarning, match="counts_by_code"):
        assert report.code_counts().equals(report.counts_by_code)
