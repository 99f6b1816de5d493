"""Where the directory is changed: add, change and retire agencies, units, officials and their positions, signing
authority (TL. lists, written TUQ. delegations), groups and channels — each fact dated, each rule checked before
anything is written, entries named by their codes.

These functions write in the caller's transaction and do not audit: the caller records one entry for what it
did as a whole (one CLI change, one import, one reorganisation), so a step and its audit entry commit together.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, select

from models.channels import Channel, add_channel
from models.directory import (
    AGENCY_ATTRIBUTES, Agency, AgencyGroup, AgencyGroupMember, AgencyVersion, Dated, Official, Position,
    SigningAuthority, Unit, agency_at, agency_by_code, entry_kind, in_force, official_by_code, period, positions_of,
    unit_by_ref,
)
from models.document import DocumentKind
from models.errors import RuleViolation
from models.legal_text import ABBREVIATION_MAX, CODE_MAX, NAME_MAX, AuthorityForm, clean_text, parse_date, short_date

KINDS = {k.value for k in DocumentKind}
# the authority a head holds of his own (Decree 30 Điều 13 khoản 1-2): only that can be delegated (TUQ.)
HEAD_FORMS = (AuthorityForm.HEAD, AuthorityForm.TM, AuthorityForm.Q)
AGENCY_FIELDS = {"code", "name", "abbreviation", "header_name", "header_as_parent", "place", "parent", "head_title",
                 "collective_name", "category", "valid_from", "valid_until", "successor", "versions", "channels",
                 "units", "is_sample"}
POSITION_FIELDS = {"agency", "unit", "title", "is_head", "is_leader", "portfolio", "concurrent", "valid_from",
                   "valid_until"}


def day_before(d: date) -> date:
    return d - timedelta(days=1)


def _mapping(raw: Any, field: str, allowed: set[str], required: tuple[str, ...] = ()) -> dict[str, Any]:
    """A YAML mapping with known keys only (a typo is named, not ignored) and its required keys present."""
    if not isinstance(raw, dict):
        raise RuleViolation(field, "directory.shape", "expected a mapping of fields")
    unknown = sorted(str(k) for k in raw if k not in allowed)
    if unknown:
        raise RuleViolation(f"{field}.{unknown[0]}", "directory.unknown-field",
                            f"'{unknown[0]}' is not a field here; use {', '.join(sorted(allowed))}")
    for key in required:
        if raw.get(key) in (None, ""):
            raise RuleViolation(f"{field}.{key}", "directory.required", f"'{key}' is required")
    return raw


def _text(raw: dict[str, Any], key: str, field: str, *, multiline: bool = False, max_length: int = NAME_MAX) -> str | None:
    value = raw.get(key)
    return None if value is None else clean_text(str(value), f"{field}.{key}", multiline=multiline, max_length=max_length)


def _date(raw: dict[str, Any], key: str, field: str, default: date | None = None) -> date | None:
    value = raw.get(key)
    return default if value in (None, "") else parse_date(value, f"{field}.{key}")


def _dates(raw: dict[str, Any], field: str, default_from: date | None = None) -> tuple[date | None, date | None]:
    start, end = _date(raw, "valid_from", field, default_from), _date(raw, "valid_until", field)
    if start and end and end < start:
        raise RuleViolation(f"{field}.valid_until", "directory.dates",
                            f"{short_date(end)} is before {short_date(start)}, the first day in force")
    return start, end


def _overlap(a: Dated, start: date | None, end: date | None) -> bool:
    return (a.valid_from is None or end is None or a.valid_from <= end) and (a.valid_until is None or start is None or start <= a.valid_until)


def _code(raw: dict[str, Any], field: str) -> str:
    code = clean_text(str(raw["code"]), f"{field}.code", max_length=CODE_MAX)
    if not code or any(c.isspace() for c in code) or "/" in code:
        raise RuleViolation(f"{field}.code", "directory.code", f"'{code}' is not a code: no spaces and no '/'")
    return code


def _check_unique_code(session: Session, code: str, field: str) -> None:
    """Agencies, officials and groups share one space of codes (a Nơi nhận target or --as names any of them)."""
    for model, what in ((Agency, "an agency"), (Official, "an official"), (AgencyGroup, "a group")):
        if session.exec(select(model).where(model.code == code)).first() is not None:
            raise RuleViolation(f"{field}.code", "directory.duplicate", f"'{code}' is {what} of the directory already")


# --- agencies and units ----------------------------------------------------------------------------------------

def _agency_attributes(session: Session, raw: dict[str, Any], field: str, base: dict[str, Any] | None = None) -> dict[str, Any]:
    out = dict(base or {})
    for key in ("name", "abbreviation", "header_name", "header_as_parent", "place", "head_title", "collective_name",
                "category"):
        if key in raw:
            out[key] = _text(raw, key, field, multiline=key == "header_name",
                             max_length=ABBREVIATION_MAX if key == "abbreviation" else NAME_MAX)
    if "parent" in raw:
        out["parent_id"] = agency_by_code(session, raw["parent"], f"{field}.parent").id if raw["parent"] else None
    for key in ("name", "abbreviation", "header_name", "place", "head_title"):
        if not out.get(key):
            raise RuleViolation(f"{field}.{key}", "directory.required", f"'{key}' is required")
    out.setdefault("category", "agency")
    return out


def add_agency(session: Session, raw: dict[str, Any], field: str = "agency", *, default_from: date | None = None,
               is_sample: bool = False) -> Agency:
    """A new agency with its units, channels and later versions (renamings)."""
    raw = _mapping(raw, field, AGENCY_FIELDS, ("code",))
    code = _code(raw, field)
    _check_unique_code(session, code, field)
    start, end = _dates(raw, field, default_from)
    agency = Agency(code=code, valid_from=start, valid_until=end, is_sample=bool(raw.get("is_sample", is_sample)),
                    **_agency_attributes(session, raw, field))
    session.add(agency)
    session.flush()
    for i, version in enumerate(raw.get("versions") or []):
        change_agency(session, code, version, f"{field}.versions[{i}]")
    for i, unit in enumerate(raw.get("units") or []):
        add_unit(session, code, unit, f"{field}.units[{i}]", default_from=start)
    add_channels(session, "agency", agency.id, raw.get("channels") or [], f"{field}.channels", default_from=start)
    return agency


def change_agency(session: Session, code: str, raw: dict[str, Any], field: str = "agency") -> AgencyVersion:
    """A change of an agency's attributes from a date (đổi tên …): a new version; what held before stays."""
    raw = _mapping(raw, field, {"valid_from", *AGENCY_ATTRIBUTES, "parent"} - {"parent_id"}, ("valid_from",))
    agency = agency_by_code(session, code, field)
    start = _date(raw, "valid_from", field)
    if (agency.valid_from and start <= agency.valid_from) or not agency.holds_on(start):
        raise RuleViolation(f"{field}.valid_from", "directory.dates",
                            f"agency '{code}' is in force {period(agency)}: a change takes effect inside that time")
    if session.exec(select(AgencyVersion).where(AgencyVersion.agency_id == agency.id,
                                                AgencyVersion.valid_from == start)).first():
        raise RuleViolation(f"{field}.valid_from", "directory.duplicate",
                            f"agency '{code}' has a change from {short_date(start)} already")
    before = agency_at(session, agency, day_before(start))
    attributes = _agency_attributes(session, raw, field, {k: getattr(before, k) for k in AGENCY_ATTRIBUTES})
    version = AgencyVersion(agency_id=agency.id, valid_from=start, **attributes)
    session.add(version)
    session.flush()
    return version


