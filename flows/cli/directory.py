"""`vanban directory`: the directory (agencies, units, officials and their positions, signing authority, Nơi nhận
groups) and how each receives documents (channels): listings as of a date, one entry in full, changes one at a
time or from a YAML file.

Every change is one transaction of the services in `models/directory_admin.py` ending with one audit entry
(`directory_changed`, or `directory_imported` for a file) that names who made it (`--as`); a refused change
writes nothing. Dates: DD/MM/YYYY or ISO.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.table import Table
from sqlmodel import Session, select

from flows.cli.common import Actor, add_row, console, ready_engine, user_errors, write_file
from models.audit import Action, record
from models.channels import Channel, end_channel, redact
from models.config import today
from models.db import session_scope
from models.directory import Dated, period
from models.errors import RuleViolation
from models.legal_text import AuthorityForm, parse_date, short_date
from models.recipients import Recipient, owner_of, recipient_code
from models.yaml_files import load_yaml, read_file

app = typer.Typer(help="The directory: agencies, units, officials, signing authority, groups, channels.",
                  no_args_is_help=True)

Json = Annotated[bool, typer.Option("--json", help="Machine-readable output")]
On = Annotated[str | None, typer.Option("--on", help="As of this day (DD/MM/YYYY); default today")]
From = Annotated[str | None, typer.Option("--from", help="First day in force (DD/MM/YYYY); default: always")]
Until = Annotated[str | None, typer.Option("--until", help="Last day in force (DD/MM/YYYY); default: open")]
LastDay = Annotated[str, typer.Option("--on", help="The last day in force (DD/MM/YYYY)")]
Channels = Annotated[list[str] | None, typer.Option("--channel", help="mailto:address or an apprise URL (repeatable)")]


def _day(value: str | None, field: str) -> date:
    return parse_date(value, field) if value else today()


def _dates(start: str | None, end: str | None) -> dict[str, str]:
    """The dated fields of a raw entry, as the import format writes them (the services parse and check them)."""
    return {k: v for k, v in (("valid_from", start), ("valid_until", end)) if v}


def _audited(session: Session, actor: str, change: str, code: str, **details: Any) -> None:
    """The change's one audit entry, last in its transaction; its dates ISO, however the clerk wrote them."""
    for key in ("valid_from", "valid_until"):
        if isinstance(details.get(key), str):
            details[key] = parse_date(details[key], key).isoformat()
    record(session, Action.DIRECTORY_CHANGED, actor=actor,
           details={"change": change, "code": code, **{k: v for k, v in details.items() if v not in (None, [], False)}})


# --- reading ---------------------------------------------------------------------------------------------------

