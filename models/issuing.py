"""Issuing (ban hành): number the signed document from its register, date it, render the final DOCX
and record its SHA-256 — one transaction, so a failure leaves neither a number nor a file record. A
decision's assignments start being tracked in the same transaction."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlmodel import Session, select

from models.audit import Action, record
from models.assignments import open_assignments
from models.directory import Official, agency_at, agency_by_code
from models.document import Document, DocumentStatus, GeneratedFile, utcnow
from models.errors import RuleViolation
from models.files import store
from models.kinds import KINDS
from models.legal_text import file_stem
from models.register import RegisterEntry, allocate_number
from models.signing import authority_form_for, competence_of


def issue_document(session: Session, document: Document, issued_on: date, files_dir: Path, *,
                   actor: str = "system") -> tuple[RegisterEntry, GeneratedFile]:
    """Allocate the next number (only now, after signing), then render and keep the issued DOCX.
    ``actor``: the văn thư who issues."""
    from doc_templates import render_document  # the renderer reads the document back through the session

    if document.status is not DocumentStatus.SIGNED:
        raise RuleViolation("status", "document.issue-signed",
                            f"only a signed document can be issued; document #{document.id} is {document.status.value}")
    check_issuer_and_signer(session, document, issued_on)
    entry = allocate_number(session, document.issuer_id, document.kind.value, issued_on, document.symbol, document.id,
                            actor=actor)
    document.number = entry.number
    document.issued_on = issued_on
    document.status = DocumentStatus.ISSUED
    document.updated_at = utcnow()
    session.add(document)
    session.flush()
    stored = save_rendering(session, document, "issued", render_document(session, document), files_dir)
    record(session, Action.ISSUED, actor=actor, document_id=document.id, file_sha256=stored.sha256,
           details={"number_symbol": entry.number_symbol, "issued_on": issued_on.isoformat(), "file": stored.filename})
    if KINDS[document.kind].decides:  # a decision's assignments become tracked obligations, in this transaction
        open_assignments(session, document, actor=actor)
    return entry, stored


def check_issuer_and_signer(session: Session, document: Document, issued_on: date) -> None:
    """On the date of issue the issuing agency must exist and the signer still hold the authority signed with
    (a merger or a move between signing and issue stops the issue: the document is signed again), in a form that
    still fits the decision's competence and the signer's position that day."""
    issuer = agency_at(session, document.issuer_id, None)
    issuer = agency_by_code(session, issuer.code, "date", issued_on)
    signer = session.get(Official, document.signer_id)
    authority_form_for(session, signer, issuer, document.kind, document.authority_form, "date", on=issued_on,
                       competence=competence_of(session, document))


def save_rendering(session: Session, document: Document, purpose: str, data: bytes, files_dir: Path) -> GeneratedFile:
    """Keep a rendering and record its SHA-256 (once per document, purpose and content)."""
    digest, _ = store(files_dir, data, session)
    existing = session.exec(select(GeneratedFile).where(
        GeneratedFile.document_id == document.id, GeneratedFile.purpose == purpose, GeneratedFile.sha256 == digest)).first()
    if existing:
        return existing
    name = f"{file_stem(document.number, document.symbol)}.docx" if document.number else f"draft-{document.id}.docx"
    record = GeneratedFile(document_id=document.id, purpose=purpose, filename=name, sha256=digest, size=len(data))
    session.add(record)
    session.flush()
    return record
