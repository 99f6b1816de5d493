"""Generated files kept under the data directory by their SHA-256 (content-addressed, never overwritten)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def store(files_dir: Path, data: bytes) -> tuple[str, Path]:
    """Write ``data`` once (atomically) and return its SHA-256 and path."""
    digest = sha256(data)
    path = files_dir / digest[:2] / f"{digest}.docx"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    return digest, path


def path_of(files_dir: Path, digest: str) -> Path:
    return files_dir / digest[:2] / f"{digest}.docx"
