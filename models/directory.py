"""Directory: agencies (cơ quan), their units (đơn vị), officials (cán bộ) and the positions they hold, signing
authority (thẩm quyền ký), agency groups — each fact effective-dated — and the lookups by code, as of a date.

Every fact holds from ``valid_from`` (None: since before vanban kept it) to ``valid_until`` inclusive (None: still
in force). Nothing is deleted or overwritten: an agency's renaming is a new ``AgencyVersion`` from its date, an
official's move ends one ``Position`` and starts another, a retirement sets ``valid_until``. So a 2024 document is
drafted, signed, numbered and rendered with the directory of 2024, and a 2026 one with that of 2026.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import UniqueConstraint, or_
from sqlmodel import Field, Session, SQLModel, select

from models.document import enum_type
from models.errors import NotFound, RuleViolation
from models.legal_text import AuthorityForm, short_date

# The attributes of an agency that a reorganisation may change from a date (a renaming, a new parent …).
AGENCY_ATTRIBUTES = ("name", "abbreviation", "header_name", "header_as_parent", "place", "parent_id", "head_title",
                     "collective_name", "category")


class Dated(SQLModel):
    """A fact that holds from ``valid_from`` to ``valid_until``, both inclusive; None: open on that side."""

    valid_from: date | None = Field(default=None, description="First day in force; none: before vanban kept it")
    valid_until: date | None = Field(default=None, description="Last day in force; none: still in force")

    def holds_on(self, on: date | None) -> bool:
        """In force on ``on``; ``on`` None means at any time (the fact exists)."""
        if on is None:
            return True
        return (self.valid_from is None or self.valid_from <= on) and (self.valid_until is None or on <= self.valid_until)


def in_force(model: type[Dated], on: date | None):  # noqa: ANN201 - a SQL clause
    """The SQL condition 'in force on ``on``' for a dated table (always true when ``on`` is None)."""
    if on is None:
        return True
    return (or_(model.valid_from.is_(None), model.valid_from <= on)
            & or_(model.valid_until.is_(None), model.valid_until >= on))


def period(fact: Dated) -> str:
    """'from 01/3/2025', 'until 30/6/2025', 'from … until …', or 'always' — as a clerk reads it."""
    parts = []
    if fact.valid_from:
        parts.append(f"from {short_date(fact.valid_from)}")
    if fact.valid_until:
        parts.append(f"until {short_date(fact.valid_until)}")
    return " ".join(parts) or "always"


class Agency(Dated, table=True):
    """A state agency that issues or receives documents (UBND tỉnh, Sở TTTT, UBND huyện …). The attributes on the
    row are those it was founded with (or held when vanban first knew it); later ones are ``AgencyVersion`` rows,
    so read an agency as of a date with ``agency_at``."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, description="Directory code, e.g. 'sttt'")
    name: str = Field(description="Official full name, e.g. 'Sở Thông tin và Truyền thông'")
    abbreviation: str = Field(description="Abbreviation used in ký hiệu, e.g. 'STTTT', 'UBND'")
    header_name: str = Field(description="Ô 2 as printed (upper case); lines separated by '\\n'")
    header_as_parent: str | None = Field(default=None, description="How it is printed as a parent, 'UBND TỈNH VĨNH LONG'")
    place: str = Field(description="Place name of the date line, e.g. 'Vĩnh Long'")
    parent_id: int | None = Field(default=None, foreign_key="agency.id")
    head_title: str = Field(description="Title of its head: 'Chủ tịch', 'Giám đốc' …")
    collective_name: str | None = Field(default=None, description="Collective body for TM. signing: 'Ủy ban nhân dân'")
    category: str = Field(default="agency", description="province-committee, office, department, district-committee …")
    # no FOREIGN KEY: SQLite cannot add one to an existing table; the directory services set it from a code
    successor_id: int | None = Field(default=None, description="Where it went when retired by a merger or split (kế thừa)")
    is_sample: bool = False


