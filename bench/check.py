"""Benchmark: `vanban check` on the seed decision (374/QĐ-UBND), against the floor of python-docx
opening the same file. Target: at most 3× the floor.

    .venv/bin/python bench/check.py [--rounds N]
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from pathlib import Path

import docx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.timing import median_seconds  # noqa: E402
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    data = seed_decision()
    assert check(data).findings == [], "the seed decision must conform"
    floor = median_seconds(lambda: docx.Document(io.BytesIO(data)), rounds=args.rounds, batch=50, warmup=10)
    checked = median_seconds(lambda: check(data), rounds=args.rounds, batch=50, warmup=10)
    ratio = checked / floor
    print(f"seed decision: {len(data):,} bytes")
    print(f"python-docx open (floor): {floor * 1000:7.2f} ms  {1 / floor:7.1f} docs/s")
    print(f"vanban check:             {checked * 1000:7.2f} ms  {1 / checked:7.1f} docs/s")
    print(f"ratio check/floor: {ratio:.2f}x (target <= 3.00x: {'met' if ratio <= 3 else 'NOT met'})")


if __name__ == "__main__":
    main()
