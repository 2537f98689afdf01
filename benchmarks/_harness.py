"""Measuring one benchmark step: a fresh Python process per step, its wall time, rows per second and peak memory.

Each measured step runs in its own child process (``python -m benchmarks._harness STEP JSON``) so that the peak
resident memory of one step is not inherited by the next one: the child reports its own peak RSS (``VmHWM``, the
high-water mark of the whole process, data loading included) and the RSS just before the timed part, so the working
memory of the timed part alone is visible too. The child writes one JSON object to a result file; the parent reads it.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl
import psutil

__all__ = ["StepFailed", "Timer", "machine_info", "peak_rss_mb", "rss_mb", "run_step"]

ROOT = Path(__file__).resolve().parents[1]


class StepFailed(RuntimeError):
    """A measured step crashed or timed out (its stderr tail is in the message)."""


def rss_mb() -> float:
    """Current resident memory of this process, MiB."""
    return float(psutil.Process().memory_info().rss) / 2**20


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, MiB.

    On Linux this is ``VmHWM`` from ``/proc/self/status``: the high-water mark of this process's own memory. Not
    ``ru_maxrss``, which Linux carries across ``fork`` and ``exec`` (the kernel folds the old memory's peak into
    it), so a step started by a parent that once held gigabytes would report the parent's peak as its own.
    Elsewhere ``ru_maxrss`` is the best there is.
    """
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024


class Timer:
    """Wall time of a ``with`` block, plus the RSS when it started."""

    seconds: float
    rss_before_mb: float

    def __init__(self) -> None:
        self.seconds = 0.0
        self.rss_before_mb = 0.0

    @contextmanager
    def measure(self) -> Iterator[Timer]:
        """Time the block; ``seconds`` is set when it ends."""
        self.rss_before_mb = rss_mb()
        start = time.perf_counter()
        try:
            yield self
        finally:
            self.seconds = time.perf_counter() - start


def run_step(step: str, args: Mapping[str, Any], *, timeout: float = 3600.0) -> dict[str, Any]:
    """Run ``step`` (``"module:function"`` under ``benchmarks``) in a fresh process and return its result.

    The function receives ``args`` as keyword arguments and returns a JSON-able dict; the child adds
    ``peak_rss_mb`` (peak RSS of the child) and ``child_seconds`` (its whole life, imports included).

    Raises:
        StepFailed: the child exited with an error, was killed, or ran past ``timeout`` seconds.
    """
    with tempfile.TemporaryDirectory(prefix="yikatong-bench-") as tmp:
        result_path = Path(tmp) / "result.json"
        command = [sys.executable, "-m", "benchmarks._harness", step, json.dumps(dict(args)), str(result_path)]
        try:
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise StepFailed(f"step {step} ran longer than {timeout:.0f} s and was stopped") from exc
        if done.returncode != 0 or not result_path.is_file():
            tail = "\n".join(done.stderr.strip().splitlines()[-15:])
            raise StepFailed(f"step {step} failed (exit {done.returncode}):\n{tail}")
        result: dict[str, Any] = json.loads(result_path.read_text(encoding="utf-8"))
        return result


def _child(step: str, raw_args: str, result_path: str) -> None:
    started = time.perf_counter()
    module_name, _, func_name = step.partition(":")
    module = importlib.import_module(f"benchmarks.{module_name}")
    func: Callable[..., dict[str, Any]] = getattr(module, func_name)
    result = func(**json.loads(raw_args))
    result["peak_rss_mb"] = peak_rss_mb()
    result["child_seconds"] = time.perf_counter() - started
    Path(result_path).write_text(json.dumps(result), encoding="utf-8")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict[str, Any]:
    """The machine and software a figure was measured on, and how busy the machine was."""
    load1, load5, load15 = os.getloadavg()
    return {
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "polars": pl.__version__,
        "platform": platform.platform(),
        "load_average": [round(load1, 2), round(load5, 2), round(load15, 2)],
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2], sys.argv[3])
