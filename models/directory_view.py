"""What the directory says, as a clerk reads it: the listings of agencies and officials as of a date, and
everything about one entry (``vanban directory show CODE``) — each fact with its period, entries named by code.

Read models only: plain dicts (JSON-ready: dates ISO, periods as 'from 01/3/2025 until …'), nothing written.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, select

from models.channels import Channel, redact
from models.directory import (
    AGENCY_ATTRIBUTES, Agency, AgencyGroup, AgencyGroupMember, AgencyVersion, Dated, Official, Position,
    SigningAuthority, Unit, agency_at, entry_kind, in_force, period, positions_of, unit_by_ref,
)
from models.register import list_registers


def dated(fact: Dated, on: date) -> dict[str, Any]:
    """A fact's period: its two edges (ISO), as a clerk reads it, and whether it holds on ``on``."""
    return {"valid_from": fact.valid_from.isoformat() if fact.valid_from else None,
            "valid_until": fact.valid_until.isoformat() if fact.valid_until else None,
            "period": period(fact), "in_force": fact.holds_on(on)}


class _Codes:
    """Row ids → codes, read once per description (messages and output never show row ids)."""

    def __init__(self, session: Session) -> None:
        self.agencies = {a.id: a.code for a in session.exec(select(Agency))}
        self.officials = {o.id: o.code for o in session.exec(select(Official))}
        self.units = {u.id: u.code for u in session.exec(select(Unit))}


def _attributes(agency: Agency, codes: _Codes) -> dict[str, Any]:
    out = {k: getattr(agency, k) for k in AGENCY_ATTRIBUTES if k != "parent_id"}
    out["parent"] = codes.agencies.get(agency.parent_id)
    return out


def _channels(session: Session, kind: str, owner_id: int, on: date) -> list[dict[str, Any]]:
    rows = session.exec(select(Channel).where(Channel.owner_kind == kind, Channel.owner_id == owner_id).order_by(Channel.id))
    return [{"url": redact(c.url), **dated(c, on)} for c in rows]


def _position(p: Position, codes: _Codes, on: date) -> dict[str, Any]:
    return {"agency": codes.agencies[p.agency_id], "unit": codes.units.get(p.unit_id), "title": p.title,
            "is_head": p.is_head, "is_leader": p.is_leader, "portfolio": p.portfolio, "concurrent": p.concurrent,
            **dated(p, on)}


def _grant(g: SigningAuthority, codes: _Codes, on: date) -> dict[str, Any]:
    return {"official": codes.officials[g.official_id], "agency": codes.agencies[g.agency_id], "form": g.form.value,
            "kinds": g.kinds, "delegated_by": codes.officials.get(g.delegated_by_id), "delegation": g.delegation,
            **dated(g, on)}


def agency_listing(session: Session, on: date, *, everything: bool = False) -> list[dict[str, Any]]:
    """The agencies in force on ``on`` (or all of them), with the attributes of that day and their period."""
    codes = _Codes(session)
    query = select(Agency).order_by(Agency.id)
    if not everything:
        query = query.where(in_force(Agency, on))
    return [{"code": a.code, **_attributes(agency_at(session, a, on), codes), **dated(a, on)} for a in session.exec(query)]


def official_listing(session: Session, on: date, *, everything: bool = False) -> list[dict[str, Any]]:
    """The officials holding a position on ``on`` (or all of them, with their latest position), position first."""
    codes = _Codes(session)
    out = []
    for o in session.exec(select(Official).order_by(Official.id)):
        held = positions_of(session, o.id, on) or (positions_of(session, o.id, None)[-1:] if everything else [])
        if held:
            out.append({"code": o.code, "full_name": o.full_name, **_position(held[0], codes, on)})
    return out


def describe_entry(session: Session, code: str, on: date) -> dict[str, Any]:
    """Everything the directory holds about the entry ``code``, as of ``on``."""
    kind = entry_kind(session, code)
    codes = _Codes(session)
    describe = {"agency": _describe_agency, "official": _describe_official, "group": _describe_group,
                "unit": _describe_unit}[kind]
    return {"kind": kind, "code": code, "on": on.isoformat(), **describe(session, code, on, codes)}


