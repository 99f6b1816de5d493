"""Assignments (giao nhiệm vụ) a decision makes, tracked until they are reported on (báo cáo kết quả).

When a decision is issued, each assignment of its body becomes an obligation of its lead agency, owed to the
issuer (UBND tỉnh, through its Office) by its deadline. The tracking flow sends reminders a number of working
days before the deadline and an escalation once it has passed; each notice is recorded before it is sent,
under a unique (assignment, kind, day), so a second run the same day sends nothing again, unless it did not
reach everyone: the next run sends it again, with the same message ids, to those it missed. One tracking run
sends at a time (the lease 'notices', models/lease.py); each message is recorded as handed over, in a
committed transaction, before it goes out, and its outcome after, so a run that stopped half-way is
reconciled by the next: what was never handed over is sent, what was handed over without an outcome is sent
again with its message id (the one duplicate a receiver may see), the rest is not. A report issued
by the lead agency closes the assignment, on time or late; the Office may return it for more information,
which reopens the assignment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, select

from models.audit import Action, record
from models.config import today
from models.directory import (
    Agency, Official, agency_at, agency_by_code, leaders_of, office_of, position_of, signer_label,
)
from models.document import Document, enum_type, utcnow
from models.errors import RuleViolation
from models.lease import Held, renew
from models.working_days import Calendar, add_working_days, calendar, working_days_between


class AssignmentState(str, Enum):
    OPEN = "open"
    REPORTED = "reported"


class Assignment(SQLModel, table=True):
    """An obligation a decision gives an agency: who leads, who cooperates, what is due, to whom, by when."""

    __table_args__ = (UniqueConstraint("decision_id", "position"),)
    id: int | None = Field(default=None, primary_key=True)
    decision_id: int = Field(foreign_key="document.id", index=True)
    position: int = Field(description="Order among the decision's assignments, from 0")
    lead_id: int = Field(foreign_key="agency.id", index=True, description="The lead agency (chủ trì)")
    cooperating: str | None = Field(default=None, description="Who cooperates (phối hợp), as printed")
    task: str
    report_to_id: int = Field(foreign_key="agency.id", description="Whom the report is owed: the decision's issuer")
    due: date | None = Field(default=None, description="Deadline of the report; none: tracked without reminders")
    state: AssignmentState = Field(default=AssignmentState.OPEN, sa_type=enum_type(AssignmentState), index=True)
    report_id: int | None = Field(default=None, foreign_key="document.id")
    reported_on: date | None = None
    on_time: bool | None = None
    opened_at: datetime = Field(default_factory=utcnow)


class NoticeKind(str, Enum):
    REMINDER = "reminder"  # to the lead agency, before the deadline
    ESCALATION = "escalation"  # to the Office's leadership and the signer, once the deadline has passed


class AssignmentNotice(SQLModel, table=True):
    """A reminder or an escalation: recorded before it is sent, once per assignment, kind and day."""

    __table_args__ = (UniqueConstraint("assignment_id", "kind", "day"),)
    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    kind: NoticeKind = Field(sa_type=enum_type(NoticeKind))
    day: date = Field(description="The day it is due: N working days before the deadline, or the first day after")
    working_days_left: int = Field(description="Working days to the deadline (negative: overdue)")
    state: str = Field(default="sending", description="sending, sent, partly_failed, failed")
    outcomes: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False),
                                           description="One per recipient and channel: code, channel (redacted), "
                                                       "message_id, ok (None: handed over, no outcome yet), error")
    created_at: datetime = Field(default_factory=utcnow)


DELIVERED = ("sent", "partly_failed")  # someone it was for has it
UNDELIVERED = ("failed", "partly_failed")  # someone it was for has not: the next tracking run sends it again


def open_assignments(session: Session, decision: Document, *, actor: str = "system") -> list[Assignment]:
    """On issue: the decision's assignments become tracked obligations (in the issuing transaction)."""
    from models.schemas import Assignment as AssignmentIn

    created = []
    for i, raw in enumerate(decision.body.get("assignments", [])):
        spec = AssignmentIn.model_validate(raw)
        field = f"assignments[{i}]"
        if spec.due is not None and decision.issued_on and spec.due < decision.issued_on:
            raise RuleViolation(f"{field}.due", "assignment.due-before-issue",
                                f"the deadline {spec.due:%d/%m/%Y} is before the decision's date {decision.issued_on:%d/%m/%Y}")
        if spec.due is not None:
            calendar().known(spec.due, f"{field}.due")
        lead = agency_by_code(session, spec.lead, f"{field}.lead", decision.issued_on)
        assignment = Assignment(decision_id=decision.id, position=i, lead_id=lead.id, cooperating=spec.cooperating,
                                task=spec.task, report_to_id=decision.issuer_id, due=spec.due)
        session.add(assignment)
        created.append(assignment)
    session.flush()
    for a in created:
        record(session, Action.ASSIGNMENT_OPENED, actor=actor, document_id=decision.id,
               details={"assignment": a.id, "lead": session.get(Agency, a.lead_id).code, "task": a.task,
                        "due": a.due.isoformat() if a.due else None})
    return created


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    day: date
    working_days_left: int


