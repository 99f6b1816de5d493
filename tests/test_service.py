"""vanban as a service: a real Prefect server on a PostgreSQL database of its own, vanban's deployments registered
in a process work pool, `vanban worker` processes pulling them, vanban's database on PostgreSQL. Slow: one
server for the module, every process it starts stopped at the end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from flows.outbox import Outbox, free_port
from models.db import make_engine, session_scope

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


def _stop(process: subprocess.Popen) -> None:
    """SIGINT (Prefect's worker ignores SIGTERM for long), then SIGKILL, to the process's whole group."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A Prefect server on a new PostgreSQL database, the environment a worker and a clerk share."""
    base = os.environ.get("VANBAN_TEST_DATABASE_URL")
    if not base:
        pytest.skip("VANBAN_TEST_DATABASE_URL is not set (.ci/run sets it): the service runs on PostgreSQL")
    folder = tmp_path_factory.mktemp("service")
    database = f"vanban_prefect_{uuid.uuid4().hex[:10]}"
    admin = make_engine(base)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    server_db = base.replace("postgresql+psycopg://", "postgresql+asyncpg://").rsplit("/", 1)[0] + f"/{database}"
    port = free_port()
    env = {**os.environ, "PREFECT_HOME": str(folder / "prefect"), "PREFECT_API_DATABASE_CONNECTION_URL": server_db,
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_API_URL": f"http://127.0.0.1:{port}/api"}
    env.pop("PREFECT_LOCAL_STORAGE_PATH", None)
    server = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port",
                               str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        import httpx

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            raise AssertionError("the Prefect server did not start in 120 s")
        yield {**env, "VANBAN_HOME": str(folder / "home")}
    finally:
        _stop(server)
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def _processes_with(variable: str, value: str) -> list[int]:
    """The processes whose environment holds ``variable=value``: the flow-run processes a worker started (Prefect
    starts each in a session of its own, so they outlive a killed worker)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if f"{variable}={value}".encode() in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                found.append(int(pid))
        except OSError:  # ended meanwhile, or not ours to read
            continue
    return found


def _kill(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _vanban(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], env=env, capture_output=True, text=True,
                          timeout=300, cwd=ROOT)


def _worker(env: dict[str, str], name: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "flows.cli", "worker", "--name", name], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def _run(env: dict[str, str], deployment: str, parameters: dict[str, Any]) -> str:
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: env["PREFECT_API_URL"]}):
        return str(run_deployment(deployment, parameters=parameters, timeout=0).id)


def _state(env: dict[str, str], run_id: str, done: tuple[str, ...], timeout: float = 300) -> str:
    from uuid import UUID

    from prefect import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    deadline = time.monotonic() + timeout
    with temporary_settings(updates={PREFECT_API_URL: env["PREFECT_API_URL"]}):
        while time.monotonic() < deadline:
            with get_client(sync_client=True) as client:
                state = client.read_flow_run(UUID(run_id)).state
            if state is not None and state.type.value in done:
                return f"{state.type.value}: {state.message or ''}"
            time.sleep(1)
    raise AssertionError(f"flow run {run_id} did not reach {done} in {timeout} s")


def test_the_seed_lifecycle_runs_from_its_deployment_on_a_worker(service: dict[str, str], pg_url: str) -> None:
    """deploy, doctor, a worker, the seed lifecycle from its deployment with automatic answers; then a worker
    killed while a decision waits at its signing step: a new run from the tables issues it, exactly once."""
    from flows.lifecycle import seed_lifecycle
    from models.approvals import ApprovalStep, StepStatus, answer_with_key
    from models.credentials import SAMPLE_PASSPHRASE, enrol_sample
    from models.document import Document
    from models.drafting import parse_create
    from models.register import RegisterEntry
    from models.sample_data import load_directory
    from tests.test_drafting import seed_spec

    env = {**service, "VANBAN_DATABASE_URL": pg_url, "VANBAN_KEY_PASSPHRASE": SAMPLE_PASSPHRASE}
    engine = make_engine(pg_url)
    keys = Path(env["VANBAN_HOME"]) / "keys"
    with session_scope(engine) as session:
        load_directory(session)
    with session_scope(engine) as session:
        enrol_sample(session, keys)
    deployed = _vanban(env, "deploy")
    assert deployed.returncode == 0 and "7 deployments in pool 'vanban'" in deployed.stdout, deployed.stderr
    doctor = _vanban(env, "doctor")
    assert doctor.returncode == 0 and doctor.stdout.count("ok ") == 5, doctor.stdout + doctor.stderr
    workers = [_worker(env, "w1")]
    try:
        with Outbox() as outbox:
            request = seed_lifecycle(relay=outbox.url)
            run_id = _run(env, "document-lifecycle/vanban", {"request": request.model_dump(mode="json")})
            assert _state(env, run_id, ("COMPLETED", "FAILED", "CRASHED")).startswith("COMPLETED")
            assert len(outbox.messages) == 41
        with Session(engine) as session:
            issued = {f"{d.number}/{d.symbol}": d.id for d in session.exec(select(Document)) if d.number}
        assert sorted(issued) == ["10/TTr-STTTT", "11/KH-STTTT", "12/BC-STTTT", "374/QĐ-UBND"]

        # bad input: a spec the form's schema refuses is refused when the run is asked for, naming the field; one
        # that breaks a rule fails the run at its first step, the field named in the state's message
        people = {"drafted_by": "cv-vhxh", "issued_by": "vt-ubnd", "issued_on": "2024-03-05"}
        with pytest.raises(Exception, match="request.decision.*'subject' is a required property"):
            _run(env, "decide/vanban", {"request": {"decision": {"kind": "decision", "issuer": "ubnd-tinh"}, **people}})
        bad = _run(env, "decide/vanban", {"request": {"decision": {"kind": "decision", "issuer": "so-khong-co",
                                                                   "subject": "Thử"}, **people}})
        assert _state(env, bad, ("COMPLETED", "FAILED", "CRASHED")) == (
            "FAILED: Flow run encountered an exception: NotFound: issuer: no agency with code 'so-khong-co' in the "
            "directory [directory.unknown-agency]")

        # a decision whose review is answered at once and whose signing waits; the worker dies while it waits
        spec = seed_spec("decision")
        spec.update(subject="Phê duyệt Kế hoạch thử nghiệm năm 2024", responds_to=issued["10/TTr-STTTT"],
                    approves=issued["11/KH-STTTT"])  # the lifecycle drafted the plan first
        spec = parse_create(spec).model_dump(mode="json", exclude_defaults=True)  # the full form a deployment takes
        first = _run(env, "decide/vanban", {"request": {"decision": spec, "auto_approvers": ["cvp"], **people}})
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert not _state(env, first, ("COMPLETED", "FAILED", "CRASHED", "PENDING", "RUNNING", "PAUSED",
                                           "SCHEDULED"), 5).startswith(("FAILED", "CRASHED"))
            with Session(engine) as session:
                step = session.exec(select(ApprovalStep).where(ApprovalStep.name == "Ký ban hành",
                                                               ApprovalStep.status == StepStatus.PENDING)).first()
            if step is not None and step.flow_run_id:
                break
            time.sleep(0.5)
        else:
            raise AssertionError("the decision never waited at its signing step")
        # the machine goes down: the worker and the flow run's process with it
        os.killpg(workers[0].pid, signal.SIGKILL)
        workers[0].wait(timeout=10)
        _kill(_processes_with("PREFECT__FLOW_RUN_ID", first))
        answer_with_key(engine, step.id, actor="pct-vhxh", decision="approve", keystore=keys,
                        passphrase=SAMPLE_PASSPHRASE)
        workers.append(_worker(env, "w2"))
        again = _run(env, "decide/vanban", {"request": {"document": step.document_id, **people}})
        assert _state(env, again, ("COMPLETED", "FAILED", "CRASHED")).startswith("COMPLETED")
        with Session(engine) as session:
            numbers = [e.number for e in session.exec(select(RegisterEntry).where(
                RegisterEntry.document_id == step.document_id))]
            assert numbers == [375] and session.get(Document, step.document_id).status.value == "issued"
    finally:
        for worker in workers:
            _stop(worker)
        _kill(_processes_with("PREFECT_API_URL", env["PREFECT_API_URL"]))  # a flow run a failed test left going
        engine.dispose()
