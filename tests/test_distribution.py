"""Distribution of an issued document to its Nơi nhận: a real SMTP server on loopback (aiosmtpd), a real
HTTP receiver for webhooks, Prefect's test harness, real SQLite and PostgreSQL, a process killed mid-way."""

from __future__ import annotations

import base64
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from flows.distribute import Distribution, distribute
from flows.outbox import Outbox, OutboxHandler, free_port
from models.audit import AuditEntry
from models.channels import Channel, add_channel
from models.db import make_engine, session_scope
from models.deliveries import Delivery, DeliveryState, ledger, plan, request_redelivery
from models.document import Addressee, AddresseeRole, Document, DocumentStatus, GeneratedFile
from models.errors import RuleViolation
from models.files import path_of
from models.recipients import owner_of
from models.sample_data import load_directory, run_seed_chain

ROOT = Path(__file__).resolve().parent.parent
SEED_RECIPIENTS = 34  # Như Điều 3 (27 after removing repeats), CT+PCT (2), LĐVP (2), three units (3)


def decision_of(engine: Engine) -> Document:
    with session_scope(engine) as session:
        return session.exec(select(Document).where(Document.symbol == "QĐ-UBND")).one()


def run(engine: Engine, tmp_path: Path, relay: str | None, **options) -> dict:  # noqa: ANN003
    request = Distribution(document=decision_of(engine).id, relay=relay,  # on the test's database (conftest)
                           **{"retry_delay_seconds": 0.05, **options})
    return distribute(request)


def rows(engine: Engine) -> list[Delivery]:
    with session_scope(engine) as session:
        return ledger(session, decision_of(engine).id)


class Refusing(OutboxHandler):
    """A mail server that refuses some recipients: ``once`` with a 4xx the first time, ``always`` with a 5xx."""

    def __init__(self, once: set[str] = frozenset(), always: set[str] = frozenset()) -> None:
        super().__init__(None)
        self.once, self.always, self.refused = set(once), set(always), Counter()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, ANN201, N802
        if address in self.always or (address in self.once and not self.refused[address]):
            self.refused[address] += 1
            return "550 5.1.1 mailbox unavailable" if address in self.always else "451 4.3.0 try again later"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


class Receiver:
    """A webhook receiver on loopback: records each request; answers 503 to the first ``fail`` of them."""

    def __init__(self, fail: int = 0) -> None:
        self.requests: list[dict] = []
        self.fail = fail
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                code = 503 if len(receiver.requests) <= receiver.fail else 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_a: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    with Outbox(tmp_path / "outbox") as box:
        yield box


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def set_channel(engine: Engine, code: str, url: str | None) -> None:
    """Replace a recipient's channels (None: leave it with none)."""
    with session_scope(engine) as session:
        kind, owner_id = owner_of(session, code)
        for c in session.exec(select(Channel).where(Channel.owner_kind == kind, Channel.owner_id == owner_id)):
            session.delete(c)
        session.flush()
        if url:
            add_channel(session, kind, owner_id, url)


# --- the plan --------------------------------------------------------------------------------------

def test_the_plan_resolves_every_line_of_the_seed_once(chain_engine: Engine) -> None:
    with session_scope(chain_engine) as session:
        lines = plan(session, decision_of(chain_engine))
    texts = [pl.line.text for pl in lines]
    assert texts == ["Như Điều 3", "CT, PCT.UBND tỉnh phụ trách VHXH", "LĐVP.UBND tỉnh", "P.VHXH, TT.PVHCC, TT.THCB",
                     "Lưu: VT, 3.30.05"]
    codes = [[p.code for p in pl.recipients] for pl in lines]
    assert codes[0][:2] == ["vp-ubnd", "sttt"] and len(codes[0]) == 27  # 2 heads, 17 other sở/ban/ngành, 8 districts
    assert "ubnd-h-binh-tan" in codes[0] and "thanh-tra" in codes[0]
    assert codes[1:4] == [["ct-ubnd", "pct-vhxh"], ["cvp", "pcvp-vhxh"],
                          ["vp-ubnd/P.VHXH", "vp-ubnd/TT.PVHCC", "vp-ubnd/TT.THCB"]]
    assert lines[4].line.archive and not lines[4].recipients
    assert lines[0].line.vague == ("các cơ quan, đơn vị có liên quan",)  # a line of Điều 3 naming nobody concrete
    flat = [c for cs in codes for c in cs]
    assert len(flat) == len(set(flat)) == SEED_RECIPIENTS  # the group repeats the Office and Sở TTTT: sent once
    assert all(p.channels and not p.problems for pl in lines for p in pl.recipients)


DRY_RUN = """
import sys
from flows.cli import app
try:
    app(["distribute", "374/QĐ-UBND", "--dry-run"])
finally:
    print("prefect imported:", "prefect" in sys.modules)
"""


