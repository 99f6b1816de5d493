"""Benchmark: `vanban check` on the seed decision (374/QĐ-UBND), against the floor of python-docx
opening the same file. Target: at most 3× the floor.

    .venv/bin/python bench/check.py [--rounds N]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

import docx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from doc_templates.nd30_rules import check  # noqa: E402
from models.db import make_engine, migrate, session_scope  # noqa: E402
from models.files import path_of  # noqa: E402
from models.sample_data import load_directory, run_seed_chain  # noqa: E402


def seed_decision() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        migrate(engine)
        with session_scope(engine) as session:
            load_directory(session)
        issued = run_seed_chain(engine, Path(tmp) / "files")
        return path_of(Path(tmp) / "files", issued[-1].file.sha256).read_bytes()


def per_call(fn, rounds: int, batch: int = 50) -> float:  # noqa: ANN001
    """Median seconds per call over ``rounds`` batches (after a warm-up)."""
    for _ in range(10):
        fn()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(batch):
            fn()
        samples.append((time.perf_counter() - start) / batch)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    data = seed_decision()
    assert check(data).findings == [], "the seed decision must conform"
    floor = per_call(lambda: docx.Document(io.BytesIO(data)), args.rounds)
    checked = per_call(lambda: check(data), args.rounds)
    ratio = checked / floor
    print(f"seed decision: {len(data):,} bytes")
    print(f"python-docx open (floor): {floor * 1000:7.2f} ms  {1 / floor:7.1f} docs/s")
    print(f"vanban check:             {checked * 1000:7.2f} ms  {1 / checked:7.1f} docs/s")
    print(f"ratio check/floor: {ratio:.2f}x (target <= 3.00x: {'met' if ratio <= 3 else 'NOT met'})")


if __name__ == "__main__":
    main()
