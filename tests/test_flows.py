"""The Prefect flows, with Prefect's test harness: the lifecycle reproduces the plain chain's documents;
a decision waits for real people at its human steps."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from doc_templates import render_document
from models.approvals import ApprovalStep, StepStatus, resubmit
from models.db import make_engine, session_scope
from models.audit import trail
from models.document import Document
from models.drafting import parse_create
from tests.conftest import use_home
from tests.test_approvals import respond
from tests.test_drafting import seed_spec


@pytest.fixture
def flow_db(_directory_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A sample database (with the sample keys beside it), the home of this test's flows; its URL."""
    shutil.copytree(_directory_template, tmp_path / "flowdb")
    use_home(tmp_path / "flowdb", monkeypatch)
    return f"sqlite:///{tmp_path / 'flowdb' / 'vanban.db'}"


def test_the_lifecycle_reproduces_the_plain_chain(prefect_harness, flow_db: str, chain_engine: Engine) -> None:  # noqa: ANN001
    from flows.lifecycle import document_lifecycle, seed_lifecycle
    from flows.runtime import prefect_settings

    from flows.outbox import Outbox

    url = flow_db
    with prefect_settings(), Outbox() as outbox:
        outcome = document_lifecycle(seed_lifecycle(relay=outbox.url))
    assert outcome["status"] == "report issued, accepted" and outcome["report"]["on_time"] is True
    assert [d["status"] for d in outcome["distribution"]] == ["completed", "completed"]  # the Tờ trình, the QĐ
    assert outcome["report"]["distribution"]["status"] == "completed"
    assert [n["kind"] for t in outcome["tracking"] for n in t["notices"]] == ["reminder"]
    assert len(outbox.messages) == 3 + 34 + 1 + 3  # Tờ trình, QĐ, the reminder, the Báo cáo
    engine = make_engine(url)
    with session_scope(engine) as flows_side, session_scope(chain_engine) as plain_side:
        for symbol in ("TTr-STTTT", "KH-STTTT", "QĐ-UBND"):
            a = flows_side.exec(select(Document).where(Document.symbol == symbol)).one()
            b = plain_side.exec(select(Document).where(Document.symbol == symbol)).one()
            assert (a.number, a.issued_on) == (b.number, b.issued_on)
            assert render_document(flows_side, a) == render_document(plain_side, b)
        decision = flows_side.exec(select(Document).where(Document.symbol == "QĐ-UBND")).one()
        entries = trail(flows_side, decision.id)
        assert [e.action for e in entries] == ["drafted", "submitted", "approved", "signed", "approved",
                                               "number_allocated", "issued", "assignment_opened", "delivery_attempted",
                                               *["delivery_succeeded"] * 34, "reminded", "reported"]
        assert all(e.flow_run_id and e.task_run_id for e in entries)
        assert entries[2].actor == "pcvp-vhxh" and entries[4].actor == "pct-vhxh"
    engine.dispose()


# --- waiting for people --------------------------------------------------------------------------

