"""``yikatong validate``: validate a roster file against one catalogue item and period, print a summary.

The handler is three steps so that more inputs can be added without touching the rest: ``load_inputs`` reads
the catalogue, the item and the roster; ``build_context`` turns the options into a
[`ValidationContext`][yikatong.ValidationContext] (``--context DIR`` first, then the registry, reference list and ledger
options, which win over the folder's files); ``run`` validates, prints the summary (``_summary.py``) and writes.
Every whole-file problem is a ``CliInputError`` that ends with exit code 2 and a two-language message, never a
traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl
from attrs import frozen

from yikatong.adapters.validation_report import write_validation_report
from yikatong.catalog import Catalog, SubsidyItem
from yikatong.cli._catalog import load_catalog
from yikatong.cli._common import CliInputError, at_least, fail, say
from yikatong.cli._dask import DaskUnavailable, validate_on_cluster
from yikatong.cli._rules import load_rules
from yikatong.cli._summary import print_controls, print_summary
from yikatong.errors import PeriodKindError, ReferenceDataError, RosterFormatError, UnknownItem
from yikatong.ingest import (
    ContextFiles,
    RosterForm,
    find_context_files,
    load_ledger,
    load_reference,
    load_registry,
    parse_reference_option,
    read_form,
)
from yikatong.money import parse_yuan
from yikatong.period import Period, period_of_kind
from yikatong.rules import RULES, ValidationContext, ValidationReport, validate, validate_partitioned

__all__ = [
    "CliInputError",
    "Inputs",
    "build_context",
    "load_inputs",
    "print_controls",
    "print_summary",
    "register",
    "run",
]


@frozen
class Inputs:
    """What the command validates: the catalogue, the item, the period, the roster frame and the roster file as a
    form (its non-payee lines and the total of its 合计 line)."""

    catalog: Catalog
    item: SubsidyItem
    period: Period
    roster: pl.DataFrame
    form: RosterForm


def _period(text: str) -> Period:
    try:
        return Period.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"期间须为 YYYY-MM / {exc}") from None


def _yuan(text: str) -> int:
    try:
        fen = parse_yuan(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"金额无效 / {exc}") from None
    if fen < 0:
        raise argparse.ArgumentTypeError(f"金额不能为负 / negative total {text!r}")
    return fen


_count = at_least(0, "笔数", "row count")
_parts = at_least(1, "分区数", "number of parts")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``validate`` sub-command."""
    p = sub.add_parser(
        "validate",
        help="validate a roster against a catalogue item and period",
        description="Validate a roster (CSV, XLSX or Parquet) against one subsidy item for one period.",
    )
    p.add_argument("roster", type=Path, help="roster file (CSV/TSV in UTF-8 or GB18030, XLSX, Parquet)")
    p.add_argument(
        "--catalog",
        type=Path,
        metavar="FILE",
        help="subsidy catalogue (TOML; default: --context's catalog.toml, else the example shipped in the package)",
    )
    p.add_argument("--item", required=True, metavar="CODE", help="item code in the catalogue, e.g. GLJT")
    p.add_argument(
        "--period",
        type=_period,
        required=True,
        metavar="PERIOD",
        help="period paid for, of the item's kind: YYYY-MM (monthly), YYYY-Qn (quarterly), YYYY (annual), "
        "YYYY-MM-DD (one-off)",
    )
    p.add_argument("--declared-count", type=_count, metavar="N", help="row count the department declared")
    p.add_argument("--declared-total", type=_yuan, metavar="AMOUNT", help="total the department declared, in yuan")
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="write verdicts.parquet, issues.parquet, summary.json, report.xlsx and report.html",
    )
    p.add_argument(
        "--internal-report",
        action="store_true",
        help="with --out, also write report-internal.xlsx with full IDs and accounts (the department's own copy)",
    )
    p.add_argument("--engine", choices=("in-memory", "streaming"), default="in-memory", help="Polars engine")
    p.add_argument(
        "--partitions",
        type=_parts,
        metavar="N",
        help="validate in N parts split by payee (bounded memory for the rules; the same report)",
    )
    p.add_argument("--workdir", type=Path, metavar="DIR", help="folder for --partitions' working files")
    p.add_argument(
        "--dask",
        metavar="local[:N]|tcp://HOST:PORT",
        help="validate on a Dask cluster: a local one of N worker processes, or a running scheduler (the [dask] "
        "extra); --partitions sets the parts per split",
    )
    p.add_argument("--fail-on", choices=("block", "review"), help="exit 1 when any row (or the batch) reaches it")
    p.add_argument(
        "--rules",
        action="append",
        default=[],
        metavar="MODULE:ATTR",
        help="your own rules (a yikatong.rules.Rule or a sequence of them) run with the library's; repeatable; "
        "see docs/custom-rules.md",
    )
    p.add_argument(
        "--context",
        type=Path,
        metavar="DIR",
        help="folder of context files by name: registry.csv|parquet, ledger.csv|parquet, reference/<list>.csv|parquet, "
        "catalog.toml (as yikatong synth writes them); the options below win over its files",
    )
    p.add_argument(
        "--registry",
        type=Path,
        metavar="FILE",
        help="one-card account registry (CSV/Parquet: id_number, account, account_kind, bank, holder_name, status)",
    )
    p.add_argument(
        "--reference",
        action="append",
        default=[],
        metavar="NAME=FILE",
        help="reference list (deceased, public_employee, disabled, supported, dibao, registered_poor): CSV/Parquet "
        "with id_number (and death_date for deceased); repeatable",
    )
    p.add_argument(
        "--ledger",
        type=Path,
        metavar="FILE",
        help="payment ledger (CSV/Parquet: id_number, item, period, amount in yuan, status)",
    )
    p.set_defaults(handler=run)


