"""What the renderer needs of a stored document, read once from the database into plain values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session

from models import composition as c
from models.directory import Official, agency_at
from models.document import AddresseeRole, Document, DocumentKind, DocumentStatus, directory_date
from models.kinds import KINDS, Heading, Kind
from models.legal_text import date_line, list_items, number_line, upper
from models.recipients import addressees
from models.schemas import Body, Citation
from models.signing import signer_lines as block_of


@dataclass
class DocumentView:
    kind: DocumentKind
    type_name: str
    parent_line: str | None
    issuer_lines: list[str]
    number_line: str | None
    date_line: str | None
    subject: str
    competence: str | None
    basis_lines: list[str]
    body: Body
    kinh_gui: list[str]
    recipients: list[str]
    signer_lines: list[str]
    signer_name: str | None
    issuer_name: str
    issued_on: date | None
    is_sample: bool
    vv_line: str | None = None
    title: str = field(default="")
    heading: str = "title"  # models.kinds.Heading
    decides: str | None = None
    address_lead: str = "Kính gửi:"
    address_own_line: bool = False
    urgency: str | None = None
    parties: list[tuple[list[str], str]] = field(default_factory=list)  # two signatures: (label and title lines, name)

    @property
    def type_upper(self) -> str:
        return upper(self.type_name)


def _parties(kind: Kind, body: Body, signer_lines: list[str], signer_name: str | None) -> list[tuple[list[str], str]]:
    """The two signatures of a two-party kind, left then right: the issuer's signer with his block, the other party
    with the name (and title) its form gives."""
    out = []
    for party in kind.parties or ():
        if party.who == "signer":
            out.append(([party.label, *signer_lines], signer_name or ""))
        else:
            title = [upper(body.form[party.title_key])] if party.title_key else []
            out.append(([party.label, *title], body.form[party.who]))
    return out


def build_view(session: Session, doc: Document) -> DocumentView:
    """Everything printed on ``doc``, composed by the legal-text rules and the kind's row (models/kinds.py)."""
    on = directory_date(doc)  # the header and the signer's title as they were on the document's date
    kind = KINDS[doc.kind]
    issuer = agency_at(session, doc.issuer_id, on)
    parent = agency_at(session, issuer.parent_id, on) if issuer.parent_id else None
    body = Body.model_validate(doc.body)
    bases = [[Citation.model_validate(cit) for cit in line] for line in doc.legal_bases]
    basis = c.basis_lines(bases, closes=body.proposal is None) + ([body.proposal] if body.proposal else [])
    number = doc.number if doc.status is DocumentStatus.ISSUED else None
    signer_lines: list[str] = []
    signer_name = None
    if doc.signer_id is not None and doc.authority_form is not None:
        signer = session.get(Official, doc.signer_id)
        signer_lines = block_of(session, signer, issuer, doc.authority_form, on)
        signer_name = signer.full_name
    kinh_gui = [a.text for a in addressees(session, doc, AddresseeRole.KINH_GUI)]
    recipients = list_items([a.text for a in addressees(session, doc, AddresseeRole.RECIPIENT)])
    parties = _parties(kind, body, signer_lines, signer_name)
    return DocumentView(
        kind=doc.kind, type_name=kind.name,
        parent_line=parent.header_as_parent or upper(parent.name) if parent else None,
        issuer_lines=issuer.header_name.split("\n"),
        number_line=number_line(number, doc.symbol),
        date_line=date_line(doc.place, doc.issued_on if number else None) if kind.date_line else None,
        subject=doc.subject, competence=doc.competence if kind.decides else None, basis_lines=basis, body=body,
        kinh_gui=kinh_gui, recipients=recipients,
        signer_lines=[] if parties else signer_lines, signer_name=None if parties else signer_name,
        issuer_name=issuer.name, issued_on=doc.issued_on if number else None, is_sample=doc.is_sample,
        vv_line=f"V/v {doc.subject}" if kind.heading is Heading.VV else None,
        title=f"{kind.name} {number_line(number, doc.symbol)[4:].strip()}",
        heading=kind.heading.value, decides=kind.decides,
        address_lead=kind.address_lead.format(sender=doc.competence or ""), address_own_line=kind.address_own_line,
        urgency=body.urgency, parties=parties,
    )
