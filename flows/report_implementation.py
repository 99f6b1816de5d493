"""`report-implementation`: the lead agency reports the results of an assignment. vanban drafts the Báo cáo from
the structured results; its head signs at a human step; it is numbered from the agency's register, issued,
closes the assignment (on time or late) and is sent to its Nơi nhận; the receiving Office accepts it, or
returns it for more information (a human step), which reopens the assignment."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field, field_validator

from flows.distribute import Distribution, distribute
from flows.steps import (
    ChainRequest, document_card, draft, issue, files_folder, keystore_folder, render_draft, status, submit_for_approval,
    through_the_chain,
)
from models.channels import no_clear_relay
from models.assignments import Assignment, AssignmentState, close_with_report
from models.config import today
from models.db import get_engine, session_scope
from models.document import Document
from models.reporting import ReportSpec, compose_report, report_date_check
from flows.presentation import run_namer
from prefect import flow, task

ACCEPTANCE = "Tiếp nhận báo cáo"


class ImplementationReport(ChainRequest):
    """A report of results on an assignment: the results as data, and who drafts, signs and issues it."""

    report: ReportSpec = Field(description="The results: per task of the plan, its status, results and notes")
    accepted_by: str | None = Field(default=None, description="Who receives it for the agency owed the report "
                                                              "(approval target); default the leadership of its Office")
    relay: str | None = Field(default=None, description="Outgoing mail relay; default VANBAN_SMTP_URL")

    _no_clear_relay = field_validator("relay")(no_clear_relay)


@task(name="compose-report")
def compose(spec: ReportSpec, on: date) -> tuple[dict[str, Any], int]:
    """The Báo cáo's draft for its date, checked against the assignment and its plan (nothing written)."""
    with session_scope(get_engine()) as session:
        draft_spec, assignment = compose_report(session, spec, on)
        return draft_spec, assignment.id


@task(name="check-report-date")
def check_date(assignment_id: int, on) -> None:  # noqa: ANN001
    with session_scope(get_engine()) as session:
        assignment = session.get(Assignment, assignment_id)
        report_date_check(assignment, session.get(Document, assignment.decision_id), on)


@task(name="assignment-of-report")
def assignment_of(spec: ReportSpec, report_id: int) -> int:
    from models.reporting import resolve_assignment
    from sqlmodel import select

    with session_scope(get_engine()) as session:
        closed = session.exec(select(Assignment).where(Assignment.report_id == report_id)).first()
        return closed.id if closed else resolve_assignment(session, spec).id


@task(name="close-assignment")
def close_assignment(assignment_id: int, report_id: int, actor: str) -> dict[str, Any]:
    """The issued report closes its assignment (once: a rerun finds it closed by this report)."""
    with session_scope(get_engine()) as session:
        assignment = session.get(Assignment, assignment_id)
        report = session.get(Document, report_id)
        if assignment.report_id != report_id:
            close_with_report(session, assignment, report, actor=actor)
        return {"assignment": assignment_id, "state": assignment.state.value, "on_time": assignment.on_time}


@task(name="open-acceptance")
def open_acceptance_step(report_id: int, approvers: str | None, actor: str) -> None:
    from models.approvals import open_acceptance
    from models.directory import Agency
    from sqlmodel import select

    with session_scope(get_engine()) as session:
        report = session.get(Document, report_id)
        assignment = session.exec(select(Assignment).where(Assignment.report_id == report_id)).first()
        if approvers is None:
            owed = session.get(Agency, assignment.report_to_id)
            office = session.exec(select(Agency).where(Agency.parent_id == owed.id, Agency.category == "office")).first()
            approvers = f"leaders:{(office or owed).code}"
        open_acceptance(session, report, name=ACCEPTANCE, approvers=(approvers,), actor=actor)


@task(name="assignment-state")
def assignment_state(assignment_id: int) -> str:
    with session_scope(get_engine()) as session:
        return session.get(Assignment, assignment_id).state.value


@flow(name="report-implementation", flow_run_name=run_namer("report-implementation"))
def report_implementation(request: ImplementationReport) -> dict[str, Any]:
    """The lead agency's Báo cáo on an assignment: drafted from the results, signed (a human step), issued, closing
    the assignment, sent to its Nơi nhận, and accepted (or returned for more) by the receiving Office."""
    files = files_folder()
    on = request.issued_on or today()
    report_id = request.document
    if report_id is None:
        draft_spec, assignment_id = compose(request.report, on)
        check_date(assignment_id, on)
        report_id = draft(draft_spec, request.drafted_by)
        render_draft(files, report_id)
    else:  # a rerun: go on with the report drafted before (its assignment may be closed by it already)
        assignment_id = assignment_of(request.report, report_id)
    submit_for_approval(report_id, request.drafted_by)
    outcome = through_the_chain(report_id, request.auto_approvers, keystore_folder(), request.drafted_by)
    if outcome not in ("signed", "issued"):
        return {"report": report_id, "assignment": assignment_id, "status": outcome}
    issued = issue(files, keystore_folder(), report_id, on, request.issued_by)
    closed = close_assignment(assignment_id, report_id, request.issued_by)
    sent = distribute(Distribution(document=report_id, distributed_by=request.issued_by, relay=request.relay))
    open_acceptance_step(report_id, request.accepted_by, request.issued_by)
    through_the_chain(report_id, request.auto_approvers, keystore_folder(), request.drafted_by)
    document_card(files, report_id)
    state = assignment_state(assignment_id)
    verdict = "accepted" if state == AssignmentState.REPORTED.value else "returned for more information"
    return {"report": report_id, "assignment": assignment_id, "documents": [issued], "distribution": sent,
            "status": f"report {status(report_id)}, {verdict}", "on_time": closed["on_time"]}
