"""Implementation reporting: the decision's assignment, reminders and escalation on a simulated clock (working
days, Tết 2025, a weekend), the report that closes it, the Office returning it, and the Báo cáo itself."""

from __future__ import annotations

import copy
import json
import re
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import func, select

from flows.outbox import Outbox
from models.approvals import Decision, open_acceptance
from models.assignments import Assignment, AssignmentNotice, AssignmentState, NoticeKind, notices_due, overview
from models.audit import AuditEntry
from models.db import make_engine, session_scope
from models.directory import Agency
from models.document import Document, DocumentStatus, GeneratedFile
from models.drafting import draft_document
from models.errors import RuleViolation
from models.files import path_of
from models.issuing import issue_document
from models.register import RegisterEntry
from models.reporting import compose_report
from models.sample_data import SEED_CHAIN_FILE
from models.yaml_files import read_yaml
from models.signing import sign_document
from tests.test_approvals import respond
from tests.test_drafting import seed_spec

DEADLINE = date(2024, 12, 15)  # the demo's deadline: a Sunday
README = Path(__file__).parent.parent / "README.md"


def sample_report() -> dict[str, Any]:
    raw = copy.deepcopy(read_yaml(SEED_CHAIN_FILE)["report"])
    return {k: v for k, v in raw.items() if k not in ("drafted_by", "issued_by", "issued_on")}


def readme_report_spec() -> str:
    """The README's report.yaml example, as its text: tests read it there, so the README cannot drift."""
    text = README.read_text(encoding="utf-8")
    start = text.index("```yaml\n", text.index("A report spec (`report.yaml`)")) + len("```yaml\n")
    return text[start:text.index("```", start)]


def the_assignment(engine: Engine) -> Assignment:
    with session_scope(engine) as session:
        return session.exec(select(Assignment)).one()


# --- the assignment --------------------------------------------------------------------------------

def test_issuing_the_seed_decision_opens_its_assignment(chain_engine: Engine) -> None:
    a = the_assignment(chain_engine)
    with session_scope(chain_engine) as session:
        decision = session.get(Document, a.decision_id)
        lead, owed = (session.get(Agency, i) for i in (a.lead_id, a.report_to_id))
        opened = [json.loads(e.details) for e in session.exec(select(AuditEntry)) if e.action == "assignment_opened"]
    assert decision.symbol == "QĐ-UBND" and decision.number == 374
    assert (lead.code, owed.code, a.due, a.state) == ("sttt", "ubnd-tinh", DEADLINE, AssignmentState.OPEN)
    assert a.task == "triển khai thực hiện Kế hoạch và báo cáo kết quả thực hiện"
    assert opened == [{"assignment": a.id, "lead": "sttt", "task": a.task, "due": "2024-12-15"}]


@pytest.mark.parametrize("due, rule", [("01/3/2024", "assignment.due-before-issue"), ("15/01/2101", "calendar.year-unknown")])
def test_a_bad_deadline_stops_the_issue_and_writes_nothing(chain_engine: Engine, tmp_path: Path, due: str, rule: str) -> None:
    spec = seed_spec("decision")
    spec["body"]["assignments"][0]["due"] = due
    with session_scope(chain_engine) as session:
        doc = draft_document(session, spec, actor="cv-vhxh")
        sign_document(session, doc)
        doc_id = doc.id
    with session_scope(chain_engine) as session:
        before = session.exec(select(func.count()).select_from(RegisterEntry)).one()
    with pytest.raises(RuleViolation) as exc:
        with session_scope(chain_engine) as session:
            issue_document(session, session.get(Document, doc_id), date(2024, 3, 4), tmp_path / "files", actor="vt-ubnd")
    assert exc.value.field == "assignments[0].due" and exc.value.rule == rule
    with session_scope(chain_engine) as session:
        assert session.get(Document, doc_id).status is DocumentStatus.SIGNED
        assert session.exec(select(func.count()).select_from(RegisterEntry)).one() == before
        assert session.exec(select(Assignment).where(Assignment.decision_id == doc_id)).first() is None


