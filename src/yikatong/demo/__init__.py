"""The demo: one county month end to end on the project's own adapters (``yikatong demo``, ``make demo``).

Like the command line, this package is a composition: it wires the embedded store, the simulated bank behind the
bank file exchange, the simulated treasury and disclosure files to the workflow service, and is never imported by
the core. See ``run_demo``.
"""

from yikatong.demo._progress import Progress
from yikatong.demo._runner import (
    DEFAULT_ITEMS,
    DEFAULT_PERIOD,
    DEFAULT_ROWS,
    DEFAULT_SEED,
    OUTPUTS,
    DemoResult,
    prepare_folder,
    run_demo,
    summary_report_names,
)
from yikatong.demo._summary import STATUS_LABELS, collect, render

__all__ = [
    "DEFAULT_ITEMS",
    "DEFAULT_PERIOD",
    "DEFAULT_ROWS",
    "DEFAULT_SEED",
    "OUTPUTS",
    "STATUS_LABELS",
    "DemoResult",
    "Progress",
    "collect",
    "prepare_folder",
    "render",
    "run_demo",
    "summary_report_names",
]
