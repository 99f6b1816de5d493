"""The delivery ledger (sổ theo dõi phát hành): who gets an issued document, through which channel, when,
and who acknowledged it.

Exactly once, and where not, said so. One run at a time sends for a document: it holds the lease
``distribution:ID`` (models/lease.py), which survives the loss of any connection and is checked again in every
transaction that hands a message over. A worker claims rows (``claimed``: taken, nothing sent), then hands
each over in a transaction of its own (``sending``, committed, with the lease renewed in it) before the message
goes to the channel, and records the outcome after (``sent``, back to ``planned`` for a retry, or ``failed``).
A new run, once it holds the lease, reconciles what a stopped run left: ``claimed`` rows were never handed
over and go back to ``planned`` silently; ``sending`` rows may or may not have reached the receiver, and are
sent again with the same message id. That is the one duplicate a receiver may see — a stop between the
receiver accepting a message and the run committing its outcome — and the message id lets it drop it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import UniqueConstraint, update
from sqlmodel import Field, Session, SQLModel, select

from models.audit import Action, record
from models.channels import ChannelError, channels_of, check_sending, check_url, redact, relay_url
from models.config import today
from models.document import Document, DocumentStatus, enum_type, utcnow
from models.errors import RuleViolation
from models.lease import Held, renew
from models.legal_text import ascii_fold, number_symbol
from models.recipients import Recipient, ResolvedLine, recipient_code, resolve_distribution


class DeliveryState(str, Enum):
    PLANNED = "planned"  # to send (first time, retry after a transient error, or redelivery)
    CLAIMED = "claimed"  # taken by a run's worker; nothing handed to the channel yet
    SENDING = "sending"  # handed to the channel (recorded before it was): outcome not recorded yet
    SENT = "sent"
    FAILED = "failed"  # permanent refusal, retries exhausted, or a channel that cannot be used
    UNRESOLVED = "unresolved"  # a Nơi nhận line naming nobody concrete: for the clerk to settle
    ARCHIVED = "archived"  # 'Lưu: VT': the archive copy, stored, not sent


class DistributionStatus(str, Enum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    PARTLY_FAILED = "partly_failed"


class Delivery(SQLModel, table=True):
    """One recipient of a document through one of its channels (or a line with nobody to send to)."""

    __table_args__ = (UniqueConstraint("document_id", "recipient_key", "channel_url"),)
    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    line: int = Field(description="Position of the Nơi nhận line that names the recipient")
    line_text: str
    recipient_key: str = Field(description="'agency:3', 'unit:5', 'official:2'; 'line:N' for a line with nobody")
    recipient_code: str | None = Field(default=None, description="Directory code: 'sttt', 'cvp', 'vp-ubnd/P.VHXH'")
    label: str = Field(description="As addressed: 'Giám đốc Sở Thông tin và Truyền thông'")
    channel_url: str = Field(default="", description="The channel as stored (references, never secrets)")
    message_id: str = Field(index=True, description="Stable per document and recipient: a resend carries the same one")
    state: DeliveryState = Field(default=DeliveryState.PLANNED, index=True, sa_type=enum_type(DeliveryState))
    claimed_by: str | None = Field(default=None, description="The run that holds it while sending")
    attempts: int = Field(default=0, description="Sends handed to the channel, retries included")
    redeliveries: int = Field(default=0, description="Times a clerk asked to send it again")
    not_before: datetime | None = Field(default=None, description="A retry waits until then (backoff)")
    error_rule: str | None = None
    error: str | None = None
    planned_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    acknowledged_proof: str | None = Field(default=None, description="'token': the recipient's, with its message's "
                                           "receipt token; 'clerk': a clerk's record, the audit entry names the clerk")


@dataclass
class PlannedRecipient:
    recipient: Recipient
    code: str
    channels: list[str]
    problems: dict[str, ChannelError] = field(default_factory=dict)  # channel url → why it cannot be used
    unchecked: dict[str, list[str]] = field(default_factory=dict)  # channel url → its {secret:NAME} not checked


@dataclass
class PlanLine:
    line: ResolvedLine
    recipients: list[PlannedRecipient]


def message_id(document: Document, recipient_key: str, domain: str) -> str:
    """'<374-QD-UBND-2024.agency-3.1f2e3d4c@vanban.local>': readable, and the same on every resend."""
    stem = ascii_fold(number_symbol(document.number, document.symbol)).replace("/", "-").replace(" ", "")
    year = document.issued_on.year if document.issued_on else 0
    tag = hashlib.sha256(f"{document.id}:{recipient_key}".encode()).hexdigest()[:8]
    return f"<{stem}-{year}.{recipient_key.replace(':', '-')}.{tag}@{domain}>"


def plan(session: Session, document: Document, *, check_sending_now: bool = False) -> list[PlanLine]:
    """Nơi nhận → recipients → channels, with what is wrong where (nothing written). ``check_sending_now``
    (the dry run): also what would stop a send with this installation's settings — e-mail with no relay
    (VANBAN_SMTP_URL), an environment variable a channel names that is not set — whether a reference
    resolves, never its value; Prefect Secret blocks are listed as not checked."""
    if document.status is not DocumentStatus.ISSUED:
        raise RuleViolation("document", "distribution.issued-only",
                            f"only an issued document is distributed; document #{document.id} is {document.status.value}")
    out: list[PlanLine] = []
    on = today()  # the send date: who exists then, and their channels then
    relay = relay_url()
    for line in resolve_distribution(session, document, on):
        planned = []
        for r in line.recipients:
            urls = [c.url for c in channels_of(session, r.kind, r.id, on)]
            problems, unchecked = {}, {}
            for url in urls:
                try:
                    check_url(url)
                    if check_sending_now and (names := check_sending(url, relay)):
                        unchecked[url] = names
                except ChannelError as exc:
                    problems[url] = exc
            planned.append(PlannedRecipient(r, recipient_code(session, r), urls, problems, unchecked))
        out.append(PlanLine(line, planned))
    return out


def record_plan(session: Session, document: Document, *, domain: str, actor: str = "system",
                taken_over_from: str | None = None) -> dict[str, int]:
    """Write the plan into the ledger (missing rows are added) and reconcile what a stopped run left: rows
    ``claimed`` were never handed over and go back to ``planned``; rows ``sending`` lost their outcome and
    are sent again with the same message id. Only under the distribution's lease. Returns the counts."""
    existing = {(d.recipient_key, d.channel_url): d for d in
                session.exec(select(Delivery).where(Delivery.document_id == document.id))}
    added = 0

    def add(line: ResolvedLine, key: str, label: str, url: str, state: DeliveryState, code: str | None = None,
            rule: str | None = None, error: str | None = None) -> None:
        nonlocal added
        if (key, url) in existing:
            return
        row = Delivery(document_id=document.id, line=line.position, line_text=line.text, recipient_key=key,
                       recipient_code=code, label=label, channel_url=url, message_id=message_id(document, key, domain),
                       state=state, error_rule=rule, error=error)
        session.add(row)
        existing[(key, url)] = row
        added += 1

    for planned_line in plan(session, document):
        line = planned_line.line
        if line.archive or line.problem:
            add(line, f"line:{line.position}", line.text, "",
                DeliveryState.ARCHIVED if line.archive else DeliveryState.UNRESOLVED,
                rule=None if line.archive else "recipients.unresolved", error=line.problem)
            continue
        for j, vague in enumerate(line.vague):
            add(line, f"line:{line.position}.{j}", vague, "", DeliveryState.UNRESOLVED, rule="recipients.unresolved",
                error=f"'{vague}' (under '{line.text}') names no agency, unit or official of the directory")
        for p in planned_line.recipients:
            key = f"{p.recipient.kind}:{p.recipient.id}"
            if not p.channels:
                add(line, key, p.recipient.label, "", DeliveryState.FAILED, p.code, "channel.none",
                    "the directory lists no channel for this recipient")
            for url in p.channels:
                problem = p.problems.get(url)
                add(line, key, p.recipient.label, url, DeliveryState.FAILED if problem else DeliveryState.PLANNED,
                    p.code, problem.rule if problem else None, problem.message if problem else None)
    left = session.exec(select(Delivery).where(Delivery.document_id == document.id, Delivery.state.in_(
        (DeliveryState.CLAIMED, DeliveryState.SENDING))).order_by(Delivery.id)).all()
    orphans = [row for row in left if row.state is DeliveryState.SENDING]
    for row in left:
        if row.state is DeliveryState.SENDING:
            row.error_rule = "delivery.outcome-lost"
            row.error = "a run stopped after handing it to the channel; sent again with the same message id"
        row.state, row.claimed_by = DeliveryState.PLANNED, None
        session.add(row)
    document.distribution = DistributionStatus.IN_PROGRESS.value
    session.add(document)
    session.flush()
    if added or left:
        details = {"step": "plan", "added": added, "resent_after_crash": [r.message_id for r in orphans],
                   "never_handed_over": len(left) - len(orphans)}
        if taken_over_from:
            details["taken_over_from"] = taken_over_from
        record(session, Action.DELIVERY_ATTEMPTED, actor=actor, document_id=document.id, details=details)
    return {"added": added, "resent_after_crash": len(orphans), "never_handed_over": len(left) - len(orphans)}