def in_thread(fn: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    from flows.runtime import prefect_settings

    box: dict[str, Any] = {}

    def target() -> None:
        try:
            with prefect_settings():
                box["result"] = fn()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, box


def paused_at(engine: Engine, document_id: int, name: str, timeout: float = 90) -> ApprovalStep:
    """The pending step ``name`` once a flow run waits on it, paused."""
    from prefect import get_client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with Session(engine) as session:
            step = session.exec(select(ApprovalStep).where(ApprovalStep.document_id == document_id,
                                                           ApprovalStep.status == StepStatus.PENDING)).first()
        if step is not None and step.name == name and step.flow_run_id:
            with get_client(sync_client=True) as client:
                state = client.read_flow_run(UUID(step.flow_run_id)).state
            if state is not None and state.is_paused():
                return step
        time.sleep(0.3)
    raise AssertionError(f"no flow run paused at '{name}' of document #{document_id}")


def clerk_answers(engine: Engine, step: ApprovalStep, actor: str, decision: str, text: str | None = None) -> None:
    """What `vanban approve|return|reject` does: record the answer, then wake the waiting run."""
    from flows.human_step import wake

    respond(engine, step.id, actor=actor, decision=decision, text=text)
    assert wake(step.flow_run_id, {"decision": decision, "answered_by": actor, "text": text},
                document_id=step.document_id).endswith("resumed")


def decision_request(**changes: Any):  # noqa: ANN201
    from flows.decide import DecisionDraft

    spec = seed_spec("decision")  # responds to #1 (10/TTr-STTTT) and approves #2 (11/KH-STTTT)
    spec["subject"] = "Phê duyệt Kế hoạch thử nghiệm năm 2024"
    return DecisionDraft(decision=spec, drafted_by="cv-vhxh", issued_by="vt-ubnd", issued_on="2024-03-05", **changes)


def new_document_id(engine: Engine) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with Session(engine) as session:
            doc = session.exec(select(Document).where(Document.subject == "Phê duyệt Kế hoạch thử nghiệm năm 2024")).first()
        if doc is not None:
            return doc.id
        time.sleep(0.2)
    raise AssertionError("the flow drafted nothing")


def refused_in_ui(engine: Engine, step: ApprovalStep, run_input: dict[str, Any], refusals: int) -> ApprovalStep:
    """Answer in the Prefect UI's form; the answer is refused (the ``refusals``-th of the document) and the run
    waits again at the same step."""
    from prefect import resume_flow_run

    resume_flow_run(UUID(step.flow_run_id), run_input=run_input)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        with Session(engine) as session:
            if len([e for e in trail(session, step.document_id) if e.action == "answer_refused"]) == refusals:
                break
        time.sleep(0.3)
    again = paused_at(engine, step.document_id, step.name)
    assert again.id == step.id
    return again


def test_a_decision_waits_for_its_approvers(prefect_harness, chain_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    import json

    from flows.decide import decide
    from models.config import get_settings
    from prefect import resume_flow_run
    from tests.test_credentials import _enrol_otp

    monkeypatch.setenv("VANBAN_SECRET_KEY", "khoá bí mật của Văn phòng")
    get_settings.cache_clear()
    authenticator = _enrol_otp(chain_engine, "cvp")
    thread, box = in_thread(lambda: decide(decision_request()))
    doc_id = new_document_id(chain_engine)
    review = paused_at(chain_engine, doc_id, "Kiểm tra nội dung, thể thức")
    # answered in the Prefect UI by someone who may not answer, then by cvp with no code and with a wrong one: each
    # refused, recorded, and the run waits on
    wrong = next(c for c in ("000000", "111111", "222222") if not authenticator.verify(c, valid_window=1))
    for n, run_input in enumerate([{"decision": "approve", "answered_by": "gd-sttt"},
                                   {"decision": "approve", "answered_by": "cvp"},
                                   {"decision": "approve", "answered_by": "cvp", "otp": wrong}], start=1):
        review = refused_in_ui(chain_engine, review, run_input, n)
    resume_flow_run(UUID(review.flow_run_id), run_input={"decision": "approve", "answered_by": "cvp", "text": "Đạt",
                                                         "otp": authenticator.now()})
    signing = paused_at(chain_engine, doc_id, "Ký ban hành")
    # the signature is never given in the form: the signer signs with his key
    signing = refused_in_ui(chain_engine, signing, {"decision": "approve", "answered_by": "pct-vhxh", "otp": "123456"}, 4)
    clerk_answers(chain_engine, signing, "pct-vhxh", "approve")
    thread.join(timeout=90)
    assert "error" not in box, box.get("error")
    assert box["result"]["status"] == "issued" and box["result"]["documents"][0]["number"] == 375
    with Session(chain_engine) as session:
        entries = [(e.action, e.actor, json.loads(e.details)) for e in trail(session, doc_id)
                   if e.action in ("answer_refused", "approved")]
    assert [(a, actor, d.get("rule") or d["proof"]) for a, actor, d in entries] == [
        ("answer_refused", "gd-sttt", "approval.not-authorized"), ("answer_refused", "cvp", "totp.invalid"),
        ("answer_refused", "cvp", "totp.invalid"), ("approved", "cvp", "totp"),
        ("answer_refused", "pct-vhxh", "proof.sign-needs-key"), ("approved", "pct-vhxh", "key")]
    # what the Prefect UI shows: the run's name, its log lines (refusals and why), the form's text, the artifacts
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey, LogFilter, LogFilterFlowRunId

    with get_client(sync_client=True) as client:
        run = client.read_flow_run(UUID(review.flow_run_id))
        logs = [log.message for log in client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id])))]
        keys = {a.key for a in client.read_artifacts(artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=[f"draft-{doc_id}", f"document-{doc_id}"])))}
        form = client.read_flow_run_input(run.id, f"paused-step-{review.id}-1-description")
    assert run.name == "decide · Phê duyệt Kế hoạch thử nghiệm năm 2024"
    assert any("trả lời bị từ chối tại bước #" in m and "approval.not-authorized" in m for m in logs), logs
    assert any(m.startswith("chờ pct-vhxh trả lời bước #") for m in logs), logs
    assert keys == {f"draft-{doc_id}", f"document-{doc_id}"}
    assert f"dự thảo #{doc_id}" in form and "Kiểm tra nội dung, thể thức" in form and "cvp, pcvp-vhxh" in form


