"""Validation on a Dask cluster (the ``[dask]`` extra):
[`validate_distributed`][yikatong.adapters.dask.validate_distributed] and [`connect`][yikatong.adapters.dask.connect].

Importing this package imports ``dask.distributed``; nothing else in yikatong imports it, so the library works
without the extra installed.
"""

from yikatong.adapters.dask._cluster import connect
from yikatong.adapters.dask._runner import DistributedRunError, Progress, validate_distributed

__all__ = ["DistributedRunError", "Progress", "connect", "validate_distributed"]
