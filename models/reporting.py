"""The report of results (Báo cáo kết quả thực hiện) on an assignment: what the lead agency gives as data,
checked against the plan the decision approved, and composed into a Báo cáo sent upward.

The Báo cáo: "Kết quả thực hiện Kế hoạch số 11/KH-STTTT ngày 20/02/2024", Kính gửi the agency owed the report,
section I (a khoản per task of the plan, its điểm: progress, results, notes), II (difficulties), III
(proposals); signed by the lead agency's head and numbered from its own register.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal

from pydantic import Field
from sqlmodel import Session, select

from models.assignments import Assignment, AssignmentState, find_assignment
from models.composition import reference
from models.config import today
from models.directory import Agency, agency_at, head_of
from models.document import Document, DocumentKind, DocumentLink, LinkRelation
from models.errors import RuleViolation
from models.kinds import type_name
from models.legal_text import lower_first, number_symbol
from models.schemas import AddresseeIn, Id, Strict, Texts

PROGRESS = {"done": "đã hoàn thành", "in_progress": "đang thực hiện", "not_started": "chưa thực hiện"}


class TaskResult(Strict):
    """The result of one task of the plan."""

    task: int = Field(ge=1, le=1000, description="Number of the task in the plan's section of tasks (NHIỆM VỤ …), e.g. 3")
    status: Literal["done", "in_progress", "not_started"] = Field(description="done, in_progress or not_started")
    figures: Texts = Field(default_factory=list, description="What was achieved, with its figures: one item per "
                           "result (a single text is one result)")
    notes: str | None = Field(default=None, description="Anything else about this task")


class ReportSpec(Strict):
    """What the lead agency reports on an assignment (a YAML file, or the report-implementation form)."""

    assignment: Id | None = Field(default=None, description="Id of the assignment (vanban assignments)")
    decision: Id | None = Field(default=None, description="Or: the decision's id, with the lead agency's code")
    lead: str | None = Field(default=None, description="With decision: the lead agency's code, e.g. sttt")
    results: list[TaskResult] = Field(min_length=1, description="One entry per task of the plan")
    difficulties: Texts = Field(default_factory=list, description="Khó khăn, vướng mắc: one paragraph per item")
    proposals: Texts = Field(default_factory=list, description="Đề xuất, kiến nghị: one paragraph per item")
    signer: str | None = Field(default=None, description="Official code; default the lead agency's head")
    drafting_unit: str | None = Field(default=None, description="Default the plan's drafting unit")
    recipients: list[AddresseeIn] | None = Field(default=None, description="Nơi nhận; default: Như trên; "
                                                 "GĐ và các PGĐ Sở; Lưu: VT, <drafting unit>")
    is_sample: bool = False


def resolve_assignment(session: Session, spec: ReportSpec) -> Assignment:
    """The open assignment a report is for (by id, or by decision and lead agency)."""
    if spec.assignment is not None:
        assignment = find_assignment(session, spec.assignment)
    elif spec.decision is not None and spec.lead:
        lead = session.exec(select(Agency).where(Agency.code == spec.lead)).first()
        assignment = session.exec(select(Assignment).where(
            Assignment.decision_id == spec.decision, Assignment.lead_id == (lead.id if lead else -1))
            .order_by(Assignment.position)).first()
        if assignment is None:
            raise RuleViolation("assignment", "assignment.unknown",
                                f"decision #{spec.decision} gives no assignment to '{spec.lead}'")
    else:
        raise RuleViolation("assignment", "report.assignment-required", "name the assignment, or the decision and the lead")
    if assignment.state is not AssignmentState.OPEN:
        raise RuleViolation("assignment", "assignment.closed",
                            f"assignment #{assignment.id} is closed: it was reported on {assignment.reported_on:%d/%m/%Y}")
    return assignment


def approved_plan(session: Session, decision: Document) -> Document:
    plan = session.exec(select(Document).join(DocumentLink, DocumentLink.to_id == Document.id).where(
        DocumentLink.from_id == decision.id, DocumentLink.relation == LinkRelation.APPROVES)).first()
    if plan is None or plan.number is None:
        raise RuleViolation("assignment", "report.no-plan", f"decision #{decision.id} approves no issued plan to report on")
    return plan


def plan_tasks(plan: Document) -> dict[int, str]:
    """The plan's tasks: the numbered khoản of its section of tasks (a title starting 'NHIỆM VỤ')."""
    for section in plan.body.get("sections", []):
        if (section.get("title") or "").upper().startswith("NHIỆM VỤ"):
            tasks = {}
            for child in section.get("children", []):
                m = re.fullmatch(r"(\d+)\.", child.get("label", ""))
                if m:
                    tasks[int(m[1])] = child.get("title") or child.get("text") or ""
            if tasks:
                return tasks
    raise RuleViolation("assignment", "report.plan-tasks", "the approved plan has no numbered section of tasks (NHIỆM VỤ …)")


def task_title(text: str) -> str:
    """'Rà soát … trên địa bàn tỉnh; thời gian thực hiện: quý II năm 2024.' → 'Rà soát … trên địa bàn tỉnh'."""
    return re.split(r";\s*thời gian thực hiện", text)[0].rstrip(" .;")


