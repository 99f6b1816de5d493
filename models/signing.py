"""Signing authority (thẩm quyền ký): who may sign which kind for which agency, in which form."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from models.audit import Action, record
from models.composition import head_phrase
from models.directory import (
    Agency, Official, agency_at, grants_of, official_by_code, period, position_of, signer_label,
)
from models.document import Document, DocumentKind, DocumentStatus, directory_date, utcnow
from models.errors import RuleViolation
from models.kinds import KINDS, type_name
from models.legal_text import AuthorityForm, short_date, signer_block, upper


# Decree 30 Điều 13: a collective's competence is used by TM. (the head, or a deputy with KT. under it); the
# head's competence by the head himself, a deputy (KT.), an acting head (Q.), a unit head by order (TL.) or a
# written delegation (TUQ.) — never TM.
COMPETENCE_FORMS = {
    "collective": {AuthorityForm.TM, AuthorityForm.TM_KT},
    "head": {AuthorityForm.HEAD, AuthorityForm.KT, AuthorityForm.Q, AuthorityForm.TL, AuthorityForm.TUQ},
}


def competence_of(session: Session, document: Document) -> str | None:
    """A decision's competence, 'head' or 'collective', read back from its stored authority line: the collective's
    line is the issuer's name alone (composition.competence_line), as of the day it was drafted for."""
    if document.competence is None:
        return None
    return "collective" if document.competence == upper(agency_at(session, document.issuer_id, document.as_of).name) else "head"


def signer_lines(session: Session, official: Official, agency: Agency, form: AuthorityForm, on: date | None) -> list[str]:
    """Ô 7a/7b of ``official`` signing for ``agency`` in ``form``, with the titles held on ``on``.

    'TL. with KT.' is not a form of its own: it follows from the signer's position. A TL. grant goes to the head of
    a unit (the Office's Chánh Văn phòng); when he passes it on, the deputy (a leader, not the head, of that unit)
    signs KT. of him under the TL. line. Deriving it means one grant form, TL., and no grant that could contradict
    the position it is signed from. A TUQ. delegate from another agency is named with that agency, as §3.7 shows.
    """
    position = position_of(session, official, on, agency.id) or position_of(session, official, on)
    title = position.title if position else official.title
    unit_head_title = None
    if position is not None and position.agency_id != agency.id:
        own = agency_at(session, position.agency_id, on)
        if form is AuthorityForm.TL and position.is_leader and not position.is_head:
            unit_head_title = own.head_title
        elif form is AuthorityForm.TUQ:
            title = head_phrase(title, own.name)
    return signer_block(form, head_title=agency.head_title, signer_title=title, collective=agency.collective_name,
                        unit_head_title=unit_head_title)


def _missing_grant(session: Session, official: Official, agency: Agency, kind: DocumentKind, form: AuthorityForm,
                   on: date | None) -> RuleViolation | None:
    """The error for a TL. or TUQ. asked for without the grant that allows it on ``on``; None for other forms."""
    name = type_name(kind)
    when = f" on {short_date(on)}" if on else ""
    if form is AuthorityForm.TL:
        return RuleViolation("signer", "signer.tl-list",
                             f"{official.code} is not on {agency.code}'s TL. list for a {name}{when}: the working "
                             "rules name who signs by order (thừa lệnh)")
    if form is AuthorityForm.TUQ:
        delegations = [g for g in grants_of(session, official.id, agency.id, None)
                       if g.form is AuthorityForm.TUQ and g.covers(kind.value)]
        if delegations:
            d = delegations[-1]
            return RuleViolation("authority_form", "signer.tuq-period",
                                 f"{official.code}'s delegation '{d.delegation}' holds {period(d)}, not{when}")
        return RuleViolation("authority_form", "signer.tuq-delegation",
                             f"{official.code} holds no written delegation (ủy quyền) of {agency.code} for a {name}: "
                             "TUQ. needs one")
    return None


