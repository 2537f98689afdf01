"""``yikatong validate --dask``: the same validation on a Dask cluster, with the cluster's progress on stderr."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

import polars as pl

from yikatong.catalog import SubsidyItem
from yikatong.period import Period
from yikatong.rules import Rule, ValidationContext, ValidationReport

__all__ = ["DaskUnavailable", "validate_on_cluster"]


class DaskUnavailable(Exception):
    """The ``[dask]`` extra is not installed."""


def validate_on_cluster(
    spec: str,
    roster: pl.DataFrame,
    *,
    item: SubsidyItem,
    period: Period,
    context: ValidationContext,
    partitions: int | None,
    rules: Sequence[Rule] | None = None,
    err: TextIO | None = None,
) -> ValidationReport:
    """Validate ``roster`` on the cluster ``spec`` names (``local[:N]`` or a scheduler address).

    ``rules`` (the library's plus those of ``--rules``) reach the workers as code, so a rules module in the current
    folder need not be installed on the cluster.

    Raises:
        DaskUnavailable: when ``dask.distributed`` cannot be imported.
        ValueError: when ``spec`` is not a cluster specification.
        OSError: when no scheduler answers.
        DistributedRunError: when the cluster cannot finish the run.
    """
    try:
        from yikatong.adapters.dask import connect, validate_distributed
    except ImportError as exc:
        raise DaskUnavailable(
            f"--dask 需要安装 dask 扩展 / --dask needs the dask extra: pip install 'yikatong[dask]' ({exc})"
        ) from None
    stream = sys.stderr if err is None else err
    tty = stream.isatty()

    def progress(step: str, done: int, total: int) -> None:
        if tty:
            stream.write(f"\r集群 cluster: {step} {done}/{total}" + ("\n" if done == total else ""))
        elif done == total:
            stream.write(f"集群 cluster: {step} {done}/{total}\n")
        stream.flush()

    with connect(spec) as client:
        stream.write(f"集群 cluster: {spec}, {len(client.scheduler_info().get('workers', {}))} workers\n")
        return validate_distributed(
            roster,
            item=item,
            period=period,
            context=context,
            client=client,
            partitions=partitions,
            rules=rules,
            progress=progress,
        )
