"""`decide`: the People's Committee Office drafts the Quyết định from the submission; the Office's leadership
checks it and the competent leader signs (human steps); the văn thư numbers and issues it."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from flows.steps import (
    ChainRequest, spec_needed, document_card, draft, issue, files_folder, keystore_folder, render_draft, submit_for_approval,
    through_the_chain,
)
from models.config import today
from models.schemas import DocumentCreate
from flows.presentation import run_namer
from prefect import flow


class DecisionDraft(ChainRequest):
    """The decision to draft, approve and issue."""

    decision: DocumentCreate | None = Field(default=None, description="The Quyết định to draft (the fields of "
                                            "'vanban draft'), responds_to and approves naming the submission and the "
                                            "plan; none when 'document' goes on with a draft")

    @model_validator(mode="after")
    def _spec_or_document(self) -> DecisionDraft:
        spec_needed(self, self.decision, "decision")
        return self


@flow(name="decide", flow_run_name=run_namer("decide"))
def decide(request: DecisionDraft) -> dict[str, Any]:
    """Draft the Quyết định (or go on with ``document``), take it through review and signing (human steps; a
    return waits for the drafter in this run), then number and issue it (ban hành)."""
    files = files_folder()
    decision_id = request.document
    if decision_id is None:
        decision_id = draft(request.decision, request.drafted_by)
        render_draft(files, decision_id)
    submit_for_approval(decision_id, request.drafted_by)
    outcome = through_the_chain(decision_id, request.auto_approvers, keystore_folder(), request.drafted_by)
    if outcome not in ("signed", "issued"):  # issued: a rerun, which the issue task leaves as it is
        document_card(files, decision_id)
        return {"decision": decision_id, "status": outcome}
    issued = issue(files, keystore_folder(), decision_id, request.issued_on or today(), request.issued_by)
    document_card(files, decision_id)
    return {"decision": decision_id, "status": "issued", "documents": [issued]}