def _check_position(session: Session, official: Official, agency: Agency, form: AuthorityForm, on: date | None) -> None:
    """The form must fit the position held in ``agency`` on ``on``: head and TM. by its head only; KT. and TM.+KT.
    by a deputy of its leadership; Q. (the grant is the record of acting) not by the head himself."""
    position = position_of(session, official, on, agency.id)
    is_head = position is not None and position.is_head
    when = f" on {short_date(on)}" if on else ""
    if form in (AuthorityForm.HEAD, AuthorityForm.TM) and not is_head:
        raise RuleViolation("authority_form", "signer.form-position",
                            f"{official.code} is not the head of {agency.code}{when}: only the head signs "
                            f"{form.value}; a deputy signs KT. (TM.+KT. for the collective)")
    if form in (AuthorityForm.KT, AuthorityForm.TM_KT, AuthorityForm.Q) and is_head:
        raise RuleViolation("authority_form", "signer.form-position",
                            f"{official.code} is the head of {agency.code}{when} and signs as head or TM., not {form.value}")
    if form in (AuthorityForm.KT, AuthorityForm.TM_KT) and not (position and position.is_leader):
        raise RuleViolation("authority_form", "signer.form-position",
                            f"{official.code} is not in the leadership of {agency.code}{when}: only a deputy head signs "
                            f"{form.value}")


def authority_form_for(
    session: Session, official: Official, agency: Agency, kind: DocumentKind, form: AuthorityForm | None,
    field: str = "signer", *, on: date | None = None, competence: str | None = None,
) -> AuthorityForm:
    """The form ``official`` signs ``kind`` for ``agency`` in on ``on``; an error if the directory grants none then,
    if it does not fit the decision's ``competence`` ('head' or 'collective') or the position held that day.

    With no ``form`` asked for, the official's only form for that kind (and that competence) is used; several
    need a choice.
    """
    if KINDS[kind].in_person:  # a Biên bản: who presided signs it under the label CHỦ TỌA, in no form of Điều 13
        if form not in (None, AuthorityForm.IN_PERSON):
            raise RuleViolation("authority_form", "signer.in-person",
                                f"a {type_name(kind)} is signed in person by who presided (chủ tọa), not {form.value}")
        return AuthorityForm.IN_PERSON
    grants = grants_of(session, official.id, agency.id, on)
    forms = sorted({g.form for g in grants if g.covers(kind.value)}, key=lambda f: f.value)
    name = type_name(kind)
    if form is not None and form not in forms and (missing := _missing_grant(session, official, agency, kind, form, on)):
        raise missing
    if not forms:
        when = f" on {short_date(on)}" if on else ""
        raise RuleViolation(
            field, "signer.authority",
            f"{signer_label(session, official, on)} ({official.code}) has no authority to sign a {name} of "
            f"{agency.name}{when}",
        )
    if form is None:
        fitting = [f for f in forms if competence is None or f in COMPETENCE_FORMS[competence]] or forms
        if len(fitting) > 1:
            raise RuleViolation(
                "authority_form", "signer.form-ambiguous",
                f"{official.code} may sign a {name} as {', '.join(f.value for f in fitting)}: say which",
            )
        form = fitting[0]
    if form not in forms:
        raise RuleViolation(
            "authority_form", "signer.form",
            f"{official.code} may sign a {name} of {agency.code} as {', '.join(f.value for f in forms)}, not {form.value}",
        )
    if competence is not None and form not in COMPETENCE_FORMS[competence]:
        raise RuleViolation(
            "authority_form", "signer.competence",
            f"a {name} under the {competence} competence is signed "
            f"{' or '.join(sorted(f.value for f in COMPETENCE_FORMS[competence]))}, not {form.value}",
        )
    _check_position(session, official, agency, form, on)
    signer_lines(session, official, agency, form, on)  # the block must be printable
    return form


def sign_document(session: Session, document: Document, signer_code: str | None = None,
                  form: AuthorityForm | None = None, evidence: dict | None = None) -> Document:
    """Record the signature of a draft (ký): the signer's authority is checked again at this moment. ``evidence``:
    the proof the signer gave (models/credentials.py), kept in the audit entry."""
    if document.status is not DocumentStatus.DRAFT:
        raise RuleViolation("status", "document.sign-draft", f"only a draft can be signed; document #{document.id} is {document.status.value}")
    if signer_code is None and document.signer_id is None:
        raise RuleViolation("signer", "signer.required", "no signer given and none planned in the draft")
    on = directory_date(document)
    official = official_by_code(session, signer_code, "signer", on) if signer_code else session.get(Official, document.signer_id)
    agency = agency_at(session, document.issuer_id, on)
    document.authority_form = authority_form_for(session, official, agency, document.kind, form or document.authority_form,
                                                 on=on, competence=competence_of(session, document))
    document.signer_id = official.id
    document.status = DocumentStatus.SIGNED
    document.updated_at = utcnow()
    session.add(document)
    session.flush()
    record(session, Action.SIGNED, actor=official.code, document_id=document.id,
           details={"authority_form": document.authority_form.value, **(evidence or {})})
    return document