def _describe_agency(session: Session, code: str, on: date, codes: _Codes) -> dict[str, Any]:
    agency = session.exec(select(Agency).where(Agency.code == code)).one()
    versions = [{"valid_from": None, "from": "founding", **_attributes(agency, codes)}]
    versions += [{"valid_from": v.valid_from.isoformat(), "from": period(Dated(valid_from=v.valid_from)),
                  **{k: getattr(v, k) for k in AGENCY_ATTRIBUTES if k != "parent_id"},
                  "parent": codes.agencies.get(v.parent_id)}
                 for v in session.exec(select(AgencyVersion).where(AgencyVersion.agency_id == agency.id)
                                       .order_by(AgencyVersion.valid_from))]
    officials = [{"official": o.code, "full_name": o.full_name, **_position(p, codes, on)}
                 for o, p in session.exec(select(Official, Position).join(Position, Position.official_id == Official.id)
                                          .where(Position.agency_id == agency.id, in_force(Position, on))
                                          .order_by(Official.id, Position.id))]
    groups = [{"group": g.code, "name": g.name, **dated(m, on)}
              for g, m in session.exec(select(AgencyGroup, AgencyGroupMember)
                                       .join(AgencyGroupMember, AgencyGroupMember.group_id == AgencyGroup.id)
                                       .where(AgencyGroupMember.agency_id == agency.id).order_by(AgencyGroup.id))]
    return {
        **dated(agency, on),
        **_attributes(agency_at(session, agency, on), codes),
        "successor": codes.agencies.get(agency.successor_id),
        "predecessors": [a.code for a in session.exec(select(Agency).where(Agency.successor_id == agency.id)
                                                      .order_by(Agency.id))],
        "versions": versions,
        "units": [{"code": u.code, "name": u.name, **dated(u, on)}
                  for u in session.exec(select(Unit).where(Unit.agency_id == agency.id).order_by(Unit.id))],
        "officials": officials,
        "groups": groups,
        "channels": _channels(session, "agency", agency.id, on),
        "signing_authority": [_grant(g, codes, on) for g in session.exec(
            select(SigningAuthority).where(SigningAuthority.agency_id == agency.id).order_by(SigningAuthority.id))],
        "registers": [r.as_dict() for r in list_registers(session, agency.id)],
    }


def _describe_official(session: Session, code: str, on: date, codes: _Codes) -> dict[str, Any]:
    official = session.exec(select(Official).where(Official.code == code)).one()
    return {
        "full_name": official.full_name,
        "in_force": bool(positions_of(session, official.id, on)),
        "positions": [_position(p, codes, on) for p in positions_of(session, official.id, None)],
        "signing_authority": [_grant(g, codes, on) for g in session.exec(
            select(SigningAuthority).where(SigningAuthority.official_id == official.id).order_by(SigningAuthority.id))],
        "channels": _channels(session, "official", official.id, on),
    }


def _describe_group(session: Session, code: str, on: date, codes: _Codes) -> dict[str, Any]:
    group = session.exec(select(AgencyGroup).where(AgencyGroup.code == code)).one()
    members = [{"agency": codes.agencies[m.agency_id], **dated(m, on)}
               for m in session.exec(select(AgencyGroupMember).where(AgencyGroupMember.group_id == group.id)
                                     .order_by(AgencyGroupMember.agency_id))]
    return {"name": group.name, **dated(group, on), "members": members}


def _describe_unit(session: Session, code: str, on: date, codes: _Codes) -> dict[str, Any]:
    unit = unit_by_ref(session, code, "code")  # any date: a retired unit is described too
    officials = [{"official": o.code, "full_name": o.full_name, **_position(p, codes, on)}
                 for o, p in session.exec(select(Official, Position).join(Position, Position.official_id == Official.id)
                                          .where(Position.unit_id == unit.id, in_force(Position, on))
                                          .order_by(Official.id, Position.id))]
    return {"agency": codes.agencies[unit.agency_id], "name": unit.name, **dated(unit, on), "officials": officials,
            "channels": _channels(session, "unit", unit.id, on)}