def test_a_rejection_ends_the_flow(prefect_harness, chain_engine: Engine) -> None:  # noqa: ANN001
    from flows.decide import decide

    thread, box = in_thread(lambda: decide(decision_request()))
    doc_id = new_document_id(chain_engine)
    clerk_answers(chain_engine, paused_at(chain_engine, doc_id, "Kiểm tra nội dung, thể thức"), "pcvp-vhxh", "reject",
                  "Không phù hợp")
    thread.join(timeout=90)
    assert box["result"] == {"decision": doc_id, "status": "rejected"}


def run_paused(run_id: str, timeout: float = 90) -> None:
    from prefect import get_client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with get_client(sync_client=True) as client:
            state = client.read_flow_run(UUID(run_id)).state
        if state is not None and state.is_paused():
            return
        time.sleep(0.3)
    raise AssertionError(f"flow run {run_id} did not pause")


def test_a_return_waits_for_the_drafter_in_the_same_run(prefect_harness, chain_engine: Engine) -> None:  # noqa: ANN001
    """Returned, the draft waits in the same run for its drafter: revised in the Prefect UI's form (a refused
    resubmission first), then resubmitted with `vanban resubmit`; each time the chain goes on at the step that
    returned it, and the run issues."""
    from flows.decide import decide
    from flows.human_step import wake
    from prefect import resume_flow_run

    thread, box = in_thread(lambda: decide(decision_request()))
    doc_id = new_document_id(chain_engine)
    review = paused_at(chain_engine, doc_id, "Kiểm tra nội dung, thể thức")
    run_id = review.flow_run_id
    clerk_answers(chain_engine, review, "cvp", "return", "Bổ sung căn cứ")
    run_paused(run_id)
    revised = seed_spec("decision")
    revised["subject"] = "Phê duyệt Kế hoạch thử nghiệm năm 2024 (sửa)"
    revised = parse_create(revised).model_dump(mode="json", exclude_defaults=True)  # as the form sends it
    resume_flow_run(UUID(run_id), run_input={"resubmitted_by": "cv-vhxh", "spec": {**revised, "kind": "report"}})
    time.sleep(0.5)  # the refused revision (a revision keeps the kind) is logged and the run waits again
    run_paused(run_id)
    with Session(chain_engine) as session:
        assert session.get(Document, doc_id).subject == "Phê duyệt Kế hoạch thử nghiệm năm 2024"
    resume_flow_run(UUID(run_id), run_input={"resubmitted_by": "cv-vhxh", "spec": revised})
    again = paused_at(chain_engine, doc_id, "Kiểm tra nội dung, thể thức")
    assert again.round == 2 and again.flow_run_id == run_id
    clerk_answers(chain_engine, again, "cvp", "return", "Ghi rõ thời hạn")
    run_paused(run_id)
    with session_scope(chain_engine) as session:  # what `vanban resubmit` does: record it, then wake the run
        resubmit(session, session.get(Document, doc_id), actor="cv-vhxh")
    assert wake(run_id, {"resubmitted_by": "cv-vhxh"}, document_id=doc_id).endswith("resumed")
    clerk_answers(chain_engine, paused_at(chain_engine, doc_id, "Kiểm tra nội dung, thể thức"), "cvp", "approve")
    clerk_answers(chain_engine, paused_at(chain_engine, doc_id, "Ký ban hành"), "pct-vhxh", "approve")
    thread.join(timeout=90)
    assert "error" not in box, box.get("error")
    assert box["result"]["status"] == "issued" and box["result"]["documents"][0]["number"] == 375
    with Session(chain_engine) as session:
        assert session.get(Document, doc_id).subject.endswith("(sửa)")
        rounds = session.exec(select(ApprovalStep).where(ApprovalStep.document_id == doc_id)
                              .order_by(ApprovalStep.round, ApprovalStep.position)).all()
    assert [(s.round, s.name, s.status.value) for s in rounds] == [
        (1, "Kiểm tra nội dung, thể thức", "returned"), (1, "Ký ban hành", "closed"),
        (2, "Kiểm tra nội dung, thể thức", "returned"), (2, "Ký ban hành", "closed"),
        (3, "Kiểm tra nội dung, thể thức", "approved"), (3, "Ký ban hành", "approved")]


