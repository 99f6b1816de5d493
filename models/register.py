"""Outgoing registers (sổ đăng ký văn bản đi): where official numbers are allocated and voided.

Rules (Decree 30 Điều 15, nd30-format.md §5): a series per issuing agency and year (an agency may keep
one series for all its administrative documents, or several split by kind); numbers start at 01 on
1 January, follow the order of issue, are unique, never reused; a voided number stays with its reason.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint, func
from sqlmodel import Field, Session, SQLModel, select

from models.audit import Action, record
from models.document import utcnow
from models.legal_text import clean_text, number_symbol
from models.errors import RuleViolation


class OutgoingRegister(SQLModel, table=True):
    """One number series of one agency for one year."""

    __table_args__ = (UniqueConstraint("agency_id", "year", "series"),)
    id: int | None = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    year: int
    series: str = Field(default="chung", description="Series code; 'chung' = the agency's shared series")
    name: str = Field(default="Sổ đăng ký văn bản đi")
    kinds: str = Field(default="*", description="Document kinds numbered here, comma-separated, or '*'")
    opening_number: int = Field(default=0, description="Last number given before vanban kept this register")
    last_number: int = 0
    is_sample: bool = False

    def covers(self, kind: str) -> bool:
        return self.kinds == "*" or kind in self.kinds.split(",")


class RegisterEntry(SQLModel, table=True):
    """A number given out: to a document, or voided (with its reason, kept for the inspector)."""

    __table_args__ = (UniqueConstraint("register_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    register_id: int = Field(foreign_key="outgoingregister.id", index=True)
    number: int
    document_id: int | None = Field(default=None, foreign_key="document.id", unique=True)
    number_symbol: str
    issued_on: date
    allocated_at: datetime = Field(default_factory=utcnow)
    voided_reason: str | None = None
    voided_at: datetime | None = None


def open_register(
    session: Session, agency_id: int, year: int, *, series: str = "chung", kinds: str = "*",
    opening_number: int = 0, is_sample: bool = False,
) -> OutgoingRegister:
    """Open a series for a year; ``opening_number`` carries over numbers given before vanban kept it."""
    if opening_number < 0:
        raise RuleViolation("opening_number", "register.opening", "cannot be negative")
    register = OutgoingRegister(
        agency_id=agency_id, year=year, series=series, kinds=kinds,
        opening_number=opening_number, last_number=opening_number, is_sample=is_sample,
    )
    session.add(register)
    session.flush()
    return register


def register_for(session: Session, agency_id: int, year: int, kind: str, *, lock: bool = False) -> OutgoingRegister:
    """The series that numbers ``kind`` at the agency in ``year``: a series naming the kind wins over '*'."""
    query = select(OutgoingRegister).where(OutgoingRegister.agency_id == agency_id, OutgoingRegister.year == year)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    candidates = [r for r in session.exec(query) if r.covers(kind)]
    specific = [r for r in candidates if r.kinds != "*"]
    chosen = specific or candidates
    if not chosen:
        raise RuleViolation(
            "register", "register.missing", f"agency #{agency_id} has no outgoing register for {kind} in {year}"
        )
    if len(chosen) > 1:
        names = ", ".join(r.series for r in chosen)
        raise RuleViolation("register", "register.ambiguous", f"several series number {kind} in {year}: {names}")
    return chosen[0]


def allocate_number(session: Session, agency_id: int, kind: str, issued_on: date, symbol: str, document_id: int | None,
                    *, actor: str = "system") -> RegisterEntry:
    """Give the next number of the series to a document being issued, in the caller's transaction.

    The register row is locked (SELECT … FOR UPDATE on PostgreSQL; on SQLite the engine begins every
    transaction IMMEDIATE, which takes the write lock), so concurrent issuers queue and get distinct,
    consecutive numbers; the unique key (register, number) is the last guard.
    """
    register = register_for(session, agency_id, issued_on.year, kind, lock=True)
    last_date = session.exec(
        select(func.max(RegisterEntry.issued_on)).where(RegisterEntry.register_id == register.id)
    ).one()
    if last_date is not None and issued_on < last_date:
        raise RuleViolation(
            "issued_on", "register.time-order",
            f"{issued_on:%d/%m/%Y} is before {last_date:%d/%m/%Y}, the date of the last number of this series; "
            "numbers follow the order of issue",
        )
    register.last_number += 1
    entry = RegisterEntry(
        register_id=register.id, number=register.last_number, document_id=document_id,
        number_symbol=number_symbol(register.last_number, symbol), issued_on=issued_on,
    )
    session.add(register)
    session.add(entry)
    session.flush()
    record(session, Action.NUMBER_ALLOCATED, actor=actor, document_id=document_id,
           details={"number_symbol": entry.number_symbol, "register": register.id, "series": register.series,
                    "year": register.year})
    return entry


def void_number(session: Session, entry_id: int, reason: str, *, actor: str = "system") -> RegisterEntry:
    """Void a number: it stays in the register with its reason and is never given again."""
    reason = clean_text(reason, "reason")
    if not reason:
        raise RuleViolation("reason", "register.void-reason", "a voided number needs its reason")
    entry = session.get(RegisterEntry, entry_id)
    if entry is None:
        raise RuleViolation("entry", "register.unknown-entry", f"no register entry #{entry_id}")
    if entry.voided_at is not None:
        raise RuleViolation("entry", "register.already-voided", f"{entry.number_symbol} was voided already")
    entry.voided_reason = reason
    entry.voided_at = utcnow()
    session.add(entry)
    session.flush()
    record(session, Action.NUMBER_VOIDED, actor=actor, document_id=entry.document_id,
           details={"number_symbol": entry.number_symbol, "reason": reason})
    return entry