class AgencyVersion(SQLModel, table=True):
    """An agency's attributes from a date on (đổi tên, đổi cơ quan chủ quản …), until its next version."""

    __table_args__ = (UniqueConstraint("agency_id", "valid_from"),)
    id: int | None = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    valid_from: date
    name: str
    abbreviation: str
    header_name: str
    header_as_parent: str | None = None
    place: str
    parent_id: int | None = Field(default=None, foreign_key="agency.id")
    head_title: str
    collective_name: str | None = None
    category: str


class AgencyGroup(Dated, table=True):
    """A named set of agencies that a Nơi nhận line can address at once ('các sở, ban, ngành tỉnh')."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True)
    name: str


class AgencyGroupMember(Dated, table=True):
    group_id: int = Field(foreign_key="agencygroup.id", primary_key=True)
    agency_id: int = Field(foreign_key="agency.id", primary_key=True)


class Unit(Dated, table=True):
    """An internal unit of an agency (P.VHXH, TT.PVHCC, VT …)."""

    __table_args__ = (UniqueConstraint("agency_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    code: str = Field(description="Abbreviation as written in Nơi nhận, e.g. 'P.VHXH'")
    name: str


class Official(SQLModel, table=True):
    """A person (placeholder names in the sample data). ``title`` … ``portfolio`` are the position the official
    was first recorded in; what the official holds on a date is a ``Position`` (``position_of``)."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True)
    full_name: str
    title: str = Field(description="Position when first recorded, e.g. 'Phó Chủ tịch'")
    agency_id: int = Field(foreign_key="agency.id", index=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    is_head: bool = False
    is_leader: bool = Field(default=False, description="Part of the agency's leadership (lãnh đạo)")
    portfolio: str | None = Field(default=None, description="Field in charge, e.g. 'VHXH'")
    is_sample: bool = False


class Position(Dated, table=True):
    """A position an official holds in an agency for a time (chức vụ): one at a time, plus any held concurrently
    (kiêm nhiệm) when marked so."""

    id: int | None = Field(default=None, primary_key=True)
    official_id: int = Field(foreign_key="official.id", index=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    title: str = Field(description="e.g. 'Phó Chủ tịch', 'Chuyên viên'")
    is_head: bool = Field(default=False, description="Head of the agency (thủ trưởng)")
    is_leader: bool = Field(default=False, description="Part of the agency's leadership (lãnh đạo)")
    portfolio: str | None = Field(default=None, description="Field in charge, e.g. 'VHXH'")
    concurrent: bool = Field(default=False, description="Held concurrently with the official's main position (kiêm nhiệm)")


class SigningAuthority(Dated, table=True):
    """Who may sign which kinds of document for which agency, and in which form (nd30-format.md §3.7). A TUQ.
    grant is a written delegation (Decree 30 Điều 13 khoản 4): it names the head who delegated and the written
    act, is limited in time, and cannot be passed on."""

    id: int | None = Field(default=None, primary_key=True)
    official_id: int = Field(foreign_key="official.id", index=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    kinds: str = Field(default="*", description="Comma-separated document kinds, or '*' for all")
    form: AuthorityForm = Field(sa_type=enum_type(AuthorityForm))
    delegated_by_id: int | None = Field(default=None, description="TUQ.: the official (head) who delegated; no FOREIGN "
                                                                 "KEY, as for Agency.successor_id")
    delegation: str | None = Field(default=None, description="TUQ.: the written delegation, e.g. 'Giấy ủy quyền số 05/GUQ-UBND'")

    def covers(self, kind: str) -> bool:
        return self.kinds == "*" or kind in self.kinds.split(",")


def entry_kind(session: Session, code: str) -> str:
    """What a code names: 'agency', 'official', 'group' or (written 'agency/UNIT') 'unit'."""
    if "/" in code:
        return "unit"
    for model, kind in ((Agency, "agency"), (Official, "official"), (AgencyGroup, "group")):
        if session.exec(select(model.id).where(model.code == code)).first() is not None:
            return kind
    raise NotFound("code", "directory.unknown", f"no agency, official or group with code '{code}' in the directory")


# --- lookups by code, as of a date ---------------------------------------------------------------------------------

def _not_in_force(field: str, what: str, fact: Dated, on: date, successor: str | None = None) -> RuleViolation:
    if fact.valid_from and on < fact.valid_from:
        return RuleViolation(field, "directory.not-yet", f"{what} is in the directory only from {short_date(fact.valid_from)}, "
                                                         f"not on {short_date(on)}")
    went = f" (its successor: '{successor}')" if successor else ""
    return RuleViolation(field, "directory.retired", f"{what} was retired after {short_date(fact.valid_until)}{went}; "
                                                     f"it is not in the directory on {short_date(on)}")


def agency_at(session: Session, agency: Agency | int, on: date | None) -> Agency:
    """The agency with the attributes it had on ``on`` (its founding ones when ``on`` is None or before any
    renaming). A version is returned as a detached copy: read it, do not change it."""
    row = agency if isinstance(agency, Agency) else session.get(Agency, agency)
    if on is None:
        return row
    version = session.exec(select(AgencyVersion).where(AgencyVersion.agency_id == row.id, AgencyVersion.valid_from <= on)
                           .order_by(AgencyVersion.valid_from.desc())).first()
    if version is None:
        return row
    return Agency(**{**row.model_dump(), **{k: getattr(version, k) for k in AGENCY_ATTRIBUTES}})


def agency_by_code(session: Session, code: str, field: str = "agency", on: date | None = None) -> Agency:
    """The agency ``code`` (as of ``on``: it must be in force then, and its attributes are those of that day)."""
    agency = session.exec(select(Agency).where(Agency.code == code)).first()
    if agency is None:
        raise NotFound(field, "directory.unknown-agency", f"no agency with code '{code}' in the directory")
    if not agency.holds_on(on):
        successor = session.get(Agency, agency.successor_id).code if agency.successor_id else None
        raise _not_in_force(field, f"agency '{code}'", agency, on, successor)
    return agency_at(session, agency, on)


def official_by_code(session: Session, code: str, field: str = "official", on: date | None = None) -> Official:
    """The official ``code``; as of ``on`` the official must hold a position then."""
    official = session.exec(select(Official).where(Official.code == code)).first()
    if official is None:
        raise NotFound(field, "directory.unknown-official", f"no official with code '{code}' in the directory")
    if on is not None and not positions_of(session, official.id, on):
        raise RuleViolation(field, "directory.no-position", f"official '{code}' holds no position on {short_date(on)}")
    return official


def unit_by_ref(session: Session, ref: str, field: str = "unit", on: date | None = None) -> Unit:
    """A unit written 'agency-code/UNIT', e.g. 'vp-ubnd/P.VHXH'."""
    agency_code, _, unit_code = ref.partition("/")
    if not unit_code:
        raise RuleViolation(field, "directory.unit-ref", f"'{ref}' must be written 'agency-code/UNIT'")
    agency = agency_by_code(session, agency_code, field, on)
    unit = session.exec(select(Unit).where(Unit.agency_id == agency.id, Unit.code == unit_code)).first()
    if unit is None:
        raise NotFound(field, "directory.unknown-unit", f"agency '{agency_code}' has no unit '{unit_code}'")
    if not unit.holds_on(on):
        raise _not_in_force(field, f"unit '{ref}'", unit, on)
    return unit


def positions_of(session: Session, official_id: int, on: date | None, agency_id: int | None = None) -> list[Position]:
    """The positions an official holds on ``on`` (all of them, in order, when ``on`` is None); main one first."""
    query = select(Position).where(Position.official_id == official_id, in_force(Position, on))
    if agency_id is not None:
        query = query.where(Position.agency_id == agency_id)
    rows = session.exec(query.order_by(Position.valid_from.is_not(None), Position.valid_from, Position.id)).all()
    if on is None:
        return list(rows)
    return sorted(rows, key=lambda p: p.concurrent)


def position_of(session: Session, official: Official | int, on: date | None, agency_id: int | None = None) -> Position | None:
    """The official's position on ``on`` (in ``agency_id`` if given): the main one before a concurrent one.
    With ``on`` None, the latest recorded."""
    official_id = official if isinstance(official, int) else official.id
    found = positions_of(session, official_id, on, agency_id)
    if not found:
        return None
    return found[-1] if on is None else found[0]


def signer_label(session: Session, official: Official, on: date | None, agency_id: int | None = None) -> str:
    """'Phó Chủ tịch Trần Thị Bình': the title held on ``on``, then the name."""
    pos = position_of(session, official, on, agency_id) or position_of(session, official, on)
    return f"{pos.title if pos else official.title} {official.full_name}"


def members(session: Session, agency_id: int, on: date | None, *, leaders: bool = False, head: bool = False) -> list[tuple[Official, Position]]:
    """The officials holding a position in the agency on ``on`` (only its leadership, or only its head), in order."""
    query = (select(Official, Position).join(Position, Position.official_id == Official.id)
             .where(Position.agency_id == agency_id, in_force(Position, on)))
    if leaders:
        query = query.where(Position.is_leader)
    if head:
        query = query.where(Position.is_head)
    return [(o, p) for o, p in session.exec(query.order_by(Official.id, Position.id))]


def leaders_of(session: Session, agency_id: int, on: date | None) -> list[Official]:
    """The agency's leadership (lãnh đạo) on ``on``, each once."""
    out: list[Official] = []
    for official, _ in members(session, agency_id, on, leaders=True):
        if official not in out:
            out.append(official)
    return out


def head_of(session: Session, agency_id: int, on: date | None) -> Official | None:
    """The agency's head (thủ trưởng) on ``on``."""
    found = members(session, agency_id, on, head=True)
    return found[0][0] if found else None


def children(session: Session, agency_id: int, on: date | None, category: str | None = None) -> list[Agency]:
    """The agencies whose parent (cơ quan chủ quản) is ``agency_id`` on ``on``, as of that day."""
    rows = session.exec(select(Agency).where(in_force(Agency, on)).order_by(Agency.id)).all()
    out = [agency_at(session, a, on) for a in rows]
    return [a for a in out if a.parent_id == agency_id and (category is None or a.category == category)]


def office_of(session: Session, agency_id: int, on: date | None) -> Agency | None:
    """The agency's Office (Văn phòng, category 'office') on ``on``: it reviews drafts and receives reports."""
    found = children(session, agency_id, on, "office")
    return found[0] if found else None


def group_members(session: Session, group: AgencyGroup, on: date | None) -> list[Agency]:
    """The agencies of a group on ``on`` (both the membership and the agency in force), as of that day."""
    rows = session.exec(
        select(Agency).join(AgencyGroupMember, AgencyGroupMember.agency_id == Agency.id)
        .where(AgencyGroupMember.group_id == group.id, in_force(AgencyGroupMember, on), in_force(Agency, on))
        .order_by(Agency.id)).all()
    return [agency_at(session, a, on) for a in rows]


def grants_of(session: Session, official_id: int, agency_id: int | None, on: date | None) -> list[SigningAuthority]:
    """The signing authority an official holds (for one agency, or all) on ``on``."""
    query = select(SigningAuthority).where(SigningAuthority.official_id == official_id, in_force(SigningAuthority, on))
    if agency_id is not None:
        query = query.where(SigningAuthority.agency_id == agency_id)
    return list(session.exec(query.order_by(SigningAuthority.id)))
