"""Benchmark: `vanban audit verify` over 100,000 entries, against the floor of hashing the same bytes
with hashlib in a loop. Target: at most 2× the floor.

    .venv/bin/python bench/audit.py [--entries N] [--database URL]

The database is a fresh SQLite file unless --database names an empty one (e.g. a PostgreSQL schema).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.timing import median_seconds  # noqa: E402
from models.audit import GENESIS, canonical, canonical_details, verify  # noqa: E402
from models.db import make_engine, migrate  # noqa: E402


def fill(engine, n: int) -> None:  # noqa: ANN001
    """``n`` chained entries shaped like real ones (actors, actions, details, file hashes)."""
    rows, prev = [], GENESIS
    for seq in range(1, n + 1):
        at = f"2024-{1 + seq % 12:02d}-{1 + seq % 28:02d}T{seq % 24:02d}:{seq % 60:02d}:00.{seq % 999999:06d}Z"
        details = canonical_details({"number_symbol": f"{seq}/QĐ-UBND", "issued_on": "2024-03-04", "file": f"{seq}-QD-UBND.docx"})
        sha = hashlib.sha256(str(seq).encode()).hexdigest() if seq % 4 == 0 else None
        payload = canonical(seq, at, None, "vt-ubnd", "issued", "6f1c1c1c-0000-4000-8000-000000000000", None, details,
                            sha, prev)
        prev = hashlib.sha256(payload).hexdigest()
        rows.append({"payload": payload, "hash": prev})
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO auditentry (payload, hash) VALUES (:payload, :hash)"), rows)
        conn.execute(text("UPDATE audithead SET seq = :s, hash = :h WHERE id = 1"), {"s": n, "h": prev})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--database")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(args.database or f"sqlite:///{tmp}/bench.db")
        migrate(engine)
        fill(engine, args.entries)
        with engine.connect() as conn:
            payloads = [bytes(r[0]) for r in conn.execute(text("SELECT payload FROM auditentry ORDER BY seq"))]

            def floor() -> None:
                for payload in payloads:
                    hashlib.sha256(payload).hexdigest()

            verdict = verify(conn)
            assert verdict.intact and verdict.entries == args.entries, verdict
            floor_s = median_seconds(floor, rounds=args.rounds)
            verify_s = median_seconds(lambda: verify(conn), rounds=args.rounds)
            serial_s = median_seconds(lambda: verify(conn, workers=1), rounds=args.rounds)
        engine.dispose()
    ratio = verify_s / floor_s
    print(f"{args.entries:,} entries, {sum(map(len, payloads)) / len(payloads):.0f} bytes hashed per entry on average")
    print(f"hashlib loop over the same bytes (floor): {floor_s * 1000:8.1f} ms")
    print(f"audit verify, one process:                {serial_s * 1000:8.1f} ms  ({serial_s / floor_s:.2f}x)")
    print(f"audit verify (default: {os.cpu_count()} workers):          {verify_s * 1000:8.1f} ms")
    print(f"ratio verify/floor: {ratio:.2f}x (target <= 2.00x: {'met' if ratio <= 2 else 'NOT met'})")


if __name__ == "__main__":
    main()