def add_unit(session: Session, agency_code: str, raw: dict[str, Any], field: str = "unit", *,
             default_from: date | None = None) -> Unit:
    raw = _mapping(raw, field, {"code", "name", "valid_from", "valid_until", "channels"}, ("code", "name"))
    agency = agency_by_code(session, agency_code, field)
    code = clean_text(str(raw["code"]), f"{field}.code", max_length=CODE_MAX)
    if session.exec(select(Unit).where(Unit.agency_id == agency.id, Unit.code == code)).first():
        raise RuleViolation(f"{field}.code", "directory.duplicate", f"agency '{agency_code}' has a unit '{code}' already")
    start, end = _dates(raw, field, default_from or agency.valid_from)  # no earlier than its agency
    unit = Unit(agency_id=agency.id, code=code, name=_text(raw, "name", field), valid_from=start, valid_until=end)
    session.add(unit)
    session.flush()
    add_channels(session, "unit", unit.id, raw.get("channels") or [], f"{field}.channels", default_from=start)
    return unit


def add_channels(session: Session, owner_kind: str, owner_id: int, raw: list[Any], field: str, *,
                 default_from: date | None = None) -> list[Channel]:
    """Channels written as a URL, or as {url, valid_from, valid_until}."""
    out = [add_dated_channel(session, owner_kind, owner_id, item, f"{field}[{j}]", default_from=default_from)
           for j, item in enumerate(raw)]
    session.flush()
    return out


