"""Incoming registers (sổ đăng ký văn bản đến): arrival numbers (số đến) per receiving agency and year."""

from __future__ import annotations

from datetime import date

from sqlalchemy import UniqueConstraint, func
from sqlmodel import Field, Session, SQLModel, select

from models.audit import Action, record
from models.directory import Agency
from models.document import Document, DocumentStatus
from models.errors import RuleViolation
from models.kinds import type_name
from models.legal_text import clean_text, number_symbol


class IncomingEntry(SQLModel, table=True):
    """One row of the incoming register, with the columns of Decree 30 Phụ lục IV, VI."""

    __table_args__ = (UniqueConstraint("agency_id", "year", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="agency.id", index=True, description="The receiving agency")
    year: int
    number: int = Field(description="Số đến, from 1 each year")
    received_on: date = Field(description="Ngày đến")
    document_id: int | None = Field(default=None, foreign_key="document.id", index=True)
    author: str = Field(description="Tác giả: the issuing agency")
    number_symbol: str
    document_date: date
    type_and_subject: str = Field(description="Tên loại và trích yếu")
    assigned_to: str | None = Field(default=None, description="Đơn vị hoặc người nhận")
    forwarded_on: date | None = Field(default=None, description="Ngày chuyển")
    note: str | None = None


def register_incoming(session: Session, agency: Agency, document: Document, received_on: date, *,
                      assigned_to: str | None = None, actor: str = "system") -> IncomingEntry:
    """Register an issued document as arrived at ``agency``; the arrival number is the next of the year."""
    if document.status is not DocumentStatus.ISSUED:
        raise RuleViolation("document", "incoming.not-issued", f"document #{document.id} is not issued; only issued documents arrive")
    if received_on < document.issued_on:
        raise RuleViolation("received_on", "incoming.before-issue",
                            f"{received_on:%d/%m/%Y} is before the document's date {document.issued_on:%d/%m/%Y}")
    session.exec(select(Agency.id).where(Agency.id == agency.id).with_for_update()).one()  # the series' lock
    last = session.exec(select(func.max(IncomingEntry.number)).where(
        IncomingEntry.agency_id == agency.id, IncomingEntry.year == received_on.year)).one()
    issuer = session.get(Agency, document.issuer_id)
    entry = IncomingEntry(
        agency_id=agency.id, year=received_on.year, number=(last or 0) + 1, received_on=received_on,
        document_id=document.id, author=issuer.name, number_symbol=number_symbol(document.number, document.symbol),
        document_date=document.issued_on, type_and_subject=f"{type_name(document.kind)} {document.subject}",
        assigned_to=clean_text(assigned_to, "assigned_to") if assigned_to else None,
    )
    session.add(entry)
    session.flush()
    record(session, Action.RECEIVED, actor=actor, document_id=document.id,
           details={"agency": agency.code, "arrival_number": entry.number, "received_on": received_on.isoformat()})
    return entry
