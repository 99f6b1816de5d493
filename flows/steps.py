"""The units of work the flows are made of: each a Prefect task running one transaction of vanban's
services, so a step's change and its audit entry commit together. Where vanban's data lives (database, files,
keys) is the configuration of the process that runs them (VANBAN_HOME, VANBAN_DATABASE_URL, VANBAN_KEYSTORE),
never a flow's parameter: Prefect keeps parameters and shows them in the clerk's form."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import flows.runtime  # noqa: F401  (Prefect settings before Prefect loads)
from models.approvals import ApprovalStep, Decision, StepStatus, answer_with_key, submit
from models.config import get_settings
from models.db import get_engine, session_scope
from models.document import Document, DocumentLink, DocumentStatus, LinkRelation
from models.drafting import draft_document
from models.incoming import IncomingEntry, register_incoming
from models.issuing import save_rendering
from models.directory import agency_by_code
from models.schemas import DocumentCreate, Id, date_input
from pydantic import BaseModel, ConfigDict, Field, field_validator

from models.legal_text import number_symbol, short_date
from prefect import get_run_logger, task
from sqlmodel import select


class ChainRequest(BaseModel):
    """What the flows that take a document through its approval chain to issue have in common."""

    model_config = ConfigDict(extra="forbid")  # a mistyped field is an error, not a silent default

    drafted_by: str = Field(description="Official code of the drafter")
    issued_by: str = Field(description="Official code of the văn thư who issues it")
    issued_on: date | None = Field(default=None, description="Date of issue; default today (Vietnam time)")
    auto_approvers: list[str] = Field(default_factory=list, description="Sample officials who answer their steps at "
                                      "once, with their keys (the demo and the tests only)")
    document: Id | None = Field(default=None, description="Continue this document instead of drafting one")

    _check_date = field_validator("issued_on", mode="before")(date_input)  # '04/3/2024' as clerks write it


def spec_needed(request: ChainRequest, spec: DocumentCreate | None, field: str) -> None:
    """A request drafts its document from ``spec`` unless it goes on with ``document``."""
    if spec is None and request.document is None:
        raise ValueError(f"{field} is required unless 'document' names the draft to go on with")


@task(name="draft")
def draft(spec: DocumentCreate, drafted_by: str, links: list[tuple[str, int]] = ()) -> int:
    """Store the draft; links from other documents to it (e.g. the plan attached to a submission) go with it."""
    with session_scope(get_engine()) as session:
        doc = draft_document(session, spec, actor=drafted_by)
        for relation, from_id in links:
            session.add(DocumentLink(from_id=from_id, to_id=doc.id, relation=LinkRelation(relation)))
        return doc.id


@task(name="render-draft", retries=2, retry_delay_seconds=1)
def render_draft(files: str, document_id: int) -> str:
    """The draft DOCX (blank number), kept by its SHA-256."""
    from doc_templates import render_document

    from flows.presentation import link_draft

    with session_scope(get_engine()) as session:
        doc = session.get(Document, document_id)
        digest = save_rendering(session, doc, "draft", render_document(session, doc), Path(files)).sha256
        link_draft(doc, files, digest)
        return digest


@task(name="submit")
def submit_for_approval(document_id: int, submitted_by: str) -> None:
    """Start the approval chain, unless it has started already (a rerun goes on where it stands)."""
    with session_scope(get_engine()) as session:
        doc = session.get(Document, document_id)
        started = session.exec(select(ApprovalStep).where(ApprovalStep.document_id == document_id)).first()
        if started is None and doc.status is DocumentStatus.DRAFT:
            submit(session, doc, actor=submitted_by)


@task(name="current-step")
def current_step(document_id: int) -> int | None:
    with session_scope(get_engine()) as session:
        step = session.exec(select(ApprovalStep).where(ApprovalStep.document_id == document_id,
                                                       ApprovalStep.status == StepStatus.PENDING)).first()
        return step.id if step else None


@task(name="auto-answer")
def auto_answer(keystore: str, step_id: int, officials: list[str]) -> bool:
    """The sample officials of the demo answer their steps themselves, signed with their keys from ``keystore`` and
    recorded as automatic."""
    import os

    engine = get_engine()
    with session_scope(engine) as session:
        approvers = session.get(ApprovalStep, step_id).approvers
    who = next((code for code in officials if code in approvers), None)
    if who is None:
        return False
    answer_with_key(engine, step_id, actor=who, decision=Decision.APPROVE, keystore=Path(keystore),
                    passphrase=os.environ.get("VANBAN_KEY_PASSPHRASE", ""), automatic=True)
    return True


@task(name="sign-with")
def sign_like(document_id: int, like: int) -> None:
    """Sign a document the way another was signed (the plan a signed submission carries): the signer's proof is
    the one he gave at the submission's signing step, named in the plan's entry."""
    from models.directory import Official
    from models.signing import sign_document

    with session_scope(get_engine()) as session:
        doc, model = session.get(Document, document_id), session.get(Document, like)
        signed = session.exec(select(ApprovalStep).where(ApprovalStep.document_id == like, ApprovalStep.kind == "sign",
                                                         ApprovalStep.status == StepStatus.APPROVED)
                              .order_by(ApprovalStep.round.desc())).first()
        if doc.status is DocumentStatus.DRAFT:
            sign_document(session, doc, session.get(Official, model.signer_id).code, model.authority_form,
                          evidence={"with_document": like, "with_step": signed.id if signed else None})


@task(name="issue", retries=2, retry_delay_seconds=1)
def issue(files: str, keystore: str, document_id: int, issued_on: date, issued_by: str) -> dict[str, Any]:
    """Number, date and render the signed document, the log checkpointed with the issuing agency's key from
    ``keystore``; an issued one is left as it is (a rerun)."""
    import os

    from models.checkpoints import issue_sealed

    with session_scope(get_engine()) as session:
        doc = session.get(Document, document_id)
        if doc.status is DocumentStatus.SIGNED:
            issue_sealed(session, doc, issued_on, Path(files), keystore=Path(keystore),
                         passphrase=os.environ.get("VANBAN_KEY_PASSPHRASE", ""), actor=issued_by)
        get_run_logger().info("đã ban hành văn bản số %s ngày %s: %s", number_symbol(doc.number, doc.symbol),
                              short_date(doc.issued_on), doc.subject)
        return {"id": doc.id, "number": doc.number, "symbol": doc.symbol, "issued_on": doc.issued_on,
                "status": doc.status.value}


@task(name="document-card")
def document_card(files: str, document_id: int) -> str:
    """The document's card in the Prefect UI (a markdown artifact): status, files, human steps, deliveries."""
    from flows.presentation import publish_card

    return publish_card(files, document_id)


