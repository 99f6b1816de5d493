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
import multiprocessing as mp
import os
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from sqlalchemy import Column, Computed, ForeignKey, Integer, String, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
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
    RECEIPT_REFUSED = "receipt_refused"  # an acknowledgement without its message's receipt token
    ASSIGNMENT_OPENED = "assignment_opened"
    REMINDED = "reminded"
    ESCALATED = "escalated"
    REPORTED = "reported"
    ASSIGNMENT_REOPENED = "assignment_reopened"
    # the living directory (issue 11): every change to it is an entry, with who made it
    DIRECTORY_CHANGED = "directory_changed"  # one entry added, changed or retired
    DIRECTORY_IMPORTED = "directory_imported"  # a YAML import of many entries, one transaction
    DIRECTORY_REORGANISED = "directory_reorganised"  # merges, renames, splits and moves of one reorganisation
    REGISTER_OPENED = "register_opened"  # a year's register opened, explicitly or by itself on first use
    REGISTER_IMPORTED = "register_imported"  # numbers issued outside vanban, imported into a register
    CALENDAR_ANNOUNCED = "calendar_announced"  # a year's public-sector announcement of days off and moved days
    # credentials (issue 13): who enrolled, rotated or revoked which certificate; an authenticator enrolled
    KEY_ENROLLED = "key_enrolled"
    KEY_ROTATED = "key_rotated"
    KEY_REVOKED = "key_revoked"
    TOTP_ENROLLED = "totp_enrolled"
    CHECKPOINT = "checkpoint"  # the chain's head and what it covers, signed by an agency's key (models/checkpoints.py)


FIELDS = ("seq", "at", "document_id", "actor", "action", "flow_run_id", "task_run_id", "details", "file_sha256",
          "prev_hash")
AT_LENGTH = len("2024-03-04T01:02:03.123456Z")


class payload_field(FunctionElement):  # noqa: N801 - a SQL function
    """SQL that reads field ``name`` (seq, at or document_id: the ASCII head of every payload) out of the
    payload, so the database itself derives the columns entries are found by: they cannot drift from it."""

    inherit_cache = True

    def __init__(self, name: str) -> None:
        self.field_name = name
        super().__init__()


@compiles(payload_field, "sqlite")
def _payload_field_sqlite(element: payload_field, compiler, **kw) -> str:  # noqa: ANN001
    t, sep = "CAST(payload AS TEXT)", "char(31)"
    first = f"instr({t}, {sep})"
    if element.field_name == "seq":
        return f"CAST(substr({t}, 1, {first} - 1) AS INTEGER)"
    if element.field_name == "at":
        return f"substr({t}, {first} + 1, {AT_LENGTH})"
    start = f"{first} + {AT_LENGTH + 2}"
    return f"CAST(NULLIF(substr({t}, {start}, instr(substr({t}, {start}), {sep}) - 1), '') AS INTEGER)"


@compiles(payload_field, "postgresql")
def _payload_field_postgresql(element: payload_field, compiler, **kw) -> str:  # noqa: ANN001
    # encode(…, 'escape') keeps ASCII as it is; the first three fields are ASCII
    part = "split_part(encode(payload, 'escape'), chr(31), {})"
    if element.field_name == "seq":
        return f"CAST({part.format(1)} AS INTEGER)"
    if element.field_name == "at":
        return part.format(2)
    return f"CAST(NULLIF({part.format(3)}, '') AS INTEGER)"


class AuditEntry(SQLModel, table=True):
    """One action. ``payload`` holds every field, canonically joined, and ``hash`` is its SHA-256: what is
    read back is exactly what was hashed. ``seq``, ``at`` and ``document_id`` are generated by the
    database from the payload (read-only columns to find entries by)."""

    id: int | None = Field(default=None, primary_key=True)
    payload: bytes = Field(description="The fields joined by U+001F, prev_hash last, UTF-8")
    hash: str = Field(description="SHA-256 of the payload, hex")
    seq: int | None = Field(default=None, sa_column=Column(
        Integer, Computed(payload_field("seq"), persisted=True), unique=True, nullable=False))
    at: str | None = Field(default=None, sa_column=Column(
        String(AT_LENGTH), Computed(payload_field("at"), persisted=True), index=True, nullable=False))
    document_id: int | None = Field(default=None, sa_column=Column(
        Integer, Computed(payload_field("document_id"), persisted=True), ForeignKey("document.id"), index=True))

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
    entry = AuditEntry(payload=payload, hash=digest)
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