def test_the_dry_run_says_what_the_settings_stop_without_reading_secrets(_chain_template: Path, tmp_path: Path) -> None:
    """No relay, an unset environment variable, a Prefect Secret block: the dry run names the first two as
    problems (as the real run would fail them) and the block as not checked, reading no value and leaving Prefect
    alone; with the relay and the variable set, nothing is left but the block."""
    import shutil

    shutil.copytree(_chain_template, tmp_path / "home")
    engine = make_engine(f"sqlite:///{tmp_path / 'home' / 'vanban.db'}")
    set_channel(engine, "snv", "json://vanban:{env:VANBAN_TEST_SNV_TOKEN}@qlvb.snv.example/inbox")
    set_channel(engine, "stc", "json://vanban:{secret:vanban-stc}@qlvb.stc.example/inbox")
    engine.dispose()
    env = {"PATH": "/usr/bin:/bin", "COLUMNS": "400", "HOME": str(tmp_path), "VANBAN_HOME": str(tmp_path / "home")}

    def dry_run(**extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", DRY_RUN], capture_output=True, text=True, cwd=ROOT,
                              env={**env, **extra}, timeout=120)

    bare = dry_run()
    assert bare.returncode == 0, bare.stderr
    assert "34 recipients, 33 with a channel problem, 1 unresolved lines, 1 with a Prefect Secret block not checked" \
        in bare.stdout
    assert bare.stdout.count("channel.no-relay: e-mail addresses need VANBAN_SMTP_URL") == 32
    assert ("channel.secret-missing: the environment variable 'VANBAN_TEST_SNV_TOKEN' that the channel names "
            "is not set") in bare.stdout
    assert "not checked: {secret:vanban-stc} (a Prefect Secret block, read only when sending)" in bare.stdout
    assert "prefect imported: False" in bare.stdout and not (tmp_path / "home" / "prefect").exists()

    token = "tok3n-never-printed"
    ready = dry_run(VANBAN_SMTP_URL="mailtos://vanthu:{env:VANBAN_TEST_SMTP_PASSWORD}@mail.example.vn",
                    VANBAN_TEST_SMTP_PASSWORD=token, VANBAN_TEST_SNV_TOKEN=token)
    assert ready.returncode == 0, ready.stderr
    assert "34 recipients, 0 with a channel problem, 1 unresolved lines, 1 with a Prefect Secret block not checked" \
        in ready.stdout
    assert token not in ready.stdout + ready.stderr and "prefect imported: False" in ready.stdout
    relay_unset = dry_run(VANBAN_SMTP_URL="mailtos://vanthu:{env:VANBAN_TEST_SMTP_PASSWORD}@mail.example.vn",
                          VANBAN_TEST_SNV_TOKEN=token)
    assert "32 with a channel problem" in relay_unset.stdout  # the relay's password: every e-mail recipient
    assert relay_unset.stdout.count("the environment variable 'VANBAN_TEST_SMTP_PASSWORD'") == 32

def test_a_line_naming_nobody_is_unresolved_and_blocks_nothing(chain_engine: Engine) -> None:
    with session_scope(chain_engine) as session:
        doc = decision_of(chain_engine)
        archive = session.exec(select(Addressee).where(Addressee.document_id == doc.id, Addressee.position == 4,
                                                       Addressee.role == AddresseeRole.RECIPIENT)).one()
        archive.position = 6
        session.add(archive)
        session.flush()
        session.add(Addressee(document_id=doc.id, role=AddresseeRole.RECIPIENT, position=4,
                              text="Các cơ quan, đơn vị có liên quan", targets=[]))
        session.add(Addressee(document_id=doc.id, role=AddresseeRole.RECIPIENT, position=5,
                              text="Sở TTTT", targets=[{"type": "head", "code": "sttt"}]))
    with session_scope(chain_engine) as session:
        lines = plan(session, decision_of(chain_engine))
    assert lines[4].line.problem and "names no agency" in lines[4].line.problem
    assert not lines[5].recipients and [r.label for r in lines[5].line.repeated] == ["Giám đốc Sở Thông tin và Truyền thông"]
    assert sum(len(pl.recipients) for pl in lines) == SEED_RECIPIENTS


def test_only_an_issued_document_is_distributed(chain_engine: Engine) -> None:
    with session_scope(chain_engine) as session:
        doc = decision_of(chain_engine)
        doc.status = DocumentStatus.SIGNED  # in this session only: rolled back below
        with pytest.raises(RuleViolation) as exc:
            plan(session, doc)
        session.rollback()
    assert exc.value.rule == "distribution.issued-only"


def test_a_channel_with_a_credential_in_clear_is_refused(chain_engine: Engine) -> None:
    with session_scope(chain_engine) as session:
        kind, owner = owner_of(session, "sttt")
        with pytest.raises(RuleViolation) as exc:
            add_channel(session, kind, owner, "json://vanban:hunter2@127.0.0.1:9/inbox", "url")
        assert exc.value.field == "url" and exc.value.rule == "channel.clear-credentials"
        with pytest.raises(RuleViolation) as exc:
            add_channel(session, kind, owner, "nonsense://what", "url")
        assert exc.value.rule == "channel.malformed"
        add_channel(session, kind, owner, "json://vanban:{env:HOOK_TOKEN}@127.0.0.1:9/inbox", "url")


# --- sending ---------------------------------------------------------------------------------------

def test_the_seed_decision_reaches_every_recipient_with_its_files(
        prefect_harness, chain_engine: Engine, tmp_path: Path, outbox: Outbox) -> None:  # noqa: ANN001
    result = run(chain_engine, tmp_path, outbox.url)
    assert result["status"] == "completed"
    assert result["deliveries"] == {"sent": SEED_RECIPIENTS, "archived": 1, "unresolved": 1}
    messages = outbox.messages
    assert len(messages) == SEED_RECIPIENTS
    to = Counter(m["To"] for m in messages)
    assert len(to) == SEED_RECIPIENTS and max(to.values()) == 1
    assert {"sttt@vinhlong.example", "ubnd-h-binh-tan@vinhlong.example", "pct-vhxh@vinhlong.example",
            "pvhxh.vp-ubnd@vinhlong.example", "cvp@vinhlong.example"} <= set(to)
    with session_scope(chain_engine) as session:
        doc = decision_of(chain_engine)
        files = {f.filename: path_of(tmp_path / "db" / "files", f.sha256).read_bytes()
                 for f in session.exec(select(GeneratedFile).where(GeneratedFile.purpose == "issued"))}
        assert doc.distribution == "completed"
        actions = Counter(e.action for e in session.exec(select(AuditEntry)) if e.document_id == doc.id)
    assert actions["delivery_succeeded"] == SEED_RECIPIENTS
    ids = set()
    for m in messages:
        assert m["Message-ID"] == m["X-Vanban-Message-Id"]
        ids.add(m["Message-ID"])
        attached = {part.get_filename(): part.get_content() for part in m.iter_attachments()}
        assert attached == {"374-QD-UBND.docx": files["374-QD-UBND.docx"], "11-KH-STTTT.docx": files["11-KH-STTTT.docx"]}
    assert len(ids) == SEED_RECIPIENTS
    sttt = next(m for m in messages if m["To"] == "sttt@vinhlong.example")
    assert sttt["Subject"] == ("Quyết định số 374/QĐ-UBND ngày 04/3/2024 của Ủy ban nhân dân tỉnh Vĩnh Long")
    body = sttt.get_body(preferencelist=("plain",)).get_content()
    assert body.startswith("Kính gửi: Giám đốc Sở Thông tin và Truyền thông.\n")
    assert "Ủy ban nhân dân tỉnh Vĩnh Long gửi Quyết định số 374/QĐ-UBND ngày 04/3/2024: Phê duyệt Kế hoạch" in body
    assert "11-KH-STTTT.docx (Kế hoạch số 11/KH-STTTT ngày 20/02/2024, được phê duyệt tại Quyết định này)" in body
    assert f"Mã thư: {sttt['Message-ID']}" in body
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == SEED_RECIPIENTS

    again = run(chain_engine, tmp_path, outbox.url)  # a rerun of a completed distribution sends nothing
    assert again["status"] == "completed" and len(outbox.messages) == SEED_RECIPIENTS