def test_an_answer_recorded_while_no_run_waited_is_used(prefect_harness, chain_engine: Engine) -> None:  # noqa: ANN001
    """A run that died while waiting loses nothing: the answer given meanwhile is read from vanban's tables."""
    from flows.decide import decide
    from models.approvals import submit
    from models.drafting import draft_document

    spec = seed_spec("decision")
    spec["subject"] = "Phê duyệt Kế hoạch thử nghiệm năm 2024"
    with session_scope(chain_engine) as session:
        doc = draft_document(session, spec, actor="cv-vhxh")
        first = submit(session, doc, actor="cv-vhxh")
        doc_id, first_id = doc.id, first.id
    respond(chain_engine, first_id, actor="cvp", decision="approve")
    with Session(chain_engine) as session:
        sign_id = session.exec(select(ApprovalStep).where(ApprovalStep.document_id == doc_id,
                                                          ApprovalStep.status == StepStatus.PENDING)).one().id
    respond(chain_engine, sign_id, actor="pct-vhxh", decision="approve")
    outcome = decide(decision_request(document=doc_id))
    assert outcome["status"] == "issued" and outcome["documents"][0]["number"] == 375
    # run once more (a retry after a crash at the end): the document is issued once, with one number
    again = decide(decision_request(document=doc_id))
    assert again["documents"][0]["number"] == 375
    from models.register import RegisterEntry

    with Session(chain_engine) as session:
        assert [e.number for e in session.exec(select(RegisterEntry).where(RegisterEntry.document_id == doc_id))] == [375]


