"""``yikatong queue --store FILE --town T | --department D`` on a real, sealed store file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from tests.postgres import new_schema
from tests.unit._workflow_fakes import World, make_roster, over_store
from yikatong.adapters.keys import KEY_ENV, SecretKeys
from yikatong.adapters.postgres import PostgresStore
from yikatong.adapters.sqlite import SqliteStore
from yikatong.catalog import Catalog
from yikatong.cli import main

SECRET = b"county finance bureau data secret 2026"
DEADLINE = dt.date(2026, 11, 27) + dt.timedelta(days=15)


@pytest.fixture
def store(tmp_path: Path, catalog: Catalog) -> tuple[Path, Path, pl.DataFrame]:
    """A sealed store with one settled batch of six rows (odd rows in 中和街道, even in 清溪场镇), rows 1 to 4
    failed and returned; and its key file."""
    path = tmp_path / "county.yikatong"
    key_file = tmp_path / "county.key"
    key_file.write_bytes(SECRET)
    roster = make_roster(6).with_columns(
        pl.when(pl.col("row_id") % 2 == 0).then(pl.lit("清溪场镇")).otherwise(pl.col("town")).alias("town")
    )
    world = World(catalog)
    with SqliteStore(path, keys=SecretKeys(SECRET)) as opened:
        over_store(world, opened, catalog, keys=SecretKeys(SECRET))
        batch_id = world.to("settled", roster, failed=(1, 2, 3, 4))
        world.service.return_failures(batch_id)
    return path, key_file, roster


def _queue(path: Path, *extra: str) -> int:
    return main(["queue", "--store", str(path), "--as-of", DEADLINE.isoformat(), *extra])


def test_a_town_sees_its_correction_queue_with_deadlines_and_its_batch(
    store: tuple[Path, Path, pl.DataFrame], capsys: pytest.CaptureFixture[str]
) -> None:
    path, key_file, roster = store
    assert _queue(path, "--town", "清溪场镇", "--key-file", str(key_file)) == 0
    out = capsys.readouterr().out
    assert "correction queue 2 rows: due soon 2, overdue 0, expired 0, due 0" in out
    assert "即将到期" in out
    assert "GLJT-2026-11-00001 行2 " in out
    assert "GLJT-2026-11-00001 行4 " in out
    assert "行1 " not in out  # 中和街道's row
    assert "3 行 rows, 已发放 paid 1 (100.00)" in out
    for secret in [*roster["id_number"], *roster["account"]]:
        assert secret not in out


def test_the_key_may_come_from_the_environment(
    store: tuple[Path, Path, pl.DataFrame], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _, _ = store
    monkeypatch.setenv(KEY_ENV, SECRET.decode())
    assert _queue(path, "--department", "民政局") == 0
    assert "correction queue 4 rows" in capsys.readouterr().out


def test_a_later_date_shows_the_rows_overdue(
    store: tuple[Path, Path, pl.DataFrame], capsys: pytest.CaptureFixture[str]
) -> None:
    path, key_file, _ = store
    later = (DEADLINE + dt.timedelta(days=1)).isoformat()
    code = main(["queue", "--store", str(path), "--town", "中和街道", "--key-file", str(key_file), "--as-of", later])
    assert code == 0
    assert "due soon 0, overdue 2" in capsys.readouterr().out


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_the_view_is_written_to_out(store: tuple[Path, Path, pl.DataFrame], tmp_path: Path, suffix: str) -> None:
    path, key_file, _ = store
    out = tmp_path / f"清溪场镇{suffix}"
    assert _queue(path, "--town", "清溪场镇", "--key-file", str(key_file), "--out", str(out)) == 0
    if suffix == ".xlsx":
        queue = pl.read_excel(out, sheet_name="更正队列")
    else:
        queue = pl.read_csv(out)
        assert (tmp_path / "清溪场镇-batches.csv").is_file()
        assert (tmp_path / "清溪场镇-held.csv").is_file()
    assert queue["行号"].to_list() == [2, 4]
    assert queue["期限状态"].to_list() == ["即将到期", "即将到期"]


def test_an_unknown_town_is_refused_naming_the_towns_the_store_has(
    store: tuple[Path, Path, pl.DataFrame], capsys: pytest.CaptureFixture[str]
) -> None:
    path, key_file, _ = store
    assert _queue(path, "--town", "清溪厂镇", "--key-file", str(key_file)) == 2
    err = capsys.readouterr().err
    assert "库中没有乡镇“清溪厂镇”的数据" in err
    assert "中和街道, 清溪场镇" in err
    assert "Traceback" not in err


def test_an_unknown_department_is_refused(
    store: tuple[Path, Path, pl.DataFrame], capsys: pytest.CaptureFixture[str]
) -> None:
    path, key_file, _ = store
    assert _queue(path, "--department", "民证局", "--key-file", str(key_file)) == 2
    assert "no batch of department '民证局'" in capsys.readouterr().err


def test_a_sealed_store_needs_its_key(
    store: tuple[Path, Path, pl.DataFrame], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _, _ = store
    assert _queue(path, "--town", "清溪场镇") == 2
    err = capsys.readouterr().err
    assert "encrypted" in err
    assert err.count("\n") <= 2


def test_another_key_is_refused(
    store: tuple[Path, Path, pl.DataFrame], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _, _ = store
    wrong = tmp_path / "wrong.key"
    wrong.write_bytes(b"another county's secret, same length!")
    assert _queue(path, "--town", "清溪场镇", "--key-file", str(wrong)) == 2
    assert "the key is not this store's key" in capsys.readouterr().err


def test_a_missing_store_is_refused_and_not_created(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "none.yikatong"
    assert _queue(missing, "--town", "清溪场镇") == 2
    assert "no store file at" in capsys.readouterr().err
    assert not missing.exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ((), "give --town or --department"),
        (("--town", "  "), "must not be blank"),
        (("--town", "清溪场镇", "--out", "queue.pdf"), "use .xlsx or .csv"),
    ],
)
def test_malformed_options_are_refused(
    store: tuple[Path, Path, pl.DataFrame], capsys: pytest.CaptureFixture[str], extra: tuple[str, ...], message: str
) -> None:
    path, key_file, _ = store
    assert _queue(path, "--key-file", str(key_file), *extra) == 2
    assert message in capsys.readouterr().err


def test_a_date_that_is_not_a_date_is_refused(
    store: tuple[Path, Path, pl.DataFrame], capsys: pytest.CaptureFixture[str]
) -> None:
    path, key_file, _ = store
    code = main(
        ["queue", "--store", str(path), "--town", "清溪场镇", "--key-file", str(key_file), "--as-of", "2026-13-01"]
    )
    assert code == 2
    assert "not a date (YYYY-MM-DD)" in capsys.readouterr().err


def test_the_store_is_not_changed_by_a_view(store: tuple[Path, Path, pl.DataFrame]) -> None:
    path, key_file, _ = store
    before = path.read_bytes()
    assert _queue(path, "--town", "清溪场镇", "--key-file", str(key_file)) == 0
    assert path.read_bytes() == before


def test_a_store_on_a_postgresql_server_is_read_by_its_url(
    postgres_server: str, catalog: Catalog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = new_schema()
    key_file = tmp_path / "county.key"
    key_file.write_bytes(SECRET)
    world = World(catalog)
    with PostgresStore(postgres_server, schema=schema, keys=SecretKeys(SECRET)) as opened:
        over_store(world, opened, catalog, keys=SecretKeys(SECRET))
        batch_id = world.to("settled", make_roster(4), failed=(1, 2))
        world.service.return_failures(batch_id)
    store = ["--store", postgres_server, "--schema", schema, "--key-file", str(key_file)]
    code = main(["queue", *store, "--town", "中和街道", "--as-of", DEADLINE.isoformat()])
    assert code == 0
    assert "correction queue 2 rows: due soon 2" in capsys.readouterr().out
