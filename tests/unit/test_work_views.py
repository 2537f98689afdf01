"""Work views: a department's or town's correction queue with deadlines, its batch results and its rows held."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit._workflow_fakes import (
    AUDITOR,
    BANK,
    CHECKER,
    FINANCE,
    MAKER,
    OTHER_DEPT,
    TOWN,
    World,
    make_id,
    make_roster,
)
from yikatong.adapters.work_view_files import write_work_view
from yikatong.catalog import Catalog
from yikatong.errors import PermissionDenied
from yikatong.workflow import Actor
from yikatong.workflow.corrections import QUEUE_COLUMNS
from yikatong.workflow.work_views import (
    BATCH_RESULT_COLUMNS,
    HELD_COLUMNS,
    WORK_QUEUE_COLUMNS,
    work_view,
)

DEADLINE = dt.date(2026, 11, 27) + dt.timedelta(days=15)  # 高龄津贴: correction_days = 15
OTHER_TOWN = Actor("town-2", "town", town="清溪场镇")


@pytest.fixture
def world(catalog: Catalog) -> World:
    return World(catalog)


def returned(world: World, failed: tuple[int, ...] = (2, 4), roster: pl.DataFrame | None = None) -> str:
    batch_id = world.to("settled", roster, failed=failed)
    world.service.return_failures(batch_id)
    return batch_id


def two_towns(n: int = 6, start: int = 1) -> pl.DataFrame:
    """``n`` clean rows, the odd ones in 中和街道 and the even ones in 清溪场镇."""
    roster = make_roster(n, start=start)
    return roster.with_columns(
        pl.when(pl.col("row_id") % 2 == 0).then(pl.lit("清溪场镇")).otherwise(pl.col("town")).alias("town")
    )


def states_on(world: World, day: dt.date, actor: Actor = MAKER) -> dict[int, str]:
    view = work_view(world.store, actor=actor, as_of=day)
    return dict(zip(view.queue["row_id"].to_list(), view.queue["deadline_state"].to_list(), strict=True))


# -- deadlines ------------------------------------------------------------------------------------------------------


def test_a_returned_row_is_due_until_three_days_before_its_deadline(world: World) -> None:
    returned(world)
    assert states_on(world, DEADLINE - dt.timedelta(days=4)) == {2: "due", 4: "due"}
    assert states_on(world, DEADLINE - dt.timedelta(days=3)) == {2: "due_soon", 4: "due_soon"}
    assert states_on(world, DEADLINE) == {2: "due_soon", 4: "due_soon"}


def test_a_returned_row_past_its_deadline_is_overdue_until_the_expiry_moves_it_to_expired(world: World) -> None:
    returned(world)
    after = DEADLINE + dt.timedelta(days=1)
    assert states_on(world, after) == {2: "overdue", 4: "overdue"}
    world.clock.set(dt.datetime(after.year, after.month, after.day, 2, tzinfo=dt.UTC))
    world.service.expire_overdue()
    assert states_on(world, after) == {2: "expired", 4: "expired"}


def test_days_left_counts_county_days_to_the_deadline_and_goes_negative_after_it(world: World) -> None:
    returned(world)
    view = work_view(world.store, actor=MAKER, as_of=DEADLINE + dt.timedelta(days=2))
    assert set(view.queue["days_left"]) == {-2}
    assert view.queue.columns == list(WORK_QUEUE_COLUMNS)


def test_the_due_soon_window_is_the_callers_choice(world: World) -> None:
    returned(world)
    assert set(
        work_view(world.store, actor=MAKER, as_of=DEADLINE - dt.timedelta(days=5), due_soon_days=7).queue[
            "deadline_state"
        ]
    ) == {"due_soon"}
    with pytest.raises(ValueError, match="negative"):
        work_view(world.store, actor=MAKER, as_of=DEADLINE, due_soon_days=-1)


def test_a_row_carried_by_a_live_correction_batch_leaves_the_queue(world: World) -> None:
    batch_id = returned(world)
    rows = world.store.rows(batch_id).filter(pl.col("row_id") == 2)
    correction = rows.select(
        pl.lit(1, pl.Int64).alias("row_id"),
        "name",
        "id_number",
        "account",
        "amount_fen",
        "town",
        "village",
        pl.col("row_id").alias("corrects_row_id"),
    )
    world.service.create_batch(correction, item="GLJT", period="2026-11", actor=MAKER, corrects=batch_id)
    view = work_view(world.store, actor=MAKER, as_of=DEADLINE)
    assert view.queue["row_id"].to_list() == [4]


# -- who sees what --------------------------------------------------------------------------------------------------


def test_a_town_sees_only_its_residents_rows_of_every_department(world: World) -> None:
    returned(world, failed=(1, 2, 3, 4), roster=two_towns())
    mine = work_view(world.store, actor=OTHER_TOWN, as_of=DEADLINE)
    assert mine.town == "清溪场镇"
    assert mine.queue["row_id"].to_list() == [2, 4]
    assert set(mine.queue["town"]) == {"清溪场镇"}
    assert mine.batches["rows"].to_list() == [3]  # its three residents of the six


def test_a_town_with_no_residents_in_a_batch_does_not_see_the_batch(world: World) -> None:
    returned(world)  # every row in 中和街道
    view = work_view(world.store, actor=OTHER_TOWN, as_of=DEADLINE)
    assert view.queue.is_empty()
    assert view.batches.is_empty()


def test_a_department_sees_its_own_batches_and_may_not_ask_for_anothers(world: World) -> None:
    returned(world)
    assert work_view(world.store, actor=OTHER_DEPT, as_of=DEADLINE).batches.is_empty()
    with pytest.raises(PermissionDenied):
        work_view(world.store, actor=OTHER_DEPT, as_of=DEADLINE, department="民政局")
    with pytest.raises(PermissionDenied):
        work_view(world.store, actor=TOWN, as_of=DEADLINE, town="清溪场镇")


@pytest.mark.parametrize("reader", [BANK, Actor.treasury(), Actor("v-1", "village", town="中和街道", village="村1")])
def test_a_bank_the_treasury_and_a_village_have_no_work_view(world: World, reader: Actor) -> None:
    returned(world)
    with pytest.raises(PermissionDenied):
        work_view(world.store, actor=reader, as_of=DEADLINE)


def test_finance_and_audit_choose_the_department_and_town(world: World) -> None:
    returned(world, failed=(1, 2, 3, 4), roster=two_towns())
    for reader in (FINANCE, AUDITOR):
        view = work_view(world.store, actor=reader, as_of=DEADLINE, department="民政局", town="中和街道")
        assert view.queue["row_id"].to_list() == [1, 3]


def test_a_name_typed_wrong_is_refused_when_strict_and_an_empty_view_otherwise(world: World) -> None:
    returned(world)
    assert work_view(world.store, actor=FINANCE, as_of=DEADLINE, town="清溪厂镇").queue.is_empty()
    with pytest.raises(ValueError, match=r"no rows of town '清溪厂镇'.*中和街道"):
        work_view(world.store, actor=FINANCE, as_of=DEADLINE, town="清溪厂镇", strict=True)
    with pytest.raises(ValueError, match=r"no batch of department '民证局'.*民政局"):
        work_view(world.store, actor=FINANCE, as_of=DEADLINE, department="民证局", strict=True)


# -- results and rows held ------------------------------------------------------------------------------------------


def test_batch_results_account_for_every_row_and_every_fen(world: World) -> None:
    batch_id = returned(world, failed=(2, 4))
    view = work_view(world.store, actor=MAKER, as_of=DEADLINE)
    line = view.batches.row(0, named=True)
    assert view.batches.columns == list(BATCH_RESULT_COLUMNS)
    assert (line["batch_id"], line["state"], line["rows"], line["amount_fen"]) == (batch_id, "settled", 5, 50_000)
    assert (line["paid_rows"], line["paid_fen"], line["returned_rows"], line["returned_fen"]) == (3, 30_000, 2, 20_000)
    parts = [c for c in BATCH_RESULT_COLUMNS if c.endswith("_rows")]
    assert sum(line[c] for c in parts) == line["rows"]
    assert sum(line[c.replace("_rows", "_fen")] for c in parts) == line["amount_fen"]


def test_rows_awaiting_review_or_blocked_before_dispatch_are_held_with_masked_accounts(world: World) -> None:
    roster = make_roster(4)
    bad_id = make_id("19400101", 3)[:-1] + ("0" if make_id("19400101", 3)[-1] != "0" else "1")
    roster = roster.with_columns(
        pl.when(pl.col("row_id") == 3).then(pl.lit(bad_id)).otherwise("id_number").alias("id_number")
    )
    batch_id = world.to("validated", roster)
    view = work_view(world.store, actor=MAKER, as_of=DEADLINE)
    assert view.held.columns == list(HELD_COLUMNS)
    held = view.held.row(0, named=True)
    assert (held["batch_id"], held["row_id"], held["status"], held["reason_code"]) == (
        batch_id,
        3,
        "blocked",
        "ID_CHECKSUM",
    )
    assert held["id_masked"] == bad_id[:6] + "********" + bad_id[-4:]
    assert held["account_masked"] == "****0003"
    assert "6217" not in held["account_masked"]
    assert held["since"] == dt.date(2026, 11, 27)
    assert view.batches["held_rows"].to_list() == [1]


def test_failed_rows_are_held_until_the_failures_are_returned(world: World) -> None:
    batch_id = world.to("settled", failed=(5,))
    view = work_view(world.store, actor=MAKER, as_of=DEADLINE)
    assert view.held.select("batch_id", "row_id", "status").rows() == [(batch_id, 5, "failed")]
    world.service.return_failures(batch_id)
    view = work_view(world.store, actor=MAKER, as_of=DEADLINE)
    assert view.held.is_empty()
    assert view.queue["row_id"].to_list() == [5]


def test_rows_of_a_cancelled_batch_are_not_held(world: World) -> None:
    batch_id = world.to("submitted")
    world.service.cancel(batch_id, actor=MAKER, reason="名单有误 / wrong roster")
    assert work_view(world.store, actor=MAKER, as_of=DEADLINE).held.is_empty()


def test_no_full_id_or_account_appears_anywhere_in_a_view(world: World) -> None:
    roster = make_roster(5)
    returned(world, failed=(1, 2), roster=roster)
    world.to("validated", make_roster(3, start=20))
    view = work_view(world.store, actor=AUDITOR, as_of=DEADLINE)
    text = " ".join(str(v) for frame in (view.queue, view.batches, view.held) for v in frame.to_dicts())
    for secret in [*roster["id_number"], *roster["account"], *make_roster(3, start=20)["id_number"]]:
        assert secret not in text


# -- the service shares the view ------------------------------------------------------------------------------------


def test_the_service_worklist_is_the_views_queue_split_by_deadline(world: World) -> None:
    returned(world, failed=(1, 2, 3, 4), roster=two_towns())
    day = DEADLINE + dt.timedelta(days=1)
    worklist = world.service.worklist(TOWN, as_of=day)
    view = world.service.work_view(actor=TOWN, as_of=day)
    assert worklist.overdue.to_dicts() == view.queue.filter(pl.col("overdue")).select(QUEUE_COLUMNS).to_dicts()
    assert worklist.due.is_empty()
    assert view.queue["row_id"].to_list() == [1, 3]


def test_the_service_view_uses_the_clocks_county_date(world: World) -> None:
    returned(world)
    world.clock.set(dt.datetime(DEADLINE.year, DEADLINE.month, DEADLINE.day, 17, tzinfo=dt.UTC))  # next day in 北京
    assert set(world.service.work_view(actor=CHECKER).queue["deadline_state"]) == {"overdue"}


# -- files ----------------------------------------------------------------------------------------------------------


def test_a_view_is_written_as_three_sheets_with_chinese_titles_and_amounts_in_yuan(
    world: World, tmp_path: Path
) -> None:
    returned(world)
    view = work_view(world.store, actor=MAKER, as_of=DEADLINE)
    (path,) = write_work_view(view, tmp_path / "queue.xlsx")
    sheets = pl.read_excel(path, sheet_id=0)
    assert list(sheets) == ["更正队列", "批次结果", "暂缓发放"]
    queue = sheets["更正队列"]
    assert queue["期限状态"].to_list() == ["即将到期", "即将到期"]
    assert queue["金额(元)"].to_list() == [100.0, 100.0]
    assert sheets["批次结果"]["已发放(元)"].to_list() == [300.0]


def test_a_view_as_csv_is_three_files_and_a_formula_in_a_village_stays_text(world: World, tmp_path: Path) -> None:
    roster = make_roster(3).with_columns(pl.lit('=HYPERLINK("http://x")').alias("village"))
    world.to("validated", roster)  # TEXT_INVALID: the rows await review, held
    view = work_view(world.store, actor=MAKER, as_of=DEADLINE)
    written = write_work_view(view, tmp_path / "town.csv")
    assert [p.name for p in written] == ["town.csv", "town-batches.csv", "town-held.csv"]
    held = pl.read_csv(written[2])
    assert held["村(社区)"].to_list() == ['\'=HYPERLINK("http://x")'] * 3
    assert pl.read_csv(written[1])["行数"].to_list() == [3]


def test_a_view_is_not_written_to_another_kind_of_file(world: World, tmp_path: Path) -> None:
    view = work_view(world.store, actor=MAKER, as_of=DEADLINE)
    with pytest.raises(ValueError, match=r"\.xlsx or \.csv"):
        write_work_view(view, tmp_path / "queue.pdf")
    assert not list(tmp_path.iterdir())


@settings(max_examples=12)
@given(failed=st.sets(st.integers(min_value=1, max_value=6), max_size=5), returned_now=st.booleans())
def test_every_row_and_fen_of_a_batch_is_in_exactly_one_outcome(
    catalog: Catalog, failed: set[int], returned_now: bool
) -> None:
    world = World(catalog)
    batch_id = world.to("settled", two_towns(), failed=tuple(sorted(failed)))
    if returned_now:
        world.service.return_failures(batch_id)
    view = work_view(world.store, actor=FINANCE, as_of=DEADLINE)
    line = view.batches.row(0, named=True)
    parts = [c for c in BATCH_RESULT_COLUMNS if c.endswith("_rows")]
    assert sum(line[c] for c in parts) == line["rows"] == 6
    assert sum(line[c.replace("_rows", "_fen")] for c in parts) == line["amount_fen"] == 6 * 10_000
    assert line["paid_rows"] == 6 - len(failed)
    waiting = view.queue if returned_now else view.held
    assert sorted(waiting["row_id"].to_list()) == sorted(failed)