def add_dated_channel(session: Session, owner_kind: str, owner_id: int, item: Any, field: str, *,
                      default_from: date | None = None) -> Channel:
    """One channel (a URL, or {url, valid_from, valid_until}); by default from the day its owner (agency or unit)
    starts, so that what is stored is what an export writes back. One already recorded with other dates is refused:
    its period changes by ending it, not by adding it again."""
    owner = session.get(Agency if owner_kind == "agency" else Unit, owner_id) if owner_kind in ("agency", "unit") else None
    item = item if isinstance(item, dict) else {"url": item}
    item = _mapping(item, field, {"url", "valid_from", "valid_until"}, ("url",))
    start, end = _dates(item, field, default_from or (owner.valid_from if owner else None))
    url = clean_text(str(item["url"]), field)
    known = session.exec(select(Channel).where(Channel.owner_kind == owner_kind, Channel.owner_id == owner_id,
                                               Channel.url == url)).first()
    if known is not None:
        if (known.valid_from, known.valid_until) != (start, end):
            raise RuleViolation(field, "directory.duplicate", f"the channel {url} is recorded already, {period(known)}")
        return known
    channel = add_channel(session, owner_kind, owner_id, url, field)
    channel.valid_from, channel.valid_until = start, end
    session.add(channel)
    return channel


# --- officials and positions -----------------------------------------------------------------------------------

def add_official(session: Session, raw: dict[str, Any], field: str = "official", *, default_from: date | None = None,
                 is_sample: bool = False) -> Official:
    """A new official with a position: given inline (agency, title …) or as a list ``positions``."""
    allowed = {"code", "full_name", "positions", "channels", "is_sample"} | POSITION_FIELDS
    raw = _mapping(raw, field, allowed, ("code", "full_name"))
    code = _code(raw, field)
    _check_unique_code(session, code, field)
    positions = raw.get("positions")
    if positions is None:
        positions = [{k: raw[k] for k in POSITION_FIELDS if k in raw}]
        where = [field]
    else:
        where = [f"{field}.positions[{i}]" for i in range(len(positions))]
    if not positions:
        raise RuleViolation(f"{field}.positions", "directory.required", "an official holds at least one position")
    first = _mapping(positions[0], where[0], POSITION_FIELDS, ("agency", "title"))
    agency = agency_by_code(session, first["agency"], f"{where[0]}.agency")
    official = Official(code=code, full_name=_text(raw, "full_name", field), title=_text(first, "title", where[0]),
                        agency_id=agency.id, is_head=bool(first.get("is_head")), is_leader=bool(first.get("is_leader")),
                        portfolio=_text(first, "portfolio", where[0]), is_sample=bool(raw.get("is_sample", is_sample)))
    session.add(official)
    session.flush()
    for position, place in zip(positions, where, strict=True):
        appoint(session, code, position, place, default_from=default_from)
    official.unit_id = positions_of(session, official.id, None)[0].unit_id
    session.add(official)
    start = _date(first, "valid_from", where[0], default_from)
    add_channels(session, "official", official.id, raw.get("channels") or [], f"{field}.channels", default_from=start)
    return official


