"""Documents (văn bản), their links, their addressees (Kính gửi, Điều 3 parties, Nơi nhận) and files."""

from __future__ import annotations

from datetime import date, datetime, timezone
from enum import Enum
from typing import Any

import hashlib
import json
import re
import unicodedata

from sqlalchemy import JSON, Column, Enum as SAEnum, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, select

from models.errors import RuleViolation
from models.kinds import DocumentKind
from models.legal_text import AuthorityForm


MAX_ID = 2**31 - 1  # ids (and numbers) are INTEGER columns: PostgreSQL's holds no more, a larger one fails the query


class DocumentStatus(str, Enum):
    DRAFT = "draft"
    SIGNED = "signed"
    ISSUED = "issued"
    REJECTED = "rejected"


class LinkRelation(str, Enum):
    ATTACHED_TO = "attached_to"  # the plan travels with the submission
    PROPOSES = "proposes"  # the submission proposes approving the plan
    APPROVES = "approves"  # the decision approves the plan
    RESPONDS_TO = "responds_to"  # the decision answers the submission ("Theo đề nghị … tại Tờ trình …")
    REPORTS_ON = "reports_on"  # the report of results on a decision or plan


class AddresseeRole(str, Enum):
    KINH_GUI = "kinh_gui"  # Kính gửi (ô 9a)
    EXECUTOR = "executor"  # parties named in the executing article (Điều 3)
    RECIPIENT = "recipient"  # Nơi nhận (ô 9b)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def enum_type(enum_cls: type[Enum]) -> SAEnum:
    """Store an enum as its value in a plain string column: no PostgreSQL enum type to migrate later."""
    return SAEnum(enum_cls, native_enum=False, create_constraint=False, length=32,
                  values_callable=lambda members: [m.value for m in members])


class Document(SQLModel, table=True):
    """A document from draft to issue. Its text is frozen in ``body`` when drafted, so the issued text
    never changes when the directory does."""

    id: int | None = Field(default=None, primary_key=True)
    kind: DocumentKind = Field(sa_type=enum_type(DocumentKind))
    status: DocumentStatus = Field(default=DocumentStatus.DRAFT, sa_type=enum_type(DocumentStatus))
    issuer_id: int = Field(foreign_key="agency.id", index=True)
    drafting_unit: str | None = Field(default=None, description="Drafting unit's code, e.g. 'P.VHXH'")
    symbol: str = Field(description="Ký hiệu without number, e.g. 'QĐ-UBND'")
    number: int | None = Field(default=None, description="Allocated on issue from the outgoing register")
    issued_on: date | None = None
    as_of: date | None = Field(default=None, description="The day the draft was written for: the directory of that day "
                                                         "drafts and signs it; once issued, its date of issue counts")
    place: str
    subject: str = Field(description="Trích yếu")
    competence: str | None = Field(default=None, description="Authority line of a QĐ, e.g. 'Chủ tịch Ủy ban nhân dân tỉnh …'")
    legal_bases: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    body: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    signer_id: int | None = Field(default=None, foreign_key="official.id")
    authority_form: AuthorityForm | None = Field(default=None, sa_type=enum_type(AuthorityForm))
    distribution: str | None = Field(default=None, description="After issue: in_progress, completed or partly_failed")
    is_sample: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


def directory_date(document: Document) -> date | None:
    """The day whose directory applies to a document: its date of issue, else the day it was drafted for."""
    return document.issued_on or document.as_of


class DocumentLink(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("from_id", "to_id", "relation"),)
    id: int | None = Field(default=None, primary_key=True)
    from_id: int = Field(foreign_key="document.id", index=True)
    to_id: int = Field(foreign_key="document.id", index=True)
    relation: LinkRelation = Field(sa_type=enum_type(LinkRelation))


class Addressee(SQLModel, table=True):
    """One line of Kính gửi, of the executing article, or of Nơi nhận: the text as printed and what it
    names (``targets``: e.g. [{"type": "group", "code": "so-ban-nganh"}]); no targets = unresolved."""

    __table_args__ = (UniqueConstraint("document_id", "role", "position"),)
    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    role: AddresseeRole = Field(sa_type=enum_type(AddresseeRole))
    position: int
    text: str
    targets: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class GeneratedFile(SQLModel, table=True):
    """A DOCX vanban produced for a document, kept under the data directory by its SHA-256."""

    __table_args__ = (UniqueConstraint("document_id", "purpose", "sha256"),)
    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    purpose: str = Field(description="'draft' or 'issued'")
    filename: str
    sha256: str = Field(index=True)
    size: int
    created_at: datetime = Field(default_factory=utcnow)


def find_document(session: Session, ref: str | int, field: str = "document") -> Document:
    """A document by id ('12') or by number and symbol ('374/QĐ-UBND', '374/QĐ-UBND/2024' when years repeat)."""
    text = str(ref).strip()
    if text.isdigit():
        doc = session.get(Document, int(text)) if int(text) <= MAX_ID else None
        if doc is None:
            raise RuleViolation(field, "document.unknown", f"no document #{text}")
        return doc
    m = re.fullmatch(r"(\d+)/([^/\s]+)(?:/(\d{4}))?", text)
    if not m:
        raise RuleViolation(field, "document.reference", f"'{text}' is neither an id nor a number and symbol like 374/QĐ-UBND")
    query = select(Document).where(Document.number == int(m[1]), Document.symbol == unicodedata.normalize("NFC", m[2]))
    found = [d for d in session.exec(query) if m[3] is None or (d.issued_on and d.issued_on.year == int(m[3]))]
    if not found:
        raise RuleViolation(field, "document.unknown", f"no issued document {text}")
    if len(found) > 1:
        years = ", ".join(str(d.issued_on.year) for d in found)
        raise RuleViolation(field, "document.ambiguous", f"{text} was issued in several years ({years}): add the year, e.g. {text}/{found[-1].issued_on.year}")
    return found[0]


def content_digest(session: Session, document: Document) -> str:
    """SHA-256 of what a document says (nội dung): everything drafting stored that is printed or decides how — kind,
    issuer, ký hiệu, place, trích yếu, competence, căn cứ, body, signer and form, its day, its addressees and
    links — and nothing a later step fills in (number, date of issue, status). An official's answer is signed
    over it, so an answer holds only for the text that was read."""
    addressees = session.exec(select(Addressee).where(Addressee.document_id == document.id)
                              .order_by(Addressee.role, Addressee.position))
    links = session.exec(select(DocumentLink).where((DocumentLink.from_id == document.id) | (DocumentLink.to_id == document.id))
                         .order_by(DocumentLink.from_id, DocumentLink.to_id, DocumentLink.relation))
    content = {
        "kind": document.kind.value, "issuer": document.issuer_id, "drafting_unit": document.drafting_unit,
        "symbol": document.symbol, "place": document.place, "subject": document.subject,
        "competence": document.competence, "legal_bases": document.legal_bases, "body": document.body,
        "signer": document.signer_id, "authority_form": document.authority_form.value if document.authority_form else None,
        "as_of": document.as_of.isoformat() if document.as_of else None,
        "addressees": [[a.role.value, a.position, a.text, a.targets] for a in addressees],
        "links": [[link.from_id, link.to_id, link.relation.value] for link in links],
    }
    data = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()
