"""Personal names: surname frequencies, given-name characters by era and sex, minority names with ``·``.

Surname weights are per mille of the national population (approximate shares from the household-register surname
statistics published by the Ministry of Public Security), plus a local boost for the surnames common among the
Tujia and Miao people of Xiushan and its neighbours (杨 吴 田 彭 龙 石 白 向 冉 滕 麻 …). Given names are one or two
characters drawn from pools that follow the fashions of the holder's birth era, so an 85-year-old is 秀英 or 德明 and
a child is 梓涵 or 浩宇. A small share of names carry a character that GBK cannot encode (䶮, 𠮷 …) — real rosters do,
and only GB18030 or UTF-8 keep them — and a small share are Uyghur names joined by the middle dot ``·`` (U+00B7).
"""

from __future__ import annotations

from typing import Final

import polars as pl

from yikatong.synth._rng import Rng, take

__all__ = [
    "DOT_LOOKALIKES",
    "RARE_CHARS",
    "SURNAMES",
    "different_name",
    "person_names",
    "uyghur_names",
    "with_rare_char",
]

_NATIONAL: Final = (
    "王71 李70 张67 刘54 陈45 杨31 黄21 赵20 吴20 周19 徐15 孙15 马13 朱13 胡12 郭12 何12 高10 林10 罗10 "
    "郑9 梁9 谢8 宋7 唐7 许6 韩6 冯6 邓6 曹6 彭6 曾6 肖5 田5 董5 袁5 潘5 于5 蒋5 蔡5 余5 杜5 叶4 程4 苏4 魏4 "
    "吕4 丁4 任4 沈4 姚4 卢4 姜4 崔3 钟3 谭3 陆3 汪3 范3 金3 石3 廖3 贾3 夏3 韦3 付3 方3 白3 邹3 孟3 熊3 秦3 "
    "邱3 江3 尹3 薛2 闫2 段2 雷2 侯2 龙2 史2 陶2 黎2 贺2 顾2 毛2 郝2 龚2 邵2 万2 钱2 严2 覃2 武2 戴2 莫2 孔2 "
    "向2 汤2 舒1 冉1 滕1 麻1 符1 欧阳0.3 司马0.05 上官0.05"
)
_LOCAL_BOOST: Final = "杨40 吴30 田30 彭30 龙25 石20 向20 白15 冉15 滕10 麻10 姚5 胡5 罗5 唐5 舒4 杜3 符2 覃3"