# --- when notices are due (pure) ---------------------------------------------------------------------

def test_reminders_before_a_weekend_deadline() -> None:
    assert notices_due(DEADLINE, date(2024, 12, 6), [5, 1], set()) == []
    first = notices_due(DEADLINE, date(2024, 12, 9), [5, 1], set())  # Monday: five working days before Sunday 15
    assert [(n.kind, n.day, n.working_days_left) for n in first] == [(NoticeKind.REMINDER, date(2024, 12, 9), 5)]
    assert notices_due(DEADLINE, date(2024, 12, 10), [5, 1], {(NoticeKind.REMINDER, date(2024, 12, 9))}) == []
    last = notices_due(DEADLINE, date(2024, 12, 13), [5, 1], {(NoticeKind.REMINDER, date(2024, 12, 9))})
    assert [(n.day, n.working_days_left) for n in last] == [(date(2024, 12, 13), 1)]
    # the tracking did not run on the 9th: the reminder due then goes out once, late, on the 11th
    assert [n.day for n in notices_due(DEADLINE, date(2024, 12, 11), [5, 1], set())] == [date(2024, 12, 9)]
    assert notices_due(DEADLINE, date(2024, 12, 15), [5, 1], {(NoticeKind.REMINDER, date(2024, 12, 9)),
                                                             (NoticeKind.REMINDER, date(2024, 12, 13))}) == []


def test_reminders_across_tet_2025() -> None:
    due = date(2025, 2, 5)  # Wednesday after Tết Ất Tỵ (off 27/01–31/01, plus the weekends)
    five = notices_due(due, date(2025, 1, 22), [5, 1], set())
    assert [(n.day, n.working_days_left) for n in five] == [(date(2025, 1, 22), 5)]
    one = notices_due(due, date(2025, 2, 4), [5, 1], {(NoticeKind.REMINDER, date(2025, 1, 22))})
    assert [n.day for n in one] == [date(2025, 2, 4)]
    # during Tết nothing new is due: the 5-day reminder was sent, the 1-day one is not yet
    assert notices_due(due, date(2025, 1, 29), [5, 1], {(NoticeKind.REMINDER, date(2025, 1, 22))}) == []


def test_escalation_once_the_deadline_has_passed() -> None:
    sent = {(NoticeKind.REMINDER, date(2024, 12, 9)), (NoticeKind.REMINDER, date(2024, 12, 13))}
    late = notices_due(DEADLINE, date(2024, 12, 18), [5, 1], sent)
    assert [(n.kind, n.day, n.working_days_left) for n in late] == [(NoticeKind.ESCALATION, date(2024, 12, 16), -3)]
    assert notices_due(DEADLINE, date(2024, 12, 19), [5, 1], sent | {(NoticeKind.ESCALATION, date(2024, 12, 16))}) == []


# --- the flows on a simulated clock -------------------------------------------------------------------

def track(engine: Engine, box: Outbox, on: date) -> dict[str, Any]:
    from flows.track_implementation import Tracking, track_implementation

    return track_implementation(Tracking(day=on, relay=box.url))  # on the test's database (conftest)


def report(engine: Engine, tmp_path: Path, box: Outbox, issued_on: date, approvers: list[str]) -> dict[str, Any]:
    from flows.report_implementation import ImplementationReport, report_implementation

    return report_implementation(ImplementationReport(
        report={**sample_report(), "assignment": the_assignment(engine).id}, drafted_by="cv-sttt", issued_by="vt-sttt",
        issued_on=issued_on, auto_approvers=approvers, relay=box.url))


