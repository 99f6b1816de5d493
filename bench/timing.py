"""Timing shared by the benchmarks: the median over rounds, after a warm-up."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_seconds(fn: Callable[[], object], *, rounds: int, batch: int = 1, warmup: int = 1) -> float:
    """Median seconds per call of ``fn``, timing ``batch`` calls per round."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(batch):
            fn()
        samples.append((time.perf_counter() - start) / batch)
    return statistics.median(samples)