def appoint(session: Session, official_code: str, raw: dict[str, Any], field: str = "position", *,
            default_from: date | None = None) -> Position:
    """A position from a date (bổ nhiệm, điều động). One main position at a time: another overlapping one must be
    concurrent (kiêm nhiệm); an agency has one head at a time."""
    raw = _mapping(raw, field, POSITION_FIELDS, ("agency", "title"))
    official = official_by_code(session, official_code, field)
    agency = agency_by_code(session, raw["agency"], f"{field}.agency")
    start, end = _dates(raw, field, default_from or agency.valid_from)  # no earlier than the agency
    for edge in (start, end):
        if edge is not None and not agency.holds_on(edge):
            raise RuleViolation(f"{field}.agency", "directory.dates",
                                f"agency '{agency.code}' is in force {period(agency)}, not on {short_date(edge)}")
    unit = unit_by_ref(session, f"{agency.code}/{raw['unit']}", f"{field}.unit") if raw.get("unit") else None
    position = Position(official_id=official.id, agency_id=agency.id, unit_id=unit.id if unit else None,
                        title=_text(raw, "title", field), is_head=bool(raw.get("is_head")),
                        is_leader=bool(raw.get("is_leader") or raw.get("is_head")), portfolio=_text(raw, "portfolio", field),
                        concurrent=bool(raw.get("concurrent")), valid_from=start, valid_until=end)
    for other in positions_of(session, official.id, None):
        if _overlap(other, start, end) and not (position.concurrent or other.concurrent):
            held = agency_at(session, other.agency_id, None).code
            raise RuleViolation(field, "directory.position-conflict",
                                f"official '{official_code}' holds '{other.title}' at '{held}' {period(other)} at the same "
                                f"time: end it first (valid_until), or mark one concurrent (kiêm nhiệm)")
    if position.is_head:
        heads = session.exec(select(Position).where(Position.agency_id == agency.id, Position.is_head,
                                                    Position.official_id != official.id)).all()
        for other in heads:
            if _overlap(other, start, end):
                who = session.get(Official, other.official_id).code
                raise RuleViolation(f"{field}.is_head", "directory.position-conflict",
                                    f"agency '{agency.code}' is headed by '{who}' {period(other)} at the same time")
    session.add(position)
    session.flush()
    return position


def end_positions(session: Session, official_code: str, last_day: date, field: str = "official",
                  agency_id: int | None = None) -> list[Position]:
    """End the official's positions open on ``last_day`` (in one agency, or all) after that day."""
    official = official_by_code(session, official_code, field)
    ended = []
    for p in positions_of(session, official.id, None, agency_id):
        if p.valid_until is None or p.valid_until > last_day:
            if p.valid_from and p.valid_from > last_day:
                raise RuleViolation(field, "directory.dates", f"official '{official_code}' starts '{p.title}' only "
                                                              f"{period(p)}, after {short_date(last_day)}")
            p.valid_until = last_day
            session.add(p)
            ended.append(p)
    for p in ended:  # a head who leaves takes his written delegations with him
        if p.is_head:
            _close(session, list(session.exec(select(SigningAuthority).where(
                SigningAuthority.delegated_by_id == official.id, SigningAuthority.agency_id == p.agency_id))), last_day)
    session.flush()
    return ended


