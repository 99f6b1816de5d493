"""What the commands show, read in one place: a document with its links, files and human steps; the audit log
from a day on; the summary of a chain once its flows have run. Reads only: nothing here writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from models.approvals import ApprovalStep
from models.audit import AuditEntry
from models.config import get_settings
from models.deliveries import Delivery, DeliveryState, ledger, summary
from models.directory import Agency
from models.document import Document, DocumentLink, GeneratedFile
from models.working_days import calendar, working_days_between


@dataclass(frozen=True)
class Link:
    relation: str
    outgoing: bool  # from the document described to ``other``
    other: Document


@dataclass(frozen=True)
class DocumentView:
    """A document as `vanban show` describes it."""

    document: Document
    issuer: Agency
    links: list[Link]
    files: list[GeneratedFile]
    steps: list[ApprovalStep]


def describe_document(session: Session, doc: Document) -> DocumentView:
    links = [Link(link.relation.value, link.from_id == doc.id,
                  session.get(Document, link.to_id if link.from_id == doc.id else link.from_id))
             for link in session.exec(select(DocumentLink).where(
                 (DocumentLink.from_id == doc.id) | (DocumentLink.to_id == doc.id)))]
    files = list(session.exec(select(GeneratedFile).where(GeneratedFile.document_id == doc.id)))
    steps = list(session.exec(select(ApprovalStep).where(ApprovalStep.document_id == doc.id)
                              .order_by(ApprovalStep.round, ApprovalStep.position)))
    return DocumentView(doc, session.get(Agency, doc.issuer_id), links, files, steps)


def audit_entries(session: Session, since: date | None = None) -> list[AuditEntry]:
    """The audit log in order; with ``since``, the entries from that day on, the day as clerks count it (the
    configured time zone, Vietnam's by default) while entries keep UTC."""
    query = select(AuditEntry).order_by(AuditEntry.seq)
    if since:
        start = datetime.combine(since, datetime.min.time(), ZoneInfo(get_settings().timezone))
        query = query.where(AuditEntry.at >= start.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    return list(session.exec(query))


def unacknowledged_after(rows: list[Delivery], days: int, on: date) -> list[Delivery]:
    """The sent deliveries nobody has acknowledged (chưa xác nhận đã nhận) ``days`` working days or more after
    they were sent, counted in the configured time zone up to ``on``."""
    calendar().known(on, "today")
    zone = ZoneInfo(get_settings().timezone)
    return [r for r in rows if r.state is DeliveryState.SENT and r.acknowledged_at is None
            and working_days_between(r.sent_at.astimezone(zone).date(), on, field="sent_at") >= days]


@dataclass(frozen=True)
class Issued:
    file: GeneratedFile
    document: Document
    flow_run_id: str | None  # the Prefect run that issued it


@dataclass(frozen=True)
class ChainSummary:
    """What a run of the chain left: each issued file with its document, every human step, and how each
    distributed document's deliveries ended (counts by state)."""

    issued: list[Issued]
    steps: list[ApprovalStep]
    distributions: list[tuple[Document, dict[str, int]]]

    def document(self, document_id: int) -> Document | None:
        return next((i.document for i in self.issued if i.document.id == document_id), None)


def chain_summary(session: Session) -> ChainSummary:
    files = session.exec(select(GeneratedFile).where(GeneratedFile.purpose == "issued").order_by(GeneratedFile.id)).all()
    docs = {f.document_id: session.get(Document, f.document_id) for f in files}
    runs = {e.document_id: e.flow_run_id for e in session.exec(select(AuditEntry).order_by(AuditEntry.seq))
            if e.flow_run_id and e.action == "issued"}
    return ChainSummary(
        issued=[Issued(f, docs[f.document_id], runs.get(f.document_id)) for f in files],
        steps=list(session.exec(select(ApprovalStep).order_by(ApprovalStep.id))),
        distributions=[(d, summary(ledger(session, d.id))) for d in docs.values() if d.distribution])
