"""Places: Xiushan's towns and villages, and the ID region codes its residents hold.

Towns and streets are the 27 township-level divisions of 秀山土家族苗族自治县 in the statistical division codes
(4 streets, 17 towns, 6 townships). Village and community names are plausible local toponyms of the area, not an
authoritative list. Region codes are real GB/T 2260 codes (checked against [`yikatong.regions.region_codes`][] by
the tests): Xiushan's current 500241 and its Sichuan-era 512330 (1983–1996), the neighbouring counties of Chongqing,
Guizhou and Hunan, and the rest of Chongqing for rosters larger than one county.
"""

from __future__ import annotations

from functools import cache
from typing import Final

import polars as pl

from yikatong.regions import region_codes

__all__ = [
    "NEIGHBOURS",
    "OTHER_CHONGQING",
    "TOWNS",
    "XIUSHAN_CURRENT",
    "XIUSHAN_HISTORICAL",
    "national_codes",
    "unknown_region_map",
    "village_table",
]

# (town, relative population, villages or communities)
TOWNS: Final[tuple[tuple[str, float, tuple[str, ...]], ...]] = (
    ("中和街道", 9.0, ("凤凰社区", "渝秀社区", "花灯社区", "新华社区", "高速社区", "官坝社区", "凤鸣社区")),
    ("乌杨街道", 5.0, ("乌杨社区", "火车站社区", "高桥村", "土沙村", "凤翔村", "新院村")),
    ("平凯街道", 4.5, ("平凯社区", "工业园社区", "平阳村", "凯堡村", "马家村", "小坝村")),
    ("官庄街道", 4.0, ("官庄社区", "鸳鸯村", "天堂村", "坝联村", "龙门村", "沙坝村")),
    ("清溪场镇", 3.5, ("清溪社区", "大寨村", "两河村", "平所村", "西山村", "明星村", "寨堡村")),
    ("隘口镇", 3.0, ("隘口社区", "岑龙村", "新庄村", "富裕村", "平马村", "坝芒村")),
    ("溶溪镇", 3.0, ("溶溪社区", "红光村", "喜桥村", "坪所村", "老屋村", "杨柳村")),
    ("龙池镇", 3.0, ("龙池社区", "洞坪村", "楠木村", "云隘村", "新田村", "白庄村")),
    ("石堤镇", 2.5, ("石堤社区", "卧龙村", "高洞村", "大坪村", "水坝村", "禾坪村")),
    ("峨溶镇", 2.5, ("峨溶社区", "三坝村", "雅桥村", "周家村", "茶园村", "长滩村")),
    ("洪安镇", 2.5, ("洪安社区", "边城村", "猫儿村", "贵塘村", "三阳村", "龙门村")),
    ("雅江镇", 2.5, ("雅江社区", "坝心村", "江口村", "新建村", "岩院村", "长坪村")),
    ("石耶镇", 3.0, ("石耶社区", "鸳鸯村", "正阳村", "高楼村", "盘龙村", "凤鸣村")),
    ("梅江镇", 3.0, ("梅江社区", "金珠村", "民族村", "兴隆村", "红旗村", "凯干村")),
    ("兰桥镇", 2.0, ("兰桥社区", "太平村", "鱼梁村", "桐坪村", "清水村")),
    ("膏田镇", 2.0, ("膏田社区", "双桥村", "青龙村", "铜鼓村", "苗王村")),
    ("溪口镇", 2.0, ("溪口社区", "五龙村", "黄杨村", "凉桥村", "老寨村")),
    ("妙泉镇", 2.0, ("妙泉社区", "贵措村", "金坑村", "官舟村", "芭蕉村")),
    ("宋农镇", 2.0, ("宋农社区", "大田村", "小溪村", "金竹村", "松林村")),
    ("里仁镇", 1.5, ("里仁社区", "龙凤村", "坝塘村", "田坝村", "堰塘村")),
    ("钟灵镇", 2.0, ("钟灵社区", "凯堡村", "茶山村", "平原村", "大坪村")),
    ("孝溪乡", 1.0, ("孝溪村", "中心村", "新寨村", "杨家村")),
    ("海洋乡", 1.0, ("海洋村", "岩院村", "坪地村", "塘坳村")),
    ("大溪乡", 1.0, ("大溪村", "丰联村", "马坪村", "甘溪村")),
    ("涌洞乡", 1.0, ("涌洞村", "川河村", "楠木村", "长坪村")),
    ("中平乡", 1.0, ("中平村", "龙凤村", "民主村", "柏香村")),
    ("岑溪乡", 1.0, ("岑溪村", "杨家村", "长滩村", "坪坝村")),
)