@app.command("load-sample")
@user_errors
def directory_load_sample(
    year: Annotated[int, typer.Option(help="2024: the province as it stood in 2024; 2025: that, then its 2025 "
                                           "reorganisation (the Sở merger of 01/3/2025, the provinces' of 01/7/2025)")] = 2024,
) -> None:
    """Load the SAMPLE directory of Vĩnh Long province: agencies, officials, authority, registers."""
    from models.sample_data import load_directory, load_reorganisations

    if year not in (2024, 2025):
        raise RuleViolation("year", "sample.year", f"there is a sample for 2024 and for 2025, not for {year}")
    with session_scope(ready_engine()) as session:
        counts = load_directory(session)
        done = load_reorganisations(session) if year == 2025 else []
    console.print("sample directory loaded: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    for step in done:
        console.print(f"reorganised from {short_date(date.fromisoformat(step['effective']))}: {step['name']}")


def _listing(title: str, rows: list[dict[str, Any]], columns: dict[str, str], everything: bool, as_json: bool) -> None:
    """Rows as JSON, or as a table of ``columns`` (heading → key), with each row's period under --all."""
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    columns = {**columns, **({"period": "period"} if everything else {})}
    table = Table(*columns, title=title)
    for row in rows:
        add_row(table, *(row[key] or "" for key in columns.values()))
    console.print(table)


@app.command("agencies")
@user_errors
def directory_agencies(
    on: On = None,
    everything: Annotated[bool, typer.Option("--all", help="Also retired and not yet in force, with their period")] = False,
    as_json: Json = False,
) -> None:
    """The agencies in force on a day, with their names and headers of that day."""
    from models.directory_view import agency_listing

    day = _day(on, "on")
    with session_scope(ready_engine()) as session:
        rows = agency_listing(session, day, everything=everything)
    _listing(f"agencies on {short_date(day)}", rows, {"code": "code", "ký hiệu": "abbreviation", "name": "name",
                                                       "head": "head_title", "parent": "parent"}, everything, as_json)


@app.command("officials")
@user_errors
def directory_officials(
    on: On = None,
    everything: Annotated[bool, typer.Option("--all", help="Also those without a position that day (their latest)")] = False,
    as_json: Json = False,
) -> None:
    """The officials holding a position on a day: title, agency, unit."""
    from models.directory_view import official_listing

    day = _day(on, "on")
    with session_scope(ready_engine()) as session:
        rows = official_listing(session, day, everything=everything)
    _listing(f"officials on {short_date(day)}", rows, {"code": "code", "name": "full_name", "title": "title",
                                                        "agency": "agency", "unit": "unit"}, everything, as_json)


@app.command("show")
@user_errors
def directory_show(
    code: Annotated[str, typer.Argument(help="Agency, official or group code, or a unit as agency/UNIT")],
    on: On = None,
    as_json: Json = False,
) -> None:
    """Everything about one entry: its attributes and versions, units, officials, positions, signing authority,
    groups, channels, registers — each with its period."""
    from models.directory_view import describe_entry

    with session_scope(ready_engine()) as session:
        entry = describe_entry(session, code, _day(on, "on"))
    if as_json:
        print(json.dumps(entry, ensure_ascii=False, indent=2))
        return
    _print_entry(entry)


def _flag(item: dict[str, Any]) -> str:
    return "" if item["in_force"] else "  (not in force that day)"


def _kinds(kinds: str) -> str:
    return "all kinds" if kinds == "*" else kinds


def _grant_line(g: dict[str, Any], whose: str) -> str:
    delegation = f", delegated by {g['delegated_by']} ({g['delegation']})" if g["delegated_by"] else ""
    return f"  {g[whose]}: {g['form']} {_kinds(g['kinds'])}, {g['period']}{delegation}{_flag(g)}"


def _holder_line(o: dict[str, Any]) -> str:
    """An official holding a position in the agency or unit shown."""
    marks = (f", {o['unit']}" if o["unit"] else "") + (" (head)" if o["is_head"] else "") \
        + (" (kiêm nhiệm)" if o["concurrent"] else "")
    return f"  {o['official']}: {o['title']} {o['full_name']}{marks}"


def _position_line(p: dict[str, Any]) -> str:
    where = p["agency"] + (f"/{p['unit']}" if p["unit"] else "")
    role = " (head)" if p["is_head"] else " (leader)" if p["is_leader"] else ""
    marks = (f", portfolio {p['portfolio']}" if p["portfolio"] else "") + (" (kiêm nhiệm)" if p["concurrent"] else "")
    return f"  {p['title']} at {where}{role}{marks}, {p['period']}{_flag(p)}"


def _header(text: str) -> str:
    return " / ".join(text.split("\n"))


def _print_entry(e: dict[str, Any]) -> None:
    day = short_date(date.fromisoformat(e["on"]))
    state = "in force" if e["in_force"] else "NOT in force"
    name = e.get("name") or e.get("full_name")
    console.print(f"{e['kind']} {e['code']}: {name} — {state} on {day}" + (f" ({e['period']})" if "period" in e else ""))
    if e["kind"] == "agency":
        console.print(f"  ký hiệu {e['abbreviation']}, head: {e['head_title']}, place: {e['place']}, "
                      f"category: {e['category']}, parent: {e['parent'] or '—'}")
        console.print(f"  header: {_header(e['header_name'])}")
        if e["successor"]:
            console.print(f"  successor (kế thừa): {e['successor']}")
        if e["predecessors"]:
            console.print("  succeeds: " + ", ".join(e["predecessors"]))
        sections = [("versions", lambda v: f"  {v['from']}: {v['name']} ({v['abbreviation']}), header "
                                           f"{_header(v['header_name'])}, parent {v['parent'] or '—'}"),
                    ("units", lambda u: f"  {u['code']}: {u['name']}, {u['period']}{_flag(u)}"),
                    ("officials", _holder_line),
                    ("groups", lambda g: f"  {g['group']}: {g['name']}, {g['period']}{_flag(g)}"),
                    ("signing_authority", lambda g: _grant_line(g, "official")),
                    ("registers", lambda r: f"  {r['year']} {r['series']}: {_kinds(r['kinds'])}, last number "
                                            f"{r['last_number']}, opened {r['opened']}")]
    elif e["kind"] == "official":
        sections = [("positions", _position_line), ("signing_authority", lambda g: _grant_line(g, "agency"))]
    elif e["kind"] == "group":
        sections = [("members", lambda m: f"  {m['agency']}, {m['period']}{_flag(m)}")]
    else:
        console.print(f"  of agency {e['agency']}")
        sections = [("officials", _holder_line)]
    if "channels" in e:
        sections.append(("channels", lambda c: f"  {c['url']}, {c['period']}{_flag(c)}"))
    for key, line in sections:
        console.print(f"{key.replace('_', ' ')} ({len(e[key])}):")
        for item in e[key]:
            console.print(line(item))


# --- changes, one at a time ------------------------------------------------------------------------------------

def _agency_fields(*, header: str | None, **values: str | None) -> dict[str, str]:
    """An agency's attributes as the import format names them, from the options given ('\\n' in --header is a
    line break)."""
    if header is not None:
        values["header_name"] = header.replace("\\n", "\n")
    return {k: v for k, v in values.items() if v is not None}


@app.command("add-agency")
@user_errors
def directory_add_agency(
    code: Annotated[str, typer.Argument(help="New agency code, e.g. 'snnmt'")],
    actor: Actor,
    name: Annotated[str, typer.Option(help="Full name")],
    abbreviation: Annotated[str, typer.Option(help="Abbreviation in ký hiệu, e.g. 'SNNMT'")],
    header: Annotated[str, typer.Option(help="Ô 2 as printed; '\\n' for a second line")],
    place: Annotated[str, typer.Option(help="Place of the date line")],
    head_title: Annotated[str, typer.Option(help="Title of its head, e.g. 'Giám đốc'")],
    parent: Annotated[str | None, typer.Option(help="Parent agency code (cơ quan chủ quản)")] = None,
    category: Annotated[str | None, typer.Option(help="department, office, district-committee …")] = None,
    collective_name: Annotated[str | None, typer.Option(help="Collective body for TM. signing")] = None,
    header_as_parent: Annotated[str | None, typer.Option(help="How it is printed as a parent")] = None,
    start: From = None,
    channel: Channels = None,
) -> None:
    """Add an agency."""
    from models.directory_admin import add_agency

    raw = {"code": code, "channels": channel or [], **_dates(start, None),
           **_agency_fields(name=name, abbreviation=abbreviation, header=header, place=place, head_title=head_title,
                            parent=parent, category=category, collective_name=collective_name,
                            header_as_parent=header_as_parent)}
    with session_scope(ready_engine()) as session:
        agency = add_agency(session, raw)
        _audited(session, actor, "add-agency", agency.code, name=agency.name, parent=parent, valid_from=start)
    console.print(f"agency '{code}' added: {name}")


@app.command("change-agency")
@user_errors
def directory_change_agency(
    code: Annotated[str, typer.Argument(help="Agency code")],
    actor: Actor,
    start: Annotated[str, typer.Option("--from", help="First day of the change (DD/MM/YYYY)")],
    name: Annotated[str | None, typer.Option()] = None,
    abbreviation: Annotated[str | None, typer.Option()] = None,
    header: Annotated[str | None, typer.Option(help="'\\n' for a second line")] = None,
    place: Annotated[str | None, typer.Option()] = None,
    head_title: Annotated[str | None, typer.Option()] = None,
    parent: Annotated[str | None, typer.Option(help="New parent agency code")] = None,
    category: Annotated[str | None, typer.Option()] = None,
    collective_name: Annotated[str | None, typer.Option()] = None,
    header_as_parent: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Change an agency from a date (đổi tên, đổi cơ quan chủ quản …); what held before stays for earlier days."""
    from models.directory_admin import change_agency

    changes = _agency_fields(name=name, abbreviation=abbreviation, header=header, place=place, head_title=head_title,
                             parent=parent, category=category, collective_name=collective_name,
                             header_as_parent=header_as_parent)
    if not changes:
        raise RuleViolation("change", "directory.required", "give at least one attribute to change (--name, --header …)")
    with session_scope(ready_engine()) as session:
        version = change_agency(session, code, {"valid_from": start, **changes})
        _audited(session, actor, "change-agency", code, valid_from=start, **changes)
    console.print(f"agency '{code}' changed from {short_date(version.valid_from)}: " + ", ".join(sorted(changes)))


@app.command("add-unit")
@user_errors
def directory_add_unit(
    agency: Annotated[str, typer.Argument(help="Agency code")],
    code: Annotated[str, typer.Argument(help="Unit code as written in Nơi nhận, e.g. 'VP'")],
    name: Annotated[str, typer.Argument(help="Unit name")],
    actor: Actor,
    start: From = None,
    end: Until = None,
    channel: Channels = None,
) -> None:
    """Add a unit (phòng, văn phòng …) to an agency."""
    from models.directory_admin import add_unit

    with session_scope(ready_engine()) as session:
        add_unit(session, agency, {"code": code, "name": name, "channels": channel or [], **_dates(start, end)})
        _audited(session, actor, "add-unit", f"{agency}/{code}", name=name, valid_from=start, valid_until=end)
    console.print(f"unit '{agency}/{code}' added: {name}")


def _position(agency: str, title: str, unit: str | None, head: bool, leader: bool, portfolio: str | None,
              concurrent: bool, start: str | None, end: str | None) -> dict[str, Any]:
    raw = {"agency": agency, "title": title, "unit": unit, "is_head": head, "is_leader": leader,
           "portfolio": portfolio, "concurrent": concurrent, **_dates(start, end)}
    return {k: v for k, v in raw.items() if v not in (None, False)}


AgencyOpt = Annotated[str, typer.Option("--agency", help="Agency code")]
Title = Annotated[str, typer.Option("--title", help="Position, e.g. 'Phó Giám đốc'")]
UnitOpt = Annotated[str | None, typer.Option("--unit", help="Unit code within the agency")]
Head = Annotated[bool, typer.Option("--head", help="Head of the agency (thủ trưởng)")]
Leader = Annotated[bool, typer.Option("--leader", help="Part of its leadership (lãnh đạo)")]
Portfolio = Annotated[str | None, typer.Option("--portfolio", help="Field in charge, e.g. 'VHXH'")]


@app.command("add-official")
@user_errors
def directory_add_official(
    code: Annotated[str, typer.Argument(help="New official code")],
    actor: Actor,
    name: Annotated[str, typer.Option("--name", help="Full name")],
    agency: AgencyOpt,
    title: Title,
    unit: UnitOpt = None,
    head: Head = False,
    leader: Leader = False,
    portfolio: Portfolio = None,
    start: From = None,
    channel: Channels = None,
) -> None:
    """Add an official with the position he or she takes up."""
    from models.directory_admin import add_official

    raw = {"code": code, "full_name": name, "channels": channel or [],
           **_position(agency, title, unit, head, leader, portfolio, False, start, None)}
    with session_scope(ready_engine()) as session:
        add_official(session, raw)
        _audited(session, actor, "add-official", code, full_name=name, agency=agency, title=title, valid_from=start)
    console.print(f"official '{code}' added: {title} {name} at '{agency}'")


@app.command("appoint")
@user_errors
def directory_appoint(
    official: Annotated[str, typer.Argument(help="Official code")],
    actor: Actor,
    agency: AgencyOpt,
    title: Title,
    unit: UnitOpt = None,
    head: Head = False,
    leader: Leader = False,
    portfolio: Portfolio = None,
    concurrent: Annotated[bool, typer.Option("--concurrent", help="Held together with the main one (kiêm nhiệm)")] = False,
    start: From = None,
    end: Until = None,
    end_current: Annotated[bool, typer.Option("--end-current", help="A move: end the official's open positions the "
                                                                    "day before --from")] = False,
) -> None:
    """Give an official a position from a date (bổ nhiệm, điều động, kiêm nhiệm)."""
    from models.directory_admin import appoint, day_before, end_positions

    with session_scope(ready_engine()) as session:
        ended = []
        if end_current:
            if not start:
                raise RuleViolation("from", "directory.required", "--end-current ends the open positions the day "
                                                                  "before --from: give --from")
            ended = [p.title for p in end_positions(session, official, day_before(parse_date(start, "from")))]
        position = appoint(session, official, _position(agency, title, unit, head, leader, portfolio, concurrent,
                                                        start, end))
        _audited(session, actor, "appoint", official, agency=agency, title=title, concurrent=concurrent,
                 valid_from=start, valid_until=end, ended=ended)
    ending = f"; ended: {', '.join(ended)}" if ended else ""
    console.print(f"official '{official}' appointed {position.title} at '{agency}' {_period_text(start, end)}{ending}")


def _period_text(start: str | None, end: str | None) -> str:
    return period(Dated(valid_from=parse_date(start, "from") if start else None,
                        valid_until=parse_date(end, "until") if end else None))


@app.command("grant")
@user_errors
def directory_grant(
    official: Annotated[str, typer.Argument(help="Official code")],
    agency: Annotated[str, typer.Argument(help="Agency the official signs for")],
    actor: Actor,
    form: Annotated[str, typer.Option("--form", help="head, TM., KT., TM.+KT., Q., TL., TUQ.")],
    kinds: Annotated[str | None, typer.Option("--kinds", help="Document kinds, comma-separated (default: all)")] = None,
    start: From = None,
    end: Until = None,
    delegated_by: Annotated[str | None, typer.Option("--delegated-by", help="TUQ.: the head who delegates")] = None,
    delegation: Annotated[str | None, typer.Option("--delegation", help="TUQ.: the written act, e.g. 'Giấy ủy quyền "
                                                                         "số 05/GUQ-STTTT'")] = None,
) -> None:
    """Signing authority (thẩm quyền ký) for a time: who signs which kinds for which agency, in which form; TUQ.
    is a written delegation by the head, limited in time."""
    from models.directory_admin import grant

    raw = {"official": official, "agency": agency, "form": form, "kinds": kinds, "delegated_by": delegated_by,
           "delegation": delegation, **_dates(start, end)}
    with session_scope(ready_engine()) as session:
        granted = grant(session, {k: v for k, v in raw.items() if v is not None})
        _audited(session, actor, "grant", official, agency=agency, form=granted.form.value, kinds=granted.kinds,
                 valid_from=start, valid_until=end, delegated_by=delegated_by, delegation=delegation)
    console.print(f"official '{official}' signs {granted.form.value} for '{agency}' ({_kinds(granted.kinds)}) "
                  f"{_period_text(start, end)}")


@app.command("revoke")
@user_errors
def directory_revoke(
    official: Annotated[str, typer.Argument(help="Official code")],
    agency: Annotated[str, typer.Argument(help="Agency code")],
    actor: Actor,
    last_day: LastDay,
    form: Annotated[str | None, typer.Option("--form", help="Only this form (default: every form)")] = None,
) -> None:
    """End an official's signing authority for an agency after a day."""
    from models.directory_admin import revoke

    try:
        only = AuthorityForm(form) if form else None
    except ValueError:
        raise RuleViolation("form", "directory.form", f"'{form}' is not a form; use "
                                                      + ", ".join(f.value for f in AuthorityForm)) from None
    day = parse_date(last_day, "on")
    with session_scope(ready_engine()) as session:
        ended = revoke(session, official, agency, day, "authority", only)
        forms = [g.form.value for g in ended]
        _audited(session, actor, "revoke", official, agency=agency, forms=forms, valid_until=last_day)
    console.print(f"official '{official}' signs for '{agency}' no more after {short_date(day)}: {', '.join(forms)}")


@app.command("add-group")
@user_errors
def directory_add_group(
    code: Annotated[str, typer.Argument(help="New group code")],
    name: Annotated[str, typer.Argument(help="As written in Nơi nhận, e.g. 'các sở, ban, ngành tỉnh'")],
    actor: Actor,
    member: Annotated[list[str] | None, typer.Option("--member", help="Agency code (repeatable)")] = None,
    start: From = None,
    end: Until = None,
) -> None:
    """Add a Nơi nhận group of agencies."""
    from models.directory_admin import add_group

    with session_scope(ready_engine()) as session:
        add_group(session, {"code": code, "name": name, "members": member or [], **_dates(start, end)})
        _audited(session, actor, "add-group", code, name=name, members=member or [], valid_from=start, valid_until=end)
    console.print(f"group '{code}' added: {name} ({len(member or [])} members)")


@app.command("join-group")
@user_errors
def directory_join_group(
    group: Annotated[str, typer.Argument(help="Group code")],
    agency: Annotated[str, typer.Argument(help="Agency code")],
    actor: Actor,
    start: From = None,
    end: Until = None,
) -> None:
    """Add an agency to a group for a time."""
    from models.directory_admin import join_group

    with session_scope(ready_engine()) as session:
        join_group(session, group, {"agency": agency, **_dates(start, end)})
        _audited(session, actor, "join-group", group, agency=agency, valid_from=start, valid_until=end)
    console.print(f"agency '{agency}' joins group '{group}' {_period_text(start, end)}")


@app.command("retire")
@user_errors
def directory_retire(
    code: Annotated[str, typer.Argument(help="Agency, official or group code, or a unit as agency/UNIT")],
    actor: Actor,
    last_day: LastDay,
    successor: Annotated[str | None, typer.Option("--successor", help="Agency: where it went (kế thừa)")] = None,
) -> None:
    """Retire an entry after its last day (giải thể, sáp nhập, nghỉ hưu …). An agency takes with it its units,
    the positions in it, the authority to sign for it, its memberships and channels; its registers stay."""
    from models.directory_admin import retire, retire_agency
    from models.directory import entry_kind

    day = parse_date(last_day, "on")
    with session_scope(ready_engine()) as session:
        kind = entry_kind(session, code)
        if successor and kind != "agency":
            raise RuleViolation("successor", "directory.successor", f"only an agency has a successor; '{code}' is of kind {kind}")
        if successor:
            retire_agency(session, code, day, "code", successor)
        else:
            retire(session, code, day)
        _audited(session, actor, "retire", code, kind=kind, valid_until=last_day, successor=successor)
    went = f"; its successor: '{successor}'" if successor else ""
    console.print(f"{kind} '{code}' retired after {short_date(day)}{went}")


# --- channels --------------------------------------------------------------------------------------------------

@app.command("channels")
@user_errors
def directory_channels() -> None:
    """List the channels of the directory (references to secrets are shown as written, never their values)."""
    table = Table("owner", "kind", "channel", "period")
    with session_scope(ready_engine()) as session:
        for c in session.exec(select(Channel).order_by(Channel.owner_kind, Channel.owner_id, Channel.id)):
            add_row(table, recipient_code(session, Recipient(c.owner_kind, c.owner_id, "")), c.owner_kind, redact(c.url),
                    period(c))
    console.print(table)


@app.command("add-channel")
@user_errors
def directory_add_channel(
    code: Annotated[str, typer.Argument(help="Agency or official code, or a unit as agency/UNIT (vp-ubnd/P.VHXH)")],
    url: Annotated[str, typer.Argument(help="mailto:address, or an apprise URL; credentials as {env:NAME} or {secret:NAME}")],
    actor: Actor = "system",
    start: From = None,
    end: Until = None,
) -> None:
    """Give a recipient a channel (e-mail address, webhook, chat …), from and until a date if given."""
    from models.directory_admin import add_dated_channel

    with session_scope(ready_engine()) as session:
        kind, owner_id = owner_of(session, code)
        add_dated_channel(session, kind, owner_id, {"url": url, **_dates(start, end)}, "url")
        _audited(session, actor, "add-channel", code, url=redact(url), valid_from=start, valid_until=end)
    console.print(f"{code}: channel {redact(url)} added")


@app.command("retire-channel")
@user_errors
def directory_retire_channel(
    code: Annotated[str, typer.Argument(help="Agency or official code, or a unit as agency/UNIT")],
    url: Annotated[str, typer.Argument(help="The channel as listed by 'vanban directory channels'")],
    actor: Actor,
    last_day: LastDay,
) -> None:
    """A recipient's channel is used no more after a day (kept, dated, for what was sent through it)."""
    day = parse_date(last_day, "on")
    with session_scope(ready_engine()) as session:
        kind, owner_id = owner_of(session, code)
        end_channel(session, kind, owner_id, url, day, "url")
        _audited(session, actor, "retire-channel", code, url=redact(url), valid_until=last_day)
    console.print(f"{code}: channel {redact(url)} used no more after {short_date(day)}")


# --- the directory as one YAML file ------------------------------------------------------------------------------

def _read_yaml(file: Path) -> tuple[Any, str]:
    """A YAML file's content and SHA-256 (recorded with the change it carries)."""
    data = read_file(file)
    return load_yaml(data, file.name), hashlib.sha256(data).hexdigest()


@app.command("import")
@user_errors
def directory_import(
    file: Annotated[Path, typer.Argument(help="YAML in the format 'vanban directory export' writes")],
    actor: Actor,
) -> None:
    """Add every entry of a YAML file, in one transaction: all of it, or nothing if one entry is refused."""
    from models.directory_io import import_directory

    content, digest = _read_yaml(file)
    with session_scope(ready_engine()) as session:
        counts = import_directory(session, content)
        record(session, Action.DIRECTORY_IMPORTED, actor=actor, file_sha256=digest,
               details={"file": file.name, "sha256": digest, **counts})
    console.print(f"{file.name} imported: " + ", ".join(f"{n} {k}" for k, n in counts.items()))


@app.command("export")
@user_errors
def directory_export(
    out: Annotated[Path | None, typer.Option(help="Write to this file instead of standard output")] = None,
) -> None:
    """The whole directory, every fact dated, as YAML that 'vanban directory import' reads back."""
    from models.directory_io import export_directory

    with session_scope(ready_engine()) as session:
        text = yaml.safe_dump(export_directory(session), allow_unicode=True, sort_keys=False)
    if out:
        write_file(out, text)
        console.print(f"wrote {out}")
    else:
        print(text, end="")


@app.command("reorganise")
@user_errors
def directory_reorganise(
    spec: Annotated[Path, typer.Argument(help="YAML reorganisation spec (format: models/reorganisation.py; example: "
                                              "models/sample/vinh_long_2025.yaml)")],
    actor: Actor,
) -> None:
    """Merges, renamings, splits and moves of one date, in one transaction and one audit entry; refused, with the
    list, if an open assignment or a waiting human step would be left with nobody to answer."""
    from models.reorganisation import reorganise

    content, digest = _read_yaml(spec)
    with session_scope(ready_engine()) as session:
        done = reorganise(session, content, actor=actor, file_sha256=digest)
    console.print(f"reorganised from {short_date(date.fromisoformat(done['effective']))}: {done['name']}")
    for key in ("added", "renamed", "moved", "merged", "split", "retired", "revoked"):
        if done.get(key):
            console.print(f"  {key}: {json.dumps(done[key], ensure_ascii=False)}")
