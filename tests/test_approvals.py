"""Human steps: the approval chain of a draft, its answers, authority, and what is recorded."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models.approvals import (
    ApprovalStep, Decision, StepStatus, answer, answer_with_key, default_chain, describe, pending, resubmit, submit,
)
from models.credentials import SAMPLE_PASSPHRASE
from models.audit import AuditEntry, AuditHead, trail
from models.db import make_engine, session_scope
from models.document import Document, DocumentStatus
from models.drafting import draft_document
from models.errors import RuleViolation
from tests.test_drafting import seed_spec


def keys_of(engine: Engine) -> Path:
    """The sample keys beside a sample database (models.sample_data.sample_database)."""
    return Path(engine.url.database).parent / "keys"


def respond(engine: Engine, step_id: int, **kwargs: Any) -> ApprovalStep:
    """An answer as `vanban approve|return|reject` gives it: signed with the official's sample key."""
    return answer_with_key(engine, step_id, keystore=keys_of(engine), passphrase=SAMPLE_PASSPHRASE, **kwargs)


def new_decision(engine: Engine, subject: str = "Phê duyệt Kế hoạch thử nghiệm năm 2024") -> int:
    spec = seed_spec("decision")
    spec["subject"] = subject
    with session_scope(engine) as session:
        doc = draft_document(session, spec, actor="cv-vhxh")
        submit(session, doc, actor="cv-vhxh")
        return doc.id


def open_step(engine: Engine, doc_id: int) -> ApprovalStep:
    with Session(engine) as session:
        (step,) = [s for s in pending(session) if s.document_id == doc_id]
        return step


def actions(engine: Engine, doc_id: int) -> list[tuple[str, str]]:
    with Session(engine) as session:
        return [(e.action, e.actor) for e in trail(session, doc_id)]


def test_the_default_chains(chain_engine: Engine) -> None:
    with session_scope(chain_engine) as session:
        decision = session.exec(select(Document).where(Document.symbol == "QĐ-UBND")).one()
        submission = session.exec(select(Document).where(Document.symbol == "TTr-STTTT")).one()
        assert [(s.name, s.kind) for s in default_chain(session, decision)] == [
            ("Kiểm tra nội dung, thể thức", "review"), ("Ký ban hành", "sign")]
        assert [(s.name, s.kind) for s in default_chain(session, submission)] == [("Ký ban hành", "sign")]
    doc_id = new_decision(chain_engine)
    with Session(chain_engine) as session:
        step = open_step(chain_engine, doc_id)
        shown = describe(session, step)
    assert shown["approvers"] == ["cvp", "pcvp-vhxh"]  # the Office's leadership
    assert {"id", "document", "step", "approvers", "since"} <= set(shown) and shown["since"]


def test_approve_review_then_sign(chain_engine: Engine) -> None:
    doc_id = new_decision(chain_engine)
    respond(chain_engine, open_step(chain_engine, doc_id).id, actor="pcvp-vhxh", decision=Decision.APPROVE, text="Đạt yêu cầu")
    sign_step = open_step(chain_engine, doc_id)
    assert (sign_step.name, sign_step.approvers) == ("Ký ban hành", ["pct-vhxh"])
    respond(chain_engine, sign_step.id, actor="pct-vhxh", decision="approve")
    with Session(chain_engine) as session:
        doc = session.get(Document, doc_id)
        assert doc.status is DocumentStatus.SIGNED and doc.authority_form.value == "KT."
        assert pending(session) == []
    assert actions(chain_engine, doc_id) == [("drafted", "cv-vhxh"), ("submitted", "cv-vhxh"), ("approved", "pcvp-vhxh"),
                                             ("signed", "pct-vhxh"), ("approved", "pct-vhxh")]


