"""Disclosure files open in Excel and a browser, carry the totals, and never a full ID, account or name."""

from __future__ import annotations

import datetime as dt
import zipfile
from decimal import Decimal
from pathlib import Path

import attrs
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yikatong.adapters.disclosure_files import DisclosureFileSink
from yikatong.errors import DisclosureError
from yikatong.ports import DisclosureSink
from yikatong.privacy import mask_name_expr
from yikatong.records import DisclosureNotice

BATCH = "XS-2026-11-GDLS-001"


def _people() -> pl.DataFrame:
    """Payees as the store holds them: with full IDs and accounts that must never reach a notice."""
    return pl.DataFrame(
        {
            "town": ["中和街道", "中和街道", "中和街道", "清溪场镇", "清溪场镇"],
            "village": ["三角村", "三角村", "石堤村", "大寨村", "大寨村"],
            "name": ["张三", "欧阳娜娜", "李四光", "阿依古丽·买买提", "王五"],
            "id_number": [
                "11010519491231002X",
                "440524188001010014",
                "500241199001011237",
                "500241198502023318",
                "50024119700303442X",
            ],
            "account": [
                "6228480012345678901",
                "6210981234567890",
                "6230520000000001",
                "62170000111122223",
                "6222021234567894",
            ],
            "amount_fen": [10000, 12345, 50, 123456789, 1],
        }
    )


def _notice(
    people: pl.DataFrame | None = None, *, totals: pl.DataFrame | None = None, standard: str = "100.00元/亩"
) -> DisclosureNotice:
    people = _people() if people is None else people
    rows = people.select(
        "town",
        "village",
        mask_name_expr(pl.col("name")).alias("name_masked"),
        pl.lit("耕地地力保护补贴").alias("item_name"),
        pl.lit("2026-11").alias("period"),
        pl.lit(standard).alias("standard"),
        "amount_fen",
        pl.lit(dt.date(2026, 11, 20)).alias("pay_date"),
    )
    return DisclosureNotice(
        batch_id=BATCH,
        item="GDLS",
        item_name="耕地地力保护补贴",
        period="2026-11",
        rows=rows,
        window_days=7,
        published_at=dt.datetime(2026, 11, 27, 9, tzinfo=dt.UTC),
        totals=totals,
    )


def _all_text(folder: Path) -> str:
    """Every character of every file written, the XLSX parts included."""
    parts: list[str] = []
    for path in folder.rglob("*"):
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as z:
                parts.extend(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))
        elif path.is_file():
            parts.append(path.read_bytes().decode("utf-8-sig"))
    return "\n".join(parts)


def test_the_file_sink_is_a_disclosure_sink(tmp_path: Path) -> None:
    assert isinstance(DisclosureFileSink(tmp_path), DisclosureSink)


def test_a_notice_gives_a_csv_and_an_xlsx_per_town_and_an_html_page_per_village(tmp_path: Path) -> None:
    sink = DisclosureFileSink(tmp_path)
    sink.publish(_notice())
    names = sorted(p.name for p in (tmp_path / BATCH).iterdir())
    assert names == sorted(
        [
            f"中和街道_GDLS_2026-11_{BATCH}.csv",
            f"中和街道_GDLS_2026-11_{BATCH}.xlsx",
            f"中和街道_三角村_GDLS_2026-11_{BATCH}.html",
            f"中和街道_石堤村_GDLS_2026-11_{BATCH}.html",
            f"清溪场镇_GDLS_2026-11_{BATCH}.csv",
            f"清溪场镇_GDLS_2026-11_{BATCH}.xlsx",
            f"清溪场镇_大寨村_GDLS_2026-11_{BATCH}.html",
        ]
    )
    assert sorted(p.name for p in sink.written) == names
    assert not list(tmp_path.rglob("*.tmp"))


def test_no_full_id_account_or_name_appears_in_any_file(tmp_path: Path) -> None:
    DisclosureFileSink(tmp_path).publish(_notice())
    text = _all_text(tmp_path)
    people = _people()
    for value in [*people["id_number"], *people["account"]]:
        assert value not in text
        assert value[6:14] not in text  # the birth digits never show
    for name in ["张三", "欧阳娜娜", "李四光", "阿依古丽·买买提", "王五"]:
        assert name not in text
    for masked in ["张*", "欧阳**", "李*光", "阿*******"]:
        assert masked in text


