"""The checks of a flow's parameters read from a clerk's YAML file (`vanban run`), made before the flow starts so
that a mistake is named at once, as one RuleViolation, instead of failing a Prefect run half-way."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models.db import session_scope
from models.document import Document
from models.errors import RuleViolation
from models.reporting import compose_report


def string_keys(value: Any, where: str) -> None:
    """YAML reads a bare on/off/yes/no as true/false: a key that became one is named, not silently dropped."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if not isinstance(key, str):
                raise RuleViolation(where, "file.yaml-key", f"the key {key!r} is not a name (YAML reads a bare on, off, "
                                                            "yes or no as true or false): quote it, or use the field's name")
            string_keys(inner, f"{where}.{key}")
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            string_keys(inner, f"{where}[{i}]")


def parse_parameters(model: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    """A flow's parameters from a spec; the first problem pydantic finds becomes one RuleViolation at its path."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"]).lstrip(".") or "spec"
        rule = first["type"] if "." in first["type"] else f"input.{first['type']}"  # our own rules carry their id
        raise RuleViolation(loc, rule, first["msg"]) from None


def check_documents(engine: Engine, flow_name: str, request: Any) -> None:
    """Check what a flow's parameters alone cannot tell before it starts, so a mistake is named at once: a report's
    results against its assignment and plan (the documents' specs are checked as the parameters are read)."""
    if flow_name == "report-implementation" and request.document is None:
        with session_scope(engine) as session:
            try:
                compose_report(session, request.report)
            except RuleViolation as exc:
                raise RuleViolation(f"report.{exc.field}", exc.rule, exc.message) from None
            session.rollback()


def resumption(session: Session, document: Document, clerk: str) -> tuple[str, dict[str, Any]]:
    """The flow that carries ``document`` on from where vanban's tables say it stands (`vanban resume`), and its
    parameters: its chain goes on at the pending step (a recorded answer is used as it is), then issue by
    ``clerk``. A submission goes with the plan attached to it; a report needs its results (report-implementation)."""
    from models.audit import Action, trail
    from models.document import DocumentKind, DocumentLink, DocumentStatus, LinkRelation

    if document.status is DocumentStatus.REJECTED:
        raise RuleViolation("document", "resume.ended", f"document #{document.id} was rejected: its chain has ended")
    if document.status is DocumentStatus.ISSUED:
        raise RuleViolation("document", "resume.issued", f"document #{document.id} is issued already; to send it: "
                                                         f"vanban distribute {document.id}")
    if document.kind is DocumentKind.REPORT:
        raise RuleViolation("document", "resume.report", "a report goes on with its results: vanban run "
                                                         f"report-implementation SPEC, with 'document: {document.id}'")
    links = session.exec(select(DocumentLink).where(DocumentLink.relation == LinkRelation.ATTACHED_TO)).all()
    carrier = next((link.to_id for link in links if link.from_id == document.id), None)
    if carrier is not None:
        raise RuleViolation("document", "resume.attached", f"document #{document.id} goes with submission "
                                                           f"#{carrier}: vanban resume {carrier}")
    drafted = next((e for e in trail(session, document.id) if e.action == Action.DRAFTED.value), None)
    people = {"document": document.id, "drafted_by": drafted.actor if drafted else clerk, "issued_by": clerk}
    plan = next((link.from_id for link in links if link.to_id == document.id), None)
    if document.kind is DocumentKind.SUBMISSION and plan is not None:
        return "submit-proposal", {**people, "plan": plan}
    return "decide", people
