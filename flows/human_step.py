"""Where a flow waits for a person: a human step of the approval chain (models/approvals.py).

vanban's table is the record of every answer. A flow first reads the step there: an answer given while no
process waited (from the CLI, or before a crash) is used as it is. Otherwise the run pauses with Prefect's
interactive input, whose form is ``Answer``; a clerk answers with `vanban approve|return|reject`, which
records the answer and wakes the run, or in the Prefect UI, whose input the flow records through the same
service. An answer in the UI is proved by a one-time code from the official's authenticator (TOTP), as e-office
systems ask for one at review; signing is not done in the form: the signer signs with his key from the CLI, as
a USB token or remote-signing CA is used there. A refused answer (not an approver, no code or a wrong one, an
attempt to sign) is recorded and the step keeps waiting.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from sqlalchemy.engine import Engine
from sqlmodel import Session

import flows.runtime  # noqa: F401  (Prefect settings before Prefect loads)
from flows.presentation import revision_form, step_form
from models.approvals import ApprovalStep, StepStatus, answer, resubmit, returned_step
from models.credentials import OtpProof
from models.db import session_scope
from models.document import Document
from models.schemas import DocumentCreate
from models.errors import RuleViolation
from prefect import get_run_logger, pause_flow_run, resume_flow_run
from prefect.context import FlowRunContext
from prefect.input import RunInput

WAIT_SECONDS = 60 * 60 * 24 * 30  # a leader may take weeks; Prefect's default (one hour) would fail the run
POLL_SECONDS = 2  # how often a paused run asks whether it was resumed (Prefect's default: 10 s)


class Answer(RunInput):
    """Your answer at this step of the approval chain."""

    decision: Literal["approve", "return", "reject"] = Field(
        description="approve; return for rework (the drafter revises and resubmits); reject (the document ends)")
    answered_by: str = Field(description="Your official code, e.g. pct-vhxh: only the step's approvers may answer")
    text: str | None = Field(default=None, description="A comment when approving; the reason when returning or rejecting")
    otp: str = Field(default="", description="The six digits your authenticator shows now (vanban keys totp-enrol). "
                                             "Signing is not done here: sign with 'vanban approve STEP --as CODE'")


def wait_for_answer(engine: Engine, step_id: int) -> ApprovalStep:
    """The step once answered (approved, returned or rejected)."""
    logger = get_run_logger()
    attempt = 0
    while True:
        with session_scope(engine) as session:
            step = session.get(ApprovalStep, step_id)
            if step.status is not StepStatus.PENDING:
                return step
            run = FlowRunContext.get()
            step.flow_run_id = str(run.flow_run.id) if run else None  # so `vanban approve` can wake this run
            session.add(step)
            who, name, form = ", ".join(step.approvers), step.name, step_form(session, step)
        logger.warning("chờ %s trả lời bước #%s (%s)", who, step_id, name)
        attempt += 1
        given = pause_flow_run(wait_for_input=Answer.with_initial_data(description=form), timeout=WAIT_SECONDS,
                               poll_interval=POLL_SECONDS, key=f"step-{step_id}-{attempt}")
        with Session(engine) as session:
            still_pending = session.get(ApprovalStep, step_id).status is StepStatus.PENDING
        if still_pending:  # answered in the Prefect UI: record it like any other answer
            try:
                answer(engine, step_id, actor=given.answered_by, decision=given.decision, text=given.text,
                       proof=OtpProof(given.otp))
                logger.warning("đã ghi nhận: %s %s bước #%s", given.answered_by, given.decision, step_id)
            except RuleViolation as exc:
                logger.warning("trả lời bị từ chối tại bước #%s: %s", step_id, exc)


class Revision(RunInput):
    """The draft came back for rework: revise it (or not) and resubmit; the chain goes on at the step that
    returned it."""

    resubmitted_by: str = Field(description="Your official code: the drafter resubmits")
    spec: DocumentCreate | None = Field(default=None, description="The revised draft in full (the fields of "
                                        "'vanban draft'); none: resubmit the draft as it is")


def wait_for_revision(engine: Engine, document_id: int, drafter: str) -> None:
    """Wait, in this run, until the returned draft is resubmitted: by `vanban resubmit` (recorded, then this run
    woken) or in the Prefect UI's form, recorded here through the same service."""
    logger = get_run_logger()
    attempt = 0
    while True:
        with session_scope(engine) as session:
            doc = session.get(Document, document_id)
            back = returned_step(session, doc)
            if back is None:  # resubmitted: a step of the new round waits
                return
            run = FlowRunContext.get()
            back.flow_run_id = str(run.flow_run.id) if run else None  # so `vanban resubmit` can wake this run
            session.add(back)
            reason, round_, form = back.comment or "", back.round, revision_form(session, doc, back, drafter)
        logger.warning("văn bản #%s bị trả lại tại bước %s (%s): chờ %s sửa và trình lại", document_id, back.name,
                       reason, drafter)
        attempt += 1
        given = pause_flow_run(wait_for_input=Revision.with_initial_data(description=form), timeout=WAIT_SECONDS,
                               poll_interval=POLL_SECONDS,
                               key=f"revise-{document_id}-{round_}-{attempt}")  # a key given once is answered once
        try:
            with session_scope(engine) as session:
                doc = session.get(Document, document_id)
                if returned_step(session, doc) is not None:  # resubmitted in the Prefect UI: record it here
                    spec = given.spec.model_dump(exclude_unset=True, mode="json") if given.spec else None
                    resubmit(session, doc, actor=given.resubmitted_by, spec=spec)
            logger.warning("văn bản #%s đã được trình lại", document_id)
        except RuleViolation as exc:
            logger.warning("trình lại bị từ chối, văn bản #%s: %s", document_id, exc)


def wake(flow_run_id: str, run_input: dict, *, document_id: int) -> str:
    """Resume the run waiting on an answered step. The answer is recorded already, so whatever Prefect says is
    told in one line: a run no longer paused (its process ended) or unknown here is carried on by
    `vanban resume`, which reads the recorded answer."""
    import time
    from uuid import UUID

    from prefect import get_client

    go_on = f"`vanban resume {document_id} --as CLERK` carries the document on from the recorded answer"
    deadline = time.monotonic() + 20  # a run that marked the step may still be on its way into the pause
    try:
        with get_client(sync_client=True) as client:
            run = client.read_flow_run(UUID(flow_run_id))
            while run.state is not None and run.state.is_running() and time.monotonic() < deadline:
                time.sleep(0.5)
                run = client.read_flow_run(UUID(flow_run_id))
        if run.state is None or not run.state.is_paused():
            return f"flow run {flow_run_id} is not waiting ({run.state.type.value if run.state else 'unknown'}): {go_on}"
        resume_flow_run(UUID(flow_run_id), run_input=run_input)
    except Exception as exc:  # noqa: BLE001 - the answer stands whatever Prefect says; say it in one line
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"flow run {flow_run_id} could not be woken here ({reason}): {go_on}"
    return f"flow run {flow_run_id} resumed"
