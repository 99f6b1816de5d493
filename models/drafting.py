"""Drafting (soạn thảo): validate a drafter's input, compose the frozen text, store the draft.

Everything happens in the caller's transaction; any rule broken raises before anything is flushed,
and the caller's rollback leaves nothing half-written.
"""

from __future__ import annotations

from datetime import date

from pydantic import ValidationError
from sqlmodel import Session, select

from models import composition as c
from models.audit import Action, record
from models.config import today
from models.directory import agency_at, agency_by_code, official_by_code, signer_label, unit_by_ref
from models.document import (
    Addressee, AddresseeRole, Document, DocumentKind, DocumentLink, DocumentStatus, LinkRelation,
    directory_date, utcnow,
)
from models.errors import RuleViolation
from models.kinds import KINDS, Kind, Presence, type_name
from models.legal_text import check_abbreviation, number_symbol, symbol
from models.recipients import check_recipients, resolve_lines
from models.schemas import Article, DocumentCreate
from models.signing import authority_form_for


def parse_create(data: dict) -> DocumentCreate:
    """Validate raw input (YAML, JSON, a form) into a DocumentCreate, naming the first bad field."""
    try:
        return DocumentCreate.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".") or "input"
        rule = err["type"] if "." in err["type"] else f"input.{err['type']}"  # our own rules carry their id
        raise RuleViolation(loc, rule, err["msg"]) from None


def _issued(session: Session, doc_id: int, field: str, kind: DocumentKind) -> Document:
    doc = session.get(Document, doc_id)
    if doc is None:
        raise RuleViolation(field, "document.unknown", f"no document #{doc_id}")
    if doc.kind is not kind:
        raise RuleViolation(field, "document.kind", f"document #{doc_id} is a {type_name(doc.kind)}, not a {type_name(kind)}")
    if doc.status is not DocumentStatus.ISSUED:
        raise RuleViolation(field, "document.not-issued", f"document #{doc_id} is not issued yet; only an issued document can be cited")
    return doc


def _ref(session: Session, doc: Document) -> tuple[str, str]:
    """('Kế hoạch số 11/KH-STTTT ngày 20/02/2024', 'Giám đốc Sở Thông tin và Truyền thông'): the issuer as it was
    named on the cited document's date."""
    issuer = agency_at(session, doc.issuer_id, directory_date(doc))
    ref = c.reference(type_name(doc.kind), number_symbol(doc.number, doc.symbol), doc.issued_on)
    return ref, c.head_phrase(issuer.head_title, issuer.name)


def _compose_articles(session: Session, spec: DocumentCreate, kind: Kind, links: list[tuple[LinkRelation, int]],
                      on: date) -> tuple[dict, int | None]:
    """The articles of a Quyết định or Nghị quyết from data: proposal line, approving article, assignments,
    executing article, entry into force."""
    body = spec.body.model_copy(deep=True)
    articles: list[Article] = []
    if spec.responds_to is not None:
        submission = _issued(session, spec.responds_to, "responds_to", DocumentKind.SUBMISSION)
        ref, proposer = _ref(session, submission)
        body.proposal = c.proposal_line(proposer, ref)
        links.append((LinkRelation.RESPONDS_TO, submission.id))
    if spec.approves is not None:
        approved = session.get(Document, spec.approves)
        approved = _issued(session, spec.approves, "approves", approved.kind if approved else DocumentKind.PLAN)
        ref, author = _ref(session, approved)
        articles.append(Article(text=c.approve_text(type_name(approved.kind), approved.subject), note=c.attached_note(ref, author)))
        links.append((LinkRelation.APPROVES, approved.id))
    articles.extend(body.articles)
    if body.assignments:
        paragraphs = []
        for i, a in enumerate(body.assignments):
            lead = agency_by_code(session, a.lead, f"body.assignments[{i}].lead", on)
            paragraphs.append(c.assignment_text(a, c.head_phrase(lead.head_title, lead.name)))
        articles.append(Article(title="Tổ chức thực hiện", paragraphs=paragraphs))
    executing: int | None = None
    if spec.executors:
        articles.append(Article(text=c.executors_text([e.text for e in spec.executors], kind.name)))
        executing = len(articles)
    body.articles = _numbered(articles)
    if spec.effective:
        body.closing.append(c.effective_text(kind.name, spec.effective))
    return body.model_dump(mode="json", exclude_none=True), executing


def _numbered(articles: list[Article]) -> list[Article]:
    """Articles take their numbers by order (Điều 1., Điều 2. …); a number given must be its place."""
    for n, article in enumerate(articles, start=1):
        if article.number not in (None, n):
            raise RuleViolation("body.articles", "decision.article-order", f"article numbered {article.number} stands at place {n}")
        article.number = n
    return articles


