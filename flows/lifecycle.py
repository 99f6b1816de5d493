"""`document-lifecycle`: the whole chain as subflows — draft the plan, submit it (the Tờ trình is sent to
its Nơi nhận with the plan attached), decide on it, and send the decision to its Nơi nhận."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from flows.decide import DecisionDraft, decide
from flows.distribute import Distribution, distribute
from flows.draft_plan import PlanDraft, draft_plan
from flows.submit_proposal import Proposal, submit_proposal
from models.legal_text import parse_date
from models.sample_data import SEED_CHAIN_FILE, fill_references, read_yaml
from prefect import flow


class Lifecycle(BaseModel):
    """A plan's way from draft to the decision that approves it. In the decision's fields '@plan' and
    '@submission' stand for the documents the earlier steps create."""

    plan: PlanDraft
    proposal: Proposal = Field(description="The submission; its 'plan' is filled in by the lifecycle")
    decision: DecisionDraft
    auto_approvers: list[str] = Field(default_factory=list, description="Officials who answer their steps at once (demo)")
    relay: str | None = Field(default=None, description="Outgoing mail relay for distribution; default VANBAN_SMTP_URL")
    database: str | None = None
    files: str | None = None


@flow(name="document-lifecycle")
def document_lifecycle(request: Lifecycle) -> dict[str, Any]:
    where = {"database": request.database, "files": request.files}
    plan_id = draft_plan(request.plan.model_copy(update=where))
    proposal = submit_proposal(request.proposal.model_copy(update={
        **where, "plan": plan_id, "auto_approvers": request.auto_approvers}))
    if proposal["status"] != "issued":
        return {"plan": plan_id, "proposal": proposal, "status": f"submission {proposal['status']}"}
    sent = [distribute(Distribution(document=proposal["submission"], distributed_by=request.proposal.issued_by,
                                    relay=request.relay, **where))]
    spec = fill_references(request.decision.decision, {"plan": plan_id, "submission": proposal["submission"]})
    decision = decide(request.decision.model_copy(update={**where, "decision": spec,
                                                          "auto_approvers": request.auto_approvers}))
    if decision["status"] == "issued":
        sent.append(distribute(Distribution(document=decision["decision"], distributed_by=request.decision.issued_by,
                                            relay=request.relay, **where)))
    return {"plan": plan_id, "proposal": proposal, "decision": decision, "distribution": sent,
            "status": f"decision {decision['status']}"}


def seed_lifecycle(path: Path = SEED_CHAIN_FILE, **where: Any) -> Lifecycle:
    """The seed chain (10/TTr-STTTT, 11/KH-STTTT, 374/QĐ-UBND) as a lifecycle request, the sample officials
    answering their steps. The plan is drafted first here, so its link to the submission is made when the
    submission is drafted."""
    data = read_yaml(path)
    entries = {e["key"]: e for e in data["documents"]}
    plan, submission, decision = entries["plan"], entries["submission"], entries["decision"]
    plan_spec = {k: v for k, v in plan["draft"].items() if k != "links"}
    received = submission.get("received", {})
    return Lifecycle(
        plan=PlanDraft(spec=plan_spec, drafted_by=plan["drafted_by"]),
        proposal=Proposal(plan=0, submission=submission["draft"], drafted_by=submission["drafted_by"],
                          issued_by=submission["issued_by"], issued_on=parse_date(submission["issued_on"]),
                          to_agency=received.get("agency", "ubnd-tinh"), received_by=received.get("by"),
                          received_on=parse_date(received["on"]) if received else None,
                          assigned_to=received.get("assigned_to")),
        decision=DecisionDraft(decision=decision["draft"], drafted_by=decision["drafted_by"],
                               issued_by=decision["issued_by"], issued_on=parse_date(decision["issued_on"])),
        auto_approvers=data.get("approvers", []), **where,
    )
