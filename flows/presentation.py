"""How vanban's runs read in the Prefect UI: run names that say what runs (`decide · 374/QĐ-UBND`), the text of a
paused step's form, and the artifacts a clerk opens (the draft DOCX as a link, one card per document with its
status, files, human steps and delivery ledger). Nothing here changes vanban's data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session, select

from models.approvals import ApprovalStep
from models.db import get_engine, session_scope
from models.deliveries import ledger, summary
from models.document import Document, GeneratedFile
from models.files import path_of
from models.legal_text import number_symbol, short_date

SUBJECT_SHOWN = 60  # characters of a trích yếu in a run name or a form's title


def label(doc: Document) -> str:
    """The document as clerks name it: number and symbol once issued, else its draft id."""
    return number_symbol(doc.number, doc.symbol).strip() if doc.number else f"dự thảo #{doc.id}"


def _short(text: str) -> str:
    return text if len(text) <= SUBJECT_SHOWN else text[:SUBJECT_SHOWN - 1] + "…"


def run_namer(flow_name: str) -> Callable[[], str]:
    """A flow_run_name: the flow, then the document (number, or the trích yếu of the spec it drafts)."""

    def name() -> str:
        from prefect.runtime import flow_run

        request = flow_run.parameters.get("request")
        data = request.model_dump() if isinstance(request, BaseModel) else dict(request or {})
        return f"{flow_name} · {_what(data)}"

    return name


def _what(data: dict[str, Any]) -> str:
    if data.get("document"):
        try:
            with session_scope(get_engine()) as session:
                doc = session.get(Document, int(data["document"]))
                if doc is not None:
                    return label(doc)
        except Exception:  # noqa: BLE001 - a name is only a name; the run itself reports a bad database
            pass
        return f"#{data['document']}"
    if isinstance(data.get("plan"), dict):  # a lifecycle: named after its plan
        data = data["plan"]
    for key in ("decision", "submission", "spec"):
        spec = data.get(key)
        if isinstance(spec, dict) and spec.get("subject"):
            return _short(str(spec["subject"]))
    if isinstance(data.get("report"), dict):
        return f"báo cáo về văn bản #{data['report'].get('decision', '')}"
    if data.get("day"):
        return f"ngày {data['day']}"
    return "vanban"


def step_form(session: Session, step: ApprovalStep) -> str:
    """The markdown above a paused step's form: which document, which step, who may answer, the draft to read."""
    doc = session.get(Document, step.document_id)
    return (f"**{label(doc)}** — {doc.subject}\n\n"
            f"Bước #{step.id}: **{step.name}** (vòng {step.round}); người được trả lời: {', '.join(step.approvers)}.\n\n"
            f"Dự thảo: xem artifact `draft-{doc.id}` của lần chạy này.")


def revision_form(session: Session, doc: Document, back: ApprovalStep, drafter: str) -> str:
    return (f"**{label(doc)}** — {doc.subject}\n\n"
            f"Trả lại tại bước **{back.name}** bởi {back.answered_by}: {back.comment or ''}\n\n"
            f"Người soạn thảo {drafter} sửa (spec) và trình lại.")


def link_draft(doc: Document, files: str, sha256: str) -> None:
    """The draft DOCX, linked from the run (artifact draft-ID)."""
    from prefect.artifacts import create_link_artifact

    path = path_of(Path(files), sha256).resolve()
    create_link_artifact(key=f"draft-{doc.id}", link=path.as_uri(), link_text=f"{label(doc)}.docx",
                         description=f"Dự thảo {label(doc)}: {doc.subject}")


def publish_card(files: str, document_id: int) -> str:
    """A markdown artifact document-ID: status, files, human steps and the delivery ledger's summary."""
    from prefect.artifacts import create_markdown_artifact

    with session_scope(get_engine()) as session:
        doc = session.get(Document, document_id)
        made = session.exec(select(GeneratedFile).where(GeneratedFile.document_id == document_id)
                            .order_by(GeneratedFile.id)).all()
        steps = session.exec(select(ApprovalStep).where(ApprovalStep.document_id == document_id)
                             .order_by(ApprovalStep.round, ApprovalStep.position)).all()
        sent = summary(ledger(session, document_id))
        lines = [f"# {label(doc)}", "", doc.subject, "",
                 f"- trạng thái: **{doc.status.value}**"
                 + (f", ban hành ngày {short_date(doc.issued_on)}" if doc.issued_on else ""),
                 "", "| tệp | mục đích | SHA-256 |", "|---|---|---|"]
        lines += [f"| [{f.filename}]({path_of(Path(files), f.sha256).resolve().as_uri()}) | {f.purpose} | "
                  f"`{f.sha256[:16]}` |" for f in made]
        lines += ["", "| vòng | bước | trạng thái | người trả lời |", "|---|---|---|---|"]
        lines += [f"| {s.round} | {s.name} | {s.status.value} | {s.answered_by or ''} |" for s in steps]
        lines += ["", "Sổ theo dõi phát hành: " + (", ".join(f"{k} {v}" for k, v in sent.items()) or "chưa gửi")]
        key = f"document-{doc.id}"
    create_markdown_artifact(key=key, markdown="\n".join(lines), description=f"{label(doc)}: {doc.subject}")
    return key
