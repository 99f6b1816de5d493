"""`track-implementation`: once a day (deployments/tracking.py), remind lead agencies of reports coming due
and escalate those overdue, through the recipients' channels; a table artifact shows every assignment."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

import flows.runtime  # noqa: F401  (Prefect settings before Prefect loads)
from models.assignments import (
    Assignment, AssignmentNotice, AssignmentState, Notice, NoticeKind, claim_notice, delivered_to, hand_over_notice,
    notice_outcome, notice_recipients, notices_due, overview, reconcile_notices, sent_notices, settle_notice,
)
from models.channels import channels_of, no_clear_relay, redact, relay_url
from models.config import get_settings, today
from models.db import get_engine, session_scope
from models.lease import TTL, Held, hold
from models.messages import notice_message
from models.schemas import date_input
from models.transport import Sender
from flows.presentation import run_namer
from prefect import flow, task
from sqlmodel import select

DEFAULT_REMINDERS = (5, 1)


class Tracking(BaseModel):
    """One day of tracking the assignments decisions have made."""

    model_config = ConfigDict(extra="forbid")  # a mistyped field is an error, not a silent default

    day: date | None = Field(default=None, description="The day to track, e.g. 09/12/2024; default today (Vietnam time)")
    reminder_days: list[Annotated[int, Field(ge=0, le=250)]] = Field(default_factory=lambda: list(DEFAULT_REMINDERS),
                                     description="Remind the lead agency this many working days before the deadline")
    actor: str = Field(default="system", description="Recorded in the audit log as who sent the notices")
    relay: str | None = Field(default=None, description="Outgoing mail relay; default VANBAN_SMTP_URL")

    _check_day = field_validator("day", mode="before")(date_input)
    _no_clear_relay = field_validator("relay")(no_clear_relay)


@task(name="plan-notices")
def plan_notices(on: date, reminder_days: list[int], actor: str) -> list[tuple[int, str, date, int]]:
    """(assignment, kind, day, working days left) of every notice due on ``on`` that has not reached everyone,
    after reconciling the notices a stopped run left half-sent."""
    out = []
    with session_scope(get_engine()) as session:
        reconcile_notices(session, actor=actor)
        for a in session.exec(select(Assignment).where(Assignment.state == AssignmentState.OPEN,
                                                       Assignment.due.is_not(None)).order_by(Assignment.id)):
            for n in notices_due(a.due, on, reminder_days, sent_notices(session, a)):
                out.append((a.id, n.kind.value, n.day, n.working_days_left))
    return out


@task(name="send-notice")
def send_notice(relay: str | None, assignment_id: int, kind: str, day: date, left: int,
                actor: str, lease: Held) -> dict[str, Any] | None:
    """Record the notice, then hand each message over (recorded first), send it and record its outcome; a
    notice that reached everyone is not sent again, one that did not only to the channels it missed."""
    engine = get_engine()
    with session_scope(engine) as session:
        claimed = claim_notice(session, session.get(Assignment, assignment_id), Notice(NoticeKind(kind), day, left))
        if claimed is None:
            return None
        notice_id, done, retry = claimed[0].id, delivered_to(claimed[0]), claimed[1]
    with session_scope(engine) as session:
        assignment = session.get(Assignment, assignment_id)
        messages = []
        for owner_kind, owner_id, label, code in notice_recipients(session, assignment, NoticeKind(kind), day):
            mid = f"<notice-{notice_id}.{code.replace('/', '-')}@{get_settings().mail_domain}>"
            message = notice_message(session, assignment, kind, left, label, mid)
            urls = [c.url for c in channels_of(session, owner_kind, owner_id, day)]
            messages.append((code, urls, message))
    sender = Sender(relay_url(relay), get_settings().max_attachment_bytes)
    try:
        for code, urls, message in messages:
            for url in (u for u in urls if (code, redact(u)) not in done):
                with session_scope(engine) as session:
                    hand_over_notice(session, notice_id, code, redact(url), message.message_id, lease)
                result = sender.send(url, message)
                with session_scope(engine) as session:
                    notice_outcome(session, notice_id, code, redact(url), result.ok,
                                   None if result.ok else f"{result.rule}: {result.error}")
    finally:
        sender.close()
    with session_scope(engine) as session:
        row = session.get(AssignmentNotice, notice_id)
        settle_notice(session, row, [code for code, _urls, _m in messages], [code for code, urls, _m in messages if not urls],
                      retry=retry, actor=actor)
        return {"assignment": assignment_id, "kind": kind, "day": day.isoformat(), "state": row.state,
                "to": sorted({o["code"] for o in row.outcomes}),
                "failures": [f"{o['code']} {o['channel'] or '(no channel)'}: {o['error']}" for o in row.outcomes if not o["ok"]]}


@task(name="assignments-overview")
def assignments_overview(on: date) -> list[dict[str, Any]]:
    """Every assignment as the Office reads it, as a table artifact too."""
    from prefect.artifacts import create_table_artifact

    with session_scope(get_engine()) as session:
        rows = overview(session, on)
    create_table_artifact(key="assignments", description=f"Assignments on {on:%d/%m/%Y}",
                          table=[{k: ", ".join(v) if isinstance(v, list) else v for k, v in r.items()} for r in rows])
    return rows


@flow(name="track-implementation", flow_run_name=run_namer("track-implementation"))
def track_implementation(request: Tracking | None = None) -> dict[str, Any]:
    """One day of tracking: remind lead agencies of reports coming due and escalate overdue ones (nhắc hạn)."""
    request = request or Tracking()
    relay_url(request.relay)  # a relay with a password in clear stops the run before anything is sent
    on = request.day or today()
    sent = []
    with hold(get_engine(), "notices", TTL) as lease:  # one tracking run sends at a time
        for assignment_id, kind, day, left in plan_notices(on, request.reminder_days, request.actor):
            outcome = send_notice(request.relay, assignment_id, kind, day, left, request.actor, lease)
            if outcome is not None:
                sent.append(outcome)
    return {"on": on.isoformat(), "notices": sent, "assignments": assignments_overview(on)}