def test_the_csv_has_a_byte_order_mark_the_rows_and_the_totals(tmp_path: Path) -> None:
    DisclosureFileSink(tmp_path).publish(_notice())
    path = tmp_path / BATCH / f"中和街道_GDLS_2026-11_{BATCH}.csv"
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = pl.read_csv(raw.decode("utf-8-sig").encode("utf-8"), infer_schema=False)
    assert table.columns[:3] == ["乡镇(街道)", "村(社区)", "姓名"]
    assert table["姓名"].to_list() == ["张*", "欧阳**", "小计", "李*光", "小计", "合计"]
    assert table["发放金额(元)"].to_list() == ["100.00", "123.45", "223.45", "0.50", "0.50", "223.95"]


def test_the_xlsx_opens_and_its_village_sheets_and_summary_add_up(tmp_path: Path) -> None:
    DisclosureFileSink(tmp_path).publish(_notice())
    path = tmp_path / BATCH / f"清溪场镇_GDLS_2026-11_{BATCH}.xlsx"
    sheets = pl.read_excel(path, sheet_id=0, read_options={"header_row": 2})
    assert isinstance(sheets, dict)
    assert list(sheets) == ["汇总", "大寨村"]
    summary = sheets["汇总"]
    assert summary["村(社区)"].to_list() == ["大寨村", "合计"]
    assert summary["发放金额(元)"].to_list() == ["1,234,567.90", "1,234,567.90"]
    village = sheets["大寨村"]
    assert village["姓名"].to_list()[:2] == ["王*", "阿*******"]
    listed = sum(Decimal(v.replace(",", "")) for v in village["发放金额(元)"].to_list()[:2])
    assert listed == Decimal("1234567.90")


def test_each_html_page_is_printable_escaped_and_carries_village_and_town_totals(tmp_path: Path) -> None:
    DisclosureFileSink(tmp_path).publish(_notice(standard="<b>100</b>元/亩"))
    page = (tmp_path / BATCH / f"清溪场镇_大寨村_GDLS_2026-11_{BATCH}.html").read_text(encoding="utf-8")
    assert '<meta charset="utf-8">' in page
    assert "@media print" in page
    assert "<b>" not in page
    assert "&lt;b&gt;100&lt;/b&gt;元/亩" in page
    assert "本村(社区)小计 2 人" in page
    assert "清溪场镇合计 2 人" in page
    assert '<td class="num">1,234,567.90</td>' in page
    other = (tmp_path / BATCH / f"中和街道_三角村_GDLS_2026-11_{BATCH}.html").read_text(encoding="utf-8")
    assert "本村(社区)小计 2 人" in other
    assert "中和街道合计 3 人" in other
    assert '<td class="num">223.95</td>' in other


def test_totals_given_with_the_notice_count_children_who_are_not_listed(tmp_path: Path) -> None:
    totals = pl.DataFrame(
        {
            "town": ["中和街道", "中和街道", "清溪场镇"],
            "village": ["三角村", "石堤村", "大寨村"],
            "payees": [3, 1, 2],
            "amount_fen": [32345, 50, 123456790],
            "minors_withheld": [1, 0, 0],
        }
    )
    DisclosureFileSink(tmp_path).publish(_notice(totals=totals))
    page = (tmp_path / BATCH / f"中和街道_三角村_GDLS_2026-11_{BATCH}.html").read_text(encoding="utf-8")
    assert "本村(社区)小计 3 人（含未列名的未成年人 1 人）" in page
    assert '<td class="num">323.45</td>' in page


def test_publishing_a_batch_again_replaces_its_files(tmp_path: Path) -> None:
    sink = DisclosureFileSink(tmp_path)
    sink.publish(_notice())
    sink.publish(_notice(_people().filter(pl.col("town") == "清溪场镇")))
    names = sorted(p.name for p in (tmp_path / BATCH).iterdir())
    assert all(name.startswith("清溪场镇") for name in names)
    assert len(names) == 3


def test_a_notice_with_an_unmasked_name_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    notice = _notice()
    leaked = DisclosureNotice(
        batch_id=notice.batch_id,
        item=notice.item,
        item_name=notice.item_name,
        period=notice.period,
        rows=notice.rows.with_columns(name_masked=_people()["name"]),
        window_days=7,
        published_at=notice.published_at,
    )
    with pytest.raises(DisclosureError, match="not masked") as caught:
        DisclosureFileSink(tmp_path).publish(leaked)
    assert "张三" not in str(caught.value)
    assert not list(tmp_path.rglob("*.*"))