def test_a_refusing_server_4xx_is_retried_and_5xx_is_final(
        prefect_harness, chain_engine: Engine, tmp_path: Path) -> None:  # noqa: ANN001
    handler = Refusing(once={"snv@vinhlong.example", "cvp@vinhlong.example"}, always={"stp@vinhlong.example"})
    with Outbox(handler=handler) as box:
        result = run(chain_engine, tmp_path, box.url)
    assert result["status"] == "partly_failed"
    assert result["deliveries"] == {"sent": SEED_RECIPIENTS - 1, "failed": 1, "archived": 1, "unresolved": 1}
    by_code = {r.recipient_code: r for r in rows(chain_engine)}
    assert by_code["snv"].state is DeliveryState.SENT and by_code["snv"].attempts == 2
    assert by_code["cvp"].state is DeliveryState.SENT and by_code["cvp"].attempts == 2
    assert by_code["stp"].state is DeliveryState.FAILED and by_code["stp"].attempts == 1  # a 5xx is not retried
    assert by_code["stp"].error_rule == "smtp.550" and "mailbox unavailable" in by_code["stp"].error
    assert handler.refused["stp@vinhlong.example"] == 1
    assert Counter(m["To"] for m in handler.messages)["snv@vinhlong.example"] == 1
    assert decision_of(chain_engine).distribution == "partly_failed"


def test_a_server_that_is_down_fails_each_after_its_retries_then_redelivery_sends(
        prefect_harness, chain_engine: Engine, tmp_path: Path) -> None:  # noqa: ANN001
    port = free_port()  # nobody listens there
    result = run(chain_engine, tmp_path, f"mailto://127.0.0.1:{port}?from=vanthu@vinhlong.example", retries=1)
    assert result["deliveries"] == {"failed": SEED_RECIPIENTS, "archived": 1, "unresolved": 1}
    assert all(r.error_rule == "smtp.unreachable" and r.attempts == 2 for r in rows(chain_engine) if r.channel_url)
    handler = OutboxHandler(None)
    with session_scope(chain_engine) as session:
        chosen = request_redelivery(session, decision_of(chain_engine), failed_only=True, to=None, actor="vt-ubnd")
    assert len(chosen) == SEED_RECIPIENTS
    with Outbox(handler=handler) as box:
        again = run(chain_engine, tmp_path, box.url)
    assert again["status"] == "completed" and len(handler.messages) == SEED_RECIPIENTS
    assert all(r.redeliveries == 1 for r in rows(chain_engine) if r.channel_url)
    with session_scope(chain_engine) as session:
        steps = [json.loads(e.details).get("step") for e in session.exec(select(AuditEntry))
                 if e.action == "delivery_attempted"]
    assert "redeliver" in steps


def test_bad_channels_are_in_the_ledger_and_the_others_are_delivered(
        prefect_harness, chain_engine: Engine, tmp_path: Path, outbox: Outbox) -> None:  # noqa: ANN001
    set_channel(chain_engine, "snv", None)  # no channel at all
    set_channel(chain_engine, "stp", "json://{env:VANBAN_TEST_ABSENT_SECRET}@127.0.0.1:9/inbox")  # a secret not set
    with session_scope(chain_engine) as session:  # a URL edited by hand into the database, past the checks
        kind, owner = owner_of(session, "stc")
        for c in session.exec(select(Channel).where(Channel.owner_kind == kind, Channel.owner_id == owner)):
            c.url = "json://"
            session.add(c)
    result = run(chain_engine, tmp_path, outbox.url)
    assert result["deliveries"] == {"sent": SEED_RECIPIENTS - 3, "failed": 3, "archived": 1, "unresolved": 1}
    by_code = {r.recipient_code: r for r in rows(chain_engine)}
    assert by_code["snv"].error_rule == "channel.none"
    assert by_code["stp"].error_rule == "channel.secret-missing" and "VANBAN_TEST_ABSENT_SECRET" in by_code["stp"].error
    assert by_code["stc"].error_rule == "channel.malformed"
    assert len(outbox.messages) == SEED_RECIPIENTS - 3


def test_attachments_over_the_limit_are_not_sent(prefect_harness, chain_engine: Engine, tmp_path: Path,
                                                 outbox: Outbox) -> None:  # noqa: ANN001
    result = run(chain_engine, tmp_path, outbox.url, max_attachment_bytes=1000)
    assert result["deliveries"] == {"failed": SEED_RECIPIENTS, "archived": 1, "unresolved": 1}
    assert {r.error_rule for r in rows(chain_engine) if r.channel_url} == {"attachment.too-large"}
    assert outbox.messages == []


