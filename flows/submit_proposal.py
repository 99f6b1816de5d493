"""`submit-proposal`: the department's Tờ trình carries the plan to UBND tỉnh. Its head signs both at a
human step; both are numbered from the department's register (the submission first) and issued; the
receiving văn thư registers the submission as an incoming document."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field, model_validator

from flows.steps import (
    ChainRequest, spec_needed, document_card, draft, issue, files_folder, keystore_folder, receive, render_draft, sign_like,
    submit_for_approval, through_the_chain,
)
from models.config import today
from models.document import MAX_ID, LinkRelation
from models.schemas import DocumentCreate, LinkIn
from flows.presentation import run_namer
from prefect import flow


class Proposal(ChainRequest):
    """The submission of a drafted plan."""

    plan: int = Field(ge=0, le=MAX_ID, description="Id of the drafted plan the submission carries (0 in a "
                                                   "lifecycle, which fills it in)")
    submission: DocumentCreate | None = Field(default=None, description="The Tờ trình to draft (the fields of "
                                              "'vanban draft'); none when 'document' goes on with a draft")
    to_agency: str = Field(default="ubnd-tinh", description="The agency it is submitted to")
    received_by: str | None = Field(default=None, description="Văn thư who registers it there (none: not yet)")
    received_on: date | None = Field(default=None, description="Date it arrives; default the date of issue")
    assigned_to: str | None = Field(default=None, description="Unit or person it is passed to on arrival")

    @model_validator(mode="after")
    def _spec_or_document(self) -> Proposal:
        spec_needed(self, self.submission, "submission")
        return self


@flow(name="submit-proposal", flow_run_name=run_namer("submit-proposal"))
def submit_proposal(request: Proposal) -> dict[str, Any]:
    """The department's Tờ trình carries the drafted plan: its head signs both (a human step), both are numbered
    and issued, and the receiving văn thư registers the submission as arrived."""
    files = files_folder()
    submission_id = request.document
    if submission_id is None:
        spec = request.submission.model_copy(update={"links": [
            *request.submission.links, LinkIn(relation=LinkRelation.PROPOSES, document=request.plan)]})
        submission_id = draft(spec, request.drafted_by, links=[("attached_to", request.plan)])
        render_draft(files, submission_id)
    submit_for_approval(submission_id, request.drafted_by)
    outcome = through_the_chain(submission_id, request.auto_approvers, keystore_folder(), request.drafted_by)
    if outcome not in ("signed", "issued"):  # issued: a rerun, which the issue task leaves as it is
        return {"submission": submission_id, "plan": request.plan, "status": outcome}
    sign_like(request.plan, like=submission_id)
    on = request.issued_on or today()
    submission = issue(files, keystore_folder(), submission_id, on, request.issued_by)
    plan = issue(files, keystore_folder(), request.plan, on, request.issued_by)
    if request.received_by:
        for document_id in (submission_id, request.plan):
            receive(document_id, request.to_agency, request.received_on or on, request.received_by,
                    request.assigned_to)
    for document_id in (submission_id, request.plan):
        document_card(files, document_id)
    return {"submission": submission_id, "plan": request.plan, "status": "issued", "documents": [submission, plan]}