def notices_due(due: date, on: date, reminder_days: Sequence[int], sent: set[tuple[NoticeKind, date]],
                cal: Calendar | None = None) -> list[Notice]:
    """What an open assignment with deadline ``due`` should be sent on day ``on``: the latest reminder whose
    day has come (a reminder missed while nothing ran is superseded by a later one, never sent late twice),
    or, once the deadline has passed, the escalation. ``sent``: the (kind, day) already recorded."""
    cal = cal or calendar()
    if on > due:
        day = add_working_days(due, 1, cal, "due")
        left = -max(1, working_days_between(due, on, cal, "due"))
        return [] if (NoticeKind.ESCALATION, day) in sent else [Notice(NoticeKind.ESCALATION, day, left)]
    reminders = sorted(((add_working_days(due, -n, cal, "due"), n) for n in set(reminder_days)), reverse=True)
    for day, n in reminders:
        if day <= on:
            return [] if (NoticeKind.REMINDER, day) in sent else [Notice(NoticeKind.REMINDER, day, n)]
    return []


def sent_notices(session: Session, assignment: Assignment) -> set[tuple[NoticeKind, date]]:
    """The (kind, day) of the notices that reached everyone, or are being sent: not to send again."""
    return {(n.kind, n.day) for n in session.exec(select(AssignmentNotice).where(
        AssignmentNotice.assignment_id == assignment.id, AssignmentNotice.state.not_in(UNDELIVERED)))}


def claim_notice(session: Session, assignment: Assignment, notice: Notice) -> tuple[AssignmentNotice, bool] | None:
    """Record the notice before sending it, or take back one that did not reach everyone (the same row, so
    the same message ids; its failed outcomes are tried again): (the row, taken back); None when it reached
    everyone. Under the 'notices' lease, so no other run sends at the same time."""
    existing = session.exec(select(AssignmentNotice).where(
        AssignmentNotice.assignment_id == assignment.id, AssignmentNotice.kind == notice.kind,
        AssignmentNotice.day == notice.day)).first()
    if existing is None:
        row = AssignmentNotice(assignment_id=assignment.id, kind=notice.kind, day=notice.day,
                               working_days_left=notice.working_days_left)
        session.add(row)
        session.flush()
        return row, False
    if existing.state not in UNDELIVERED:
        return None
    existing.state, existing.outcomes = "sending", [o for o in existing.outcomes if o["ok"]]
    session.add(existing)
    session.flush()
    return existing, True


def delivered_to(row: AssignmentNotice) -> set[tuple[str, str]]:
    """(recipient code, channel as redacted) a notice reached in earlier runs: a retry skips them."""
    return {(o["code"], o["channel"]) for o in row.outcomes if o["ok"]}


def _with_outcome(row: AssignmentNotice, outcome: dict[str, Any]) -> None:
    row.outcomes = [o for o in row.outcomes if (o["code"], o["channel"]) != (outcome["code"], outcome["channel"])] \
        + [outcome]  # a new list: the JSON column sees the change