def test_reminders_escalation_and_a_late_report(prefect_harness, chain_engine: Engine, tmp_path: Path) -> None:  # noqa: ANN001
    with Outbox() as box:
        first = track(chain_engine, box, date(2024, 12, 9))
        again = track(chain_engine, box, date(2024, 12, 9))  # a second run the same day sends nothing
        assert [n["kind"] for n in first["notices"]] == ["reminder"] and again["notices"] == []
        assert [m["To"] for m in box.messages] == ["sttt@vinhlong.example"]
        reminder = box.messages[0]
        assert reminder["Subject"] == "Nhắc hạn báo cáo theo Quyết định số 374/QĐ-UBND ngày 04/3/2024"
        text = reminder.get_body(preferencelist=("plain",)).get_content()
        assert text.startswith("Kính gửi: Giám đốc Sở Thông tin và Truyền thông.\n")
        assert "Hạn báo cáo: ngày 15 tháng 12 năm 2024; còn 05 ngày làm việc." in text
        track(chain_engine, box, date(2024, 12, 13))
        escalated = track(chain_engine, box, date(2024, 12, 18))
        track(chain_engine, box, date(2024, 12, 19))
        assert [n["kind"] for n in escalated["notices"]] == ["escalation"]
        to = [m["To"] for m in box.messages]
        assert to[:2] == ["sttt@vinhlong.example", "sttt@vinhlong.example"]
        assert sorted(to[2:]) == ["cvp@vinhlong.example", "pct-vhxh@vinhlong.example", "pcvp-vhxh@vinhlong.example"]
        assert "đã quá hạn 03 ngày làm việc" in box.messages[-1].get_body(preferencelist=("plain",)).get_content()
        assert escalated["assignments"][0]["state"] == "overdue, escalated"
        from prefect import get_client

        with get_client(sync_client=True) as client:
            table = max((a for a in client.read_artifacts(limit=50) if a.key == "assignments"), key=lambda a: a.created)
        assert json.loads(table.data)[0]["state"] == "overdue, escalated"

        outcome = report(chain_engine, tmp_path, box, date(2024, 12, 20), ["gd-sttt", "pcvp-vhxh"])
    assert outcome["status"] == "report issued, accepted" and outcome["on_time"] is False
    a = the_assignment(chain_engine)
    assert a.state is AssignmentState.REPORTED and a.on_time is False and a.reported_on == date(2024, 12, 20)
    with session_scope(chain_engine) as session:
        rows = overview(session, date(2024, 12, 20))
        bc = session.get(Document, a.report_id)
        notices = session.exec(select(AssignmentNotice)).all()
        actions = [e.action for e in session.exec(select(AuditEntry)) if e.document_id == a.decision_id]
    assert rows[0]["state"] == "reported late" and rows[0]["report"] == "12/BC-STTTT"
    assert [(n.kind.value, n.state) for n in notices] == [("reminder", "sent"), ("reminder", "sent"), ("escalation", "sent")]
    assert actions.count("reminded") == 2 and actions.count("escalated") == 1 and actions[-1] == "reported"
    assert (bc.number, bc.symbol, bc.distribution) == (12, "BC-STTTT", "completed")