def test_a_webhook_gets_the_files_and_the_same_message_id_and_no_secret_leaks(
        prefect_harness, chain_engine: Engine, tmp_path: Path, outbox: Outbox, receiver: Receiver,
        monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    secret = "s3cr3t-Token-for-the-webhook"
    monkeypatch.setenv("VANBAN_TEST_HOOK_TOKEN", secret)
    receiver.fail = 1  # the first call gets a 503: retried
    with session_scope(chain_engine) as session:
        kind, owner = owner_of(session, "sttt")
        add_channel(session, kind, owner, f"json://vanban:{{env:VANBAN_TEST_HOOK_TOKEN}}@127.0.0.1:{receiver.port}/inbox")
    result = run(chain_engine, tmp_path, outbox.url)
    assert result["status"] == "completed"
    assert len(receiver.requests) == 2 and {r["path"] for r in receiver.requests} == {"/inbox"}
    hook = receiver.requests[-1]
    assert hook["headers"]["Authorization"] == "Basic " + base64.b64encode(f"vanban:{secret}".encode()).decode()
    mail = next(m for m in outbox.messages if m["To"] == "sttt@vinhlong.example")
    assert hook["headers"]["X-Vanban-Message-Id"] == mail["Message-ID"]
    assert hook["body"]["title"] == mail["Subject"]
    assert sorted(a["filename"] for a in hook["body"]["attachments"]) == ["11-KH-STTTT.docx", "374-QD-UBND.docx"]
    sttt_rows = [r for r in rows(chain_engine) if r.recipient_code == "sttt"]
    assert len(sttt_rows) == 2 and all(r.state is DeliveryState.SENT for r in sttt_rows)
    assert "{env:VANBAN_TEST_HOOK_TOKEN}" in next(r.channel_url for r in sttt_rows if r.channel_url.startswith("json"))

    database = Path(str(chain_engine.url.database))
    dump = "\n".join(sqlite3.connect(database).iterdump())
    assert secret not in dump and "VANBAN_TEST_HOOK_TOKEN" in dump
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter

    with get_client(sync_client=True) as client:
        logs = client.read_logs(log_filter=LogFilter(), limit=200)
        runs = client.read_flow_runs(limit=20)
        artifacts = client.read_artifacts(limit=20)
    assert secret not in "\n".join(log.message for log in logs)
    assert secret not in json.dumps([r.parameters for r in runs], default=str)
    table = next(a for a in artifacts if a.key == f"distribution-{decision_of(chain_engine).id}")
    assert secret not in json.dumps(table.data, default=str) and "sttt" in json.dumps(table.data, ensure_ascii=False)


# --- exactly once across crashes and concurrent runs ------------------------------------------------

RUNS = """
import os, sys, traceback
import flows.runtime  # vanban's Prefect settings, before Prefect loads
from flows.distribute import Distribution, distribute
from flows.runtime import prefect_settings
from models.config import get_settings
from models.db import get_engine

for line in sys.stdin:
    command, *args = line.split()
    if command == "wait":
        print(os.waitstatus_to_exitcode(os.waitpid(int(args[0]), 0)[1]), flush=True)
        continue
    document, relay, database, files, lease, concurrency = args
    pid = os.fork()
    if pid == 0:
        os.dup2(2, 1)  # stdout is the parent's, for pids and statuses
        os.environ.update(VANBAN_DATABASE_URL=database, VANBAN_HOME=os.path.dirname(files))  # as a worker is set up
        get_settings.cache_clear()
        get_engine.cache_clear()
        code = 0
        try:
            with prefect_settings():
                distribute(Distribution(document=int(document), relay=relay,
                                        lease_seconds=float(lease), concurrency=int(concurrency),
                                        retry_delay_seconds=0.05))
        except BaseException:
            traceback.print_exc()
            code = 1
        os._exit(code)
    print(pid, flush=True)
"""


class Runs:
    """Distribution runs, each the real flow in a process of its own, forked from one process that has
    imported vanban and Prefect already and talks to the test session's Prefect server: a run starts in a
    fraction of a second (a new interpreter with its own temporary Prefect server takes ~10 s), so a test can
    start and kill many. ``wait`` gives a run's exit status (negative: the signal that ended it)."""

    def __init__(self, tmp_path: Path, doc_id: int, relay: str, database: str, files: Path) -> None:
        from prefect.settings import PREFECT_API_URL

        self.args = f"{doc_id} {relay} {database} {files}"
        self.log_path = tmp_path / "runs.log"
        self._log = self.log_path.open("w")
        env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "VANBAN_HOME": str(tmp_path / "home")}
        self.process = subprocess.Popen([sys.executable, "-c", RUNS], cwd=ROOT, env=env, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log)
        self.running: set[int] = set()

    def _ask(self, line: str) -> int:
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        assert answer, f"the runs' parent died: {self.log()}"
        return int(answer)

    def start(self, *, lease: float = 30.0, concurrency: int = 4) -> int:
        pid = self._ask(f"go {self.args} {lease} {concurrency}")
        self.running.add(pid)
        return pid

    def wait(self, pid: int) -> int:
        self.running.discard(pid)
        return self._ask(f"wait {pid}")

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text()[-3000:]

    def close(self) -> None:
        """Kill the runs a failed test left going, then end the parent."""
        if self.process.poll() is not None:
            return
        for pid in list(self.running):
            os.kill(pid, signal.SIGKILL)
            self.wait(pid)
        self.process.stdin.close()  # the parent's loop ends
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


@pytest.fixture
def runs_for(prefect_harness, tmp_path: Path) -> Iterator:  # noqa: ANN001
    opened: list[Runs] = []

    def make(doc_id: int, relay: str, database: str, files: Path) -> Runs:
        opened.append(Runs(tmp_path, doc_id, relay, database, files))
        return opened[-1]

    yield make
    for r in opened:
        r.close()


def assert_each_recipient_got_one_message_id(messages: list, expected: dict[str, str]) -> None:
    """Every recipient got the document, under one message id only, the one the ledger gave it."""
    ids = defaultdict(set)
    for m in messages:
        ids[m["To"]].add(m["X-Vanban-Message-Id"])
    assert set(ids) == set(expected), set(expected) ^ set(ids)
    assert all(found == {expected[to]} for to, found in ids.items())