def hand_over_notice(session: Session, notice_id: int, code: str, channel: str, message_id: str, lease: Held) -> None:
    """Record, in a transaction of its own committed before the message goes out, that it is handed over
    (``ok`` None), renewing the lease in it (``LeaseLost``: another run took over, nothing is sent)."""
    renew(session, lease)
    row = session.get(AssignmentNotice, notice_id)
    _with_outcome(row, {"code": code, "channel": channel, "message_id": message_id, "ok": None, "error": None})
    session.add(row)


def notice_outcome(session: Session, notice_id: int, code: str, channel: str, ok: bool, error: str | None) -> None:
    """Record what the channel answered for one handed-over message."""
    row = session.get(AssignmentNotice, notice_id)
    entry = next(o for o in row.outcomes if (o["code"], o["channel"]) == (code, channel))
    _with_outcome(row, {**entry, "ok": ok, "error": error})
    session.add(row)


def reconcile_notices(session: Session, *, actor: str = "system") -> list[AssignmentNotice]:
    """Under the 'notices' lease: a notice still ``sending`` was left by a run that stopped. Its messages
    handed over without an outcome count as not delivered (sent again, same message id, by this run)."""
    left = list(session.exec(select(AssignmentNotice).where(AssignmentNotice.state == "sending")))
    for row in left:
        lost = [o["message_id"] for o in row.outcomes if o["ok"] is None]
        row.outcomes = [{**o, "ok": False, "error": "delivery.outcome-lost: a run stopped after handing it to the "
                                                    "channel; sent again with the same message id"}
                        if o["ok"] is None else o for o in row.outcomes]
        row.state = _notice_state(row.outcomes)
        session.add(row)
        session.flush()
        assignment = session.get(Assignment, row.assignment_id)
        record(session, Action.DELIVERY_ATTEMPTED, actor=actor, document_id=assignment.decision_id,
               details={"step": "reconcile", "assignment": assignment.id, "notice": row.kind.value,
                        "day": row.day.isoformat(), "resent_after_crash": lost, "state": row.state})
    return left


def _notice_state(outcomes: list[dict[str, Any]]) -> str:
    sent = sum(1 for o in outcomes if o["ok"])
    return "sent" if outcomes and sent == len(outcomes) else "failed" if not sent else "partly_failed"


def notice_recipients(session: Session, assignment: Assignment, kind: NoticeKind,
                      on: date | None = None) -> list[tuple[str, int, str, str]]:
    """(kind, id, label, code) of who gets a notice: the lead agency's head for a reminder; for an escalation
    the leadership of the Office of the agency owed the report (LĐVP), and the decision's signer."""
    on = on or today()  # notices go to whoever holds the positions on the day they are for
    lead = agency_at(session, assignment.lead_id, on)
    if kind is NoticeKind.REMINDER:
        return [("agency", lead.id, f"{lead.head_title} {lead.name}", lead.code)]
    office = office_of(session, assignment.report_to_id, on)
    people = leaders_of(session, office.id, on) if office else []
    signer_id = session.get(Document, assignment.decision_id).signer_id
    if signer_id is not None and signer_id not in {o.id for o in people} and position_of(session, signer_id, on):
        people.append(session.get(Official, signer_id))
    return [("official", o.id, signer_label(session, o, on), o.code) for o in people]


def settle_notice(session: Session, row: AssignmentNotice, to: list[str], no_channel: list[str], *, retry: bool,
                  actor: str = "system") -> None:
    """After one run's sends (``to``: the codes it was for): recipients without a channel, the notice's state
    and the audit entry."""
    for code in no_channel:
        _with_outcome(row, {"code": code, "channel": "", "message_id": None, "ok": False, "error": "channel.none"})
    row.state = _notice_state(row.outcomes)
    session.add(row)
    session.flush()
    assignment = session.get(Assignment, row.assignment_id)
    details = {"assignment": assignment.id, "day": row.day.isoformat(), "working_days_left": row.working_days_left,
               "to": to, "state": row.state}
    if retry:
        details["retry"] = True
    record(session, Action.REMINDED if row.kind is NoticeKind.REMINDER else Action.ESCALATED, actor=actor,
           document_id=assignment.decision_id, details=details)