def test_return_revise_resubmit_restarts_at_the_returning_step(chain_engine: Engine) -> None:
    doc_id = new_decision(chain_engine)
    respond(chain_engine, open_step(chain_engine, doc_id).id, actor="cvp", decision="approve")
    respond(chain_engine, open_step(chain_engine, doc_id).id, actor="pct-vhxh", decision="return",
           text="Bổ sung căn cứ Kế hoạch năm 2024")
    with Session(chain_engine) as session:
        assert pending(session) == [] and session.get(Document, doc_id).status is DocumentStatus.DRAFT
    revised = seed_spec("decision")
    revised["subject"] = "Phê duyệt Kế hoạch thử nghiệm năm 2024 (đã sửa)"
    with session_scope(chain_engine) as session:
        reopened = resubmit(session, session.get(Document, doc_id), actor="cv-vhxh", spec=revised)
        assert (reopened.name, reopened.round) == ("Ký ban hành", 2)  # the review is not repeated
    with Session(chain_engine) as session:
        assert session.get(Document, doc_id).subject.endswith("(đã sửa)")
    respond(chain_engine, open_step(chain_engine, doc_id).id, actor="pct-vhxh", decision="approve")
    with Session(chain_engine) as session:
        assert session.get(Document, doc_id).status is DocumentStatus.SIGNED
    assert [a for a, _ in actions(chain_engine, doc_id)] == [
        "drafted", "submitted", "approved", "returned", "revised", "submitted", "signed", "approved"]


def test_a_return_at_review_reopens_review(chain_engine: Engine) -> None:
    doc_id = new_decision(chain_engine)
    respond(chain_engine, open_step(chain_engine, doc_id).id, actor="cvp", decision="return", text="Sai thể thức")
    with session_scope(chain_engine) as session:
        with pytest.raises(RuleViolation) as exc:
            submit(session, session.get(Document, doc_id), actor="cv-vhxh")  # not a new chain: a resubmission
        reopened = resubmit(session, session.get(Document, doc_id), actor="cv-vhxh")
    assert exc.value.rule == "approval.returned" and "resubmit" in exc.value.message
    assert (reopened.name, reopened.round) == ("Kiểm tra nội dung, thể thức", 2)


def test_reject_ends_the_document(chain_engine: Engine) -> None:
    doc_id = new_decision(chain_engine)
    first = open_step(chain_engine, doc_id)
    respond(chain_engine, first.id, actor="cvp", decision=Decision.REJECT, text="Không phù hợp chủ trương")
    with Session(chain_engine) as session:
        assert session.get(Document, doc_id).status is DocumentStatus.REJECTED
        steps = session.exec(select(ApprovalStep).where(ApprovalStep.document_id == doc_id).order_by(ApprovalStep.position)).all()
        assert [s.status for s in steps] == [StepStatus.REJECTED, StepStatus.CLOSED]
        assert steps[0].comment == "Không phù hợp chủ trương"
    with session_scope(chain_engine) as session, pytest.raises(RuleViolation) as exc:
        resubmit(session, session.get(Document, doc_id), actor="cv-vhxh")
    assert exc.value.rule == "approval.not-returned"


def _head(engine: Engine) -> int:
    with Session(engine) as session:
        return session.get(AuditHead, 1).seq


@pytest.mark.parametrize("actor, rule, recorded_as", [
    ("gd-sttt", "approval.not-authorized", "gd-sttt"),
    ("pct-vhxh", "approval.not-authorized", "pct-vhxh"),  # the signer may not answer the Office's review
    ("nobody", "directory.unknown-official", "system"),
])
def test_an_answer_by_someone_else_is_refused_and_recorded(chain_engine: Engine, actor: str, rule: str, recorded_as: str) -> None:
    doc_id = new_decision(chain_engine)
    step = open_step(chain_engine, doc_id)
    with pytest.raises(RuleViolation) as exc:
        respond(chain_engine, step.id, actor=actor, decision="approve")
    assert (exc.value.field, exc.value.rule) == ("as", rule)
    assert open_step(chain_engine, doc_id).status is StepStatus.PENDING
    with Session(chain_engine) as session:
        refused = [e for e in trail(session, doc_id) if e.action == "answer_refused"]
    assert [e.actor for e in refused] == [recorded_as]
    assert json.loads(refused[0].details)["claimed_by"] == actor


