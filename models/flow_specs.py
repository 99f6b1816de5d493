"""The checks of a flow's parameters read from a clerk's YAML file (`vanban run`), made before the flow starts so
that a mistake is named at once, as one RuleViolation, instead of failing a Prefect run half-way."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.engine import Engine

from models.db import session_scope
from models.drafting import parse_create
from models.errors import RuleViolation
from models.reporting import compose_report
from models.sample_data import fill_references


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
    """Validate the documents a flow will draft before it starts, so a mistake is named at once."""
    specs = {"draft-plan": lambda r: [("spec", r.spec)],
             "submit-proposal": lambda r: [("submission", r.submission)],
             "decide": lambda r: [("decision", r.decision)] if r.document is None else [],
             "document-lifecycle": lambda r: [("plan.spec", r.plan.spec), ("proposal.submission", r.proposal.submission),
                                              ("decision.decision", fill_references(r.decision.decision, {"plan": 1, "submission": 1}))]}
    if flow_name == "report-implementation" and request.document is None:  # checked against its assignment and plan
        with session_scope(engine) as session:
            try:
                compose_report(session, request.report)
            except RuleViolation as exc:
                raise RuleViolation(f"report.{exc.field}", exc.rule, exc.message) from None
            session.rollback()
    for where, spec in specs.get(flow_name, lambda _r: [])(request):
        try:
            parse_create(spec)
        except RuleViolation as exc:
            raise RuleViolation(f"{where}.{exc.field}", exc.rule, exc.message) from None