def close_with_report(session: Session, assignment: Assignment, report: Document, *, actor: str = "system") -> None:
    """An issued report closes its assignment: on time if issued by the deadline."""
    if assignment.state is not AssignmentState.OPEN:
        raise RuleViolation("assignment", "assignment.closed", f"assignment #{assignment.id} is already reported on")
    assignment.state, assignment.report_id, assignment.reported_on = AssignmentState.REPORTED, report.id, report.issued_on
    assignment.on_time = assignment.due is None or report.issued_on <= assignment.due
    session.add(assignment)
    session.flush()
    record(session, Action.REPORTED, actor=actor, document_id=assignment.decision_id,
           details={"assignment": assignment.id, "report": report.id, "reported_on": report.issued_on.isoformat(),
                    "on_time": assignment.on_time})


def reopen(session: Session, report: Document, reason: str, *, actor: str) -> Assignment | None:
    """The Office returns a report for more information: its assignment is open again."""
    assignment = session.exec(select(Assignment).where(Assignment.report_id == report.id)).first()
    if assignment is None:
        return None
    assignment.state, assignment.report_id, assignment.reported_on, assignment.on_time = AssignmentState.OPEN, None, None, None
    session.add(assignment)
    session.flush()
    record(session, Action.ASSIGNMENT_REOPENED, actor=actor, document_id=assignment.decision_id,
           details={"assignment": assignment.id, "report": report.id, "reason": reason})
    return assignment


def find_assignment(session: Session, assignment_id: int, field: str = "assignment") -> Assignment:
    found = session.get(Assignment, assignment_id)
    if found is None:
        raise RuleViolation(field, "assignment.unknown", f"no assignment #{assignment_id}; see 'vanban assignments'")
    return found


def situation(assignment: Assignment, on: date, notices: Sequence[AssignmentNotice]) -> str:
    """How an assignment stands on a day, as the Office reads it (``notices``: those delivered)."""
    if assignment.state is AssignmentState.REPORTED:
        return "reported on time" if assignment.on_time else "reported late"
    if assignment.due is not None and on > assignment.due:
        return "overdue, escalated" if any(n.kind is NoticeKind.ESCALATION for n in notices) else "overdue"
    if any(n.kind is NoticeKind.REMINDER for n in notices):
        return "due, reminded"
    return "due" if assignment.due is not None else "open, no deadline"


def overview(session: Session, on: date, *, overdue_only: bool = False) -> list[dict[str, Any]]:
    """Every assignment across decisions: what is due, reminded, overdue and reported."""
    from models.legal_text import number_symbol, short_date

    rows = []
    for a in session.exec(select(Assignment).order_by(Assignment.due, Assignment.id)):
        notices = list(session.exec(select(AssignmentNotice).where(AssignmentNotice.assignment_id == a.id)
                                    .order_by(AssignmentNotice.day)))
        delivered = [n for n in notices if n.state in DELIVERED]
        state = situation(a, on, delivered)
        if overdue_only and not state.startswith("overdue"):
            continue
        decision = session.get(Document, a.decision_id)
        report = session.get(Document, a.report_id) if a.report_id else None
        rows.append({
            "id": a.id, "decision": number_symbol(decision.number, decision.symbol),
            "lead": session.get(Agency, a.lead_id).code, "task": a.task,
            "due": short_date(a.due) if a.due else None, "state": state,
            "reminded": [short_date(n.day) for n in delivered if n.kind is NoticeKind.REMINDER],
            "escalated": [short_date(n.day) for n in delivered if n.kind is NoticeKind.ESCALATION],
            "failed": [f"{n.kind.value} {short_date(n.day)}" for n in notices if n.state == "failed"],
            "report": number_symbol(report.number, report.symbol) if report else None,
            "reported_on": short_date(a.reported_on) if a.reported_on else None,
        })
    return rows

