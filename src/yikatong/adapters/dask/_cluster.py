"""Where the command line's ``--dask`` points: a local cluster of N worker processes, or a running scheduler."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from distributed import Client, LocalCluster

__all__ = ["connect"]

_LOCAL = re.compile(r"^local(?::(\d+))?$")


@contextmanager
def connect(spec: str) -> Iterator[Client]:
    """A client for ``spec``, closed (with the local cluster it started) on leaving the block.

    Args:
        spec: ``local`` (one worker process per CPU, as Dask chooses), ``local:N`` (N worker processes, one thread
            each), or a scheduler address (``tcp://HOST:PORT``, ``tls://…``).

    Raises:
        ValueError: when ``spec`` is neither form, or asks for no workers.
        OSError: when no scheduler answers at the address.
    """
    match = _LOCAL.match(spec)
    if match is not None:
        workers = None if match.group(1) is None else int(match.group(1))
        if workers is not None and workers < 1:
            raise ValueError(f"集群至少需要一个工作进程 / --dask {spec}: at least one worker is needed")
        with (
            LocalCluster(
                n_workers=workers, threads_per_worker=1 if workers else None, dashboard_address=":0"
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client
        return
    if "://" not in spec:
        raise ValueError(f"--dask 应为 local[:N] 或调度器地址 / --dask {spec!r}: use local[:N] or tcp://HOST:PORT")
    with Client(spec, timeout="30s") as client:
        yield client