XIUSHAN_CURRENT: Final = 500241
XIUSHAN_HISTORICAL: Final = 512330
"""Xiushan under Sichuan (1983–1996): a resident whose first ID was issued then keeps this code for life."""

# (code, relative weight, last birth year a holder of this code can have: the code's last year in use)
NEIGHBOURS: Final[tuple[tuple[int, float, int | None], ...]] = (
    (500242, 3.0, None),  # 酉阳
    (500243, 2.0, None),  # 彭水
    (512329, 1.5, 1996),  # 酉阳 under Sichuan
    (500114, 1.0, None),  # 黔江
    (512328, 0.5, 1996),  # 黔江 under Sichuan
    (522229, 2.0, 2011),  # 松桃 (Guizhou), before Tongren became a city
    (522228, 0.5, 2011),  # 沿河 (Guizhou)
    (433125, 1.5, None),  # 保靖 (Hunan)
    (433124, 1.0, None),  # 花垣 (Hunan)
)

OTHER_CHONGQING: Final[tuple[int, ...]] = (
    500101, 500102, 500103, 500104, 500105, 500106, 500107, 500108, 500109, 500110, 500111, 500112, 500113,
    500115, 500116, 500117, 500118, 500119, 500120, 500151, 500152, 500153, 500154, 500155, 500156, 500229,
    500230, 500231, 500233, 500235, 500236, 500237, 500238, 500240,
)  # fmt: skip
"""Current codes of Chongqing's other districts and counties (in use since 1997 or later)."""


def village_table() -> pl.DataFrame:
    """One row per village: ``town``, ``village`` and its cumulative population share ``cum`` (ascending)."""
    rows: list[tuple[str, str, float]] = []
    total = sum(weight for _, weight, _ in TOWNS)
    for town, weight, villages in TOWNS:
        rows.extend((town, village, weight / total / len(villages)) for village in villages)
    frame = pl.DataFrame(rows, schema={"town": pl.String, "village": pl.String, "share": pl.Float64}, orient="row")
    return frame.with_columns(pl.col("share").cum_sum().alias("cum"))


@cache
def national_codes() -> tuple[int, ...]:
    """Current county-level codes of the whole country other than the ones listed above, for rosters larger than
    Chongqing could hold with unique ID numbers."""
    table = region_codes()
    listed = {XIUSHAN_CURRENT, XIUSHAN_HISTORICAL, *(c for c, _, _ in NEIGHBOURS), *OTHER_CHONGQING}
    current = table.filter(table["valid_to"].is_null() & (table["region_code"] % 100 != 0))["region_code"]
    return tuple(int(code) for code in current.to_list() if int(code) not in listed)


@cache
def unknown_region_map() -> dict[int, int]:
    """For every code the generator uses, a code in the same prefecture that never existed in GB/T 2260.

    Each real code maps to a different never-existing code, so an injected ``ID_REGION_UNKNOWN`` never makes two
    people's IDs equal.
    """
    existing = set(region_codes()["region_code"].to_list())
    used: set[int] = set()
    out: dict[int, int] = {}
    codes = [XIUSHAN_CURRENT, XIUSHAN_HISTORICAL, *(c for c, _, _ in NEIGHBOURS), *OTHER_CHONGQING, *national_codes()]
    for code in codes:
        base = code - code % 100
        for candidate in range(base + 99, base, -1):
            if candidate not in existing and candidate not in used:
                out[code] = candidate
                used.add(candidate)
                break
        else:  # pragma: no cover - every prefecture has fewer counties than free codes
            raise RuntimeError(f"no free region code near {code}")
    return out