PARALLEL_FROM = 50_000  # entries; below this a second process costs more than it saves


def verify(connection: Connection, *, workers: int | None = None) -> Verdict:
    """Recompute the chain; the first break is named with what was found there.

    Reads (payload, hash) in seq order through the driver's cursor: reading and hashing each entry is the
    whole cost, so nothing else happens per row. A long log is checked by ``workers`` processes (default:
    one per core from PARALLEL_FROM entries), each over a range of seq, stitched at the boundaries; any
    break found is diagnosed by the serial pass.
    """
    try:
        count = connection.execute(text("SELECT count(*) FROM auditentry")).scalar_one()
        head = connection.execute(text("SELECT seq, hash FROM audithead WHERE id = 1")).first()
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise VanbanError(f"the audit log cannot be read: {reason}") from None
    if head is None:
        return Verdict(False, 0, GENESIS, None, "the chain head (audithead) is missing")
    if workers is None:
        workers = (os.cpu_count() or 1) if count >= PARALLEL_FROM else 1
    if workers > 1 and count >= 2 * workers and "fork" in mp.get_all_start_methods():
        last = _verify_parallel(connection, workers, count)
        if last is not None:
            return _against_head(count, last, head)
    return _verify_serial(connection, head)


def _scan(cursor, prev: bytes | None) -> tuple[int, bytes | None, bytes | None, tuple[str, bytes] | None]:  # noqa: ANN001
    """Check rows of (payload, hash): (rows read, last hash, the first row's recorded prev, problem)."""
    sha256 = hashlib.sha256
    n, first_prev = 0, None
    while rows := cursor.fetchmany(20_000):
        for payload, stored in rows:
            if type(payload) is not bytes:  # some drivers hand bytea over as memoryview
                payload = bytes(payload)
            n += 1
            if first_prev is None:
                first_prev = payload[-64:]
                prev = prev if prev is not None else first_prev
            if sha256(payload).hexdigest() != stored:
                return n, prev, first_prev, ("altered", payload)
            if not payload.endswith(prev):
                return n, prev, first_prev, ("link", payload)
            prev = stored.encode()
    return n, prev, first_prev, None


def _rows(connection: Connection, where: str = ""):  # noqa: ANN202
    raw = connection.connection.dbapi_connection
    # psycopg sends bytea as hex text unless asked for binary results: decoding it would double the cost
    cursor = raw.cursor(binary=True) if connection.dialect.name == "postgresql" else raw.cursor()
    try:
        cursor.execute(f"SELECT payload, hash FROM auditentry {where} ORDER BY seq")
    except connection.dialect.loaded_dbapi.Error as exc:
        cursor.close()
        reason = str(exc).strip().splitlines()[0]
        raise VanbanError(f"the audit log cannot be read: {reason}") from None
    return cursor


def _verify_serial(connection: Connection, head) -> Verdict:  # noqa: ANN001
    cursor = _rows(connection)
    try:
        n, last, _, problem = _scan(cursor, GENESIS.encode())
    finally:
        cursor.close()
    if problem is None:
        return _against_head(n, last.decode(), head)
    kind, payload = problem
    recorded = int(payload.split(SEPARATOR.encode(), 1)[0])
    prev_text = last.decode()
    if kind == "altered":
        # an entry slipped in before this one renumbers it and those after it: renumbered back, it is intact
        stored = _stored_hash(connection, recorded)
        if recorded > 1 and _entry_hash(str(recorded - 1).encode() + payload[payload.index(SEPARATOR.encode()):]) == stored:
            return Verdict(False, n - 2, prev_text, n - 1, f"entry {n - 1} was inserted: the entries after it were "
                                                            f"renumbered (entry {n} was entry {n - 1})")
        return Verdict(False, n - 1, prev_text, recorded, f"entry {recorded} was altered: its content does not match its hash")
    if recorded > n:
        return Verdict(False, n - 1, prev_text, n, f"entry {n} is missing (deleted): the next entry is {recorded}")
    earlier = _hashes_before(connection, n)
    if earlier.get(payload[-64:].decode()) == n - 2:
        return Verdict(False, n - 2, prev_text, n - 1, f"entry {n - 1} was inserted: entry {n} follows entry {n - 2}")
    return Verdict(False, n - 1, prev_text, n - 1,
                   f"entry {n} does not follow entry {n - 1}: entry {n - 1} was altered and its hash recomputed")