def tenure(session: Session, official_id: int) -> list[tuple[date | None, date | None]]:
    """The periods an official held some position, overlapping ones joined."""
    spans = sorted(((p.valid_from, p.valid_until) for p in positions_of(session, official_id, None)),
                   key=lambda s: s[0] or date.min)
    out: list[list[date | None]] = []
    for start, end in spans:
        if out and (out[-1][1] is None or start is None or start <= out[-1][1] + timedelta(days=1)):
            if out[-1][1] is not None and (end is None or end > out[-1][1]):
                out[-1][1] = end
        else:
            out.append([start, end])
    return [(s, e) for s, e in out]


# --- signing authority -----------------------------------------------------------------------------------------

def grant(session: Session, raw: dict[str, Any], field: str = "signing_authority", *,
          default_from: date | None = None) -> SigningAuthority:
    """Signing authority for a time (Decree 30 Điều 13). Within the official's tenure; a TUQ. grant is a written
    delegation by the agency's head, limited in time, from an authority that is not itself delegated."""
    raw = _mapping(raw, field, {"official", "agency", "kinds", "form", "valid_from", "valid_until", "delegated_by",
                                "delegation"}, ("official", "agency", "form"))
    official = official_by_code(session, raw["official"], f"{field}.official")
    agency = agency_by_code(session, raw["agency"], f"{field}.agency")
    try:
        form = AuthorityForm(raw["form"])
    except ValueError:
        raise RuleViolation(f"{field}.form", "directory.form", f"'{raw['form']}' is not a form; use "
                                                               + ", ".join(f.value for f in AuthorityForm)) from None
    kinds = str(raw.get("kinds") or "*").replace(" ", "")
    unknown = [k for k in kinds.split(",") if k != "*" and k not in KINDS]
    if unknown:
        raise RuleViolation(f"{field}.kinds", "directory.kinds", f"'{unknown[0]}' is not a document kind; use "
                                                                 + ", ".join(sorted(KINDS)))
    if form in (AuthorityForm.TL, AuthorityForm.TUQ) and kinds == "*":
        raise RuleViolation(f"{field}.kinds", "directory.authority-scope",
                            f"a {form.value} grant names the kinds it covers (Decree 30 Điều 13: TL. for the kinds the "
                            "working rules give a unit's head, TUQ. limited in content)")
    start, end = _dates(raw, field, default_from)
    if not any((s is None or (start is not None and s <= start)) and (e is None or (end is not None and end <= e))
               for s, e in tenure(session, official.id)):
        spans = "; ".join(period(Dated(valid_from=s, valid_until=e)) for s, e in tenure(session, official.id)) or "none"
        raise RuleViolation(f"{field}.valid_from", "directory.authority-tenure",
                            f"'{official.code}' would sign for '{agency.code}' {period(Dated(valid_from=start, valid_until=end))}, "
                            f"outside the time it holds a position ({spans})")
    delegator = None
    if form is AuthorityForm.TUQ:
        delegator = _check_delegation(session, raw, field, agency, start, end)
    elif raw.get("delegated_by") or raw.get("delegation"):
        raise RuleViolation(f"{field}.delegated_by", "directory.delegation", "only a TUQ. grant is a delegation")
    authority = SigningAuthority(official_id=official.id, agency_id=agency.id, kinds=kinds, form=form, valid_from=start,
                                 valid_until=end, delegated_by_id=delegator.id if delegator else None,
                                 delegation=_text(raw, "delegation", field))
    session.add(authority)
    session.flush()
    return authority