def test_bad_answers_change_nothing(chain_engine: Engine) -> None:
    doc_id = new_decision(chain_engine)
    step = open_step(chain_engine, doc_id)
    before = _head(chain_engine)
    cases = [
        (dict(step_id=999, actor="cvp", decision="approve"), "approval.unknown"),
        (dict(step_id=step.id, actor="cvp", decision="return", text="  "), "approval.reason-required"),
        (dict(step_id=step.id, actor="cvp", decision="reject"), "approval.reason-required"),
    ]
    for kwargs, rule in cases:
        with pytest.raises(RuleViolation) as exc:
            respond(chain_engine, kwargs.pop("step_id"), **kwargs)
        assert exc.value.rule == rule
    assert _head(chain_engine) == before
    respond(chain_engine, step.id, actor="cvp", decision="approve")
    with pytest.raises(RuleViolation) as exc:
        respond(chain_engine, step.id, actor="pcvp-vhxh", decision="approve")
    assert exc.value.rule == "approval.not-pending" and "approved by cvp" in exc.value.message


def vanban(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "COLUMNS": "250", "VANBAN_HOME": str(home), "VANBAN_KEY_PASSPHRASE": SAMPLE_PASSPHRASE}
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], capture_output=True, text=True, env=env, timeout=300)


def test_the_clerks_commands(_chain_template: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(_chain_template, home)
    spec = tmp_path / "qd.yaml"
    draft = seed_spec("decision")
    draft["subject"] = "Phê duyệt Kế hoạch thử nghiệm năm 2024"
    spec.write_text(yaml.safe_dump(draft, allow_unicode=True), encoding="utf-8")
    assert vanban(home, "draft", str(spec), "--as", "cv-vhxh").returncode == 0
    submitted = vanban(home, "submit", "4", "--as", "cv-vhxh")
    assert submitted.returncode == 0 and "waits for cvp, pcvp-vhxh" in submitted.stdout
    bypass = vanban(home, "sign", "4")
    assert bypass.returncode == 1 and "is in its approval chain" in bypass.stderr
    listed = json.loads(vanban(home, "approvals", "--json").stdout)
    assert [(s["document"], s["step"], s["approvers"]) for s in listed] == [(4, "Kiểm tra nội dung, thể thức", ["cvp", "pcvp-vhxh"])]
    step = str(listed[0]["id"])
    refused = vanban(home, "approve", step, "--as", "gd-sttt")
    assert refused.returncode == 1 and "may not answer" in refused.stderr and "Traceback" not in refused.stderr
    no_reason = vanban(home, "return", step, "--as", "cvp", "--reason", " ")
    assert no_reason.returncode == 1 and "reason: a return needs its reason" in no_reason.stderr
    assert vanban(home, "approve", step, "--as", "cvp", "--comment", "Đạt").returncode == 0
    again = vanban(home, "approve", step, "--as", "cvp")
    assert again.returncode == 1 and "not pending" in again.stderr
    sign_step = str(json.loads(vanban(home, "approvals", "--json").stdout)[0]["id"])
    assert vanban(home, "approve", sign_step, "--as", "pct-vhxh").returncode == 0
    issued = vanban(home, "issue", "4", "--date", "05/3/2024", "--as", "vt-ubnd")
    assert issued.returncode == 0 and "375/QĐ-UBND" in issued.stdout
    shown = vanban(home, "show", "375/QĐ-UBND")
    assert shown.returncode == 0, shown.stderr
    assert "issued" in shown.stdout and "approves → #2 Kế hoạch 11/KH-STTTT" in shown.stdout
    assert "Ký ban hành: approved by pct-vhxh" in shown.stdout and "375-QD-UBND.docx" in shown.stdout
    assert vanban(home, "audit", "verify").returncode == 0
    with session_scope(make_engine(f"sqlite:///{home / 'vanban.db'}")) as session:
        assert len([e for e in session.exec(select(AuditEntry)) if e.action == "answer_refused"]) == 1
