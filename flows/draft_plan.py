"""`draft-plan`: a department drafts a Kế hoạch from structured input; the draft DOCX has a blank number."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from flows.steps import DATABASE_HELP, draft, locations, render_draft
from models.schemas import DocumentCreate
from models.secret_refs import no_clear_secret
from flows.presentation import run_namer
from prefect import flow


class PlanDraft(BaseModel):
    """What the department drafts."""

    spec: DocumentCreate = Field(description="The plan: the fields of a draft (models/schemas.py, DocumentCreate)")
    drafted_by: str = Field(description="Official code of the drafter, e.g. cv-sttt")
    database: str | None = Field(default=None, description=DATABASE_HELP)
    files: str | None = Field(default=None, description="Folder for generated files; default the configured one")

    _no_password = field_validator("database")(no_clear_secret)


@flow(name="draft-plan", flow_run_name=run_namer("draft-plan"))
def draft_plan(request: PlanDraft) -> int:
    """Draft the plan and its DOCX; returns the document id."""
    database, files = locations(request.database, request.files)
    plan_id = draft(database, request.spec, request.drafted_by)
    render_draft(database, files, plan_id)
    return plan_id