def _part(field: str, kind: Kind, what: str) -> RuleViolation:
    return RuleViolation(field, "kind.part", f"a {kind.name} has no {what} (Phụ lục III, {kind.sample}); `vanban kinds` "
                                             "shows the parts of each kind")


def check_parts(spec: DocumentCreate, kind: Kind) -> None:
    """The parts given must be parts the kind has (models/kinds.py), and the ones it needs must be there."""
    b = spec.body
    if spec.legal_bases and kind.bases is Presence.NONE:
        raise _part("legal_bases", kind, "căn cứ")
    if not spec.legal_bases and kind.bases is Presence.REQUIRED:
        raise RuleViolation("legal_bases", "legal-bases.required", f"a {kind.name} needs at least one căn cứ")
    if spec.kinh_gui and kind.kinh_gui is Presence.NONE:
        raise _part("kinh_gui", kind, "Kính gửi")
    if not spec.kinh_gui and kind.kinh_gui is Presence.REQUIRED:
        raise RuleViolation("kinh_gui", "kinh-gui.required", f"a {kind.name} names its addressees under "
                                                            f"'{kind.address_lead.format(sender='…')}'")
    if b.articles and not kind.articles:
        raise _part("body.articles", kind, "articles (Điều): it is written in sections (I., 1., a))")
    if b.sections and kind.articles:
        raise _part("body.sections", kind, "sections (I., 1., a)): it is written in articles (Điều)")
    if b.table and kind.table is Presence.NONE:
        raise _part("body.table", kind, "table")
    if not b.table and kind.table is Presence.REQUIRED:
        raise RuleViolation("body.table", "table.required", f"a {kind.name} carries a table of what it lists "
                                                          "(body.table: columns and rows)")
    if spec.form and not kind.form:
        raise _part("form", kind, "form")
    if not kind.decides and (spec.approves or spec.responds_to or spec.executors or spec.effective or b.assignments):
        raise RuleViolation("kind", "decision.only", "approves, responds_to, executors, effective and assignments belong "
                                                     "to a Quyết định or a Nghị quyết")
    if not (b.intro or b.sections or b.articles or b.closing or b.table or kind.form or spec.approves or spec.executors):
        raise RuleViolation("body", "body.required", f"a {kind.name} says something: give body.intro, sections or "
                                                     f"{'articles' if kind.articles else 'closing'}")
    if spec.competence and not kind.competence:
        raise _part("competence", kind, "competence line")
    if spec.competence and spec.competence not in kind.competence:
        raise RuleViolation("competence", "kind.competence", f"a {kind.name} uses the {' or '.join(kind.competence)} "
                                                             f"competence, not {spec.competence}")


def _competence(spec: DocumentCreate, kind: Kind) -> str | None:
    """Whose competence the document uses: as given, or the only one its kind knows."""
    if spec.competence or not kind.competence:
        return spec.competence
    if len(kind.competence) == 1:
        return kind.competence[0]
    raise RuleViolation("competence", "decision.competence", f"a {kind.name} states whose competence it uses: "
                                                             f"{' or '.join(repr(c) for c in kind.competence)}")


def _form(spec: DocumentCreate, kind: Kind) -> dict[str, str | list[str]]:
    """The form's values as printed; an unknown key or a required one missing is an error naming it."""
    for key in spec.form:
        if kind.field(key) is None:
            raise RuleViolation(f"form.{key}", "form.unknown", f"a {kind.name}'s form has "
                                                               f"{', '.join(f.key for f in kind.form)}, not '{key}'")
    values: dict[str, str | list[str]] = {}
    for f in kind.form:
        raw = spec.form.get(f.key)
        if raw is None or raw == "" or raw == []:
            if f.required:
                raise RuleViolation(f"form.{f.key}", "form.required", f"a {kind.name} needs {f.label} (form.{f.key})")
            continue
        values[f.key] = c.form_value(f, raw, f"form.{f.key}")
    return values


def draft_document(session: Session, spec: DocumentCreate | dict, *, actor: str = "system") -> Document:
    """Store a new draft (dự thảo) from ``spec``; the number stays blank until issue. ``actor``: who drafts."""
    return _store(session, spec, actor, None)


def revise_document(session: Session, document: Document, spec: DocumentCreate | dict, *, actor: str) -> Document:
    """Replace a draft's text with ``spec`` (sửa dự thảo), under the same rules as a new draft."""
    if document.status is not DocumentStatus.DRAFT:
        raise RuleViolation("document", "document.revise-draft",
                            f"only a draft can be revised; document #{document.id} is {document.status.value}")
    return _store(session, spec, actor, document)


