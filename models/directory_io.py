"""The directory as one YAML file: import (the sample of 2024 is such a file) and export, which round trip.

Sections, in the order they are read: ``agencies`` (a parent before its children; units, channels and later
versions inside), ``groups``, ``officials`` (a position inline, or a list ``positions``), ``signing_authority``,
``registers``. Every fact may carry ``valid_from`` / ``valid_until`` (DD/MM/YYYY or ISO). An import adds entries:
a code already in the directory is refused, and nothing is written unless every entry passes.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, select

from models.channels import Channel
from models.directory import (
    Agency, AgencyGroup, AgencyGroupMember, AgencyVersion, Official, Position, SigningAuthority, Unit, agency_by_code,
)
from models.directory_admin import _mapping, add_agency, add_group, add_official, grant
from models.errors import RuleViolation
from models.register import OutgoingRegister, add_register

SECTIONS = ("agencies", "groups", "officials", "signing_authority", "registers")


def import_directory(session: Session, data: Any, *, is_sample: bool = False, default_from: date | None = None) -> dict[str, int]:
    """Add every entry of ``data`` (the file's mapping); counts by section. Not audited here: the caller records it."""
    data = _mapping(data, "file", set(SECTIONS))
    counts: dict[str, int] = {}
    for section in SECTIONS:
        items = data.get(section) or []
        if not isinstance(items, list):
            raise RuleViolation(section, "directory.shape", f"'{section}' must be a list")
        for i, raw in enumerate(items):
            field = f"{section}[{i}]"
            if section == "agencies":
                add_agency(session, raw, field, default_from=default_from, is_sample=is_sample)
            elif section == "groups":
                add_group(session, raw, field, default_from=default_from)
            elif section == "officials":
                add_official(session, raw, field, default_from=default_from, is_sample=is_sample)
            elif section == "signing_authority":
                grant(session, raw, field, default_from=default_from)
            else:
                _register(session, raw, field, is_sample)
        if section == "agencies":  # a successor may come later in the file than the agency it succeeds
            for i, raw in enumerate(items):
                if raw.get("successor"):
                    agency = session.exec(select(Agency).where(Agency.code == raw["code"])).one()
                    agency.successor_id = agency_by_code(session, raw["successor"], f"agencies[{i}].successor").id
                    session.add(agency)
        counts[section] = len(items)
    return counts


def _register(session: Session, raw: Any, field: str, is_sample: bool) -> OutgoingRegister:
    raw = _mapping(raw, field, {"agency", "year", "series", "kinds", "name", "opening_number"}, ("agency", "year"))
    agency = agency_by_code(session, raw["agency"], f"{field}.agency")
    try:
        return add_register(session, agency.id, int(raw["year"]), series=raw.get("series", "chung"),
                            kinds=raw.get("kinds", "*"), opening_number=int(raw.get("opening_number", 0)),
                            is_sample=is_sample, **({"name": raw["name"]} if raw.get("name") else {}))
    except RuleViolation as exc:
        raise RuleViolation(f"{field}.{exc.field}", exc.rule, exc.message) from None


def _dated(row: Any) -> dict[str, Any]:
    return {k: getattr(row, k).isoformat() for k in ("valid_from", "valid_until") if getattr(row, k) is not None}


def _channels(session: Session, kind: str, owner_id: int) -> list[Any]:
    rows = session.exec(select(Channel).where(Channel.owner_kind == kind, Channel.owner_id == owner_id).order_by(Channel.id))
    return [{"url": c.url, **_dated(c)} if _dated(c) else c.url for c in rows]


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v not in (None, [], False)}


def export_directory(session: Session) -> dict[str, Any]:
    """Everything the directory holds, dated, in the import format (importing it into an empty database gives
    the same file back)."""
    codes = {a.id: a.code for a in session.exec(select(Agency))}
    agencies = []
    for a in session.exec(select(Agency).order_by(Agency.id)):
        versions = [_clean({"valid_from": v.valid_from.isoformat(), "name": v.name, "abbreviation": v.abbreviation,
                            "header_name": v.header_name, "header_as_parent": v.header_as_parent, "place": v.place,
                            "parent": codes.get(v.parent_id), "head_title": v.head_title,
                            "collective_name": v.collective_name, "category": v.category})
                    for v in session.exec(select(AgencyVersion).where(AgencyVersion.agency_id == a.id)
                                          .order_by(AgencyVersion.valid_from))]
        units = [_clean({"code": u.code, "name": u.name, **_dated(u), "channels": _channels(session, "unit", u.id)})
                 for u in session.exec(select(Unit).where(Unit.agency_id == a.id).order_by(Unit.id))]
        agencies.append(_clean({
            "code": a.code, "name": a.name, "abbreviation": a.abbreviation, "header_name": a.header_name,
            "header_as_parent": a.header_as_parent, "place": a.place, "parent": codes.get(a.parent_id),
            "head_title": a.head_title, "collective_name": a.collective_name, "category": a.category, **_dated(a),
            "successor": codes.get(a.successor_id), "is_sample": a.is_sample, "versions": versions, "units": units,
            "channels": _channels(session, "agency", a.id)}))
    groups = []
    for g in session.exec(select(AgencyGroup).order_by(AgencyGroup.id)):
        members = [{"agency": codes[m.agency_id], **_dated(m)} for m in session.exec(
            select(AgencyGroupMember).where(AgencyGroupMember.group_id == g.id).order_by(AgencyGroupMember.agency_id))]
        groups.append(_clean({"code": g.code, "name": g.name, **_dated(g), "members": members}))
    units = {u.id: u.code for u in session.exec(select(Unit))}
    officials = []
    for o in session.exec(select(Official).order_by(Official.id)):
        positions = [_clean({"agency": codes[p.agency_id], "unit": units.get(p.unit_id), "title": p.title,
                             "is_head": p.is_head, "is_leader": p.is_leader, "portfolio": p.portfolio,
                             "concurrent": p.concurrent, **_dated(p)})
                     for p in session.exec(select(Position).where(Position.official_id == o.id).order_by(Position.id))]
        officials.append(_clean({"code": o.code, "full_name": o.full_name, "is_sample": o.is_sample,
                                 "positions": positions, "channels": _channels(session, "official", o.id)}))
    people = {o.id: o.code for o in session.exec(select(Official))}
    authority = [_clean({"official": people[g.official_id], "agency": codes[g.agency_id],
                         "kinds": g.kinds if g.kinds != "*" else None, "form": g.form.value, **_dated(g),
                         "delegated_by": people.get(g.delegated_by_id), "delegation": g.delegation})
                 for g in session.exec(select(SigningAuthority).order_by(SigningAuthority.id))]
    registers = [_clean({"agency": codes[r.agency_id], "year": r.year, "series": r.series,
                         "kinds": r.kinds if r.kinds != "*" else None, "opening_number": r.opening_number or None})
                 for r in session.exec(select(OutgoingRegister).where(OutgoingRegister.opened_from.is_(None))
                                       .order_by(OutgoingRegister.id))]
    return {"agencies": agencies, "groups": groups, "officials": officials, "signing_authority": authority,
            "registers": registers}
