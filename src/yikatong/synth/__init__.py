"""Synthetic rosters with known defects, and the registry, reference lists and ledger that match them.

For the demo, the tests and the benchmarks::

    from yikatong import Catalog
    from yikatong.synth import generate

    data = generate(10_000, catalog=Catalog.example(), item="GLJT", period="2026-11")
    data.write("out/")  # roster.csv (GB18030), truth.parquet, registry.parquet, reference/*.parquet, ledger.parquet

The generator is vectorized end to end (Polars expressions over the row index, no per-row Python) and
deterministic: the same arguments give the same data (random values are seeded hashes of the row number, stable
within a Polars version). People are realistic: surnames with
national frequencies and Xiushan's Tujia and Miao surnames boosted, given names of the holder's era, a few Uyghur
names joined by ``·`` and a few characters GBK cannot encode; valid, unique 18-digit IDs with Xiushan's current
(500241) and Sichuan-era (512330) codes and real neighbouring codes; birth dates the item's age rule admits;
Xiushan's 27 towns and streets with their villages; households; one Luhn-valid account per person; amounts by the
catalogue's standard.

Truth semantics. Each defective row carries exactly one injected kind, named by the rule code it must trigger; kinds
never overlap on a row except as listed in [`ALSO_MUST`][yikatong.synth.ALSO_MUST] (consequences that are certain) and
[`ALSO_MAY`][yikatong.synth.ALSO_MAY] (consequences a correct rule set may or may not report, such as an account lookup
failing for an ID Excel mangled). ``truth.expected`` says which: score recall on ``must``; do not count ``may`` as false
positives. Pair kinds (``DUP_IN_BATCH``, ``DUP_NEAR``, ``ACCOUNT_SHARED``) mark both rows of the pair. Rows absent from
the truth are clean against every rule — with three deliberate traps a correct rule set must not flag: a registry
holder name written without the minority-name dot, a same-period ledger entry that ``failed`` or was ``returned``,
and public employees receiving an item that is not means-tested. Natural coincidences (two people of the same name
and birth date in different villages) are not in the truth.
"""

from yikatong.synth._data import XLSX_MAX_ROWS, Encoding, Format, SynthData
from yikatong.synth._generate import generate
from yikatong.synth._kinds import CONTEXT_KINDS, DEFECT_KINDS, PAIR_KINDS, ROSTER_KINDS, applicable_kinds
from yikatong.synth._roster import HEADERS
from yikatong.synth._truth import ALSO_MAY, ALSO_MUST

__all__ = [
    "ALSO_MAY",
    "ALSO_MUST",
    "CONTEXT_KINDS",
    "DEFECT_KINDS",
    "HEADERS",
    "PAIR_KINDS",
    "ROSTER_KINDS",
    "XLSX_MAX_ROWS",
    "Encoding",
    "Format",
    "SynthData",
    "applicable_kinds",
    "generate",
]
