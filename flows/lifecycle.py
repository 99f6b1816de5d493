"""`document-lifecycle`: the whole chain as subflows — draft the plan, submit it (the Tờ trình is sent to
its Nơi nhận with the plan attached), decide on it, send the decision to its Nơi nhận, track its
assignments on the given days, and report on them."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from flows.decide import DecisionDraft, decide
from flows.distribute import Distribution, distribute
from flows.report_implementation import ImplementationReport, report_implementation
from flows.track_implementation import Tracking, track_implementation
from flows.draft_plan import PlanDraft, draft_plan
from flows.submit_proposal import Proposal, submit_proposal
from models.channels import no_clear_relay
from models.legal_text import parse_date
from models.sample_data import SEED_CHAIN_FILE
from models.yaml_files import read_yaml
from flows.presentation import run_namer
from prefect import flow


class Lifecycle(BaseModel):
    """A plan's way from draft to the decision that approves it. The decision answers the submission and
    approves the plan the earlier steps create: its responds_to and approves are filled in by the lifecycle."""

    model_config = ConfigDict(extra="forbid")  # a mistyped field is an error, not a silent default

    plan: PlanDraft
    proposal: Proposal = Field(description="The submission; its 'plan' is filled in by the lifecycle")
    decision: DecisionDraft
    auto_approvers: list[str] = Field(default_factory=list, description="Officials who answer their steps at once (demo)")
    tracking_days: list[date] = Field(default_factory=list, description="Days to run track-implementation on")
    report: ImplementationReport | None = Field(default=None, description="The lead agency's report; its "
                                                "decision is the one the lifecycle issues")
    relay: str | None = Field(default=None, description="Outgoing mail relay for distribution; default VANBAN_SMTP_URL")

    _no_clear_relay = field_validator("relay")(no_clear_relay)


@flow(name="document-lifecycle", flow_run_name=run_namer("document-lifecycle"))
def document_lifecycle(request: Lifecycle) -> dict[str, Any]:
    """The whole chain as subflows: draft the plan, submit it (the Tờ trình, sent to its Nơi nhận), decide on it,
    send the decision, track its assignments on the given days, and report on them."""
    keys = {"auto_approvers": request.auto_approvers}
    plan_id = draft_plan(request.plan)
    proposal = submit_proposal(request.proposal.model_copy(update={**keys, "plan": plan_id}))
    if proposal["status"] != "issued":
        return {"plan": plan_id, "proposal": proposal, "status": f"submission {proposal['status']}"}
    sent = [distribute(Distribution(document=proposal["submission"], distributed_by=request.proposal.issued_by,
                                    relay=request.relay))]
    spec = request.decision.decision.model_copy(update={"responds_to": proposal["submission"], "approves": plan_id})
    decision = decide(request.decision.model_copy(update={**keys, "decision": spec}))
    if decision["status"] != "issued":
        return {"plan": plan_id, "proposal": proposal, "decision": decision, "distribution": sent,
                "status": f"decision {decision['status']}"}
    sent.append(distribute(Distribution(document=decision["decision"], distributed_by=request.decision.issued_by,
                                        relay=request.relay)))
    tracked = [track_implementation(Tracking(day=day, relay=request.relay))
               for day in request.tracking_days]
    out = {"plan": plan_id, "proposal": proposal, "decision": decision, "distribution": sent, "tracking": tracked,
           "status": "decision issued"}
    if request.report is not None:
        spec = request.report.report.model_copy(update={"decision": decision["decision"]})
        out["report"] = report_implementation(request.report.model_copy(update={
            **keys, "report": spec, "relay": request.relay}))
        out["status"] = out["report"]["status"]
    return out


def seed_lifecycle(path: Path = SEED_CHAIN_FILE, *, with_report: bool = True, **options: Any) -> Lifecycle:
    """The seed chain (10/TTr-STTTT, 11/KH-STTTT, 374/QĐ-UBND, then the tracking days and the sample report) as
    a lifecycle request, the sample officials answering their steps. The plan is drafted first here, so its
    link to the submission is made when the submission is drafted."""
    data = read_yaml(path)
    entries = {e["key"]: e for e in data["documents"]}
    plan, submission, decision = entries["plan"], entries["submission"], entries["decision"]
    plan_spec = {k: v for k, v in plan["draft"].items() if k != "links"}  # the lifecycle makes the links
    decision_spec = {k: v for k, v in decision["draft"].items() if k not in ("responds_to", "approves")}
    received = submission.get("received", {})
    return Lifecycle(
        plan=PlanDraft(spec=plan_spec, drafted_by=plan["drafted_by"]),
        proposal=Proposal(plan=0, submission=submission["draft"], drafted_by=submission["drafted_by"],
                          issued_by=submission["issued_by"], issued_on=parse_date(submission["issued_on"]),
                          to_agency=received.get("agency", "ubnd-tinh"), received_by=received.get("by"),
                          received_on=parse_date(received["on"]) if received else None,
                          assigned_to=received.get("assigned_to")),
        decision=DecisionDraft(decision=decision_spec, drafted_by=decision["drafted_by"],
                               issued_by=decision["issued_by"], issued_on=parse_date(decision["issued_on"])),
        tracking_days=[parse_date(d) for d in data.get("tracking_days", [])] if with_report else [],
        report=_report(data["report"]) if with_report and "report" in data else None,
        auto_approvers=data.get("approvers", []), **options,
    )


def _report(raw: dict[str, Any]) -> ImplementationReport:
    people = {k: raw[k] for k in ("drafted_by", "issued_by")}
    spec = {k: v for k, v in raw.items() if k not in ("drafted_by", "issued_by", "issued_on")}
    return ImplementationReport(report=spec, issued_on=parse_date(raw["issued_on"]), **people)
