"""The audit log (nhật ký): an append-only, hash-chained record of every action on documents.

``record`` is the one way to write it, inside the same transaction as the change it records: the change
and its entry commit together or not at all. Each entry carries the hash of the previous one; a single
head row, locked while an entry is appended, keeps concurrent writers (threads, processes, SQLite or
PostgreSQL) from forking the chain. Call ``record`` after the step's other writes, so every transaction
takes its locks in the same order (domain rows, then the audit head).

``verify`` recomputes the chain and names the first entry that breaks it: edited, inserted, deleted,
moved entries, and a head that does not match the last entry (a truncated log).
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel import Field, Session, SQLModel, select

from models.directory import Official
from models.errors import RuleViolation, VanbanError

GENESIS = "0" * 64
SEPARATOR = "\x1f"  # unit separator: cannot occur in cleaned text (control characters are refused)


class Action(str, Enum):
    """What can happen to a document; the flows of later steps record through the same vocabulary."""

    DIRECTORY_LOADED = "directory_loaded"
    DRAFTED = "drafted"
    REVISED = "revised"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    RETURNED = "returned"
    REJECTED = "rejected"
    ANSWER_REFUSED = "answer_refused"
    SIGNED = "signed"
    NUMBER_ALLOCATED = "number_allocated"
    NUMBER_VOIDED = "number_voided"
    ISSUED = "issued"
    RECEIVED = "received"  # registered in an incoming register (sổ văn bản đến)
    DELIVERY_ATTEMPTED = "delivery_attempted"
    DELIVERY_SUCCEEDED = "delivery_succeeded"
    DELIVERY_FAILED = "delivery_failed"
    ACKNOWLEDGED = "acknowledged"
    REMINDED = "reminded"
    REPORTED = "reported"


FIELDS = ("seq", "at", "document_id", "actor", "action", "flow_run_id", "task_run_id", "details", "file_sha256",
          "prev_hash")


class AuditEntry(SQLModel, table=True):
    """One action. ``payload`` holds every field, canonically joined: it is what ``hash`` covers, so what is
    read back is exactly what was hashed. ``seq``, ``at`` and ``document_id`` are repeated as columns to find
    entries; ``verify`` checks them against the payload."""

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(unique=True, index=True, description="Position in the chain, from 1")
    at: str = Field(index=True, description="UTC, ISO 8601 with microseconds and 'Z'")
    document_id: int | None = Field(default=None, foreign_key="document.id", index=True)
    payload: bytes = Field(description="The fields joined by U+001F, prev_hash last, UTF-8")
    hash: str = Field(description="SHA-256 of the payload, hex")

    @property
    def fields(self) -> dict[str, str]:
        return dict(zip(FIELDS, self.payload.decode("utf-8").split(SEPARATOR, len(FIELDS) - 1), strict=True))

    @property
    def actor(self) -> str:
        return self.fields["actor"]

    @property
    def action(self) -> str:
        return self.fields["action"]

    @property
    def flow_run_id(self) -> str | None:
        return self.fields["flow_run_id"] or None

    @property
    def task_run_id(self) -> str | None:
        return self.fields["task_run_id"] or None

    @property
    def details(self) -> str:
        return self.fields["details"]

    @property
    def file_sha256(self) -> str | None:
        return self.fields["file_sha256"] or None

    @property
    def prev_hash(self) -> str:
        return self.fields["prev_hash"]

    def as_dict(self) -> dict[str, Any]:
        return {**self.fields, "seq": self.seq, "document_id": self.document_id, "hash": self.hash}


class AuditHead(SQLModel, table=True):
    """The chain's last entry (one row, id 1): locked while appending; compared by ``verify``."""

    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    hash: str = GENESIS


