"""Where addressee lines (Kính gửi, Điều 3 parties, Nơi nhận) are resolved to concrete recipients.

A line names targets: an agency, its head or leadership, a unit, an official, a group of agencies
(addressed to their heads), the parties of an article ('Như Điều 3'), the Kính gửi addressees
('Như trên') or the archive copy ('Lưu: VT'). A line without targets is unresolved: kept, printed,
and left for the clerk to settle; it never blocks the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from models.directory import (
    Agency, AgencyGroup, Official, Unit, agency_by_code, group_members, leaders_of, official_by_code, signer_label,
    unit_by_ref,
)
from models.document import Addressee, AddresseeRole, Document
from models.errors import NotFound, RuleViolation
from models.legal_text import short_date
from models.schemas import AddresseeIn, Target


@dataclass(frozen=True)
class Recipient:
    """A concrete recipient: ('agency', id) addressed to the agency or its head, ('unit', id), ('official', id)."""

    kind: str
    id: int
    label: str


def resolve_target(
    session: Session, target: Target, field: str, *, issuer: Agency,
    articles: dict[int, Sequence[AddresseeIn]], kinh_gui: Sequence[AddresseeIn], on: date | None,
) -> list[Recipient]:
    """The concrete recipients one target names on ``on`` (the directory of that day); an error naming ``field``
    if it names nothing."""
    t, code = target.type, target.code or ""
    if t in ("agency", "head"):
        agency = agency_by_code(session, code, field, on)
        label = agency.name if t == "agency" else f"{agency.head_title} {agency.name}"
        return [Recipient("agency", agency.id, label)]
    if t == "official":
        official = official_by_code(session, code, field, on)
        return [Recipient("official", official.id, signer_label(session, official, on))]
    if t == "unit":
        unit = unit_by_ref(session, code, field, on)
        return [Recipient("unit", unit.id, unit.name)]
    if t == "leaders":
        agency = agency_by_code(session, code, field, on)
        leaders = leaders_of(session, agency.id, on)
        if not leaders:
            raise RuleViolation(field, "recipients.leaders-empty", f"agency '{code}' has no leaders in the directory")
        return [Recipient("official", o.id, signer_label(session, o, on, agency.id)) for o in leaders]
    if t == "group":
        group = session.exec(select(AgencyGroup).where(AgencyGroup.code == code)).first()
        if group is None:
            raise NotFound(field, "directory.unknown-group", f"no agency group with code '{code}'")
        found = group_members(session, group, on) if group.holds_on(on) else []
        if not found:
            raise RuleViolation(field, "recipients.group-empty", f"group '{code}' ({group.name}) resolves to no agency"
                                + (f" on {short_date(on)}" if on else ""))
        return [Recipient("agency", a.id, f"{a.head_title} {a.name}") for a in found]
    if t == "article":
        number = int(code) if code.isdigit() else -1
        if number not in articles:
            raise RuleViolation(field, "recipients.article", f"the document has no article {code} naming parties")
        return _resolve_lines(session, articles[number], f"{field}→Điều {number}", issuer=issuer, articles={}, kinh_gui=(), on=on)
    if t == "above":
        if not kinh_gui:
            raise RuleViolation(field, "recipients.above", "'Như trên' needs Kính gửi addressees above")
        return _resolve_lines(session, kinh_gui, f"{field}→Kính gửi", issuer=issuer, articles={}, kinh_gui=(), on=on)
    if t == "archive":
        return []  # the archive copy is stored, not sent
    raise RuleViolation(field, "recipients.target", f"unknown target type '{t}'")  # pragma: no cover - Literal


def _resolve_lines(
    session: Session, lines: Sequence[AddresseeIn], field: str, *, issuer: Agency,
    articles: dict[int, Sequence[AddresseeIn]], kinh_gui: Sequence[AddresseeIn], on: date | None,
) -> list[Recipient]:
    out: list[Recipient] = []
    for i, line in enumerate(lines):
        for target in line.targets:
            for r in resolve_target(session, target, f"{field}[{i}]", issuer=issuer, articles=articles, kinh_gui=kinh_gui, on=on):
                if r not in out:
                    out.append(r)
    return out


def resolve_lines(
    session: Session, lines: Sequence[AddresseeIn], field: str, *, issuer: Agency,
    articles: dict[int, Sequence[AddresseeIn]] | None = None, kinh_gui: Sequence[AddresseeIn] = (), on: date | None = None,
) -> list[Recipient]:
    """Every concrete recipient named by ``lines`` on ``on``, each once, in order; raises on a line naming nothing
    real then."""
    return _resolve_lines(session, lines, field, issuer=issuer, articles=articles or {}, kinh_gui=kinh_gui, on=on)


def check_recipients(recipients: Sequence[AddresseeIn]) -> None:
    """Nơi nhận ends with the archive line 'Lưu: VT…' (nd30-format.md §3.9), and has it only there."""
    if not recipients:
        raise RuleViolation("recipients", "recipients.required", "Nơi nhận is empty; it ends at least with 'Lưu: VT'")
    last = recipients[-1]
    if not (last.text.startswith("Lưu: VT") and any(t.type == "archive" for t in last.targets)):
        raise RuleViolation(
            f"recipients[{len(recipients) - 1}]", "recipients.archive-last",
            f"the last line of Nơi nhận must be the archive copy 'Lưu: VT, …' with target 'archive', got '{last.text}'",
        )
    for i, line in enumerate(recipients[:-1]):
        if any(t.type == "archive" for t in line.targets):
            raise RuleViolation(f"recipients[{i}]", "recipients.archive-last", "only the last line is the archive copy")


@dataclass(frozen=True)
class ResolvedLine:
    """One Nơi nhận line and who it reaches: ``recipients`` (first listed wins: a recipient named again
    is in ``repeated``), or ``archive`` (Lưu: stored, not sent), or ``problem`` (unresolved, for the clerk)."""

    position: int
    text: str
    recipients: tuple[Recipient, ...] = ()
    repeated: tuple[Recipient, ...] = ()
    archive: bool = False
    problem: str | None = None
    vague: tuple[str, ...] = ()  # lines it refers to ('Như Điều 3') that name nobody concrete: for the clerk


def resolve_distribution(session: Session, document: Document, on: date | None = None) -> list[ResolvedLine]:
    """Every Nơi nhận line of an issued document, resolved on its own with the directory of ``on`` (the send
    date): a line that names nothing concrete, or names what the directory no longer has, is unresolved and never
    blocks the others."""
    issuer = session.get(Agency, document.issuer_id)
    lines = addressees(session, document, AddresseeRole.RECIPIENT)
    executors = addressees(session, document, AddresseeRole.EXECUTOR)
    articles = {int(t.code): executors for line in lines for t in line.targets if t.type == "article" and (t.code or "").isdigit()}
    kinh_gui = addressees(session, document, AddresseeRole.KINH_GUI)
    seen: set[Recipient] = set()
    out: list[ResolvedLine] = []
    for i, line in enumerate(lines):
        if any(t.type == "archive" for t in line.targets):
            out.append(ResolvedLine(i, line.text, archive=True))
            continue
        if not line.targets:
            out.append(ResolvedLine(i, line.text, problem="the line names no agency, unit or official of the directory"))
            continue
        try:
            found = _resolve_lines(session, [line], f"recipients[{i}]", issuer=issuer, articles=articles, kinh_gui=kinh_gui, on=on)
        except RuleViolation as exc:
            out.append(ResolvedLine(i, line.text, problem=exc.message))
            continue
        fresh = tuple(r for r in found if r not in seen)
        seen.update(found)
        referred = [x for t in line.targets if t.type in ("article", "above")
                    for x in (articles.get(int(t.code), []) if t.type == "article" else kinh_gui)]
        out.append(ResolvedLine(i, line.text, recipients=fresh, repeated=tuple(r for r in found if r not in fresh),
                                vague=tuple(x.text for x in referred if not x.targets)))
    return out


def recipient_code(session: Session, recipient: Recipient) -> str:
    """The directory code a clerk types for a recipient: 'sttt', 'cvp', 'vp-ubnd/P.VHXH'."""
    if recipient.kind == "agency":
        return session.get(Agency, recipient.id).code
    if recipient.kind == "official":
        return session.get(Official, recipient.id).code
    unit = session.get(Unit, recipient.id)
    return f"{session.get(Agency, unit.agency_id).code}/{unit.code}"


def owner_of(session: Session, code: str, field: str = "code") -> tuple[str, int]:
    """The inverse of ``recipient_code``: ('agency', id), ('official', id) or ('unit', id) for a code."""
    if "/" in code:
        return "unit", unit_by_ref(session, code, field).id
    agency = session.exec(select(Agency).where(Agency.code == code)).first()
    if agency is not None:
        return "agency", agency.id
    official = session.exec(select(Official).where(Official.code == code)).first()
    if official is not None:
        return "official", official.id
    raise NotFound(field, "directory.unknown-code", f"'{code}' is no agency, official or unit (agency/UNIT) of the directory")


def addressees(session: Session, document: Document, role: AddresseeRole) -> list[AddresseeIn]:
    """A stored document's lines of one role (Kính gửi, Điều 3 parties, Nơi nhận), in order."""
    rows = session.exec(
        select(Addressee).where(Addressee.document_id == document.id, Addressee.role == role).order_by(Addressee.position)
    ).all()
    return [AddresseeIn(text=r.text, targets=r.targets) for r in rows]