def _check_delegation(session: Session, raw: dict[str, Any], field: str, agency: Agency, start: date | None,
                      end: date | None) -> Official:
    if not raw.get("delegated_by") or not raw.get("delegation"):
        raise RuleViolation(f"{field}.delegation", "directory.delegation",
                            "a TUQ. grant names the head who delegated (delegated_by) and the written act (delegation)")
    if start is None or end is None:
        raise RuleViolation(f"{field}.valid_until", "directory.delegation",
                            "a written delegation (ủy quyền) is limited in time: give valid_from and valid_until")
    delegator = official_by_code(session, raw["delegated_by"], f"{field}.delegated_by")
    for day in (start, end):
        heads = [p for p in positions_of(session, delegator.id, day, agency.id) if p.is_head]
        if not heads:
            raise RuleViolation(f"{field}.delegated_by", "directory.delegation",
                                f"'{delegator.code}' does not head '{agency.code}' on {short_date(day)}: only the head delegates")
        own = session.exec(select(SigningAuthority).where(
            SigningAuthority.official_id == delegator.id, SigningAuthority.agency_id == agency.id,
            in_force(SigningAuthority, day))).all()
        if not any(g.form in HEAD_FORMS for g in own):
            raise RuleViolation(f"{field}.delegated_by", "directory.re-delegation",
                                f"'{delegator.code}' holds no authority of his own for '{agency.code}' on {short_date(day)}; "
                                "a delegated authority is never delegated again")
    return delegator


def revoke(session: Session, official_code: str, agency_code: str, last_day: date, field: str = "authority",
           form: AuthorityForm | None = None) -> list[SigningAuthority]:
    """End an official's authority for an agency (one form, or all) after ``last_day``."""
    official = official_by_code(session, official_code, field)
    agency = agency_by_code(session, agency_code, field)
    ended = []
    for g in session.exec(select(SigningAuthority).where(SigningAuthority.official_id == official.id,
                                                         SigningAuthority.agency_id == agency.id)):
        if (form is None or g.form is form) and (g.valid_until is None or g.valid_until > last_day):
            g.valid_until = last_day
            session.add(g)
            ended.append(g)
    if not ended:
        raise RuleViolation(field, "directory.no-authority",
                            f"'{official_code}' holds no authority for '{agency_code}' after {short_date(last_day)}")
    session.flush()
    return ended


# --- groups ----------------------------------------------------------------------------------------------------

def add_group(session: Session, raw: dict[str, Any], field: str = "group", *, default_from: date | None = None) -> AgencyGroup:
    """A Nơi nhận group; members listed (``members``: codes or {agency, valid_from, valid_until}) or, for the
    sample, every agency of some ``categories``."""
    raw = _mapping(raw, field, {"code", "name", "members", "categories", "valid_from", "valid_until"}, ("code", "name"))
    code = _code(raw, field)
    _check_unique_code(session, code, field)
    start, end = _dates(raw, field, default_from)
    group = AgencyGroup(code=code, name=_text(raw, "name", field), valid_from=start, valid_until=end)
    session.add(group)
    session.flush()
    members = list(raw.get("members") or [])
    for agency in session.exec(select(Agency).order_by(Agency.id)):
        if agency.category in (raw.get("categories") or []):
            members.append({"agency": agency.code, "valid_from": agency.valid_from, "valid_until": agency.valid_until})
    for i, member in enumerate(members):
        join_group(session, code, member if isinstance(member, dict) else {"agency": member}, f"{field}.members[{i}]",
                   default_from=start)
    return group


def join_group(session: Session, group_code: str, raw: dict[str, Any], field: str = "member", *,
               default_from: date | None = None) -> AgencyGroupMember:
    raw = _mapping(raw, field, {"agency", "valid_from", "valid_until"}, ("agency",))
    group = session.exec(select(AgencyGroup).where(AgencyGroup.code == group_code)).first()
    if group is None:
        raise RuleViolation(field, "directory.unknown-group", f"no agency group with code '{group_code}'")
    agency = agency_by_code(session, raw["agency"], f"{field}.agency")
    if session.get(AgencyGroupMember, (group.id, agency.id)) is not None:
        raise RuleViolation(f"{field}.agency", "directory.duplicate", f"'{agency.code}' is in group '{group_code}' already")
    start, end = _dates(raw, field, default_from)
    member = AgencyGroupMember(group_id=group.id, agency_id=agency.id, valid_from=start, valid_until=end)
    session.add(member)
    session.flush()
    return member


# --- retiring --------------------------------------------------------------------------------------------------