@task(name="register-incoming")
def receive(document_id: int, agency: str, received_on: date, received_by: str,
            assigned_to: str | None = None) -> int:
    """The receiving văn thư registers the document as arrived (once)."""
    with session_scope(get_engine()) as session:
        target = agency_by_code(session, agency, "agency")
        existing = session.exec(select(IncomingEntry).where(IncomingEntry.document_id == document_id,
                                                            IncomingEntry.agency_id == target.id)).first()
        if existing is None:
            existing = register_incoming(session, target, session.get(Document, document_id), received_on,
                                         assigned_to=assigned_to, actor=received_by)
        return existing.number


@task(name="status")
def status(document_id: int) -> str:
    with session_scope(get_engine()) as session:
        return session.get(Document, document_id).status.value


def files_folder() -> str:
    """The configured folder of generated files."""
    return str(get_settings().files_dir)


def keystore_folder() -> str:
    """The configured keystore: the automatic answers' keys and the issuing agency's (its passphrase:
    VANBAN_KEY_PASSPHRASE, never a parameter)."""
    return str(get_settings().keystore_dir)


def through_the_chain(document_id: int, auto_approvers: list[str], keystore: str, drafter: str) -> str:
    """Answer each pending step (or let the sample officials answer theirs) until the chain ends: 'signed' or
    'rejected' (or 'issued', a rerun). A return for rework waits, in this run, for ``drafter`` to revise and
    resubmit; the chain then goes on from the step that returned it."""
    from flows.human_step import wait_for_answer, wait_for_revision

    while True:
        while (step_id := current_step(document_id)) is not None:
            if not (auto_approvers and auto_answer(keystore, step_id, auto_approvers)):
                wait_for_answer(get_engine(), step_id)
        outcome = status(document_id)
        if outcome != DocumentStatus.DRAFT.value:
            return outcome
        wait_for_revision(get_engine(), document_id, drafter)