def _store(session: Session, spec: DocumentCreate | dict, actor: str, existing: Document | None) -> Document:
    if isinstance(spec, dict):
        spec = parse_create(spec)
    on = spec.dated or today()  # the directory of the day the draft is written for
    issuer = agency_by_code(session, spec.issuer, "issuer", on)
    if existing is not None and (existing.kind is not spec.kind or existing.issuer_id != issuer.id):
        raise RuleViolation("kind", "document.revise-same", "a revision keeps the document's kind and issuer")
    kind = KINDS[spec.kind]
    if kind.numbered_like_letter:
        if not spec.field_abbreviation:
            raise RuleViolation("field_abbreviation", "symbol.cong-van", f"a {kind.name} symbol needs the unit or field, "
                                                                         "e.g. 'VHXH' in UBND-VHXH")
        sym = symbol(None, issuer.abbreviation, check_abbreviation(spec.field_abbreviation, "field_abbreviation"))
    else:
        sym = symbol(kind.abbreviation, issuer.abbreviation)
    if spec.drafting_unit:
        unit_by_ref(session, spec.drafting_unit if "/" in spec.drafting_unit else f"{issuer.code}/{spec.drafting_unit}",
                    "drafting_unit", on)
    check_parts(spec, kind)
    competence = _competence(spec, kind)
    form = _form(spec, kind)

    links: list[tuple[LinkRelation, int]] = [(link.relation, link.document) for link in spec.links]
    executing: int | None = None
    if kind.decides:
        body, executing = _compose_articles(session, spec, kind, links, on)
    else:
        body = spec.body.model_copy(deep=True)
        body.articles = _numbered(body.articles)
        body = body.model_dump(mode="json", exclude_none=True)
    competence_line = c.competence_line(competence, issuer.head_title, issuer.name) if competence else None

    check_recipients(spec.recipients)
    articles = {executing: spec.executors} if executing else {}
    resolve_lines(session, spec.kinh_gui, "kinh_gui", issuer=issuer, on=on)
    resolve_lines(session, spec.executors, "executors", issuer=issuer, on=on)
    resolve_lines(session, spec.recipients, "recipients", issuer=issuer, articles=articles, kinh_gui=spec.kinh_gui, on=on)

    signer_id = authority = official = None
    if spec.signer:
        official = official_by_code(session, spec.signer, "signer", on)
        authority = authority_form_for(session, official, issuer, spec.kind, spec.authority_form, on=on,
                                       competence=competence)
        signer_id = official.id
    elif kind.in_person:
        raise RuleViolation("signer", "signer.required", f"a {kind.name} names who presided and signs it (signer)")
    if kind.form:
        context = {"issuer": issuer.name, "head": c.head_phrase(issuer.head_title, issuer.name),
                   "signer": signer_label(session, official, on) if official else ""}
        body["form"] = spec.form and {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in spec.form.items()}
        body["intro"] = c.form_lines(kind.lines_before, context | form) + body.get("intro", [])
        body["closing"] = body.get("closing", []) + c.form_lines(kind.lines_after, context | form)
    if spec.urgency:
        body["urgency"] = spec.urgency
    for i, (_relation, target_id) in enumerate(links):
        if session.get(Document, target_id) is None:
            raise RuleViolation(f"links[{i}].document", "document.unknown", f"no document #{target_id}")

    fields = dict(
        kind=spec.kind, issuer_id=issuer.id, drafting_unit=spec.drafting_unit, symbol=sym, place=issuer.place, as_of=on,
        subject=spec.subject, competence=competence_line,
        legal_bases=[[cit.model_dump(mode="json", exclude_none=True) for cit in line] for line in spec.legal_bases],
        body=body, signer_id=signer_id, authority_form=authority, is_sample=spec.is_sample,
    )
    if existing is None:
        doc = Document(**fields)
    else:  # a revision: the lines and links of the old text go with it
        doc = existing
        for key, value in fields.items():
            setattr(doc, key, value)
        doc.updated_at = utcnow()
        for old in session.exec(select(Addressee).where(Addressee.document_id == doc.id)):
            session.delete(old)
        for old in session.exec(select(DocumentLink).where(DocumentLink.from_id == doc.id)):
            session.delete(old)
    session.add(doc)
    session.flush()
    for role, lines in ((AddresseeRole.KINH_GUI, spec.kinh_gui), (AddresseeRole.EXECUTOR, spec.executors),
                        (AddresseeRole.RECIPIENT, spec.recipients)):
        for pos, line in enumerate(lines):
            session.add(Addressee(document_id=doc.id, role=role, position=pos, text=line.text,
                                  targets=[t.model_dump(exclude_none=True) for t in line.targets]))
    for relation, target_id in links:
        session.add(DocumentLink(from_id=doc.id, to_id=target_id, relation=relation))
    session.flush()
    record(session, Action.DRAFTED if existing is None else Action.REVISED, actor=actor, document_id=doc.id,
           details={"kind": doc.kind.value, "symbol": doc.symbol, "subject": doc.subject})
    return doc
