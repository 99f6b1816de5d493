"""`draft-plan`: a department drafts a Kế hoạch from structured input; the draft DOCX has a blank number."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from flows.steps import draft, files_folder, render_draft
from models.schemas import DocumentCreate
from flows.presentation import run_namer
from prefect import flow


class PlanDraft(BaseModel):
    """What the department drafts."""

    model_config = ConfigDict(extra="forbid")  # a mistyped field is an error, not a silent default

    spec: DocumentCreate = Field(description="The plan: the fields of a draft (models/schemas.py, DocumentCreate)")
    drafted_by: str = Field(description="Official code of the drafter, e.g. cv-sttt")



@flow(name="draft-plan", flow_run_name=run_namer("draft-plan"))
def draft_plan(request: PlanDraft) -> int:
    """Draft the plan and its DOCX; returns the document id."""
    files = files_folder()
    plan_id = draft(request.spec, request.drafted_by)
    render_draft(files, plan_id)
    return plan_id