def expected_ids(engine: Engine) -> dict[str, str]:
    with session_scope(engine) as session:
        return {c.url.removeprefix("mailto:"): r.message_id for r in ledger(session, decision_of(engine).id)
                for c in session.exec(select(Channel).where(Channel.url == r.channel_url)) if r.channel_url}


def plan_entries(engine: Engine) -> list[dict]:
    with session_scope(engine) as session:
        return [json.loads(e.details) for e in session.exec(select(AuditEntry).order_by(AuditEntry.seq))
                if e.action == "delivery_attempted" and json.loads(e.details).get("step") == "plan"]


def test_a_run_killed_mid_way_then_rerun_misses_nobody_and_repeats_only_lost_outcomes(
        chain_engine: Engine, tmp_path: Path, runs_for) -> None:  # noqa: ANN001
    """SQLite: killed while the mail server holds its 10th message (handed over, outcome not recorded), the
    rerun sends what was never handed over and again what was in flight, nothing else."""
    victim: list[int] = []

    class KillAfter(OutboxHandler):
        def received(self, message) -> None:  # noqa: ANN001
            if len(self.messages) == 10 and victim:
                os.kill(victim[0], signal.SIGKILL)

    handler = KillAfter(None)
    with Outbox(handler=handler) as box:
        runs = runs_for(decision_of(chain_engine).id, box.url, str(chain_engine.url), tmp_path / "db" / "files")
        victim.append(runs.start(lease=0.5))
        assert runs.wait(victim[0]) == -signal.SIGKILL, runs.log()
        assert 10 <= len(handler.messages) < SEED_RECIPIENTS
        states = Counter(r.state for r in rows(chain_engine))
        assert 1 <= states[DeliveryState.SENDING] <= 4  # one in flight per worker at most
        in_flight = {r.message_id for r in rows(chain_engine) if r.state is DeliveryState.SENDING}
        rerun = runs.start(lease=0.5)
        assert runs.wait(rerun) == 0, runs.log()
        runs.close()
    assert decision_of(chain_engine).distribution == "completed"
    assert_each_recipient_got_one_message_id(handler.messages, expected_ids(chain_engine))
    twice = {mid for mid, n in Counter(m["Message-ID"] for m in handler.messages).items() if n > 1}
    assert twice <= in_flight and max(Counter(m["Message-ID"] for m in handler.messages).values()) <= 2
    last = plan_entries(chain_engine)[-1]
    assert set(last["resent_after_crash"]) == in_flight and last["taken_over_from"]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_runs_at_once_send_each_message_once(backend: str, chain_engine: Engine, tmp_path: Path,
                                                 request: pytest.FixtureRequest, runs_for) -> None:  # noqa: ANN001
    if backend == "postgresql":
        url = request.getfixturevalue("pg_url")
        engine = make_engine(url)
        with session_scope(engine) as session:
            load_directory(session)
        run_seed_chain(engine, tmp_path / "db" / "files")
    else:
        engine, url = chain_engine, str(chain_engine.url)
    handler = OutboxHandler(None)
    with Outbox(handler=handler) as box:
        runs = runs_for(decision_of(engine).id, box.url, url, tmp_path / "db" / "files")
        pids = [runs.start(), runs.start()]
        assert [runs.wait(pid) for pid in pids] == [0, 0], runs.log()
        runs.close()
    assert len(handler.messages) == SEED_RECIPIENTS
    assert_each_recipient_got_one_message_id(handler.messages, expected_ids(engine))
    if backend == "postgresql":
        engine.dispose()


class Killer(OutboxHandler):
    """A mail server that can keep every message waiting before its 250 (``hold``), kill a run the moment it
    accepts a message (between the run's hand-over and its outcome: the window), and tell when messages come."""

    def __init__(self) -> None:
        super().__init__(None)
        self.hold = threading.Event()
        self.kill_on: tuple[int, int] | None = None  # (messages received, pid)
        self.arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
        import asyncio

        while self.hold.is_set():
            await asyncio.sleep(0.01)
        return await super().handle_DATA(server, session, envelope)

    def received(self, message) -> None:  # noqa: ANN001
        if self.kill_on and len(self.messages) >= self.kill_on[0]:
            os.kill(self.kill_on[1], signal.SIGKILL)
            self.kill_on = None
        with self.arrived:
            self.arrived.notify_all()

    def wait_for(self, count: int, timeout: float) -> bool:
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.messages) >= count, timeout)


KILLS = 20
CUT_AT = 10  # the round whose run loses its lease connection and meets a rival