def load_inputs(args: argparse.Namespace) -> Inputs:
    """Read the catalogue, pick the item and read the roster.

    Raises:
        CliInputError: when a file is missing or unreadable, the catalogue is invalid or lacks the item, the
            period is of another kind than the item's (a quarter for a monthly item), or the roster cannot be
            read as a whole.
    """
    catalog_path: Path | None = args.catalog
    if catalog_path is None and args.context is not None:
        catalog_path = _context_files(args.context).catalog
    catalog = load_catalog(catalog_path)
    try:
        item = catalog[args.item]
    except UnknownItem as exc:
        where = catalog_path or "the example catalogue"
        raise CliInputError("清单中无此补贴项目", f"no item {args.item!r} in {where}", [str(exc)]) from None
    try:
        period = period_of_kind(args.period, item.period, item=item.code)
    except PeriodKindError as exc:
        raise CliInputError(
            f"期间与项目 {item.code} 的发放周期不符", f"the period does not fit item {item.code}", [str(exc)]
        ) from None
    path: Path = args.roster
    if not path.is_file():
        raise CliInputError(f"找不到名单文件：{path}", f"roster not found: {path}")
    try:
        form = read_form(path)
    except RosterFormatError as exc:
        raise CliInputError(f"无法读取名单 {path.name}", f"cannot read the roster {path.name}", [str(exc)]) from None
    except OSError as exc:
        raise CliInputError(f"无法读取名单 {path}", f"cannot read the roster {path}: {exc.strerror}") from None
    return Inputs(catalog=catalog, item=item, period=period, roster=form.rows, form=form)


def _context_files(folder: Path) -> ContextFiles:
    try:
        return find_context_files(folder)
    except ReferenceDataError as exc:
        raise CliInputError(
            f"上下文目录 {folder} 无法使用", f"the context folder {folder} cannot be used", [str(exc)]
        ) from None