def _close(session: Session, rows: list[Dated], last_day: date) -> None:
    for row in rows:
        if row.valid_until is None or row.valid_until > last_day:
            row.valid_until = last_day
            session.add(row)


def _not_retired(fact: Dated, what: str, field: str, last_day: date) -> None:
    if fact.valid_until is not None and fact.valid_until <= last_day:
        raise RuleViolation(field, "directory.retired", f"{what} was retired after {short_date(fact.valid_until)} already")


def retire_agency(session: Session, code: str, last_day: date, field: str = "agency",
                  successor: str | None = None) -> Agency:
    """An agency ends after ``last_day`` (giải thể, sáp nhập): with it end its units, the positions in it, the
    authority to sign for it, its group memberships and channels. Its registers keep what they numbered."""
    agency = agency_by_code(session, code, field)
    _not_retired(agency, f"agency '{code}'", field, last_day)
    if not agency.holds_on(last_day):
        raise RuleViolation(field, "directory.dates", f"agency '{code}' is in force {period(agency)}, not on {short_date(last_day)}")
    if successor:
        agency.successor_id = agency_by_code(session, successor, f"{field}.successor", last_day + timedelta(days=1)).id
    agency.valid_until = last_day
    session.add(agency)
    _close(session, list(session.exec(select(Unit).where(Unit.agency_id == agency.id))), last_day)
    _close(session, list(session.exec(select(Position).where(Position.agency_id == agency.id))), last_day)
    _close(session, list(session.exec(select(SigningAuthority).where(SigningAuthority.agency_id == agency.id))), last_day)
    _close(session, list(session.exec(select(AgencyGroupMember).where(AgencyGroupMember.agency_id == agency.id))), last_day)
    _close(session, list(session.exec(select(Channel).where(Channel.owner_kind == "agency", Channel.owner_id == agency.id))),
           last_day)
    session.flush()
    return agency


def retire_official(session: Session, code: str, last_day: date, field: str = "official") -> Official:
    """An official leaves after ``last_day``: positions, signing authority and the delegations (TUQ.) the official
    made as head end."""
    official = official_by_code(session, code, field)
    held = positions_of(session, official.id, None)
    if held and all(p.valid_until is not None for p in held):
        last = max(p.valid_until for p in held)
        raise RuleViolation(field, "directory.retired", f"official '{code}' left after {short_date(last)} already")
    if not end_positions(session, code, last_day, field):
        raise RuleViolation(field, "directory.retired", f"official '{code}' holds no position after {short_date(last_day)}")
    _close(session, list(session.exec(select(SigningAuthority).where(
        (SigningAuthority.official_id == official.id) | (SigningAuthority.delegated_by_id == official.id)))), last_day)
    session.flush()
    return official


def retire_group(session: Session, code: str, last_day: date, field: str = "group") -> AgencyGroup:
    group = session.exec(select(AgencyGroup).where(AgencyGroup.code == code)).first()
    if group is None:
        raise RuleViolation(field, "directory.unknown-group", f"no agency group with code '{code}'")
    _not_retired(group, f"group '{code}'", field, last_day)
    _close(session, [group, *session.exec(select(AgencyGroupMember).where(AgencyGroupMember.group_id == group.id))], last_day)
    session.flush()
    return group


def retire(session: Session, code: str, last_day: date, field: str = "code") -> str:
    """Retire the entry a code names (agency, official, group, or unit 'agency/UNIT'); what it was, for messages."""
    kind = entry_kind(session, code)
    if kind == "unit":
        unit = unit_by_ref(session, code, field)
        _not_retired(unit, f"unit '{code}'", field, last_day)
        _close(session, [unit], last_day)
        _close(session, list(session.exec(select(Channel).where(Channel.owner_kind == "unit", Channel.owner_id == unit.id))),
               last_day)
        session.flush()
        return "unit"
    {"agency": retire_agency, "official": retire_official, "group": retire_group}[kind](session, code, last_day, field)
    return kind