def test_a_failed_reminder_is_sent_again_by_the_next_run(prefect_harness, chain_engine: Engine,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    """No relay: `vanban track` says why the reminder failed and exits 1, and the assignment is not 'reminded';
    with one, the same day's next run sends it (one row, the same message id); then nothing is left to send."""
    from typer.testing import CliRunner

    from flows.cli import app
    from models.config import get_settings
    from models.db import get_engine

    def track_cli(relay: str | None) -> Any:
        if relay:
            monkeypatch.setenv("VANBAN_SMTP_URL", relay)
        else:
            monkeypatch.delenv("VANBAN_SMTP_URL", raising=False)
        monkeypatch.setenv("VANBAN_DATABASE_URL", str(chain_engine.url))
        monkeypatch.setenv("COLUMNS", "200")
        get_settings.cache_clear()
        get_engine.cache_clear()
        return CliRunner().invoke(app, ["track", "--on", "09/12/2024"])

    failed = track_cli(None)
    assert failed.exit_code == 1, failed.output
    assert "reminder for assignment #1 (09/12/2024) to sttt: failed" in failed.stdout
    assert "not delivered: sttt mailto:sttt@vinhlong.example: channel.no-relay" in failed.stdout
    assert "a notice did not reach everyone" in failed.stderr and "Traceback" not in failed.output
    with session_scope(chain_engine) as session:
        (row,) = session.exec(select(AssignmentNotice)).all()
        (listed,) = overview(session, date(2024, 12, 9))
    assert row.state == "failed" and listed["reminded"] == [] and listed["state"] == "due"
    assert listed["failed"] == ["reminder 09/12/2024"]
    first_id = row.outcomes[0]["message_id"]

    with Outbox() as box:
        again = track_cli(box.url)
        assert again.exit_code == 0, again.output
        assert "reminder for assignment #1 (09/12/2024) to sttt: sent" in again.stdout
        assert "reminded 09/12/2024" in again.stdout and "failed" not in again.stdout
        assert [(m["To"], m["Message-ID"]) for m in box.messages] == [("sttt@vinhlong.example", first_id)]
        done = track_cli(box.url)
        assert done.exit_code == 0 and done.stdout.startswith("nothing to send on 09/12/2024")
        assert len(box.messages) == 1
    with session_scope(chain_engine) as session:
        (row,) = session.exec(select(AssignmentNotice)).all()
        (listed,) = overview(session, date(2024, 12, 9))
        details = [json.loads(e.details) for e in session.exec(select(AuditEntry).order_by(AuditEntry.seq))
                   if e.action == "reminded"]
    assert row.state == "sent" and [o["ok"] for o in row.outcomes] == [True]
    assert listed["reminded"] == ["09/12/2024"] and listed["state"] == "due, reminded" and listed["failed"] == []
    assert [(d["state"], d.get("retry", False)) for d in details] == [("failed", False), ("sent", True)]


def test_a_partly_failed_escalation_is_sent_again_only_to_whom_it_missed(prefect_harness,  # noqa: ANN001
                                                                          chain_engine: Engine) -> None:
    """One of the three escalation recipients refuses for good, then accepts: the retry reaches only that one."""
    from tests.test_distribution import Refusing

    handler = Refusing(always={"cvp@vinhlong.example"})
    with Outbox(handler=handler) as box:
        first = track(chain_engine, box, date(2024, 12, 16))
        assert [(n["kind"], n["state"]) for n in first["notices"]] == [("escalation", "partly_failed")]
        assert first["notices"][0]["failures"][0].startswith("cvp mailto:cvp@vinhlong.example: ")
        assert sorted(m["To"] for m in box.messages) == ["pct-vhxh@vinhlong.example", "pcvp-vhxh@vinhlong.example"]
        handler.always.clear()
        second = track(chain_engine, box, date(2024, 12, 16))
        assert [(n["state"], n["failures"]) for n in second["notices"]] == [("sent", [])]
        assert sorted(m["To"] for m in box.messages) == ["cvp@vinhlong.example", "pct-vhxh@vinhlong.example",
                                                         "pcvp-vhxh@vinhlong.example"]
        assert track(chain_engine, box, date(2024, 12, 16))["notices"] == []
    with session_scope(chain_engine) as session:
        (row,) = session.exec(select(AssignmentNotice)).all()
    assert row.state == "sent" and sorted(o["code"] for o in row.outcomes) == ["cvp", "pct-vhxh", "pcvp-vhxh"]

def test_a_notice_left_half_sent_by_a_stopped_run_is_reconciled_by_the_next(prefect_harness,  # noqa: ANN001
                                                                           chain_engine: Engine) -> None:
    """As a run killed during the escalation leaves it: sent to cvp (outcome recorded), handed over to pct-vhxh
    (no outcome), never handed to pcvp-vhxh, the notice 'sending'. The next run does not take it for sent: it
    sends to the two without an outcome, with their message ids, and not to cvp again."""
    with Outbox() as box:
        track(chain_engine, box, date(2024, 12, 16))
        ids = {m["To"].split("@")[0]: m["Message-ID"] for m in box.messages}
        assert sorted(ids) == ["cvp", "pct-vhxh", "pcvp-vhxh"]
        with session_scope(chain_engine) as session:
            row = session.exec(select(AssignmentNotice)).one()
            by_code = {o["code"]: o for o in row.outcomes}
            row.state = "sending"
            row.outcomes = [by_code["cvp"], {**by_code["pct-vhxh"], "ok": None}]
            session.add(row)
        box.handler.messages.clear()
        again = track(chain_engine, box, date(2024, 12, 17))
        assert sorted((m["To"].split("@")[0], m["Message-ID"]) for m in box.messages) == [
            ("pct-vhxh", ids["pct-vhxh"]), ("pcvp-vhxh", ids["pcvp-vhxh"])]
        assert [(n["kind"], n["state"]) for n in again["notices"]] == [("escalation", "sent")]
        assert track(chain_engine, box, date(2024, 12, 17))["notices"] == [] and len(box.messages) == 2
    with session_scope(chain_engine) as session:
        row = session.exec(select(AssignmentNotice)).one()
        details = [json.loads(e.details) for e in session.exec(select(AuditEntry).order_by(AuditEntry.seq))
                   if e.action in ("delivery_attempted", "escalated")]
    assert row.state == "sent" and sorted(o["code"] for o in row.outcomes if o["ok"]) == ["cvp", "pct-vhxh", "pcvp-vhxh"]
    reconciled = [d for d in details if d.get("step") == "reconcile"]
    assert [(d["resent_after_crash"], d["state"]) for d in reconciled] == [([ids["pct-vhxh"]], "partly_failed")]
    assert details[-1]["retry"] is True and details[-1]["state"] == "sent"


def test_the_bao_cao_is_a_decree_30_report_sent_upward(prefect_harness, chain_engine: Engine, tmp_path: Path) -> None:  # noqa: ANN001
    from doc_templates.nd30_rules import check
    from tests.docx_reading import lines, open_docx

    with Outbox() as box:
        outcome = report(chain_engine, tmp_path, box, date(2024, 12, 12), ["gd-sttt", "pcvp-vhxh"])
        sent_to = sorted(m["To"] for m in box.messages)
    assert outcome["on_time"] is True
    assert sent_to == ["gd-sttt@vinhlong.example", "pgd-sttt@vinhlong.example", "ubnd-tinh@vinhlong.example"]
    with session_scope(chain_engine) as session:
        stored = session.exec(select(GeneratedFile).where(GeneratedFile.filename == "12-BC-STTTT.docx")).one()
    data = path_of(tmp_path / "db" / "files", stored.sha256).read_bytes()
    assert check(data).findings == []
    text = lines(open_docx(data))
    assert text[:2] == ["UBND TỈNH VĨNH LONG", "SỞ THÔNG TIN VÀ\nTRUYỀN THÔNG"] or text[0] == "UBND TỈNH VĨNH LONG", text[:4]
    title = text.index("BÁO CÁO")
    assert text[title + 1] == "Kết quả thực hiện Kế hoạch số 11/KH-STTTT ngày 20/02/2024"
    assert "Số: 12/BC-STTTT" in text and "Vĩnh Long, ngày 12 tháng 12 năm 2024" in text
    assert "Kính gửi: Ủy ban nhân dân tỉnh Vĩnh Long." in text
    for heading in ("I. KẾT QUẢ THỰC HIỆN", "II. KHÓ KHĂN, VƯỚNG MẮC", "III. ĐỀ XUẤT, KIẾN NGHỊ"):
        assert heading in text
    assert "3. Chuyển đổi các đài truyền thanh cấp xã sang đài truyền thanh ứng dụng công nghệ thông tin - viễn thông" in text
    assert "a) Tiến độ: đang thực hiện." in text and "c) Ghi chú: các đài còn lại tiếp tục chuyển đổi trong năm 2025." in text
    assert [t for t in text if t.endswith("./.")] == ["Sở Thông tin và Truyền thông kính báo cáo Ủy ban nhân dân tỉnh "
                                                      "Vĩnh Long xem xét, chỉ đạo./."]


def issued_text(engine: Engine, files: Path, filename: str) -> list[str]:
    """The lines of an issued document's stored DOCX."""
    from tests.docx_reading import lines, open_docx

    with session_scope(engine) as session:
        stored = session.exec(select(GeneratedFile).where(GeneratedFile.filename == filename)).one()
    engine.dispose()
    return lines(open_docx(path_of(files, stored.sha256).read_bytes()))


def test_the_readme_report_example_parses_into_what_it_says(chain_engine: Engine) -> None:
    """Each item the README's report.yaml shows on a line of its own ('- …', or plain text after its key) is one
    item, commas and all, and becomes one point of the Báo cáo."""
    import yaml

    from flows.report_implementation import ImplementationReport
    from models.flow_specs import parse_parameters

    text = readme_report_spec()
    shown = re.findall(r"(?m)^ *(?:- |(?:figures|difficulties|proposals): )(?!task:)(\S.*?)(?:\s+#.*)?$", text)
    spec = parse_parameters(ImplementationReport, yaml.safe_load(text)).report
    assert [(r.task, r.status) for r in spec.results] == [(1, "done"), (2, "done"), (3, "in_progress"), (4, "done")]
    items = [f for r in spec.results for f in r.figures] + spec.difficulties + spec.proposals
    assert items == shown and len(items) == 6
    assert spec.results[1].figures == ["Tổ chức 02 lớp bồi dưỡng cho 250 lượt người làm công tác thông tin cơ sở "
                                       "cấp huyện, cấp xã"]
    with session_scope(chain_engine) as session:
        draft, _ = compose_report(session, spec, date(2024, 12, 12))
    results = draft["body"]["sections"][0]["children"]
    assert [len(k["children"]) for k in results] == [2, 2, 3, 2]  # progress, one result each, task 3's notes
    assert results[1]["children"][1]["text"] == f"Kết quả: {spec.results[1].figures[0]}."
    assert draft["body"]["sections"][1]["paragraphs"] == spec.difficulties


def test_the_office_returns_a_report_and_the_assignment_reopens(chain_engine: Engine, tmp_path: Path) -> None:
    with session_scope(chain_engine) as session:
        draft, assignment = compose_report(session, {**sample_report(), "assignment": the_assignment(chain_engine).id})
        bc = draft_document(session, draft, actor="cv-sttt")
        sign_document(session, bc)
        issue_document(session, bc, date(2024, 12, 12), tmp_path / "files", actor="vt-sttt")
        from models.assignments import close_with_report

        close_with_report(session, session.get(Assignment, assignment.id), bc)
        step = open_acceptance(session, bc, name="Tiếp nhận báo cáo", approvers=("leaders:vp-ubnd",), actor="vt-sttt")
        step_id, bc_id = step.id, bc.id
    with pytest.raises(RuleViolation) as exc:
        respond(chain_engine, step_id, actor="pcvp-vhxh", decision=Decision.REJECT, text="không")
    assert exc.value.rule == "approval.accept-no-reject"
    respond(chain_engine, step_id, actor="pcvp-vhxh", decision=Decision.RETURN, text="Bổ sung số liệu nhiệm vụ 3")
    a = the_assignment(chain_engine)
    assert a.state is AssignmentState.OPEN and a.report_id is None
    with session_scope(chain_engine) as session:
        reopened = [json.loads(e.details) for e in session.exec(select(AuditEntry)) if e.action == "assignment_reopened"]
        compose_report(session, {**sample_report(), "assignment": a.id})  # a new report may now be drafted
    assert reopened == [{"assignment": a.id, "report": bc_id, "reason": "Bổ sung số liệu nhiệm vụ 3"}]


# --- bad input -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("change, field, rule", [
    ({"assignment": 99}, "assignment", "assignment.unknown"),
    ({"decision": 3, "lead": "snv"}, "assignment", "assignment.unknown"),
    ({"results": [{"task": 5, "status": "done"}]}, "results[0].task", "report.unknown-task"),
    ({"results": [{"task": 1, "status": "done"}]}, "results", "report.task-missing"),
])
def test_a_report_spec_that_does_not_fit_is_refused(chain_engine: Engine, change: dict, field: str, rule: str) -> None:
    spec = {**sample_report(), "assignment": the_assignment(chain_engine).id, **change}
    if "decision" in change:
        spec.pop("assignment")
    with session_scope(chain_engine) as session:
        with pytest.raises(RuleViolation) as exc:
            compose_report(session, spec)
    assert (exc.value.field, exc.value.rule) == (field, rule)
    if rule == "report.unknown-task":
        assert "Kế hoạch số 11/KH-STTTT ngày 20/02/2024 has no task 5 (its tasks: 1, 2, 3, 4)" in exc.value.message