def claim(session: Session, document_id: int, limit: int, token: str, now: datetime, lease: Held) -> list[Delivery]:
    """Take up to ``limit`` rows due for sending (``claimed``: nothing is handed over yet), under the lease."""
    renew(session, lease)
    due = session.exec(select(Delivery.id).where(
        Delivery.document_id == document_id, Delivery.state == DeliveryState.PLANNED,
        (Delivery.not_before.is_(None)) | (Delivery.not_before <= now)).order_by(Delivery.id).limit(limit)).all()
    if not due:
        return []
    session.exec(update(Delivery).where(Delivery.id.in_(due), Delivery.state == DeliveryState.PLANNED)
                 .values(state=DeliveryState.CLAIMED, claimed_by=token))
    return list(session.exec(select(Delivery).where(
        Delivery.id.in_(due), Delivery.state == DeliveryState.CLAIMED, Delivery.claimed_by == token,
    ).execution_options(populate_existing=True)).all())


def hand_over(session: Session, row_id: int, token: str, lease: Held) -> bool:
    """Record, in the caller's own transaction, committed before the message goes out, that it is being handed
    to the channel (``sending``), and renew the lease in the same transaction: if another run has taken the
    distribution over, this raises ``LeaseLost`` and nothing is sent. False if the row is no longer ours."""
    renew(session, lease)
    done = session.exec(update(Delivery).where(Delivery.id == row_id, Delivery.state == DeliveryState.CLAIMED,
                                               Delivery.claimed_by == token)
                        .values(state=DeliveryState.SENDING, attempts=Delivery.attempts + 1))
    return done.rowcount == 1