def _stored_hash(connection: Connection, seq: int) -> str:
    return connection.execute(text("SELECT hash FROM auditentry WHERE seq = :s"), {"s": seq}).scalar_one()


def _hashes_before(connection: Connection, n: int) -> dict[str, int]:
    """hash → position for the first n-1 entries (only read to diagnose a break)."""
    rows = connection.execute(text("SELECT hash FROM auditentry ORDER BY seq LIMIT :n"), {"n": n - 1}).scalars()
    return {h: i for i, h in enumerate(rows, start=1)}


def _against_head(count: int, last: str, head) -> Verdict:  # noqa: ANN001
    if (head.seq, head.hash) == (count, last):
        return Verdict(True, count, last)
    if head.seq > count:
        reason = f"the log ends at entry {count} but the head records {head.seq} entries: entries were removed from the end"
        return Verdict(False, count, last, count + 1, reason)
    if head.seq < count:
        reason = f"the log has {count} entries but the head records {head.seq}: entries were added without the head"
        return Verdict(False, count, last, head.seq + 1, reason)
    return Verdict(False, count - 1, last, count,
                   f"entry {count} was altered and its hash recomputed: it does not match the chain head")


def _scan_range(connection: Connection, low: int, high: int) -> tuple[int, bytes | None, bytes | None, bool]:
    """Check entries low < seq <= high: (rows read, last hash, first recorded prev, no problem)."""
    cursor = _rows(connection, f"WHERE seq > {int(low)} AND seq <= {int(high)}")
    try:
        n, last, first_prev, problem = _scan(cursor, None)
    finally:
        cursor.close()
    return n, last, first_prev, problem is None


def _scan_range_in_child(url: str, low: int, high: int, pipe) -> None:  # noqa: ANN001
    from models.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            pipe.send(_scan_range(connection, low, high))
    finally:
        engine.dispose()
        pipe.close()


def _verify_parallel(connection: Connection, workers: int, count: int) -> str | None:
    """The last hash when every range checks and the ranges join up; None sends the caller to the serial pass.
    This process checks the first range while forked workers check the others on their own connections."""
    bounds = [0] + [connection.execute(text("SELECT seq FROM auditentry ORDER BY seq LIMIT 1 OFFSET :o"),
                                       {"o": count * k // workers - 1}).scalar_one() for k in range(1, workers)]
    bounds.append(connection.execute(text("SELECT max(seq) FROM auditentry")).scalar_one())
    url = connection.engine.url.render_as_string(hide_password=False)
    ctx = mp.get_context("fork")
    children = []
    for k in range(1, workers):
        receive, send = ctx.Pipe(duplex=False)
        process = ctx.Process(target=_scan_range_in_child, args=(url, bounds[k], bounds[k + 1], send), daemon=True)
        process.start()
        send.close()
        children.append((process, receive))
    results = [_scan_range(connection, bounds[0], bounds[1])]
    for process, receive in children:
        try:
            results.append(receive.recv())
        except EOFError:  # the worker died: let the serial pass decide
            results.append((0, None, None, False))
        process.join()
    prev = GENESIS.encode()
    for n, last, first_prev, ok in results:
        if not ok or n == 0 or first_prev != prev:
            return None
        prev = last
    if sum(r[0] for r in results) != count:
        return None
    return prev.decode()


def trail(session: Session, document_id: int) -> list[AuditEntry]:
    return list(session.exec(select(AuditEntry).where(AuditEntry.document_id == document_id).order_by(AuditEntry.seq)))
