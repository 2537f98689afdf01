"""Name comparison keys: the same person's name written two ways must compare equal.

Two sources of false differences are removed before any name is compared (holder names, near duplicates):

* the minority-name separator: ``·`` and its look-alikes (``•・．.‧⋅∙･``), or no separator at all, as in
  ``阿依古丽·买买提`` vs ``阿依古丽买买提``: all separators are dropped;
* traditional and simplified forms of common name characters (``張偉`` vs ``张伟``): traditional forms are mapped
  to simplified ones.

The table ``TRADITIONAL_TO_SIMPLIFIED`` holds pairs from the traditional/simplified correspondence table
(规范字与繁体字、异体字对照表) appended to the 《通用规范汉字表》 (State Council, 2013), restricted to characters
common in personal names and surnames. Characters whose traditional form is itself a distinct simplified-era
surname or name character (``於``/``于``, ``徵``/``征``, ``乾``/``干``, ``後``/``后``, ``瀋``/``沈``) are left out on
purpose: mapping them would merge different names.
"""

from __future__ import annotations

from typing import Final

import polars as pl

__all__ = ["NAME_SEPARATORS", "TRADITIONAL_TO_SIMPLIFIED", "name_key", "name_key_expr"]

NAME_SEPARATORS: Final = "·•・．.‧⋅∙･"

_PAIRS: Final = (
    "張张劉刘陳陈楊杨黃黄趙赵吳吴孫孙馬马鄭郑謝谢韓韩馮冯鄧邓許许蕭萧葉叶蘇苏盧卢蔣蒋賈贾閻阎閆闫羅罗鍾钟鐘钟"
    "譚谭陸陆鄒邹龍龙萬万錢钱湯汤賴赖龔龚顧顾嚴严齊齐韋韦餘余範范華华聶聂莊庄嶽岳顏颜雲云鳳凤麗丽紅红藝艺"
    "偉伟強强軍军傑杰國国東东興兴輝辉貴贵鵬鹏濤涛榮荣壽寿蓮莲愛爱寶宝蘭兰貞贞鈴铃靜静潔洁慶庆義义禮礼廣广"
    "寧宁長长學学聖圣滿满鳴鸣飛飞業业發发財财運运達达進进選选連连順顺權权綠绿嬌娇嫻娴婭娅傳传勝胜剛刚陽阳"
    "豔艳艷艳鶴鹤鴻鸿書书詩诗語语銀银鋒锋錦锦瑩莹瓊琼俠侠儀仪億亿優优夢梦憲宪愷恺揚扬曉晓樂乐樺桦橋桥歡欢"
    "漢汉潤润澤泽濱滨煥焕燦灿爾尔獻献環环璽玺畢毕穎颖競竞紀纪純纯紹绍統统維维綺绮緒绪繼继翹翘聰聪肅肃衛卫"
    "親亲訓训詠咏誠诚譽誉讓让豐丰賢贤贊赞軒轩農农遠远邊边鄉乡釗钊鈞钧銘铭鋼钢錫锡鎮镇鏡镜門门開开隨随雙双"
    "靈灵韻韵頌颂頓顿領领風风飄飘駿骏騰腾驊骅魯鲁鮑鲍鴿鸽鵑鹃黨党齡龄單单喬乔壯壮奮奋婁娄尋寻導导歲岁島岛"
    "嶺岭峯峰帥帅師师應应懷怀數数時时晉晋暉晖會会楨桢標标樹树歐欧區区溫温滬沪漁渔灣湾燈灯營营爺爷瑪玛璉琏"
    "畫画盤盘眾众確确穩稳竇窦築筑簡简糧粮紋纹組组經经結结絨绒綿绵線线緣缘總总羨羡習习聯联職职薈荟蘆芦號号"
    "見见規规覺觉觀观計计記记設设評评識识貝贝貫贯貽贻賀贺資资賓宾贏赢車车輔辅輕轻輪轮邁迈遼辽鄔邬酈郦鈺钰"
    "鉞钺銓铨錚铮鍵键鐵铁鑒鉴閔闵閩闽闞阚險险雋隽電电靄霭項项預预頤颐顯显駱骆驕骄驍骁鬱郁鮮鲜鯤鲲鳥鸟鵝鹅"
    "麥麦龐庞塗涂鄺邝巖岩匯汇滙汇瀾澜芻刍蘊蕴藍蓝蓋盖蒼苍嬋婵嫺娴"
)


def _table(pairs: str) -> dict[str, str]:
    table: dict[str, str] = {}
    for i in range(0, len(pairs), 2):
        traditional, simplified = pairs[i], pairs[i + 1]
        if traditional != simplified:
            table[traditional] = simplified
    return table


TRADITIONAL_TO_SIMPLIFIED: Final[dict[str, str]] = _table(_PAIRS)
"""Traditional → simplified forms of common name characters."""

_FROM: Final = [*NAME_SEPARATORS, *TRADITIONAL_TO_SIMPLIFIED]
_TO: Final = [*([""] * len(NAME_SEPARATORS)), *TRADITIONAL_TO_SIMPLIFIED.values()]


def name_key(name: str) -> str:
    """The comparison key of one name (see the module docstring): ``"張偉"`` → ``"张伟"``."""
    text = "".join(name.split())
    for sep in NAME_SEPARATORS:
        text = text.replace(sep, "")
    return "".join(TRADITIONAL_TO_SIMPLIFIED.get(c, c) for c in text).upper()


def name_key_expr(expr: pl.Expr) -> pl.Expr:
    """Vectorized ``name_key`` (one Aho-Corasick pass over the column)."""
    return expr.str.replace_all(r"\s+", "").str.replace_many(_FROM, _TO).str.to_uppercase()