def _parse(spec: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for token in spec.split():
        i = next(k for k, ch in enumerate(token) if ch.isdigit())
        out[token[:i]] = out.get(token[:i], 0.0) + float(token[i:])
    return out


def _surnames() -> tuple[tuple[str, ...], tuple[float, ...]]:
    weights = _parse(_NATIONAL)
    for name, boost in _parse(_LOCAL_BOOST).items():
        weights[name] = weights.get(name, 0.0) + boost
    return tuple(weights), tuple(weights.values())


SURNAMES, _SURNAME_WEIGHTS = _surnames()
"""Surnames in a fixed order; their weights follow national frequencies with Xiushan's local boost."""

# Given-name character pools: (born before 1960, 1960–1989, 1990 and later) × (male, female).
_POOLS: Final[dict[tuple[int, str], str]] = {
    (0, "男"): "德明国华文世光永正成富贵发福清金昌胜林云树山海良宗开先玉启忠仁义长洪春荣万兴家朝绍",
    (0, "女"): "秀英兰芳珍桂凤玉梅花翠琼群莲菊香春素淑碧惠芝容银冬菊珍凤仙巧翠云莲",
    (1, "男"): "建军勇伟强平刚斌涛兵波辉亮东红明杰峰林华勇军志小德国俊超成江",
    (1, "女"): "丽红燕霞敏静艳萍玲娟琴英芳梅蓉洁莉丹小红燕琳慧娜秀萍",
    (2, "男"): "浩宇轩杰俊子博文涛鑫磊睿晨洋航泽锐阳楷皓然宸铭逸煜豪",
    (2, "女"): "欣怡婷雪佳雨梓涵诗琪思悦萱妍彤瑶馨琳露倩可语若一紫",
}

RARE_CHARS: Final = "䶮𠮷㛃𡒄䴙𪚥㸚䲟"
"""Name characters that GBK cannot encode but GB18030 and UTF-8 can (CJK Extension A and B)."""

_UYGHUR_GIVEN: Final = (
    "阿依古丽",
    "古丽娜尔",
    "热依拉",
    "艾力",
    "买买提",
    "努尔",
    "阿不都",
    "帕提古丽",
    "迪丽拜尔",
    "阿迪力",
    "米日古丽",
    "依力哈木",
    "阿尔祖古丽",
    "吐尔洪",
)
_UYGHUR_FATHER: Final = (
    "买买提",
    "吐尔逊",
    "艾买提",
    "热合曼",
    "依明",
    "吾守尔",
    "阿卜杜拉",
    "斯迪克",
    "卡德尔",
    "阿布力孜",
)

DOT_LOOKALIKES: Final = "・•．‧⋅∙･"
"""Characters typed in place of the minority-name dot ``·`` (U+30FB, U+2022, U+FF0E, U+2027, U+22C5, U+2219, U+FF65)."""


_POOL_ORDER: Final = ((0, "男"), (0, "女"), (1, "男"), (1, "女"), (2, "男"), (2, "女"))
_ALL_CHARS: Final = tuple("".join(_POOLS[key] for key in _POOL_ORDER))
_OFFSETS: Final = pl.Series([sum(len(_POOLS[k]) for k in _POOL_ORDER[:i]) for i in range(6)], dtype=pl.Int64)
_LENGTHS: Final = pl.Series([len(_POOLS[k]) for k in _POOL_ORDER], dtype=pl.Int64)


def _given_char(rng: Rng, stream: str, era: pl.Expr, sex: pl.Expr) -> pl.Expr:
    """One given-name character from the pool of the holder's era and sex (one gather, no branching)."""
    pool = era * 2 + (sex == "女").cast(pl.Int64)
    offset = pl.lit(_OFFSETS).gather(pool)
    length = pl.lit(_LENGTHS).gather(pool)
    return take(_ALL_CHARS, offset + rng.integers(stream, length))


def person_names(rng: Rng, *, birth_year: pl.Expr, sex: pl.Expr, prefix: str = "name") -> pl.Expr:
    """A realistic Han name per row: a surname by frequency and one or two given-name characters of the era.

    Args:
        rng: The random streams.
        birth_year: Birth year (picks the era of the given-name pool).
        sex: ``"男"`` / ``"女"``.
        prefix: Stream-name prefix, so two independent names can be drawn for the same rows.
    """
    era = pl.when(birth_year < 1960).then(0).when(birth_year < 1990).then(1).otherwise(2)
    surname = take(SURNAMES, rng.choice(f"{prefix}.surname", _SURNAME_WEIGHTS))
    first = _given_char(rng, f"{prefix}.g1", era, sex)
    second = _given_char(rng, f"{prefix}.g2", era, sex)
    two = rng.uniform(f"{prefix}.len") < 0.78
    return pl.concat_str(surname, first, pl.when(two).then(second).otherwise(pl.lit("")))


def uyghur_names(rng: Rng) -> pl.Expr:
    """A Uyghur name: given name and father's name joined by the middle dot ``·`` (U+00B7)."""
    return pl.concat_str(
        take(_UYGHUR_GIVEN, rng.integers("name.ug", len(_UYGHUR_GIVEN))),
        pl.lit("·"),
        take(_UYGHUR_FATHER, rng.integers("name.uf", len(_UYGHUR_FATHER))),
    )


def with_rare_char(rng: Rng, name: pl.Expr) -> pl.Expr:
    """``name`` with its last character replaced by one GBK cannot encode (e.g. 䶮, 𠮷)."""
    rare = take(tuple(RARE_CHARS), rng.integers("name.rare_char", len(RARE_CHARS)))
    return pl.concat_str(name.str.slice(0, pl.max_horizontal(name.str.len_chars() - 1, 2)), rare)


def different_name(rng: Rng, *, birth_year: pl.Expr, sex: pl.Expr, name: pl.Expr) -> pl.Expr:
    """A name with another surname than ``name``: a really different person, not a variant of the same name."""
    first = person_names(rng, birth_year=birth_year, sex=sex, prefix="alt")
    second = person_names(rng, birth_year=birth_year, sex=sex, prefix="alt2")
    initial = name.str.slice(0, 1)
    fallback = pl.when(initial == "欧").then(pl.lit("上官建国")).otherwise(pl.lit("欧阳建国"))
    return (
        pl.when(first.str.slice(0, 1) != initial)
        .then(first)
        .when(second.str.slice(0, 1) != initial)
        .then(second)
        .otherwise(fallback)
    )