def next_due(session: Session, document_id: int) -> datetime | None | bool:
    """When the next planned row is due: a time, None when one is due now, False when none is left."""
    rows = session.exec(select(Delivery.not_before).where(Delivery.document_id == document_id,
                                                          Delivery.state == DeliveryState.PLANNED)).all()
    if not rows:
        return False
    times = [t for t in rows if t is not None]
    return None if len(times) < len(rows) else min(times)


@dataclass(frozen=True)
class Outcome:
    """What a channel answered: sent, or an error that may pass (``transient``: 4xx, unreachable)."""

    ok: bool
    transient: bool = False
    rule: str | None = None
    error: str | None = None


def settle(session: Session, row_id: int, token: str, outcome: Outcome, *, retries: int, retry_delay: float,
           now: datetime, actor: str = "system") -> Delivery | None:
    """Record a send's outcome: sent; planned again after a backoff (transient, retries left); or failed.
    None if the row is no longer this worker's (a run that took over has already sent it again)."""
    row = session.exec(select(Delivery).where(Delivery.id == row_id).with_for_update()
                       .execution_options(populate_existing=True)).one()
    if row.state is not DeliveryState.SENDING or row.claimed_by != token:
        return None
    row.error_rule, row.error = outcome.rule, outcome.error
    if outcome.ok:
        row.state, row.sent_at, row.not_before = DeliveryState.SENT, now, None
    elif outcome.transient and row.attempts <= retries:
        row.state = DeliveryState.PLANNED
        row.not_before = now + timedelta(seconds=retry_delay * 2 ** (row.attempts - 1))
    else:
        row.state = DeliveryState.FAILED
    session.add(row)
    session.flush()
    if row.state is not DeliveryState.PLANNED:
        record(session, Action.DELIVERY_SUCCEEDED if outcome.ok else Action.DELIVERY_FAILED, actor=actor,
               document_id=row.document_id,
               details={"to": row.recipient_code, "channel": redact(row.channel_url), "message_id": row.message_id,
                        "attempts": row.attempts, **({} if outcome.ok else {"rule": outcome.rule, "error": outcome.error})})
    return row