def test_a_report_on_a_closed_assignment_is_refused(chain_engine: Engine, tmp_path: Path) -> None:
    from models.assignments import close_with_report

    with session_scope(chain_engine) as session:
        a = session.exec(select(Assignment)).one()
        close_with_report(session, a, session.exec(select(Document).where(Document.symbol == "TTr-STTTT")).one())
    with session_scope(chain_engine) as session:
        with pytest.raises(RuleViolation) as exc:
            compose_report(session, {**sample_report(), "assignment": a.id})
    assert exc.value.rule == "assignment.closed" and "20/02/2024" in exc.value.message


def test_the_daily_deployment_is_scheduled_in_vietnam_time(prefect_harness) -> None:  # noqa: ANN001
    from prefect import get_client

    from deployments.tracking import tracking_deployment

    deployment = tracking_deployment()
    deployment_id = deployment.apply()
    with get_client(sync_client=True) as client:
        stored = client.read_deployment(deployment_id)
    assert stored.name == "daily" and stored.flow_id is not None
    schedule = stored.schedules[0].schedule
    assert (schedule.cron, schedule.timezone) == ("0 7 * * *", "Asia/Ho_Chi_Minh")


def test_the_office_follows_assignments_from_the_command_line(_chain_template: Path, tmp_path: Path) -> None:
    import shutil

    from tests.test_cli import vanban

    shutil.copytree(_chain_template, tmp_path / "home")
    with Outbox() as box:
        env = {"VANBAN_HOME": str(tmp_path / "home"), "VANBAN_SMTP_URL": box.url, "PREFECT_LOGGING_LEVEL": "CRITICAL"}
        due = json.loads(vanban("assignments", "--json", env={**env, "VANBAN_TODAY": "2024-12-02"}).stdout)
        assert [(r["decision"], r["lead"], r["due"], r["state"]) for r in due] == [("374/QĐ-UBND", "sttt", "15/12/2024", "due")]
        assert json.loads(vanban("assignments", "--overdue", "--json", env={**env, "VANBAN_TODAY": "2024-12-02"}).stdout) == []
        (tmp_path / "on.yaml").write_text("on: 16/12/2024\n", encoding="utf-8")  # YAML reads `on` as true
        unnamed = vanban("run", "track-implementation", str(tmp_path / "on.yaml"), env=env)
        assert unnamed.returncode == 1 and "(file.yaml-key)" in unnamed.stderr and "Traceback" not in unnamed.stderr
        tracked = vanban("track", "--on", "16/12/2024", env=env)
        assert tracked.returncode == 0, tracked.stderr
        assert "escalation for assignment #1 (16/12/2024) to cvp, pct-vhxh, pcvp-vhxh: sent" in tracked.stdout
        assert vanban("track", "--on", "16/12/2024", env=env).stdout.startswith("nothing to send on 16/12/2024")
        late = json.loads(vanban("assignments", "--overdue", "--json", env={**env, "VANBAN_TODAY": "2024-12-17"}).stdout)
        assert [r["state"] for r in late] == ["overdue, escalated"] and late[0]["escalated"] == ["16/12/2024"]

        # the README's report.yaml as a clerk keeps it, issued late, its signer and the Office answering at once
        spec = re.sub(r"(?m)^issued_on: .*$", "issued_on: 18/12/2024", readme_report_spec())
        spec = re.sub(r"(?m)^auto_approvers: .*$", "auto_approvers: [gd-sttt, pcvp-vhxh]", spec)
        (tmp_path / "bad.yaml").write_text(spec.replace("- task: 3", "- task: 7"), encoding="utf-8")
        bad = vanban("run", "report-implementation", str(tmp_path / "bad.yaml"), env=env)
        assert bad.returncode == 1 and "report.results[2].task: Kế hoạch số 11/KH-STTTT ngày 20/02/2024 has no task 7" in bad.stderr
        assert "Traceback" not in bad.stderr
        (tmp_path / "good.yaml").write_text(spec, encoding="utf-8")
        good = vanban("run", "report-implementation", str(tmp_path / "good.yaml"), env=env)
        assert good.returncode == 0, good.stderr
        assert '"status": "report issued, accepted"' in good.stdout and '"on_time": false' in good.stdout
        closed = vanban("run", "report-implementation", str(tmp_path / "good.yaml"), env=env)
        assert closed.returncode == 1 and "report.assignment: assignment #1 is closed" in closed.stderr
    done = json.loads(vanban("assignments", "--json", env=env).stdout)
    assert [(r["state"], r["report"], r["reported_on"]) for r in done] == [("reported late", "12/BC-STTTT", "18/12/2024")]
    text = issued_text(make_engine(f"sqlite:///{tmp_path / 'home' / 'vanban.db'}"), tmp_path / "home" / "files",
                       "12-BC-STTTT.docx")
    khoan = text.index("2. Bồi dưỡng kiến thức, kỹ năng cho đội ngũ làm công tác thông tin cơ sở cấp huyện, cấp xã")
    assert text[khoan + 1:khoan + 4] == [  # a result written with commas is one result, from a block list …
        "a) Tiến độ: đã hoàn thành.",
        "b) Kết quả: Tổ chức 02 lớp bồi dưỡng cho 250 lượt người làm công tác thông tin cơ sở cấp huyện, cấp xã.",
        "3. Chuyển đổi các đài truyền thanh cấp xã sang đài truyền thanh ứng dụng công nghệ thông tin - viễn thông"]
    assert text[khoan + 5] == ("b) Kết quả: Chuyển đổi 45 đài truyền thanh cấp xã sang đài truyền thanh ứng dụng công "
                               "nghệ thông tin - viễn thông.")  # … and from plain text


