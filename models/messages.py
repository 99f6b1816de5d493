"""The message that carries an issued document to a recipient: subject and body in Vietnamese, built from
the document (number, date, trích yếu, issuer), the issued DOCX attached, and the plan a decision approves."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from models.directory import Agency
from models.document import Document, DocumentLink, GeneratedFile, LinkRelation
from models.errors import RuleViolation
from models.files import path_of
from models.kinds import type_name
from models.legal_text import number_symbol, short_date

DOCX_TYPE = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")


@dataclass(frozen=True)
class Attachment:
    filename: str
    path: Path
    size: int
    description: str


@dataclass(frozen=True)
class Message:
    subject: str
    body: str
    attachments: tuple[Attachment, ...]
    message_id: str
    receipt_token: str | None = None  # what the recipient gives back to acknowledge (models/receipts.py)

    @property
    def size(self) -> int:
        return sum(a.size for a in self.attachments)


@dataclass(frozen=True)
class DocumentMessage:
    """What every recipient's message of one document shares; built once per distribution."""

    subject: str
    lead: str
    attachments: tuple[Attachment, ...]

    def to(self, label: str, message_id: str, receipt_token: str) -> Message:
        listed = "\n".join(f"- {a.filename} ({a.description})" for a in self.attachments)
        body = (f"Kính gửi: {label}.\n\n{self.lead}\n\nVăn bản gửi kèm:\n{listed}\n\n"
                f"Đề nghị xác nhận đã nhận văn bản, kèm mã xác nhận.\nMã thư: {message_id}\n"
                f"Mã xác nhận: {receipt_token}\n")
        return Message(self.subject, body, self.attachments, message_id, receipt_token)


def _title(doc: Document) -> str:
    return f"{type_name(doc.kind)} số {number_symbol(doc.number, doc.symbol)} ngày {short_date(doc.issued_on)}"


def _issued_file(session: Session, doc: Document, files_dir: Path, description: str) -> Attachment:
    stored = session.exec(select(GeneratedFile).where(GeneratedFile.document_id == doc.id,
                                                      GeneratedFile.purpose == "issued")
                          .order_by(GeneratedFile.id.desc())).first()
    if stored is None:
        raise RuleViolation("document", "distribution.no-file", f"document #{doc.id} has no issued DOCX to send")
    return Attachment(stored.filename, path_of(files_dir, stored.sha256), stored.size, description)


def document_message(session: Session, doc: Document, files_dir: Path) -> DocumentMessage:
    """Subject, lead and attachments of an issued document; a decision carries the plan it approves, a
    submission the plan attached to it."""
    issuer = session.get(Agency, doc.issuer_id)
    title = _title(doc)
    attachments = [_issued_file(session, doc, files_dir, title)]
    kind = type_name(doc.kind)
    approved = session.exec(select(Document).join(DocumentLink, DocumentLink.to_id == Document.id).where(
        DocumentLink.from_id == doc.id, DocumentLink.relation == LinkRelation.APPROVES)).all()
    carried = session.exec(select(Document).join(DocumentLink, DocumentLink.from_id == Document.id).where(
        DocumentLink.to_id == doc.id, DocumentLink.relation == LinkRelation.ATTACHED_TO)).all()
    for other, how in [(d, f"được phê duyệt tại {kind} này") for d in approved] + [(d, f"kèm theo {kind} này") for d in carried]:
        if other.number is not None:
            attachments.append(_issued_file(session, other, files_dir, f"{_title(other)}, {how}"))
    return DocumentMessage(subject=f"{title} của {issuer.name}",
                           lead=f"{issuer.name} gửi {title}: {doc.subject}.",
                           attachments=tuple(attachments))


def notice_message(session: Session, assignment, kind: str, working_days_left: int, label: str,  # noqa: ANN001
                   message_id: str) -> Message:
    """A reminder to the lead agency, or an escalation to the Office's leadership and the signer."""
    from models.legal_text import date_words

    decision = session.get(Document, assignment.decision_id)
    issuer, lead = session.get(Agency, decision.issuer_id), session.get(Agency, assignment.lead_id)
    given = f"Theo {_title(decision)} của {issuer.name}, {lead.name} được giao chủ trì {assignment.task.rstrip('.')}."
    deadline = date_words(assignment.due)
    if kind == "reminder":
        subject = f"Nhắc hạn báo cáo theo {_title(decision)}"
        state = f"Hạn báo cáo: {deadline}; còn {working_days_left:02d} ngày làm việc."
    else:
        subject = f"Quá hạn báo cáo theo {_title(decision)}"
        state = (f"Hạn báo cáo là {deadline}; đã quá hạn {-working_days_left:02d} ngày làm việc, "
                 f"{lead.name} chưa gửi báo cáo.")
    body = f"Kính gửi: {label}.\n\n{given}\n{state}\n\nMã thư: {message_id}\n"
    return Message(subject, body, (), message_id)