def finish(session: Session, document: Document) -> DistributionStatus:
    """The document's distribution status from its ledger: completed when every recipient it names has it
    (lines that name nobody concrete are the clerk's to settle, and are counted apart)."""
    states = {d.state for d in session.exec(select(Delivery).where(Delivery.document_id == document.id))}
    done = states <= {DeliveryState.SENT, DeliveryState.ARCHIVED, DeliveryState.UNRESOLVED}
    status = DistributionStatus.COMPLETED if done else DistributionStatus.PARTLY_FAILED
    document.distribution = status.value
    session.add(document)
    return status


def ledger(session: Session, document_id: int) -> list[Delivery]:
    return list(session.exec(select(Delivery).where(Delivery.document_id == document_id)
                             .order_by(Delivery.line, Delivery.id)))


def rows_for(session: Session, document_id: int, code: str | None) -> list[Delivery]:
    """The ledger rows of one recipient (by directory code), or all of them; an unknown code is an error."""
    rows = [d for d in ledger(session, document_id) if d.recipient_code is not None]
    if code is None:
        return rows
    chosen = [d for d in rows if d.recipient_code == code]
    if not chosen:
        raise RuleViolation("to", "delivery.unknown-recipient",
                            f"'{code}' is not a recipient of this document; see 'vanban deliveries'")
    return chosen


def request_redelivery(session: Session, document: Document, *, failed_only: bool, to: str | None,
                       actor: str = "system") -> list[Delivery]:
    """Mark rows to be sent again on purpose (sent ones too, unless ``failed_only``); recorded as such."""
    states = {DeliveryState.FAILED} if failed_only else {DeliveryState.FAILED, DeliveryState.SENT}
    chosen = [d for d in rows_for(session, document.id, to) if d.state in states and d.channel_url]
    for row in chosen:
        row.state, row.not_before, row.redeliveries, row.attempts = DeliveryState.PLANNED, None, row.redeliveries + 1, 0
        row.error_rule = row.error = None
        session.add(row)
    session.flush()
    if chosen:
        record(session, Action.DELIVERY_ATTEMPTED, actor=actor, document_id=document.id,
               details={"step": "redeliver", "failed_only": failed_only, "to": to,
                        "message_ids": [d.message_id for d in chosen]})
    return chosen


def acknowledge(session: Session, document: Document, code: str, *, proof: str, by: str | None = None,
                actor: str = "system", at: datetime | None = None) -> list[Delivery]:
    """A recipient has the document (đã nhận): recorded on its rows, once. ``proof`` says how vanban knows:
    'token' (the recipient gave its message's receipt token, models/receipts.py) or 'clerk' (a clerk, the
    actor, records what the recipient told them)."""
    rows = [d for d in rows_for(session, document.id, code) if d.state is DeliveryState.SENT]
    if not rows:
        raise RuleViolation("by", "delivery.not-sent", f"'{code}' has not been sent this document; nothing to acknowledge")
    fresh = [d for d in rows if d.acknowledged_at is None]
    for row in fresh:
        row.acknowledged_at, row.acknowledged_by, row.acknowledged_proof = at or utcnow(), by or code, proof
        session.add(row)
    session.flush()
    if fresh:
        record(session, Action.ACKNOWLEDGED, actor=actor, document_id=document.id,
               details={"by": by or code, "recipient": code, "message_id": fresh[0].message_id, "proof": proof})
    return fresh


def find_by_message_id(session: Session, mid: str) -> Delivery:
    mid = mid if mid.startswith("<") else f"<{mid}>"
    row = session.exec(select(Delivery).where(Delivery.message_id == mid)).first()
    if row is None:
        raise RuleViolation("message_id", "delivery.unknown-message", f"no delivery with message id {mid}")
    return row


def summary(rows: Sequence[Delivery]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.state.value] = counts.get(row.state.value, 0) + 1
    return counts