def test_the_manual_demo_is_answered_from_another_process(tmp_path: Path) -> None:
    """`vanban demo --manual` waits at each human step; a clerk answers from a second terminal."""
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "VANBAN_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    out = tmp_path / "out"
    demo = subprocess.Popen([sys.executable, "-m", "flows.cli", "demo", "--out", str(out), "--manual"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    clerk = {**env, "VANBAN_HOME": str(out / ".vanban")}  # the demo's one home: its database, keys and Prefect
    answered: list[str] = []
    deadline = time.monotonic() + 300
    try:
        while len(answered) < 5 and time.monotonic() < deadline and demo.poll() is None:
            listed = subprocess.run([sys.executable, "-m", "flows.cli", "approvals", "--json"], env=clerk,
                                    capture_output=True, text=True, timeout=120)
            steps = json.loads(listed.stdout) if listed.returncode == 0 and listed.stdout.strip() else []
            for step in steps:
                result = subprocess.run([sys.executable, "-m", "flows.cli", "approve", str(step["id"]), "--as",
                                         step["approvers"][0]], env=clerk, capture_output=True, text=True, timeout=120)
                assert result.returncode == 0, result.stderr
                answered.append(f"{step['step']}:{step['approvers'][0]}")
            time.sleep(1)
        stdout, stderr = demo.communicate(timeout=180)
    finally:
        if demo.poll() is None:
            demo.kill()
    assert demo.returncode == 0, stderr
    assert answered == ["Ký ban hành:gd-sttt", "Kiểm tra nội dung, thể thức:cvp", "Ký ban hành:pct-vhxh",
                        "Ký ban hành:gd-sttt", "Tiếp nhận báo cáo:cvp"]  # the last two: Sở TTTT's report
    assert "waiting: step #1 Ký ban hành" in stdout and "report issued, accepted" in stdout
    assert sorted(p.name for p in out.glob("*.docx")) == ["10-TTr-STTTT.docx", "11-KH-STTTT.docx", "12-BC-STTTT.docx",
                                                          "374-QD-UBND.docx"]


def test_two_lifecycles_at_once_get_distinct_numbers(prefect_harness, flow_db: str) -> None:  # noqa: ANN001
    from flows.lifecycle import document_lifecycle, seed_lifecycle
    from models.register import RegisterEntry

    url = flow_db
    runs = [in_thread(lambda: document_lifecycle(seed_lifecycle(with_report=False)))
            for _ in range(2)]
    for thread, _ in runs:
        thread.join(timeout=300)
    assert [box.get("result", box.get("error"))["status"] for _, box in runs] == ["decision issued"] * 2
    engine = make_engine(url)
    with Session(engine) as session:
        entries = [e.number_symbol for e in session.exec(select(RegisterEntry))]
    by_agency: dict[str, list[int]] = {}
    for entry in entries:
        number, symbol = entry.split("/")
        by_agency.setdefault(symbol.split("-")[-1], []).append(int(number))
    # each register gives distinct, consecutive numbers, however the two runs interleave
    assert sorted(by_agency["STTTT"]) == [10, 11, 12, 13] and sorted(by_agency["UBND"]) == [374, 375]
    assert sorted(e.split("/")[1] for e in entries) == ["KH-STTTT", "KH-STTTT", "QĐ-UBND", "QĐ-UBND", "TTr-STTTT", "TTr-STTTT"]
    with engine.connect() as conn:
        from models.audit import verify

        assert verify(conn).intact
    engine.dispose()


def test_answers_given_with_no_run_waiting_then_vanban_resume(prefect_harness, chain_engine: Engine,  # noqa: ANN001
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """`vanban approve` with no run waiting says how to go on; `vanban resume` carries the document on from where
    the tables say it stands (both steps answered: to issue), and refuses what has nothing left to run."""
    from typer.testing import CliRunner

    from flows.cli import app
    from models.config import get_settings
    from tests.test_approvals import new_decision, open_step

    monkeypatch.setenv("VANBAN_TODAY", "2024-03-05")  # issued that day (its assignment is due 15/12/2024)
    get_settings.cache_clear()
    doc_id = new_decision(chain_engine)
    first_id = open_step(chain_engine, doc_id).id
    answered = CliRunner().invoke(app, ["approve", str(first_id), "--as", "cvp"])
    assert answered.exit_code == 0, answered.output
    assert f"no flow run waits on this step; to let the flows carry the document on: vanban resume {doc_id}" in answered.output
    respond(chain_engine, first_id + 1, actor="pct-vhxh", decision="approve")
    resumed = CliRunner().invoke(app, ["resume", str(doc_id), "--as", "vt-ubnd"])
    assert resumed.exit_code == 0, resumed.output
    assert "decide run" in resumed.output and '"number": 375' in resumed.output
    with Session(chain_engine) as session:
        assert session.get(Document, doc_id).status.value == "issued"
        assert [e.actor for e in trail(session, doc_id) if e.action == "issued"] == ["vt-ubnd"]
    refused = CliRunner().invoke(app, ["resume", str(doc_id), "--as", "vt-ubnd"])
    assert refused.exit_code == 1 and "(resume.issued)" in refused.output, refused.output


def test_a_clerk_runs_a_flow_from_a_spec_file(_directory_template: Path, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    import yaml

    home = tmp_path / "home"
    shutil.copytree(_directory_template, home)
    env = {**os.environ, "VANBAN_HOME": str(home), "COLUMNS": "200"}
    env.pop("PREFECT_LOGGING_LEVEL")  # the CLI's own default, as a clerk has it
    spec = seed_spec("plan")
    spec.pop("links")
    good = tmp_path / "plan.yaml"
    good.write_text(yaml.safe_dump({"spec": spec, "drafted_by": "cv-sttt"}, allow_unicode=True), encoding="utf-8")
    ran = subprocess.run([sys.executable, "-m", "flows.cli", "run", "draft-plan", str(good)], env=env,
                         capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr
    assert "draft-plan run" in ran.stdout and "COMPLETED" in ran.stdout
    engine = make_engine(f"sqlite:///{home / 'vanban.db'}")
    with Session(engine) as session:
        (plan,) = session.exec(select(Document)).all()
        assert plan.symbol == "KH-STTTT" and plan.number is None
    for broken, message in (({"drafted_by": "cv-sttt", "spec": {**spec, "issuer": None}}, "spec.issuer"),
                            ({"spec": spec}, "drafted_by: Field required"),
                            ({"drafted_by": "cv-sttt", "spec": {**spec, "issuer": "so-khong-co"}},
                             "issuer: no agency with code 'so-khong-co'")):
        bad = tmp_path / "bad.yaml"
        bad.write_text(yaml.safe_dump(broken, allow_unicode=True), encoding="utf-8")
        refused = subprocess.run([sys.executable, "-m", "flows.cli", "run", "draft-plan", str(bad)], env=env,
                                 capture_output=True, text=True, timeout=300)
        assert refused.returncode == 1 and message in " ".join(refused.stderr.split()), refused.stderr
        assert "Traceback" not in refused.stderr + refused.stdout
    with Session(engine) as session:
        assert len(session.exec(select(Document)).all()) == 1  # nothing half-written
    engine.dispose()
