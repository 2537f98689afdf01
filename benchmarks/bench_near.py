"""Benchmark ``DUP_NEAR``: precision, recall and time over a synthetic roster with injected near-duplicates, this
checkout beside a baseline revision of the library, measured in the same run on the same roster.

Run from a checkout (the baseline is taken from its git history)::

    .venv/bin/python benchmarks/bench_near.py [--rows 1000000] [--dups 2000] [--seed 7] [--names realistic]
        [--baseline e43ab1b] [--repeat 2]

The roster is generated once and written to a temporary Parquet file; each detection runs in a fresh child process
(``near_duplicates`` on the roster read back, timed inside the child: wall seconds and CPU seconds of every thread),
once with this checkout's ``src`` and once with ``src`` as it was at ``--baseline`` (``git archive``), alternating so
both meet the same load. On a shared machine CPU time is the steadier figure. The load average at the start is
printed.

Names: ``realistic`` (the default) draws whole given names with a heavy head (秀英, 桂英, 伟, 芳, …; see
``_COMMON_GIVEN``) under locally concentrated surnames, so full names such as 王秀英, 李秀英, 王伟 and 张伟 recur
thousands of times per million rows, as on a rural county's rosters; ``characters`` builds every given name from
Zipf-weighted characters (the generator of the earlier figures; its most common name, 王伟, about 3,300 per million,
is a one-character given name).

The roster is labelled: the truth is the set of pairs injected as "one person under two IDs" (same name and birth
date; the ID one digit apart in the sequence, check character recomputed so both IDs are valid; half of the copies
in the same village and household, half in another village and household of their own; a fifth of the copies
written with traditional characters). Negative controls that must not be reported: twins (same household and birth
date, consecutive sequence numbers, different given names) and namesakes in the same village with a different birth
date. Every other pair reported counts against precision; precision is also given without the *chance namesakes*:
pairs of generated people who happen to share the name key and the birth date (and so meet the rule's definition,
e.g. IDs one digit apart), which nothing on a roster tells apart from one person under two IDs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from benchmarks._baseline import baseline_src, imported_from
from yikatong.rules._names import TRADITIONAL_TO_SIMPLIFIED, name_key_expr

__all__ = ["detect", "main", "make_roster"]

_ROOT = Path(__file__).resolve().parent.parent

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
_LOCAL_SURNAMES = {"王": 18.0, "李": 12.0, "张": 10.0, "刘": 7.0, "陈": 5.0}
"""Surname shares (percent) of the ``realistic`` names: a county where a few clans dominate (the national shares of
王, 李 and 张 are about 7% each; single-surname villages push them far higher locally)."""
# fmt: off
_COMMON_GIVEN = {
    "秀英": 2.8, "桂英": 1.6, "秀兰": 1.5, "玉兰": 1.3, "伟": 1.2, "芳": 1.0, "桂兰": 1.0, "秀珍": 0.9, "凤英": 0.9,
    "玉珍": 0.8, "敏": 0.8, "静": 0.8, "丽": 0.7, "强": 0.7, "军": 0.7, "建国": 0.7, "建华": 0.6, "玉英": 0.6,
    "淑珍": 0.6, "国华": 0.5, "娜": 0.5, "磊": 0.5, "勇": 0.5, "艳": 0.5, "杰": 0.5, "明": 0.5, "霞": 0.5,
    "平": 0.5, "刚": 0.4, "志强": 0.4, "秀云": 0.4, "秀荣": 0.4, "桂珍": 0.4, "玉梅": 0.4, "兰英": 0.4,
    "德明": 0.3, "德福": 0.3, "永福": 0.3, "文华": 0.3,
}
# fmt: on
"""Whole given names drawn as one (percent of all names; the rest are built character by character): the names of a
generation, 秀英 and 桂英 for women born before 1960, 伟 and 芳 later, give the full names that recur thousands of
times per million (王秀英, 李秀英, 张伟, 王芳)."""
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


def _given_by_characters(rng: np.random.Generator, size: int) -> np.ndarray:
    pool = np.array(list(_GIVEN))
    first = pool[_zipf(rng, len(pool), size, 0.7)]
    second = pool[_zipf(rng, len(pool), size, 0.7)]
    two = rng.random(size) < 0.7
    return np.char.add(first, np.where(two, second, ""))


def _names_by_characters(rng: np.random.Generator, size: int) -> np.ndarray:
    surname = np.array(list(_SURNAMES))[_zipf(rng, len(_SURNAMES), size, 0.9)]
    return np.char.add(surname, _given_by_characters(rng, size))


def _weighted(
    rng: np.random.Generator, head: dict[str, float], tail: np.ndarray, tail_a: float, size: int
) -> np.ndarray:
    """Draw from ``head`` (item → share in percent) and, for the remaining share, Zipf-weighted from ``tail``."""
    rest = 1.0 - sum(head.values()) / 100
    weights = 1.0 / np.arange(1, len(tail) + 1) ** tail_a
    p = np.concatenate([np.array(list(head.values())) / 100, rest * weights / weights.sum()])
    items = np.concatenate([np.array(list(head)), tail])
    return items[rng.choice(len(items), size=size, p=p / p.sum())]


def _names_realistic(rng: np.random.Generator, size: int) -> np.ndarray:
    surname = _weighted(rng, _LOCAL_SURNAMES, np.array([s for s in _SURNAMES if s not in _LOCAL_SURNAMES]), 0.9, size)
    tail = _given_by_characters(rng, size)
    head = _weighted(rng, _COMMON_GIVEN, np.array([""]), 1.0, size)
    return np.char.add(surname, np.where(head == "", tail, head))


def _names(rng: np.random.Generator, size: int, mode: str) -> np.ndarray:
    return _names_realistic(rng, size) if mode == "realistic" else _names_by_characters(rng, size)


def make_roster(rows: int, dups: int, seed: int, names: str = "realistic") -> tuple[pl.DataFrame, set[tuple[int, int]]]:
    """A roster of ``rows`` base persons plus injected duplicates and controls, and the truth pairs (row ids).

    ``names``: ``realistic`` (a heavy head of whole names, see ``_COMMON_GIVEN``) or ``characters`` (every given
    name built from Zipf-weighted characters, the generator of the earlier figures)."""
    rng = np.random.default_rng(seed)
    n = int(rows * 1.02)
    regions = np.array(["500241", "512237", "500222", "500242", "510202", "522201", "433101", "500101"])
    region = regions[rng.choice(len(regions), size=n, p=[0.8, 0.08, 0.03, 0.03, 0.02, 0.02, 0.01, 0.01])]
    birth = (np.datetime64("1930-01-01") + rng.integers(0, 29500, size=n)).astype("datetime64[D]")
    birth_text = np.char.replace(birth.astype("U10"), "-", "")
    seq = np.char.zfill(rng.integers(0, 1000, size=n).astype("U3"), 3)
    ids = _ids(np.char.add(np.char.add(region, birth_text), seq))
    base = (
        pl.DataFrame({"id_number": ids, "name": _names(rng, n, names)})
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


def detect(roster_path: Path, out: Path) -> dict[str, float]:
    """The child process's work: read the roster, time ``near_duplicates`` and write its pairs to ``out``, then time
    ``validate`` with the ``DUP_NEAR`` rule alone (the rule as the engine runs it: pairs, evidence per row, issues)."""
    from yikatong.catalog import Catalog
    from yikatong.rules import validate
    from yikatong.rules.near import RULES, near_duplicates

    roster = pl.read_parquet(roster_path)
    wall, cpu = time.perf_counter(), time.process_time()
    found = near_duplicates(roster)
    figures = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}
    found.pairs.write_parquet(out)
    item = Catalog.example()["GLJT"]
    wall, cpu = time.perf_counter(), time.process_time()
    report = validate(roster, item=item, period="2026-11", rules=RULES)
    figures |= {"rule_wall": time.perf_counter() - wall, "rule_cpu": time.process_time() - cpu}
    figures["rule_rows"] = report.issues.height
    return figures


def _run(src: Path, roster: Path, out: Path, cwd: Path) -> dict[str, Any]:
    """``detect`` in a fresh child process with ``src`` first on the import path."""
    env = {**os.environ, "PYTHONPATH": str(src), "POLARS_SKIP_CPU_CHECK": "1"}
    command = [sys.executable, str(Path(__file__).resolve()), "--detect", str(roster), str(out)]
    done = subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True, text=True)
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _chance_namesakes(roster: pl.DataFrame, pairs: pl.DataFrame, truth: set[tuple[int, int]]) -> int:
    """Reported pairs outside the truth whose rows share the name key and the birth date (see the module doc)."""
    people = roster.select("row_id", name_key_expr(pl.col("name")).alias("nk"), pl.col("id_number").str.slice(6, 8))
    other = people.rename({"row_id": "other_row_id", "nk": "nk_r", "id_number": "birth_r"})
    joined = pairs.select("row_id", "other_row_id").join(people, on="row_id").join(other, on="other_row_id")
    chance = joined.filter((pl.col("nk") == pl.col("nk_r")) & (pl.col("id_number") == pl.col("birth_r")))
    return sum(1 for pair in chance.select("row_id", "other_row_id").iter_rows() if pair not in truth)


def _score(roster: pl.DataFrame, pairs: pl.DataFrame, truth: set[tuple[int, int]]) -> dict[str, Any]:
    predicted = set(pairs.select("row_id", "other_row_id").iter_rows())
    hits = len(predicted & truth)
    chance = _chance_namesakes(roster, pairs, truth)
    return {
        "reported": len(predicted),
        "true": hits,
        "chance": chance,
        "precision": hits / len(predicted) if predicted else 1.0,
        "precision_net": hits / (len(predicted) - chance) if len(predicted) > chance else 1.0,
        "recall": hits / len(truth) if truth else 1.0,
    }


def main(argv: list[str] | None = None) -> None:
    """Generate the roster, time the detection before and after in child processes, score and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dups", type=int, default=2000, help="originals drawn per kind (dup, twin, namesake)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--names", choices=("realistic", "characters"), default="realistic")
    parser.add_argument("--baseline", default="e43ab1b", help="git revision to compare with")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each, alternating; the fastest is shown")
    parser.add_argument("--detect", nargs=2, type=Path, metavar=("ROSTER", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.detect:
        print(json.dumps(detect(*args.detect)))
        return
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    started = time.perf_counter()
    roster, truth = make_roster(args.rows, args.dups, args.seed, args.names)
    print(
        f"rows={roster.height} injected_pairs={len(truth)} names={args.names} "
        f"generated_in={time.perf_counter() - started:.1f}s"
    )
    counts = roster.group_by("name").len().sort("len", descending=True)
    top = ", ".join(f"{n} {c:,}" for n, c in counts.head(5).iter_rows())
    print(
        f"most common names: {top}; names on 1,000 rows or more: {(counts['len'] >= 1000).sum()}; "
        f"distinct names: {counts.height:,}"
    )
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        path = work / "roster.parquet"
        roster.write_parquet(path)
        sources = {f"before ({args.baseline})": baseline_src(args.baseline, work / "baseline"), "after": _ROOT / "src"}
        for name, src in sources.items():
            print(f"{name}: yikatong from {imported_from(src, work)}")
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in sources}
        pairs: dict[str, pl.DataFrame] = {}
        for _ in range(args.repeat):
            for name, src in sources.items():
                out = work / "pairs.parquet"
                runs[name].append(_run(src, path, out, work))
                pairs[name] = pl.read_parquet(out)
    print(
        "\n| library | `near_duplicates` wall / CPU s | `validate`, `DUP_NEAR` alone, wall / CPU s | pairs "
        "| precision | precision without chance namesakes | recall |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, timings in runs.items():
        q = _score(roster, pairs[name], truth)
        best = {k: min(r[k] for r in timings) for k in ("wall", "cpu", "rule_wall", "rule_cpu")}
        print(
            f"| {name} | {best['wall']:.2f} / {best['cpu']:.2f} | {best['rule_wall']:.2f} / {best['rule_cpu']:.2f} "
            f"| {q['reported']:,} ({q['true']:,} true, {q['chance']} chance namesakes) | {q['precision']:.3f} "
            f"| {q['precision_net']:.3f} | {q['recall']:.3f} |"
        )
    first, *rest = pairs.values()
    same = all(first.equals(other) for other in rest)
    print(f"\nthe same pairs, blocks and scores before and after: {'yes' if same else 'NO'}")
    issues = {name: {r["rule_rows"] for r in timings} for name, timings in runs.items()}
    print(f"issue rows of DUP_NEAR: {issues}")
    every = {
        n: [f"{r['wall']:.2f}/{r['cpu']:.2f}, {r['rule_wall']:.2f}/{r['rule_cpu']:.2f}" for r in t]
        for n, t in runs.items()
    }
    print("every run (near_duplicates, validate: wall/CPU s):", every)


if __name__ == "__main__":
    main()
