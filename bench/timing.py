"""What the benchmarks share: the median over rounds, after a warm-up; a fresh database to work on."""

from __future__ import annotations

import statistics
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


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


def fresh_database(*, chain: bool = False) -> tuple[str, Path]:
    """A new SQLite database with the sample directory (and the seed chain issued, if ``chain``), made this
    process's home: its URL and its files folder."""
    from models.config import get_settings
    from models.db import get_engine
    from models.sample_data import sample_database

    folder = Path(tempfile.mkdtemp(prefix="vanban-bench-db-"))
    url = sample_database(folder, chain=chain)
    os.environ["VANBAN_HOME"] = str(folder)  # the flows of this process run on it, as a worker configured so
    get_settings.cache_clear()
    get_engine.cache_clear()
    return url, folder / "files"