def _check_tasks(spec: ReportSpec, tasks: dict[int, str], plan_ref: str) -> None:
    listed = ", ".join(str(n) for n in sorted(tasks))
    seen: set[int] = set()
    for i, result in enumerate(spec.results):
        if result.task not in tasks:
            raise RuleViolation(f"results[{i}].task", "report.unknown-task",
                                f"{plan_ref} has no task {result.task} (its tasks: {listed})")
        if result.task in seen:
            raise RuleViolation(f"results[{i}].task", "report.task-twice", f"task {result.task} is reported twice")
        seen.add(result.task)
    missing = sorted(set(tasks) - seen)
    if missing:
        raise RuleViolation("results", "report.task-missing",
                            f"tasks {', '.join(map(str, missing))} of {plan_ref} have no result; report each task")


def compose_report(session: Session, spec: ReportSpec | dict[str, Any], on: date | None = None) -> tuple[dict[str, Any], Assignment]:
    """The Báo cáo as a draft spec (DocumentCreate fields) for the date ``on`` (default today), with the directory of
    that day, and the assignment it reports on. Reads only."""
    if isinstance(spec, dict):
        spec = ReportSpec.model_validate(spec)
    on = on or today()
    assignment = resolve_assignment(session, spec)
    decision = session.get(Document, assignment.decision_id)
    plan = approved_plan(session, decision)
    plan_ref = reference(type_name(plan.kind), number_symbol(plan.number, plan.symbol), plan.issued_on)
    tasks = plan_tasks(plan)
    _check_tasks(spec, tasks, plan_ref)
    lead, owed = (agency_at(session, i, on) for i in (assignment.lead_id, assignment.report_to_id))
    issuer = agency_at(session, decision.issuer_id, decision.issued_on)
    decision_ref = reference(type_name(decision.kind), number_symbol(decision.number, decision.symbol), decision.issued_on)
    khoan = []
    for n, result in enumerate(sorted(spec.results, key=lambda r: r.task), start=1):
        points = [f"Tiến độ: {PROGRESS[result.status]}."]
        points += [f"Kết quả: {text.rstrip('.;')}." for text in result.figures]
        if result.notes:
            points.append(f"Ghi chú: {result.notes.rstrip('.;')}.")
        khoan.append({"label": f"{n}.", "title": task_title(tasks[result.task]),
                      "children": [{"label": f"{chr(ord('a') + j)})", "text": p} for j, p in enumerate(points)]})
    unit = spec.drafting_unit or plan.drafting_unit
    signer = spec.signer or _head(session, lead, on)
    body = {
        "intro": [f"Thực hiện {decision_ref} của {issuer.name} về việc {lower_first(decision.subject)}, {lead.name} "
                  f"báo cáo kết quả thực hiện {plan_ref} như sau:"],
        "sections": [
            {"label": "I.", "title": "KẾT QUẢ THỰC HIỆN", "children": khoan},
            {"label": "II.", "title": "KHÓ KHĂN, VƯỚNG MẮC",
             "paragraphs": spec.difficulties or ["Không có khó khăn, vướng mắc."]},
            {"label": "III.", "title": "ĐỀ XUẤT, KIẾN NGHỊ", "paragraphs": spec.proposals or ["Không có."]},
        ],
        "closing": [f"{lead.name} kính báo cáo {owed.name} xem xét, chỉ đạo."],
    }
    recipients = spec.recipients or [
        AddresseeIn(text="Như trên", targets=["above"]),
        AddresseeIn(text="GĐ và các PGĐ Sở" if lead.category == "department" else "Lãnh đạo",
                    targets=[f"leaders:{lead.code}"]),
        AddresseeIn(text=f"Lưu: VT, {unit}" if unit else "Lưu: VT", targets=["archive"]),
    ]
    draft = {
        "kind": DocumentKind.REPORT.value, "issuer": lead.code, "drafting_unit": unit, "is_sample": spec.is_sample,
        "dated": on.isoformat(),
        "subject": f"Kết quả thực hiện {plan_ref}", "body": body, "signer": signer,
        "kinh_gui": [{"text": owed.name, "targets": [f"agency:{owed.code}"]}],
        "recipients": [r.model_dump(mode="json", exclude_none=True) for r in recipients],
        "links": [{"relation": LinkRelation.REPORTS_ON.value, "document": decision.id}],
    }
    return draft, assignment


def _head(session: Session, agency: Agency, on: date | None) -> str:
    head = head_of(session, agency.id, on)
    if head is None:
        raise RuleViolation("signer", "report.no-signer", f"{agency.name} has no head in the directory: name the signer")
    return head.code


def report_date_check(assignment: Assignment, decision: Document, on: date) -> None:
    """A report cannot be dated before the decision that asked for it."""
    if decision.issued_on and on < decision.issued_on:
        raise RuleViolation("issued_on", "report.before-decision",
                            f"a report of {on:%d/%m/%Y} cannot answer a decision of {decision.issued_on:%d/%m/%Y}")