def canonical_details(details: dict[str, Any] | None) -> str:
    return json.dumps(details or {}, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def canonical(seq: int, at: str, document_id: int | None, actor: str, action: str, flow_run_id: str | None,
              task_run_id: str | None, details: str, file_sha256: str | None, prev_hash: str) -> bytes:
    """The payload: every field in FIELDS order, joined by U+001F (control characters never enter text)."""
    return SEPARATOR.join((str(seq), at, "" if document_id is None else str(document_id), actor, action,
                           flow_run_id or "", task_run_id or "", details, file_sha256 or "", prev_hash)).encode("utf-8")


def _entry_hash(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def _prefect_run_ids() -> tuple[str | None, str | None]:
    """The current Prefect flow and task run, if this code runs inside one (Prefect is not imported here
    when the process has not loaded it: a plain CLI call pays nothing)."""
    if "prefect.context" not in sys.modules:
        return None, None
    from prefect.context import FlowRunContext, TaskRunContext

    flow_ctx, task_ctx = FlowRunContext.get(), TaskRunContext.get()
    flow_id = str(flow_ctx.flow_run.id) if flow_ctx and flow_ctx.flow_run else None
    task_id = str(task_ctx.task_run.id) if task_ctx else None
    if task_ctx and not flow_id and task_ctx.task_run.flow_run_id:
        flow_id = str(task_ctx.task_run.flow_run_id)
    return flow_id, task_id


def record(session: Session, action: Action, *, actor: str = "system", document_id: int | None = None,
           details: dict[str, Any] | None = None, file_sha256: str | None = None) -> AuditEntry:
    """Append one entry to the chain in the caller's transaction."""
    if actor != "system" and session.exec(select(Official.id).where(Official.code == actor)).first() is None:
        raise RuleViolation("actor", "directory.unknown-official", f"no official with code '{actor}' in the directory")
    head = session.exec(
        select(AuditHead).where(AuditHead.id == 1).with_for_update().execution_options(populate_existing=True)
    ).one()
    flow_run_id, task_run_id = _prefect_run_ids()
    at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    body = canonical_details(details)
    seq = head.seq + 1
    payload = canonical(seq, at, document_id, actor, Action(action).value, flow_run_id, task_run_id, body,
                        file_sha256, head.hash)
    digest = _entry_hash(payload)
    entry = AuditEntry(seq=seq, at=at, document_id=document_id, payload=payload, hash=digest)
    head.seq, head.hash = seq, digest
    session.add(entry)
    session.add(head)
    session.flush()
    return entry


# --- verification --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    intact: bool
    entries: int
    head_hash: str
    broken_at: int | None = None  # seq of the first entry that breaks the chain
    reason: str = ""


def verify(connection: Connection) -> Verdict:
    """Recompute the chain; the first break is named with what was found there.

    One pass over (seq, at, document_id, payload, hash) in seq order, read through the driver's cursor:
    the per-row cost is what bounds this check, so nothing else happens per row.
    """
    sha256 = hashlib.sha256
    seen: dict[str, int] = {GENESIS: 0}  # hash → seq, to tell an insertion from an edit
    expected_seq, prev, prev_bytes = 1, GENESIS, GENESIS.encode()
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        try:
            cursor.execute("SELECT seq, at, document_id, payload, hash FROM auditentry ORDER BY seq")
        except connection.dialect.loaded_dbapi.Error as exc:
            reason = str(exc).strip().splitlines()[0]
            raise VanbanError(f"the audit log cannot be read ({reason}): its tables were changed or removed") from None
        while rows := cursor.fetchmany(20_000):
            for seq, at, document_id, payload, stored in rows:
                if seq != expected_seq:
                    return Verdict(False, expected_seq - 1, prev, expected_seq,
                                   f"entry {expected_seq} is missing (deleted): the next entry is {seq}")
                if type(payload) is not bytes:  # some drivers hand bytea over as memoryview
                    payload = bytes(payload)
                if not payload.startswith(f"{seq}\x1f{at}\x1f{'' if document_id is None else document_id}\x1f".encode()):
                    return _column_break(seq, payload, prev)
                if sha256(payload).hexdigest() != stored:
                    return Verdict(False, seq - 1, prev, seq, f"entry {seq} was altered: its content does not match its hash")
                if not payload.endswith(prev_bytes):
                    if seen.get(payload[-64:].decode()) == seq - 2:
                        return Verdict(False, seq - 1, prev, seq - 1,
                                       f"entry {seq - 1} was inserted: entry {seq} follows entry {seq - 2}")
                    return Verdict(False, seq - 1, prev, seq - 1,
                                   f"entry {seq} does not follow entry {seq - 1}: entry {seq - 1} was altered and "
                                   "its hash recomputed, or entries between them were removed")
                seen[stored] = seq
                expected_seq, prev, prev_bytes = seq + 1, stored, stored.encode()
    finally:
        cursor.close()
    count, last = expected_seq - 1, prev
    head = connection.execute(text("SELECT seq, hash FROM audithead WHERE id = 1")).first()
    if head is None:
        return Verdict(False, count, last, None, "the chain head (audithead) is missing")
    if (head.seq, head.hash) != (count, last):
        if head.seq > count:
            reason = f"the log ends at entry {count} but the head records {head.seq} entries: entries were removed from the end"
        else:
            reason = f"the log has {count} entries but the head records {head.seq}: entries were added without the head"
        return Verdict(False, count, last, min(head.seq, count) + 1, reason)
    return Verdict(True, count, last)


def _column_break(seq: int, payload: bytes, prev: str) -> Verdict:
    """The seq, time or document column of entry ``seq`` differs from what its payload recorded."""
    recorded = int(payload.split(SEPARATOR.encode(), 1)[0])
    if recorded > seq:
        return Verdict(False, seq - 1, prev, seq,
                       f"the entry at {seq} is entry {recorded} of the chain: entries were removed or reordered")
    if recorded < seq:
        return Verdict(False, seq - 2, prev, seq - 1,
                       f"entry {seq - 1} was inserted: the entry at {seq} is entry {recorded} of the chain")
    return Verdict(False, seq - 1, prev, seq,
                   f"entry {seq} was altered: its time or document column no longer matches what was recorded")


def trail(session: Session, document_id: int) -> list[AuditEntry]:
    return list(session.exec(select(AuditEntry).where(AuditEntry.document_id == document_id).order_by(AuditEntry.seq)))
