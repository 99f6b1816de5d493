"""Signing authority (thẩm quyền ký): who may sign which kind for which agency, in which form."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from models.audit import Action, record
from models.directory import Agency, Official, agency_at, grants_of, official_by_code, position_of, signer_label
from models.document import KIND_INFO, Document, DocumentKind, DocumentStatus, directory_date, utcnow
from models.errors import RuleViolation
from models.legal_text import AuthorityForm, short_date, signer_block


def authority_form_for(
    session: Session, official: Official, agency: Agency, kind: DocumentKind, form: AuthorityForm | None,
    field: str = "signer", *, on: date | None = None,
) -> AuthorityForm:
    """The form ``official`` signs ``kind`` for ``agency`` in on ``on``; an error if the directory grants none then.

    With no ``form`` asked for, the official's only form for that kind is used; several need a choice.
    """
    grants = grants_of(session, official.id, agency.id, on)
    forms = sorted({g.form for g in grants if g.covers(kind.value)}, key=lambda f: f.value)
    type_name = KIND_INFO[kind][0]
    if not forms:
        when = f" on {short_date(on)}" if on else ""
        raise RuleViolation(
            field, "signer.authority",
            f"{signer_label(session, official, on)} ({official.code}) has no authority to sign a {type_name} of "
            f"{agency.name}{when}",
        )
    if form is None:
        if len(forms) > 1:
            raise RuleViolation(
                "authority_form", "signer.form-ambiguous",
                f"{official.code} may sign a {type_name} as {', '.join(f.value for f in forms)}: say which",
            )
        return forms[0]
    if form not in forms:
        raise RuleViolation(
            "authority_form", "signer.form",
            f"{official.code} may sign a {type_name} of {agency.code} as {', '.join(f.value for f in forms)}, not {form.value}",
        )
    # the block must be printable: a head form for the head, a collective for TM.
    position = position_of(session, official, on, agency.id) or position_of(session, official, on)
    signer_block(form, head_title=agency.head_title, signer_title=position.title if position else official.title,
                 collective=agency.collective_name)
    return form


def sign_document(session: Session, document: Document, signer_code: str | None = None,
                  form: AuthorityForm | None = None) -> Document:
    """Record the signature of a draft (ký): the signer's authority is checked again at this moment."""
    if document.status is not DocumentStatus.DRAFT:
        raise RuleViolation("status", "document.sign-draft", f"only a draft can be signed; document #{document.id} is {document.status.value}")
    if signer_code is None and document.signer_id is None:
        raise RuleViolation("signer", "signer.required", "no signer given and none planned in the draft")
    on = directory_date(document)
    official = official_by_code(session, signer_code, "signer", on) if signer_code else session.get(Official, document.signer_id)
    agency = agency_at(session, document.issuer_id, on)
    document.authority_form = authority_form_for(session, official, agency, document.kind, form or document.authority_form,
                                                 on=on)
    document.signer_id = official.id
    document.status = DocumentStatus.SIGNED
    document.updated_at = utcnow()
    session.add(document)
    session.flush()
    record(session, Action.SIGNED, actor=official.code, document_id=document.id,
           details={"authority_form": document.authority_form.value})
    return document