def test_a_notice_carrying_an_id_or_account_in_any_text_is_refused(tmp_path: Path) -> None:
    notice = _notice()
    leaked = DisclosureNotice(
        batch_id=notice.batch_id,
        item=notice.item,
        item_name=notice.item_name,
        period=notice.period,
        rows=notice.rows.with_columns(standard=pl.lit("账号6228480012345678901")),
        window_days=7,
        published_at=notice.published_at,
    )
    with pytest.raises(DisclosureError, match="ID, account or phone") as caught:
        DisclosureFileSink(tmp_path).publish(leaked)
    assert "6228480012345678901" not in str(caught.value)


_CJK = st.sampled_from(list("张王李赵欧阳司马娜丽华国强秀英买提古阿依"))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    names=st.lists(st.text(_CJK, min_size=2, max_size=6), min_size=1, max_size=6),
    amounts=st.lists(st.integers(min_value=1, max_value=10**11), min_size=6, max_size=6),
)
def test_csv_amounts_and_totals_are_exact_for_any_amounts(tmp_path: Path, names: list[str], amounts: list[int]) -> None:
    n = len(names)
    people = pl.DataFrame(
        {
            "town": ["中和街道"] * n,
            "village": ["三角村"] * n,
            "name": names,
            "id_number": ["11010519491231002X"] * n,
            "account": ["6228480012345678901"] * n,
            "amount_fen": amounts[:n],
        }
    )
    DisclosureFileSink(tmp_path, formats=("csv",)).publish(_notice(people))
    raw = (tmp_path / BATCH / f"中和街道_GDLS_2026-11_{BATCH}.csv").read_bytes()
    table = pl.read_csv(raw.decode("utf-8-sig").encode("utf-8"), infer_schema=False)
    fen = [int(Decimal(v.replace(",", "")) * 100) for v in table["发放金额(元)"].to_list()]
    assert sorted(fen[:n]) == sorted(amounts[:n])
    assert fen[-1] == sum(amounts[:n])


def test_a_pay_date_given_as_a_datetime_is_published_as_a_date(tmp_path: Path) -> None:
    notice = _notice()
    stamped = DisclosureNotice(
        batch_id=notice.batch_id,
        item=notice.item,
        item_name=notice.item_name,
        period=notice.period,
        rows=notice.rows.with_columns(pay_date=pl.lit(dt.datetime(2026, 11, 20, 15, 30))),
        window_days=7,
        published_at=notice.published_at,
    )
    DisclosureFileSink(tmp_path, formats=("html",)).publish(stamped)
    page = (tmp_path / BATCH / f"中和街道_三角村_GDLS_2026-11_{BATCH}.html").read_text(encoding="utf-8")
    assert "<td>2026-11-20</td>" in page
    assert "15:30" not in page


def test_each_village_page_numbers_its_own_rows_from_one(tmp_path: Path) -> None:
    DisclosureFileSink(tmp_path).publish(_notice())
    for page in (tmp_path / BATCH).glob("*.html"):
        body = page.read_text(encoding="utf-8").split("<tbody>")[1].split("</tbody>")[0]
        numbers = [line.split("</td>")[0] for line in body.strip().split("\n")]
        assert numbers == [f"<tr><td>{n}" for n in range(1, len(numbers) + 1)], page.name


@pytest.mark.parametrize(("zone", "shown"), [("Asia/Shanghai", "2026-11-27"), ("UTC", "2026-11-26")])
def test_the_files_date_the_notice_in_the_county_zone(tmp_path: Path, zone: str, shown: str) -> None:
    notice = attrs.evolve(_notice(), published_at=dt.datetime(2026, 11, 26, 23, 30, tzinfo=dt.UTC))
    DisclosureFileSink(tmp_path, zone=zone).publish(notice)
    pages = [p.read_text(encoding="utf-8") for p in (tmp_path / BATCH).glob("*.html")]
    assert pages
    assert all(f"自 {shown} 起" in page for page in pages)
    assert f"自 {shown} 起" in _all_text(tmp_path / BATCH)


def test_an_unknown_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        DisclosureFileSink("unused", zone="Mars/Olympus")
