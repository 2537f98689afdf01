"""validate_distributed gives validate's report, frame for frame, on a local cluster of two worker processes."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import polars as pl
import pytest
from distributed import Client
from polars.testing import assert_frame_equal

from tests.idnumbers import with_check as _id
from yikatong.adapters.dask import DistributedRunError, validate_distributed
from yikatong.catalog import Catalog
from yikatong.ingest import load_ledger, load_reference, load_registry, read_roster
from yikatong.rules import ValidationContext, ValidationReport, validate
from yikatong.synth import generate


def assert_same_report(a: ValidationReport, b: ValidationReport) -> None:
    assert a.rules_run == b.rules_run
    assert a.skipped == b.skipped
    assert a.declared == b.declared
    assert_frame_equal(a.verdicts, b.verdicts)
    assert_frame_equal(a.issues, b.issues)
    assert_frame_equal(a.examples, b.examples)


def _pieces(roster: pl.DataFrame, folder: Path, rows: int) -> str:
    """The roster as Parquet files of ``rows`` rows each, without ``row_id`` (the runner numbers the rows)."""
    folder.mkdir()
    for k, piece in enumerate(roster.drop("row_id").iter_slices(rows)):
        piece.write_parquet(folder / f"part-{k:03d}.parquet")
    return str(folder / "*.parquet")


def _synth(catalog: Catalog, item: str, rows: int, tmp: Path) -> tuple[pl.DataFrame, ValidationContext]:
    data = generate(rows, catalog=catalog, item=item, period="2026-11", seed=5, defect_rate=0.25)
    paths = data.write(tmp / "synth", format="parquet", context_format="parquet")
    roster = read_roster(data.roster)
    references = {
        key.split(":", 1)[1]: load_reference(key.split(":", 1)[1], p)[1] for key, p in paths.items() if ":" in key
    }
    context = ValidationContext(
        catalog=catalog,
        registry=load_registry(paths["registry"]),
        reference=references,  # type: ignore[arg-type]
        ledger=load_ledger(paths["ledger"]),
        declared_count=roster.height + 1,
    )
    return roster, context


def test_a_person_item_roster_and_context_read_from_parquet_files_give_the_single_plan_report(
    catalog: Catalog, client: Client, tmp_path: Path
) -> None:
    roster, context = _synth(catalog, "GLJT", 500, tmp_path)
    kw = {"item": catalog["GLJT"], "period": "2026-11"}
    whole = validate(roster, context=context, **kw)  # type: ignore[arg-type]
    found = set(whole.issues["code"])
    assert {"DUP_IN_BATCH", "ACCOUNT_SHARED", "DUP_NEAR", "DUP_ALREADY_PAID", "BATCH_TOTAL_MISMATCH"} <= found, found
    frames = {"registry": context.registry, "ledger": context.ledger}
    frames.update({f"reference:{name}": frame for name, frame in context.reference.items()})
    paths: dict[str, str] = {}
    for name, frame in frames.items():
        assert frame is not None
        path = tmp_path / f"{name.replace(':', '-')}.parquet"
        frame.collect().write_parquet(path)
        paths[name] = str(path)
    declared = ValidationContext(catalog=catalog, declared_count=context.declared_count)
    report = validate_distributed(
        _pieces(roster, tmp_path / "roster", 150),
        client=client,
        partitions=3,
        context=declared,
        context_paths=paths,
        **kw,  # type: ignore[arg-type]
    )
    assert_same_report(whole, report)


def test_a_household_item_roster_gives_the_single_plan_report(catalog: Catalog, client: Client, tmp_path: Path) -> None:
    roster, context = _synth(catalog, "DB", 300, tmp_path)
    kw = {"item": catalog["DB"], "period": "2026-11", "context": context}
    paths = _pieces(roster, tmp_path / "roster", 100)
    assert_same_report(validate(roster, **kw), validate_distributed(paths, client=client, partitions=2, **kw))  # type: ignore[arg-type]


def _straddling() -> pl.DataFrame:
    """Duplicates and near duplicates whose rows sit in different files and different parts."""
    twin_a, twin_b = _id("50024119400101123"), _id("50024119400101124")
    person = _id("50024119500202234")
    crowd = [_id(f"500241194502027{i:02d}") for i in range(0, 60, 3)]
    ids = [twin_a, person, *crowd[:10], twin_b, person, *crowd[10:]]
    return pl.DataFrame(
        {
            "id_number": ids,
            "name": ["张三", "李四", *(["王五"] * 10), "张三", "李四", *(["王五"] * 10)],
            "village": ["石桥村"] * len(ids),
            "account": [f"62170000000{i % 7:08d}" for i in range(len(ids))],  # accounts shared across files
            "amount_fen": [10_000 + 500 * (i % 3) for i in range(len(ids))],
        }
    )


def test_duplicates_straddling_files_and_parts_are_found_as_validate_finds_them(
    catalog: Catalog, client: Client, tmp_path: Path
) -> None:
    roster = _straddling()
    kw = {"item": catalog["GLJT"], "period": "2026-11"}
    whole = validate(roster, **kw)  # type: ignore[arg-type]
    assert {"DUP_IN_BATCH", "DUP_NEAR", "ACCOUNT_SHARED"} <= set(whole.issues["code"])
    paths = _pieces(roster.with_row_index("row_id", offset=1), tmp_path / "roster", 12)  # two files
    assert_same_report(whole, validate_distributed(paths, client=client, partitions=5, **kw))  # type: ignore[arg-type]


def test_a_dask_dataframe_gives_the_single_plan_report(catalog: Catalog, client: Client) -> None:
    dd = pytest.importorskip("dask.dataframe")
    roster = read_roster(_straddling())
    kw = {"item": catalog["GLJT"], "period": "2026-11"}
    frame = dd.from_pandas(roster.to_pandas(use_pyarrow_extension_array=True), npartitions=3)
    assert_same_report(validate(roster, **kw), validate_distributed(frame, client=client, partitions=3, **kw))  # type: ignore[arg-type]


def test_a_worker_killed_mid_run_does_not_change_the_report(catalog: Catalog, client: Client, tmp_path: Path) -> None:
    roster, context = _synth(catalog, "GLJT", 200, tmp_path)
    kw = {"item": catalog["GLJT"], "period": "2026-11", "context": context}
    paths = _pieces(roster, tmp_path / "roster", 50)
    killed: list[int] = []

    def kill_a_worker_once_the_pieces_are_held(step: str, done: int, total: int) -> None:
        # The pieces now live in the workers' memory; the splits that follow need the killed worker's share.
        if step == "batch facts" and done == total and not killed:
            pids: dict[str, int] = client.run(os.getpid)
            killed.append(sorted(pids.values())[0])
            os.kill(killed[0], signal.SIGKILL)

    report = validate_distributed(
        paths,
        client=client,
        partitions=3,
        progress=kill_a_worker_once_the_pieces_are_held,
        **kw,  # type: ignore[arg-type]
    )
    assert killed
    assert_same_report(validate(roster, **kw), report)  # type: ignore[arg-type]


def test_a_context_name_that_is_no_context_frame_is_refused(catalog: Catalog, client: Client) -> None:
    with pytest.raises(ValueError, match="unknown context frame 'registr'"):
        validate_distributed(
            read_roster(_straddling()),
            client=client,
            item=catalog["GLJT"],
            period="2026-11",
            context_paths={"registr": "registry.parquet"},
        )


def test_a_roster_path_matching_no_file_is_refused_before_any_work(
    catalog: Catalog, client: Client, tmp_path: Path
) -> None:
    with pytest.raises(FileNotFoundError, match="no roster file"):
        validate_distributed(str(tmp_path / "none-*.parquet"), client=client, item=catalog["GLJT"], period="2026-11")


def test_a_task_that_fails_stops_the_run_with_a_clear_error_and_no_report(
    catalog: Catalog, client: Client, tmp_path: Path
) -> None:
    folder = tmp_path / "roster"
    folder.mkdir()
    (folder / "part-0.parquet").write_bytes(b"not parquet")
    with pytest.raises(DistributedRunError, match="no report was made"):
        validate_distributed(str(folder), client=client, item=catalog["GLJT"], period="2026-11")


def test_a_missing_mandatory_control_is_reported_by_the_cluster_as_by_the_single_plan(
    catalog: Catalog, client: Client
) -> None:
    roster = pl.DataFrame({"id_number": [_id("50024119400101001"), _id("50024119500101002")], "amount": ["100"] * 2})
    one = validate(roster, item=catalog["GLJT"], period="2026-11")
    cluster = validate_distributed(roster, item=catalog["GLJT"], period="2026-11", client=client, partitions=2)
    assert "CONTROL_MISSING" in cluster.batch_issues["code"].to_list()
    assert cluster.batch_blocked
    assert_same_report(one, cluster)