def test_the_flow_waits_for_the_office_which_returns_the_report(prefect_harness, chain_engine: Engine,
                                                                tmp_path: Path) -> None:  # noqa: ANN001
    from prefect import get_client

    from tests.test_flows import clerk_answers, in_thread, paused_at

    with Outbox() as box:
        thread, result = in_thread(lambda: report(chain_engine, tmp_path, box, date(2024, 12, 12), ["gd-sttt"]))
        deadline = time.monotonic() + 90
        while the_assignment(chain_engine).report_id is None and time.monotonic() < deadline:
            time.sleep(0.3)
        report_id = the_assignment(chain_engine).report_id
        assert report_id is not None, result.get("error")
        step = paused_at(chain_engine, report_id, "Tiếp nhận báo cáo")
        assert step.approvers == ["cvp", "pcvp-vhxh"]
        assert the_assignment(chain_engine).state is AssignmentState.REPORTED  # closed at issue, before its receipt
        clerk_answers(chain_engine, step, "cvp", "return", "Bổ sung số liệu nhiệm vụ 3")
        thread.join(timeout=90)
    assert "error" not in result, result.get("error")
    assert result["result"]["status"] == "report issued, returned for more information"
    assert the_assignment(chain_engine).state is AssignmentState.OPEN
    with get_client(sync_client=True) as client:
        keys = {a.key for a in client.read_artifacts(limit=50)}
    assert f"distribution-{report_id}" in keys


def test_a_tracking_spec_with_a_mistyped_field_is_refused() -> None:
    from pydantic import ValidationError

    from flows.track_implementation import Tracking

    assert Tracking.model_validate({"day": "09/12/2024"}).day == date(2024, 12, 9)
    with pytest.raises(ValidationError):  # YAML reads a bare `on:` as True: refused, never silently today
        Tracking.model_validate({True: "09/12/2024"})
