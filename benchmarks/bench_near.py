"""Benchmark ``DUP_NEAR``: precision, recall and time over a synthetic roster with injected near-duplicates.

Run: ``.venv/bin/python benchmarks/bench_near.py [--rows 1000000] [--dups 2000] [--seed 7]``

The roster is labelled: the truth is the set of pairs injected as "one person under two IDs" (same name and birth
date; the ID one digit apart in the sequence, check character recomputed so both IDs are valid; half of the copies
in the same village and household, half in another village and household of their own; a fifth of the copies
written with traditional characters). Negative controls that must not
be reported: twins (same household and birth date, consecutive sequence numbers, different given names) and
namesakes in the same village with a different birth date. Every other pair reported counts against precision.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import polars as pl

from yikatong.rules._names import TRADITIONAL_TO_SIMPLIFIED
from yikatong.rules.near import near_duplicates

__all__ = ["main", "make_roster"]

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红梅鹏辉波宁建国志海云飞春燕凤琴斌浩东林亮成文"
    "德兴荣福贵祥宝珍翠莲香菊秋月昌盛永长发财顺利和安康乐欣怡佳宇轩子涵梓萱雨泽皓俊凯晨阳思琪婷雪丹"
    "光天民生友仁义礼智信忠孝勤俭朝金银玲琳瑶璐瑾瑜珊珠蓓蕾薇芸芝茜菲蓉莉萌蔚岚嵐峰岩松柏桦楠森彬杉"
    "锋铭钢锦鑫镇铁钰鹤鸿鸣凰鹏翔翰羽航舟帆远达进通道运迪迅逸遥晓昊晗暄景晶智晟曦炎炜烨煜熙然照炳焕"
    "江河湖海洪涛润泉泓洁清淑涵浩瀚渊溪滨澜沛沁汉沐泰振宏鸿弘德威卫武斌杰豪雄震霖霆雷霄露霜雯霞"
)
_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_CHECK = np.array(list("10X98765432"))
_SIMPLIFIED_TO_TRADITIONAL = {s: t for t, s in TRADITIONAL_TO_SIMPLIFIED.items()}


def _zipf(rng: np.random.Generator, n: int, size: int, a: float = 1.1) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** a
    return rng.choice(n, size=size, p=weights / weights.sum())


def _ids(prefix17: np.ndarray) -> np.ndarray:
    digits = np.frombuffer("".join(prefix17).encode(), dtype=np.uint8).reshape(-1, 17) - ord("0")
    check = _CHECK[(digits * _WEIGHTS).sum(axis=1) % 11]
    return np.char.add(prefix17.astype("U17"), check)


def _names(rng: np.random.Generator, size: int) -> np.ndarray:
    surname = np.array(list(_SURNAMES))[_zipf(rng, len(_SURNAMES), size, 0.9)]
    pool = np.array(list(_GIVEN))
    first = pool[_zipf(rng, len(pool), size, 0.7)]
    second = pool[_zipf(rng, len(pool), size, 0.7)]
    two = rng.random(size) < 0.7
    return np.char.add(np.char.add(surname, first), np.where(two, second, ""))


def make_roster(rows: int, dups: int, seed: int) -> tuple[pl.DataFrame, set[tuple[int, int]]]:
    """A roster of ``rows`` base persons plus injected duplicates and controls, and the truth pairs (row ids)."""
    rng = np.random.default_rng(seed)
    n = int(rows * 1.02)
    regions = np.array(["500241", "512237", "500222", "500242", "510202", "522201", "433101", "500101"])
    region = regions[rng.choice(len(regions), size=n, p=[0.8, 0.08, 0.03, 0.03, 0.02, 0.02, 0.01, 0.01])]
    birth = (np.datetime64("1930-01-01") + rng.integers(0, 29500, size=n)).astype("datetime64[D]")
    birth_text = np.char.replace(birth.astype("U10"), "-", "")
    seq = np.char.zfill(rng.integers(0, 1000, size=n).astype("U3"), 3)
    ids = _ids(np.char.add(np.char.add(region, birth_text), seq))
    base = (
        pl.DataFrame({"id_number": ids, "name": _names(rng, n)})
        .unique("id_number", keep="first", maintain_order=True)
        .head(rows)
    )
    village = rng.integers(0, 600, size=base.height)
    household_size = rng.integers(1, 5, size=base.height)
    starts = np.repeat(np.cumsum(household_size) - household_size, household_size)[: base.height]
    base = base.with_columns(
        pl.Series("village", np.char.add("村", village[starts].astype("U4"))),
        pl.Series("household_head_id", base["id_number"].to_numpy()[starts]),
    )
    # Members of one household never share a name (naming custom): repeated names get one more given character.
    pool = pl.lit(pl.Series(list(_GIVEN)).implode())
    rank = pl.int_range(pl.len()).over("household_head_id", "name")
    extra_char = pool.list.get(rank % len(_GIVEN))
    base = base.with_columns(pl.when(rank > 0).then(pl.concat_str("name", extra_char)).otherwise("name").alias("name"))
    taken = set(base["id_number"].to_list())
    originals = base.sample(dups * 3, seed=seed, shuffle=True)
    extra: list[dict[str, str]] = []
    truth_ids: list[tuple[str, str]] = []
    for i, row in enumerate(originals.iter_rows(named=True)):
        kind = ("dup", "twin", "namesake")[i % 3]
        rid = row["id_number"]
        if kind == "namesake":
            year = int(rid[6:10]) + int(rng.integers(1, 30))
            new_prefix = rid[:6] + f"{min(year, 2012):04d}" + rid[10:17]
            name = row["name"]
        else:
            seq_digits = list(rid[14:17])
            if kind == "dup":
                pos = int(rng.integers(0, 3))
                seq_digits[pos] = str((int(seq_digits[pos]) + int(rng.integers(1, 10))) % 10)
                name = row["name"]
                if rng.random() < 0.2:
                    name = "".join(_SIMPLIFIED_TO_TRADITIONAL.get(c, c) for c in name)
            else:
                number = (int("".join(seq_digits)) + 2) % 1000
                seq_digits = list(f"{number:03d}")
                name = row["name"][0] + "".join(rng.choice(list(_GIVEN), size=2))
            new_prefix = rid[:14] + "".join(seq_digits)
        new_id = str(_ids(np.array([new_prefix]))[0])
        if new_id in taken or (kind == "twin" and name == row["name"]):
            continue
        taken.add(new_id)
        head, home = row["household_head_id"], row["village"]
        if kind == "namesake" or (kind == "dup" and rng.random() < 0.5):
            # Namesakes live elsewhere; half the duplicates are registered in another village and household.
            head = new_id
            if kind == "dup":
                home = f"村{int(rng.integers(0, 600))}"
        extra.append({"id_number": new_id, "name": name, "village": home, "household_head_id": head})
        if kind == "dup":
            truth_ids.append((rid, new_id))
    roster = pl.concat([base, pl.DataFrame(extra, schema=base.schema)]).sample(fraction=1.0, shuffle=True, seed=seed)
    roster = roster.with_row_index("row_id", offset=1).with_columns(pl.col("row_id").cast(pl.Int64))
    row_of = dict(zip(roster["id_number"].to_list(), roster["row_id"].to_list(), strict=True))
    truth = {tuple(sorted((row_of[a], row_of[b]))) for a, b in truth_ids}
    return roster, truth


def main() -> None:
    """Generate, detect, score and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dups", type=int, default=2000, help="originals drawn per kind (dup, twin, namesake)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    t0 = time.perf_counter()
    roster, truth = make_roster(args.rows, args.dups, args.seed)
    t1 = time.perf_counter()
    c1 = time.process_time()
    found = near_duplicates(roster)
    t2 = time.perf_counter()
    cpu = time.process_time() - c1
    predicted = set(zip(found.pairs["row_id"].to_list(), found.pairs["other_row_id"].to_list(), strict=True))
    hits = len(predicted & truth)
    precision = hits / len(predicted) if predicted else 1.0
    recall = hits / len(truth) if truth else 1.0
    print(f"rows={roster.height} injected_pairs={len(truth)} generated_in={t1 - t0:.1f}s")
    print(f"reported_pairs={len(predicted)} true_positives={hits}")
    print(f"precision={precision:.4f} recall={recall:.4f} detect_seconds={t2 - t1:.2f} (cpu {cpu:.2f}s, all threads)")
    top = roster.group_by("name").len().sort("len", descending=True).head(1).row(0)
    print(
        f"most common name: {top[1]} rows ({top[1] / roster.height:.3%}); distinct names: {roster['name'].n_unique()}"
    )
    print("oversize blocks:", found.oversize.to_dicts() or "none")


if __name__ == "__main__":
    main()