def build_context(args: argparse.Namespace, inputs: Inputs) -> ValidationContext:
    """The validation context from the options: the catalogue, the declared count and total, and the registry,
    reference lists and ledger files (``--context DIR``'s files, each replaced by its own option when given).

    Raises:
        CliInputError: when an input named by an option or found in the context folder cannot be used.
    """
    found = _context_files(args.context) if args.context is not None else None
    registry_path = args.registry or (found.registry if found else None)
    ledger_path = args.ledger or (found.ledger if found else None)
    reference_paths: dict[str, Path] = dict(found.reference.items()) if found else {}
    try:
        for option in args.reference:
            name, file = parse_reference_option(option)
            reference_paths[name] = Path(file)
        registry = load_registry(registry_path) if registry_path is not None else None
        reference = dict(load_reference(name, path) for name, path in reference_paths.items())
        ledger = load_ledger(ledger_path) if ledger_path is not None else None
    except ReferenceDataError as exc:
        raise CliInputError("上下文文件无法使用", "a context file cannot be used", [str(exc)]) from None
    return ValidationContext(
        catalog=inputs.catalog,
        declared_count=args.declared_count,
        declared_total_fen=args.declared_total,
        form=inputs.form,
        registry=registry,
        reference=reference,
        ledger=ledger,
    )


def _fail_on_met(report: ValidationReport, level: str) -> bool:
    counts = report.counts_by_verdict
    if level == "block":
        return counts["block"] > 0 or report.batch_blocked
    return counts["block"] + counts["review"] > 0 or not report.batch_issues.is_empty()


def run(args: argparse.Namespace) -> int:
    """Validate, print the summary, write the outputs; the exit code (0 ran, 1 ``--fail-on`` met, 2 input errors)."""
    try:
        inputs = load_inputs(args)
        context = build_context(args, inputs)
        own = [rule for spec in args.rules for rule in load_rules(spec)]
    except CliInputError as exc:
        return exc.report()
    rules = [*RULES, *own] if own else None
    if args.dask is not None:
        if args.engine == "streaming" or args.workdir is not None:
            return fail(
                "--dask 在集群上运行，--engine streaming 与 --workdir 不适用",
                "--dask runs on the cluster: --engine streaming and --workdir do not apply",
            )
        try:
            report = validate_on_cluster(
                args.dask,
                inputs.roster,
                item=inputs.item,
                period=inputs.period,
                context=context,
                partitions=args.partitions,
                rules=rules,
            )
        except (DaskUnavailable, ValueError, OSError) as exc:
            return fail("无法在集群上校验", "cannot validate on the cluster", [str(exc)])
        except RuntimeError as exc:  # DistributedRunError: the cluster could not finish; nothing reported
            return fail("集群未能完成校验，未产生报告", "the cluster could not finish; nothing reported", [str(exc)])
    elif args.partitions is not None:
        if args.engine == "streaming":
            return fail(
                "--partitions 与 --engine streaming 只能选其一",
                "--partitions and --engine streaming are two ways of bounding memory: choose one",
            )
        if args.workdir is not None and not args.workdir.is_dir():
            return fail(f"找不到工作目录：{args.workdir}", f"working folder not found: {args.workdir}")
        report = validate_partitioned(
            inputs.roster,
            item=inputs.item,
            period=inputs.period,
            context=context,
            partitions=args.partitions,
            workdir=args.workdir,
            rules=rules,
        )
    else:
        report = validate(
            inputs.roster, item=inputs.item, period=inputs.period, context=context, engine=args.engine, rules=rules
        )
    print_summary(report, inputs.item, args.roster, sys.stdout)
    if args.out is not None:
        out: Path = args.out
        try:
            written = write_validation_report(report, inputs.roster, out, internal_copy=args.internal_report)
        except OSError as exc:
            return fail(f"无法写入 {out}", f"cannot write to {out}: {exc.strerror}")
        print(f"输出 written: {', '.join(str(p) for p in written)}")
    if args.fail_on is not None and _fail_on_met(report, args.fail_on):
        counts = report.counts_by_verdict
        say(
            f"达到 --fail-on {args.fail_on} 条件：拦截 {counts['block']} 行，待复核 {counts['review']} 行，"
            f"批次问题 {report.batch_issues.height} 项",
            f"--fail-on {args.fail_on} met: {counts['block']} blocked, {counts['review']} for review, "
            f"{report.batch_issues.height} batch finding(s)",
            file=sys.stderr,
        )
        return 1
    return 0
