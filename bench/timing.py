"""Timing for the bench scripts (run as ``python bench/NAME.py``, so this folder is on the
import path)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_s(work: Callable[[], object], repeats: int, *, warm_up: bool = False) -> float:
    """Median wall time of ``repeats`` runs of ``work``, in seconds; ``warm_up`` runs it
    once first, untimed."""
    if warm_up:
        work()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