def test_twenty_kills_and_a_lost_lease_connection_miss_nobody_and_repeat_only_what_was_in_flight(
        pg_url: str, tmp_path: Path, runs_for) -> None:  # noqa: ANN001
    """PostgreSQL. 20 SIGKILLs of the distributing process at random points: the moment the server accepts a
    message (before the run hears its 250), a few ms after one, or any time from its start (lease, plan,
    reconciliation). In one round the lease's connection is also terminated (pg_terminate_backend) while the
    run waits on the server, and a rival run starts: the lease stays with the live run (renewed over a new
    connection) and the rival sends nothing until the run is killed. Counted by Message-ID at the server: nobody
    missed, and a message twice only where a run reconciling after a kill found it handed over without an
    outcome (``resent_after_crash``) — the window the README names; at most one such message per worker."""
    from sqlalchemy import text

    from models.lease import APPLICATION_NAME, Lease

    engine = make_engine(pg_url)
    with session_scope(engine) as session:
        load_directory(session)
    run_seed_chain(engine, tmp_path / "db" / "files")
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    handler = Killer()

    def lease_row() -> tuple:
        with session_scope(engine) as session:
            row = session.get(Lease, f"distribution:{decision_of(engine).id}", populate_existing=True)
            return row.holder, row.fence, row.beat

    def lease_backends() -> list[int]:
        with engine.connect() as connection:
            return list(connection.execute(text("SELECT pid FROM pg_stat_activity WHERE application_name = :n "
                                                "AND datname = current_database()"), {"n": APPLICATION_NAME}).scalars())

    def until(check, timeout: float = 20.0) -> None:  # noqa: ANN001
        deadline = time.monotonic() + timeout
        while not check():
            assert time.monotonic() < deadline, f"seed {seed}: timed out; {runs.log()}"
            time.sleep(0.02)

    with Outbox(handler=handler) as box:
        runs = runs_for(decision_of(engine).id, box.url, pg_url, tmp_path / "db" / "files")
        current, rival, killed = runs.start(lease=0.5), None, 0
        for n in range(KILLS):
            if n == CUT_AT:
                handler.hold.set()  # the run's workers hand messages over and wait for the server
                until(lambda: any(r.state is DeliveryState.SENDING for r in rows(engine)) and lease_backends())
                with engine.connect() as connection:
                    cut = connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                                                  "application_name = :n AND datname = current_database()"),
                                             {"n": APPLICATION_NAME}).scalars().all()
                assert cut == [True], f"seed {seed}"
                before = lease_row()
                rival = runs.start(lease=2.0)
                time.sleep(3.0)  # longer than the rival waits for a silent holder
                after = lease_row()
                assert after[:2] == before[:2] and after[2] > before[2], f"seed {seed}: {before} → {after}"
                assert lease_backends(), "the heartbeat opened a new connection"
                handler.kill_on = (len(handler.messages) + 1, current)
                handler.hold.clear()
            else:
                mode, target = ("accepting", "after", "anytime")[n % 3], len(handler.messages) + 1
                if mode == "accepting":
                    handler.kill_on = (target, current)
                    handler.wait_for(target, timeout=15)
                elif mode == "after":
                    handler.wait_for(target, timeout=15)
                    time.sleep(rng.uniform(0, 0.015))
                else:
                    time.sleep(rng.uniform(0, 1.2))
                handler.kill_on = None  # fired already, or the run ended before a message came
                os.kill(current, signal.SIGKILL)  # no-op on a run that has ended (not yet waited for)
            status = runs.wait(current)
            assert status in (-signal.SIGKILL, 0), f"seed {seed}, round {n}: {status}; {runs.log()}"
            killed += status == -signal.SIGKILL
            current, rival = rival or runs.start(lease=0.5), None
        assert runs.wait(current) == 0, f"seed {seed}: {runs.log()}"
        runs.close()
    assert killed >= KILLS - 2, f"seed {seed}: only {killed} runs were killed before they ended"
    assert decision_of(engine).distribution == "completed"
    assert_each_recipient_got_one_message_id(handler.messages, expected_ids(engine))  # nobody missed
    plans = plan_entries(engine)
    resent = Counter(mid for p in plans for mid in p["resent_after_crash"])
    received = Counter(m["Message-ID"] for m in handler.messages)
    outside = {mid: n for mid, n in received.items() if n - 1 > resent[mid]}
    assert outside == {}, f"seed {seed}: sent twice outside the window: {outside}"
    assert all(len(p["resent_after_crash"]) <= 4 for p in plans), f"seed {seed}"  # one in flight per worker
    assert sum(1 for p in plans if p["resent_after_crash"]) >= 5, f"seed {seed}: the kills missed the window"
    assert any(p.get("taken_over_from") for p in plans)
    assert lease_row()[0] is None and {r.state for r in rows(engine) if r.channel_url} == {DeliveryState.SENT}
    engine.dispose()


# --- receipts and the clerk's commands ---------------------------------------------------------------

def test_receipts_over_http_need_the_token_and_forgeries_are_refused_and_recorded(
        prefect_harness, chain_engine: Engine, tmp_path: Path, outbox: Outbox) -> None:  # noqa: ANN001
    """A real HTTP client against the real server on loopback: the token the message carried acknowledges it;
    no token, a wrong one, or the token of another recipient's message gets 403 and an audit entry; a huge
    Content-Length gets 413 before anything is read."""
    import http.client
    import socket

    from flows.receipts import MAX_BODY, receipt_server

    run(chain_engine, tmp_path, outbox.url)
    snv = next(m for m in outbox.messages if m["To"] == "snv@vinhlong.example")
    stp = next(m for m in outbox.messages if m["To"] == "stp@vinhlong.example")
    mid, token = snv["Message-ID"], snv["X-Vanban-Receipt-Token"]
    body = snv.get_body(preferencelist=("plain",)).get_content()
    assert f"Mã xác nhận: {token}\n" in body and len(token) == 26
    assert token != stp["X-Vanban-Receipt-Token"]
    server = receipt_server(chain_engine, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]

    def post(payload: dict | bytes, headers: dict | None = None) -> tuple[int, dict]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        connection.request("POST", "/receipts", body=data, headers=headers or {"Content-Type": "application/json"})
        answer = connection.getresponse()
        result = answer.status, json.loads(answer.read())
        connection.close()
        return result

    def huge_content_length() -> tuple[int, dict]:
        """Announce 10 GB, send nothing: the answer comes at once."""
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            raw.sendall(b"POST /receipts HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000000\r\n\r\n")
            answer = b""
            while chunk := raw.recv(65536):  # the server closes the connection after its answer
                answer += chunk
            head, _, rest = answer.partition(b"\r\n\r\n")
            return int(head.split()[1]), json.loads(rest)

    try:
        forged = [post({"message_id": mid}),  # the message id alone, computed from the number
                  post({"message_id": mid, "token": "A" * 26, "by": "kẻ giả mạo"}),
                  post({"message_id": mid, "token": stp["X-Vanban-Receipt-Token"]})]
        first = post({"message_id": mid, "token": token.lower(), "by": "Văn thư Sở Nội vụ"})
        again = post({"message_id": mid, "token": token})
        unknown = post({"message_id": "<nobody@vanban.local>", "token": "A" * 26})
        broken = post(b"not json")
        too_big = huge_content_length()
        over = post(b"{" + b" " * MAX_BODY + b"}")
        server_alive = post({"message_id": mid, "token": token})
    finally:
        server.shutdown()
        server.server_close()
    assert [(code, answer["rule"]) for code, answer in forged] == [
        (403, "receipt.token-missing"), (403, "receipt.token-mismatch"), (403, "receipt.token-mismatch")]
    assert first == (200, {"message_id": mid, "recipient": "snv", "acknowledged": True, "first_time": True})
    assert again[0] == 200 and again[1]["first_time"] is False
    assert unknown[0] == 403  # a forged token says nothing about which message ids exist
    assert broken[0] == 400 and too_big[0] == 413 and over[0] == 413 and server_alive[0] == 200
    snv_row = next(r for r in rows(chain_engine) if r.recipient_code == "snv")
    assert snv_row.acknowledged_by == "Văn thư Sở Nội vụ" and snv_row.acknowledged_proof == "token"
    with session_scope(chain_engine) as session:
        entries = [e for e in session.exec(select(AuditEntry).order_by(AuditEntry.seq))]
    acks = [json.loads(e.details) for e in entries if e.action == "acknowledged"]
    refused = [(e.document_id, json.loads(e.details)) for e in entries if e.action == "receipt_refused"]
    assert [(a["recipient"], a["proof"]) for a in acks] == [("snv", "token")]
    doc_id = decision_of(chain_engine).id
    assert [(d, r["rule"], r["message_id"], r["from"]) for d, r in refused] == [
        (doc_id, "receipt.token-missing", mid, "127.0.0.1"), (doc_id, "receipt.token-mismatch", mid, "127.0.0.1"),
        (doc_id, "receipt.token-mismatch", mid, "127.0.0.1"),
        (None, "receipt.token-mismatch", "<nobody@vanban.local>", "127.0.0.1")]
    assert refused[1][1]["claimed_by"] == "kẻ giả mạo"


