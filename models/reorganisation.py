"""A reorganisation (sắp xếp, tổ chức lại): one dated operation that adds, renames, merges, splits and retires
agencies and moves officials, in one transaction and one audit entry.

The spec (YAML), every key but ``name`` and ``effective`` optional::

    name: Hợp nhất Sở Thông tin và Truyền thông vào Sở Khoa học và Công nghệ
    effective: 01/3/2025          # the first day of the new organisation; what ends, ends the day before
    basis: Nghị quyết số …        # the act it carries out (recorded)
    is_sample: true
    add: {agencies: […], groups: […], officials: […], signing_authority: […], registers: […]}  # the import format
    rename: [{agency: CODE, name: …, header_name: …, abbreviation: …, parent: CODE, …}]
    move: [{official: CODE, agency: CODE, title: …, unit: …, is_leader: true, …}]   # ends the official's positions
    merge: [{from: [CODE, …], into: CODE}]
    split: [{agency: CODE, into: [CODE, …], assignments_to: CODE}]
    retire: [{agency: CODE, successor: CODE} | {official: CODE} | {group: CODE}]
    revoke: [{official: CODE, agency: CODE, form: KT.}]

They apply in this order: people who leave (retire officials and groups, revoke), then what is added, renamings,
moves, and last the agencies that end (merge, split, retire). An agency that ends hands its open assignments to its
successor. What would be left with nobody to answer — an
open assignment whose lead or receiving agency ends without a successor, a pending human step none of whose
approvers holds a position any more — is listed, and nothing is written.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, select

from models.approvals import ApprovalStep, StepStatus
from models.assignments import Assignment, AssignmentState
from models.audit import Action, record
from models.directory import Agency, Official, agency_by_code, positions_of
from models.directory_admin import (
    _mapping, appoint, change_agency, day_before, end_positions, retire_agency, retire_group, retire_official, revoke,
)
from models.directory_io import import_directory
from models.document import Document
from models.errors import RuleViolation
from models.legal_text import AuthorityForm, clean_text, number_symbol, parse_date

SPEC_KEYS = {"name", "effective", "basis", "is_sample", "add", "rename", "move", "merge", "split", "retire", "revoke"}


def _list(spec: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = spec.get(key) or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise RuleViolation(key, "reorganisation.shape", f"'{key}' must be a list of mappings")
    return items


def _hand_over(session: Session, old: Agency, new: Agency) -> int:
    """Open assignments led by, or owed to, an agency that ends go to its successor (kế thừa)."""
    moved = 0
    for a in session.exec(select(Assignment).where(Assignment.state == AssignmentState.OPEN)):
        if old.id in (a.lead_id, a.report_to_id):
            a.lead_id = new.id if a.lead_id == old.id else a.lead_id
            a.report_to_id = new.id if a.report_to_id == old.id else a.report_to_id
            session.add(a)
            moved += 1
    return moved


def _end_agency(session: Session, code: str, successor: str | None, effective: date, field: str) -> int:
    last_day = day_before(effective)
    agency = retire_agency(session, code, last_day, field, successor)
    return _hand_over(session, agency, session.get(Agency, agency.successor_id)) if agency.successor_id else 0


def orphans(session: Session, on: date) -> list[str]:
    """What would have nobody to answer from ``on``: open assignments whose lead or receiving agency is not in
    force, pending human steps none of whose approvers holds a position."""
    found = []
    for a in session.exec(select(Assignment).where(Assignment.state == AssignmentState.OPEN).order_by(Assignment.id)):
        decision = session.get(Document, a.decision_id)
        for role, agency_id in (("lead", a.lead_id), ("report to", a.report_to_id)):
            agency = session.get(Agency, agency_id)
            if not agency.holds_on(on):
                found.append(f"assignment #{a.id} of {number_symbol(decision.number, decision.symbol).strip()} "
                             f"({role} '{agency.code}')")
    steps = session.exec(select(ApprovalStep).where(ApprovalStep.status.in_([StepStatus.PENDING, StepStatus.WAITING]))
                         .order_by(ApprovalStep.id)).all()
    for step in steps:
        people = [session.exec(select(Official).where(Official.code == c)).first() for c in step.approvers]
        if not any(o is not None and positions_of(session, o.id, on) for o in people):
            found.append(f"step #{step.id} '{step.name}' of document #{step.document_id} "
                         f"(approvers: {', '.join(step.approvers)})")
    return found


def reorganise(session: Session, spec: Any, *, actor: str = "system", file_sha256: str | None = None) -> dict[str, Any]:
    """Apply a reorganisation spec in the caller's transaction; what it did, by operation (also audited)."""
    spec = _mapping(spec, "spec", SPEC_KEYS, ("name", "effective"))
    name = clean_text(str(spec["name"]), "name")
    effective = parse_date(spec["effective"], "effective")
    last_day = day_before(effective)
    done: dict[str, Any] = {"name": name, "effective": effective.isoformat()}
    if spec.get("basis"):
        done["basis"] = clean_text(str(spec["basis"]), "basis")

    # endings of people first, so that a successor can take a post (one head at a time)
    agencies_to_retire = []
    for i, item in enumerate(_list(spec, "retire")):
        field = f"retire[{i}]"
        item = _mapping(item, field, {"agency", "successor", "official", "group"})
        if item.get("agency"):
            agencies_to_retire.append((field, item))
            continue
        if item.get("official"):
            retire_official(session, item["official"], last_day, f"{field}.official")
        elif item.get("group"):
            retire_group(session, item["group"], last_day, f"{field}.group")
        else:
            raise RuleViolation(field, "directory.required", "name the agency, official or group that ends")
        done.setdefault("retired", []).append(item.get("official") or item.get("group"))
    for i, item in enumerate(_list(spec, "revoke")):
        field = f"revoke[{i}]"
        item = _mapping(item, field, {"official", "agency", "form"}, ("official", "agency"))
        form = AuthorityForm(item["form"]) if item.get("form") else None
        revoke(session, item["official"], item["agency"], last_day, field, form)
        done.setdefault("revoked", []).append(f"{item['official']}@{item['agency']}")
    if spec.get("add"):
        added = import_directory(session, spec["add"], is_sample=bool(spec.get("is_sample")), default_from=effective)
        done["added"] = {k: n for k, n in added.items() if n}
    for i, item in enumerate(_list(spec, "rename")):
        field = f"rename[{i}]"
        code = item.get("agency")
        if not code:
            raise RuleViolation(f"{field}.agency", "directory.required", "'agency' is required")
        change_agency(session, code, {**{k: v for k, v in item.items() if k != "agency"}, "valid_from": effective}, field)
        done.setdefault("renamed", []).append(code)
    for i, item in enumerate(_list(spec, "move")):
        field = f"move[{i}]"
        code = item.get("official")
        if not code:
            raise RuleViolation(f"{field}.official", "directory.required", "'official' is required")
        end_positions(session, code, last_day, field)
        appoint(session, code, {**{k: v for k, v in item.items() if k != "official"}, "valid_from": effective}, field)
        done.setdefault("moved", []).append(code)
    for i, item in enumerate(_list(spec, "merge")):
        field = f"merge[{i}]"
        item = _mapping(item, field, {"from", "into"}, ("from", "into"))
        into = agency_by_code(session, item["into"], f"{field}.into", effective).code
        sources = item["from"] if isinstance(item["from"], list) else [item["from"]]
        handed = sum(_end_agency(session, code, into, effective, f"{field}.from") for code in sources)
        done.setdefault("merged", []).append({"from": sources, "into": into, "assignments": handed})
    for i, item in enumerate(_list(spec, "split")):
        field = f"split[{i}]"
        item = _mapping(item, field, {"agency", "into", "assignments_to"}, ("agency", "into"))
        into = [agency_by_code(session, c, f"{field}.into", effective).code for c in item["into"]]
        heir = item.get("assignments_to") or into[0]
        if heir not in into:
            raise RuleViolation(f"{field}.assignments_to", "reorganisation.split",
                                f"'{heir}' is not one of the agencies '{item['agency']}' splits into")
        handed = _end_agency(session, item["agency"], heir, effective, f"{field}.agency")
        done.setdefault("split", []).append({"agency": item["agency"], "into": into, "assignments_to": heir,
                                             "assignments": handed})
    for field, item in agencies_to_retire:
        _end_agency(session, item["agency"], item.get("successor"), effective, f"{field}.agency")
        done.setdefault("retired", []).append(item["agency"])

    left = orphans(session, effective)
    if left:
        raise RuleViolation("spec", "reorganisation.no-owner",
                            f"from {effective:%d/%m/%Y} nobody would answer for: {'; '.join(left)}")
    session.flush()
    record(session, Action.DIRECTORY_REORGANISED, actor=actor, details=done, file_sha256=file_sha256)
    return done
