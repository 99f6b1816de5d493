"""Generated files kept under the data directory by their SHA-256 (content-addressed, never overwritten).

A file is written inside the transaction that records it (issue: number, date, DOCX, SHA-256) and goes with it:
when that transaction rolls back, the files it wrote are removed, so a failed issue leaves no numbered DOCX behind.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session

_WRITTEN = "vanban.files_written"  # Session.info key: the files this transaction wrote


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def store(files_dir: Path, data: bytes, session: Session | None = None) -> tuple[str, Path]:
    """Write ``data`` once (atomically) and return its SHA-256 and path. With ``session``, a file this call wrote
    is removed if the session's transaction rolls back."""
    digest = sha256(data)
    path = files_dir / digest[:2] / f"{digest}.docx"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        if session is not None:
            session.info.setdefault(_WRITTEN, []).append(path)
    return digest, path


def path_of(files_dir: Path, digest: str) -> Path:
    return files_dir / digest[:2] / f"{digest}.docx"


@event.listens_for(Session, "after_commit")
def _keep(session: Session) -> None:
    session.info.pop(_WRITTEN, None)


@event.listens_for(Session, "after_rollback")
def _remove(session: Session) -> None:
    for path in session.info.pop(_WRITTEN, []):
        path.unlink(missing_ok=True)