def test_the_receipt_token_is_an_hmac_under_a_key_outside_the_database(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The same message id gives the same token (a resend carries it); another key gives another token; the
    key file (VANBAN_RECEIPT_KEY_FILE) is its owner's alone, and a damaged one is refused."""
    from models.config import get_settings
    from models.errors import VanbanError
    from models.receipts import receipt_key, receipt_token, token_matches

    path = tmp_path / "keys" / "receipt.key"
    monkeypatch.setenv("VANBAN_RECEIPT_KEY_FILE", str(path))
    get_settings.cache_clear()
    key = receipt_key()
    assert path.exists()
    assert len(key) == 32 and path.stat().st_mode & 0o777 == 0o600 and receipt_key() == key
    mid = "<374-QD-UBND-2024.agency-7.1f2e3d4c@vanban.local>"
    token = receipt_token(mid, key)
    assert token == receipt_token(mid, key) != receipt_token(mid.replace("7", "8"), key)
    assert receipt_token(mid, receipt_key(tmp_path / "other.key")) != token
    assert token_matches(mid, token) and token_matches(mid, f" {token.lower()[:13]}-{token[13:]} ")
    assert not token_matches(mid, token[:-1])
    path.write_text("not a key\n")
    with pytest.raises(VanbanError, match="is not a key vanban wrote"):
        receipt_key()


def test_receipts_serve_stays_on_loopback_unless_told(monkeypatch: pytest.MonkeyPatch, _chain_template: Path,
                                                     tmp_path: Path) -> None:
    """Any address but loopback needs --public, and then a warning; a port it cannot take is one line."""
    import shutil
    import socket

    from typer.testing import CliRunner

    from flows.cli import app
    from flows.cli.distribution import is_loopback
    from models.config import get_settings
    from models.db import get_engine

    assert [is_loopback(h) for h in ("127.0.0.1", "127.0.0.2", "::1", "localhost", "0.0.0.0", "192.168.1.5",
                                     "vanban.example")] == [True, True, True, True, False, False, False]
    shutil.copytree(_chain_template, tmp_path / "home")
    monkeypatch.setenv("VANBAN_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    get_engine.cache_clear()
    refused = CliRunner().invoke(app, ["receipts", "serve", "--host", "0.0.0.0"])
    assert refused.exit_code == 1
    assert "host: 0.0.0.0 is not a loopback address" in refused.stderr and "(receipts.public-needs-flag)" in refused.stderr
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        public = CliRunner().invoke(app, ["receipts", "serve", "--host", "0.0.0.0", "--port", port, "--public"])
    assert public.exit_code == 1 and "warning: receipts listen on 0.0.0.0, reachable from other machines" in public.stderr
    assert f"port: cannot listen on 0.0.0.0:{port}: Address already in use (receipts.cannot-listen)" in public.stderr


def test_a_clerk_distributes_follows_the_ledger_and_redelivers(_chain_template: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from typer.testing import CliRunner

    from flows.cli import app
    from models.config import get_settings
    from models.db import get_engine
    from tests.test_cli import vanban

    def in_process(*args: str) -> Any:
        """The command in this process (no new interpreter to start), on the same home."""
        monkeypatch.setenv("VANBAN_HOME", str(tmp_path / "home"))
        get_settings.cache_clear()
        get_engine.cache_clear()
        return CliRunner().invoke(app, list(args))

    shutil.copytree(_chain_template, tmp_path / "home")
    handler = OutboxHandler(None)
    with Outbox(handler=handler) as box:
        env = {"VANBAN_HOME": str(tmp_path / "home"), "VANBAN_SMTP_URL": box.url}
        env_plain = {**env, "PREFECT_LOGGING_LEVEL": "CRITICAL"}
        dry = vanban("distribute", "374/QĐ-UBND", "--dry-run", env=env)
        assert dry.returncode == 0, dry.stderr
        assert "Distribution plan of Quyết định 374/QĐ-UBND" in dry.stdout and "ubnd-h-binh-tan" in dry.stdout
        assert "34 recipients, 0 with a channel problem, 1 unresolved lines" in dry.stdout
        assert handler.messages == []
        bad = vanban("directory", "add-channel", "sttt", "json://u:pw@127.0.0.1:9/x", env=env)
        assert bad.returncode == 1 and "url: the URL carries a credential in clear" in bad.stderr
        assert "Traceback" not in bad.stderr
        draft = vanban("distribute", "374/QĐ-UBND/2023", env=env)
        assert draft.returncode == 1 and "no issued document 374/QĐ-UBND/2023" in draft.stderr
        sent = vanban("distribute", "374/QĐ-UBND", "--as", "vt-ubnd", env=env_plain)
        assert sent.returncode == 0, sent.stderr
        assert "distribution of Quyết định 374/QĐ-UBND: completed — 1 archived, 34 sent, 1 unresolved" in sent.stdout
        assert len(handler.messages) == SEED_RECIPIENTS
        listing = vanban("deliveries", "374/QĐ-UBND", "--json", env=env)
        ledger_rows = json.loads(listing.stdout)
        assert [r["state"] for r in ledger_rows].count("sent") == SEED_RECIPIENTS
        assert [r["recipient"] for r in ledger_rows if r["state"] == "unresolved"] == ["các cơ quan, đơn vị có liên quan"]
        unproved = in_process("ack", "374/QĐ-UBND", "--by", "sttt")
        assert unproved.exit_code == 1 and "name the clerk with --as" in unproved.stderr
        ack = in_process("ack", "374/QĐ-UBND", "--by", "sttt", "--as", "vt-ubnd")
        assert ack.exit_code == 0 and "acknowledged by sttt (recorded by vt-ubnd)" in ack.stdout, ack.output
        cvp_mail = next(m for m in handler.messages if m["To"] == "cvp@vinhlong.example")
        forged = in_process("ack", "374/QĐ-UBND", "--by", "cvp", "--token", "A" * 26, "--as", "vt-ubnd")
        assert forged.exit_code == 1 and "(receipt.token-mismatch)" in forged.stderr and forged.exception.__class__ is SystemExit
        proved = in_process("ack", "374/QĐ-UBND", "--by", "cvp", "--token", cvp_mail["X-Vanban-Receipt-Token"])
        assert proved.exit_code == 0 and "acknowledged by cvp (with its receipt token)" in proved.stdout
        proofs = {r["code"]: r["acknowledged_proof"] for r in json.loads(in_process("deliveries", "374/QĐ-UBND", "--json").stdout)}
        assert (proofs["sttt"], proofs["cvp"], proofs["snv"]) == ("clerk", "token", None)
        # As if sent on the day of issue, Monday 04/3/2024, and read on Thursday 07/3/2024: three working days on.
        with sqlite3.connect(tmp_path / "home" / "vanban.db") as db:
            db.execute("UPDATE delivery SET sent_at = '2024-03-04 02:00:00.000000' WHERE sent_at IS NOT NULL")
        on_thursday = {**env, "VANBAN_TODAY": "2024-03-07"}
        waiting = json.loads(vanban("deliveries", "374/QĐ-UBND", "--unacknowledged", "3", "--json", env=on_thursday).stdout)
        assert len(waiting) == SEED_RECIPIENTS - 2 and not {"sttt", "cvp"} & {r["code"] for r in waiting}
        later = json.loads(vanban("deliveries", "374/QĐ-UBND", "--unacknowledged", "4", "--json", env=on_thursday).stdout)
        assert later == []
        unknown_year = vanban("deliveries", "374/QĐ-UBND", "--unacknowledged", "1", env={**env, "VANBAN_TODAY": "2101-01-04"})
        assert unknown_year.returncode == 1 and "today: the holiday calendar has no year 2101" in unknown_year.stderr
        again = vanban("redeliver", "374/QĐ-UBND", "--to", "snv", "--as", "vt-ubnd", env=env_plain)
        assert again.returncode == 0, again.stderr
        assert "sending again to 1 recipient channel(s)" in again.stdout
        unknown = vanban("redeliver", "374/QĐ-UBND", "--to", "nobody", env=env)
        assert unknown.returncode == 1 and "to: 'nobody' is not a recipient" in unknown.stderr
    to_snv = [m for m in handler.messages if m["To"] == "snv@vinhlong.example"]
    assert len(to_snv) == 2 and to_snv[0]["Message-ID"] == to_snv[1]["Message-ID"]  # on purpose, same id
    shown = vanban("deliveries", "374/QĐ-UBND", env=env)
    assert "redelivered 1×" in shown.stdout and "completed" in shown.stdout
    assert "distribution: completed" in vanban("show", "374/QĐ-UBND", env=env).stdout


def test_a_secret_can_live_in_a_prefect_secret_block(prefect_harness, chain_engine: Engine, tmp_path: Path,
                                                     outbox: Outbox, receiver: Receiver) -> None:  # noqa: ANN001
    from prefect.blocks.system import Secret

    Secret(value="block-held-token").save("vanban-test-hook", overwrite=True)
    set_channel(chain_engine, "stp", f"json://vanban:{{secret:vanban-test-hook}}@127.0.0.1:{receiver.port}/inbox")
    set_channel(chain_engine, "stc", f"json://vanban:{{secret:vanban-test-absent}}@127.0.0.1:{receiver.port}/inbox")
    result = run(chain_engine, tmp_path, outbox.url)
    assert result["deliveries"] == {"sent": SEED_RECIPIENTS - 1, "failed": 1, "archived": 1, "unresolved": 1}
    assert [r["headers"]["Authorization"] for r in receiver.requests] == [
        "Basic " + base64.b64encode(b"vanban:block-held-token").decode()]
    stc = next(r for r in rows(chain_engine) if r.recipient_code == "stc")
    assert stc.error_rule == "channel.secret-missing" and "Prefect Secret block 'vanban-test-absent'" in stc.error
