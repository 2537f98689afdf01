from __future__ import annotations

from importlib import resources

import polars as pl
from scripts.build_region_codes import parse_loc_dat, render_csv

from yikatong.regions import REGION_SCHEMA, region_codes


def _row(code: int) -> dict[str, object]:
    rows = region_codes().filter(pl.col("region_code") == code).to_dicts()
    assert len(rows) == 1
    return rows[0]


def test_the_packaged_table_has_one_row_per_code_in_its_schema() -> None:
    table = region_codes()
    assert dict(table.schema) == REGION_SCHEMA
    assert table["region_code"].is_unique().all()
    assert table.height > 6000


def test_historical_and_current_xiushan_codes_carry_their_years() -> None:
    assert _row(500241) == {"region_code": 500241, "valid_from": 1997, "valid_to": None, "name": "秀山土家族苗族自治县"}
    assert _row(512330)["valid_to"] == 1996
    assert _row(110105)["valid_from"] is None  # in use since the first edition


def test_the_parser_keeps_the_widest_span_of_a_code_with_several_names() -> None:
    text = '# comment\n50 province="重庆市"\n  0110 county="[1997-2010]万盛区,[2011-]綦江区"\n'
    text += '51 province="四川省"\n  2330 county="[1983-1982]秀山县,[1983-1996]秀山土家族苗族自治县"\n'
    codes = parse_loc_dat(text)
    assert [(c.code, c.valid_from, c.valid_to, c.name) for c in codes] == [
        (500110, 1997, None, "綦江区"),
        (512330, 1982, 1996, "秀山土家族苗族自治县"),
    ]


def test_the_committed_csv_is_what_the_script_builds_from_the_installed_list() -> None:
    from importlib import metadata

    text = resources.files("stdnum").joinpath("cn/loc.dat").read_text(encoding="utf-8")
    built = render_csv(parse_loc_dat(text), metadata.version("python-stdnum"))
    shipped = resources.files("yikatong").joinpath("data/regions.csv").read_text(encoding="utf-8")
    assert built == shipped
