"""``yikatong synth`` and the files it writes; the committed example comes from the committed script."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from yikatong.catalog import Catalog
from yikatong.cli import main
from yikatong.synth import generate

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def test_synth_writes_roster_truth_and_context_and_prints_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["synth", "--rows", "2000", "--out", str(tmp_path), "--seed", "3", "--period", "2026-11"])
    out = capsys.readouterr().out
    assert code == 0
    assert "ID_CHECKSUM" in out
    assert "DUP_NEAR" in out
    for name in ("roster.csv", "truth.parquet", "registry.parquet", "ledger.parquet"):
        assert (tmp_path / name).is_file()
    lists = sorted(p.stem for p in (tmp_path / "reference").iterdir())
    assert lists == ["deceased", "dibao", "disabled", "public_employee", "registered_poor", "supported"]
    registry = pl.read_parquet(tmp_path / "registry.parquet")
    assert registry.columns == ["id_number", "account", "account_kind", "bank", "holder_name", "status"]
    ledger = pl.read_parquet(tmp_path / "ledger.parquet")
    assert ledger.columns == ["id_number", "item", "period", "amount", "status"]


def test_the_csv_is_gb18030_with_one_line_per_row_and_malformed_lines_carry_an_extra_field(tmp_path: Path) -> None:
    main(
        [
            "synth",
            "--rows",
            "1500",
            "--out",
            str(tmp_path),
            "--seed",
            "1",
            "--period",
            "2026-11",
            "--defect-rate",
            "0.3",
        ]
    )
    raw = (tmp_path / "roster.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    lines = raw.decode("gb18030").splitlines()
    assert len(lines) == 1 + 1500
    width = lines[0].count(",")
    truth = pl.read_parquet(tmp_path / "truth.parquet")
    malformed = set(truth.filter(pl.col("defect") == "ROW_MALFORMED")["row_id"].to_list())
    assert malformed
    for row_id, line in enumerate(lines[1:], start=1):
        assert line.count(",") == width + (1 if row_id in malformed else 0)


def test_utf8_and_parquet_rosters_drop_only_what_the_format_cannot_carry(tmp_path: Path, catalog: Catalog) -> None:
    data = generate(800, catalog=catalog, period="2026-11", seed=2, defect_rate=0.3)
    utf8 = data.write(tmp_path / "u", encoding="utf-8")
    assert utf8["roster"].read_bytes().decode("utf-8").count("\n") == 801
    parquet = data.write(tmp_path / "p", format="parquet")
    assert pl.read_parquet(parquet["roster"]).equals(data.roster)
    truth = pl.read_parquet(parquet["truth"])
    assert "ROW_MALFORMED" not in truth["defect"].to_list()
    assert truth.height == data.truth.filter(pl.col("defect") != "ROW_MALFORMED").height


def test_xlsx_keeps_every_cell_as_text(tmp_path: Path) -> None:
    assert main(["synth", "--rows", "300", "--out", str(tmp_path), "--format", "xlsx", "--period", "2026-11"]) == 0
    frame = pl.read_excel(tmp_path / "roster.xlsx", infer_schema_length=0)
    assert frame.height == 300
    assert (frame["身份证号"].str.len_chars() == 18).sum() > 280  # text cells: no 5.00241E+17 from a number cell
    assert frame["一卡通账号"].str.contains(r"^62\d{17}$").sum() > 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rows", "0"], "--rows"),
        (["--rows", "ten"], "--rows"),
        (["--rows", "10", "--defect-rate", "2"], "--defect-rate"),
        (["--rows", "10", "--defect-rate", "x"], "--defect-rate"),
        (["--rows", "10", "--seed", "-1"], "--seed"),
        (["--rows", "10", "--format", "pdf"], "--format"),
        (["--rows", "10", "--encoding", "gbk"], "--encoding"),
        (["--rows", "10", "--item", "gljt"], "--item"),
        (["--rows", "10", "--item", "NOPE"], "NOPE"),
        (["--rows", "10", "--period", "2026-13"], "--period"),
        (["--rows", "10", "--catalog", "/nonexistent/catalog.toml"], "catalogue not found"),
        (["--rows", "200000", "--format", "xlsx"], "xlsx"),
    ],
)
def test_bad_options_exit_2_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["synth", "--out", str(tmp_path), *_with_period(args)]) == 2
    assert message in capsys.readouterr().err


def _with_period(args: list[str]) -> list[str]:
    extra = [] if "--period" in args else ["--period", "2026-11"]
    return [*args, *extra]


def test_the_committed_example_is_what_the_script_writes(tmp_path: Path) -> None:
    from scripts.make_example_roster import write_examples

    write_examples(tmp_path)
    assert (tmp_path / "roster.csv").read_bytes() == (EXAMPLES / "roster.csv").read_bytes()
    for name in ("registry.csv", "ledger.csv", "roster_truth.csv", "reference/deceased.csv"):
        assert (tmp_path / name).read_bytes() == (EXAMPLES / name).read_bytes(), name


def test_the_rule_set_finds_exactly_the_injected_defects_in_the_example(tmp_path: Path) -> None:
    references = [
        arg
        for name in ("deceased", "public_employee", "disabled", "supported", "dibao", "registered_poor")
        for arg in ("--reference", f"{name}={EXAMPLES / 'reference' / f'{name}.csv'}")
    ]
    code = main(
        [
            "validate",
            str(EXAMPLES / "roster.csv"),
            "--item",
            "GLJT",
            "--period",
            "2026-11",
            "--registry",
            str(EXAMPLES / "registry.csv"),
            "--ledger",
            str(EXAMPLES / "ledger.csv"),
            *references,
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0
    found = pl.read_parquet(tmp_path / "issues.parquet").select(
        pl.col("row_id").cast(pl.Int64), pl.col("code").alias("defect")
    )
    truth = pl.read_csv(EXAMPLES / "roster_truth.csv", schema_overrides={"row_id": pl.Int64})
    must = truth.filter(pl.col("expected") == "must").select("row_id", "defect")
    missed = must.join(found, on=["row_id", "defect"], how="anti")
    unexpected = found.join(truth.select("row_id", "defect"), on=["row_id", "defect"], how="anti")
    assert missed.height == 0, missed
    assert unexpected.height == 0, unexpected
