"""`vanban run` (any flow from a spec file) and `vanban demo` (the seed chain through the Prefect flows)."""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.engine import Engine
from sqlmodel import select

from flows.cli.common import Actor, DocRef, add_row, console, make_folder, ready_engine, user_errors
from flows.cli.reporting import print_assignments
from models.channels import relay_url
from models.config import get_settings
from models.secret_refs import redact
from models.db import get_engine, make_engine, migrate, session_scope, with_references_read
from models.document import Document
from models.errors import RuleViolation, VanbanError
from models.files import path_of
from models.legal_text import number_symbol, short_date

app = typer.Typer()

FLOWS = {
    "draft-plan": ("flows.draft_plan", "draft_plan", "PlanDraft"),
    "submit-proposal": ("flows.submit_proposal", "submit_proposal", "Proposal"),
    "decide": ("flows.decide", "decide", "DecisionDraft"),
    "document-lifecycle": ("flows.lifecycle", "document_lifecycle", "Lifecycle"),
    "distribute": ("flows.distribute", "distribute", "Distribution"),
    "track-implementation": ("flows.track_implementation", "track_implementation", "Tracking"),
    "report-implementation": ("flows.report_implementation", "report_implementation", "ImplementationReport"),
}


@app.command("run")
@user_errors
def run(
    flow_name: Annotated[str, typer.Argument(metavar="FLOW", help="draft-plan, submit-proposal, decide, document-lifecycle, "
                                                                  "distribute, track-implementation or report-implementation")],
    spec: Annotated[Path, typer.Argument(help="YAML with the flow's parameters (the form the Prefect UI shows)")],
) -> None:
    """Run one of the flows from a spec file, as a clerk; it waits at human steps for answers from another terminal."""
    from models.flow_specs import string_keys
    from models.yaml_files import read_yaml

    if flow_name not in FLOWS:
        raise RuleViolation("FLOW", "run.flow", f"'{flow_name}' is not a flow; use one of {', '.join(FLOWS)}")
    data = read_yaml(spec)
    if not isinstance(data, dict):
        raise RuleViolation("file", "file.shape", f"{spec} must hold the flow's parameters as a mapping")
    string_keys(data, "spec")
    _run_flow(ready_engine(), flow_name, data)  # the schema is checked before Prefect starts


@app.command("resume")
@user_errors
def resume(document: DocRef, actor: Actor = "system") -> None:
    """Carry a document on from where vanban's tables say it stands: its chain at the pending step (answers given
    while no run waited count as they are), then issue by --as; for a run that ended or was lost."""
    from models.document import find_document
    from models.flow_specs import resumption

    engine = ready_engine()
    with session_scope(engine) as session:
        flow_name, data = resumption(session, find_document(session, document), actor)
    _run_flow(engine, flow_name, data)


def _run_flow(engine: Engine, flow_name: str, data: dict) -> None:
    """Run a flow with checked parameters, saying which step waits for whom; exit 1 unless it completes."""
    import importlib
    import json

    from models.flow_specs import check_documents, parse_parameters

    module_name, function, model_name = FLOWS[flow_name]
    module = importlib.import_module(module_name)
    request = parse_parameters(getattr(module, model_name), data)
    check_documents(engine, flow_name, request)
    if hasattr(request, "relay"):  # a flow that sends: a relay with a password in clear is refused before it starts
        relay_url(request.relay)
    from flows.runtime import prefect_settings

    with console.status(f"running {flow_name}") as status, _watching_steps(engine, status), prefect_settings():
        state = getattr(module, function)(request, return_state=True)
    console.print(f"{flow_name} run {state.state_details.flow_run_id}: {state.type.value}")
    result = state.result(raise_on_failure=False)
    if isinstance(result, VanbanError):
        raise result  # printed as one line, like any other mistake
    console.print(json.dumps(result, ensure_ascii=False, default=str, indent=2))
    if not state.is_completed():
        raise typer.Exit(1)



@contextmanager
def _watching_steps(engine: Engine, status) -> Iterator[None]:  # noqa: ANN001
    """Say, while a flow runs, which human step waits for whom (`vanban run`, the manual demo); stop with it."""
    import threading

    from models.approvals import describe, pending

    stop = threading.Event()

    def watch() -> None:
        shown: set[int] = set()
        while not stop.is_set():
            with session_scope(engine) as session:
                steps = [describe(session, s) for s in pending(session)]
            for step in steps:
                if step["id"] not in shown:
                    shown.add(step["id"])
                    console.print(f"waiting: step #{step['id']} {step['step']} of document #{step['document']} "
                                  f"({step['kind']}) for {', '.join(step['approvers'])}")
                    status.update(f"waiting at step #{step['id']} for {', '.join(step['approvers'])}")
            stop.wait(1)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join()


@app.command("demo")
@user_errors
def demo(
    out: Annotated[Path, typer.Option(help="Folder for the generated DOCX")] = Path("vanban-demo"),
    database: Annotated[str | None, typer.Option(help="Database URL; default a new SQLite file in OUT/.vanban")] = None,
    manual: Annotated[bool, typer.Option("--manual", help="Wait at each human step for answers given from another "
                                                           "terminal (vanban approvals / approve / return / reject)")] = False,
) -> None:
    """Load the sample directory into a fresh database and run the seed chain through the Prefect flows
    (document-lifecycle): 10/TTr-STTTT, 11/KH-STTTT, 374/QĐ-UBND and Sở TTTT's Báo cáo on it, as DOCX in OUT;
    each issued document is distributed to its Nơi nhận through a mail server on loopback that writes
    OUT/outbox/*.eml, and the decision's assignment is tracked (a reminder) until the report closes it."""
    import os

    from flows.outbox import Outbox
    from models.audit import verify
    from models.credentials import SAMPLE_PASSPHRASE, enrol_sample
    from models.sample_data import load_directory
    from models.views import chain_summary

    home = (out / ".vanban").resolve()
    # One home: the demo's database, files, keys and Prefect's state all live in OUT/.vanban, and every later
    # command finds them there with the one line printed at the end (export VANBAN_HOME=…).
    if database is None:
        _fresh_home(home)  # the demo always starts from a fresh database
        database = f"sqlite:///{home / 'vanban.db'}"
    # its flows read where the data lives from this process's settings, never from their parameters (which
    # Prefect keeps): a password in the URL stays in this process's environment
    os.environ.update({"VANBAN_HOME": str(home), "VANBAN_DATABASE_URL": database})
    get_settings.cache_clear()
    get_engine.cache_clear()  # an engine cached for this URL may hold the file just removed
    make_folder(home)
    shutil.rmtree(out / "outbox", ignore_errors=True)
    engine = make_engine(with_references_read(database))  # its own engine: the file of a cached one was just removed
    with console.status("preparing the database"):
        migrate(engine)
        with session_scope(engine) as session:
            if session.exec(select(Document)).first() is not None:
                raise RuleViolation("database", "demo.fresh", "the demo needs a fresh database; this one holds documents")
            counts = load_directory(session)
        # the sample officials' keys in the demo's own keystore, under the sample passphrase unless one is set: the
        # flow's automatic answers (and, with --manual, the clerk's) are signed with them
        secret = os.environ.setdefault("VANBAN_KEY_PASSPHRASE", SAMPLE_PASSPHRASE)
        shutil.rmtree(home / "keys", ignore_errors=True)
        with session_scope(engine) as session:
            enrolled = enrol_sample(session, home / "keys", secret)
    console.print("sample directory loaded: " + ", ".join(f"{n} {k}" for k, n in counts.items())
                  + f"; {enrolled} sample keys enrolled in {home / 'keys'}")
    from flows.lifecycle import document_lifecycle, seed_lifecycle
    from flows.runtime import prefect_settings

    request = seed_lifecycle()
    if manual:
        request.auto_approvers = []
        console.print("manual mode: answer each human step from another terminal, with\n"
                      f"  {_home_line(home, database)}\n  (passphrase: VANBAN_KEY_PASSPHRASE, the sample's is "
                      f"{SAMPLE_PASSPHRASE})\n  vanban approvals   then   vanban approve ID --as CODE")
    with console.status("running document-lifecycle in Prefect (its first start here takes a little longer)") as status, \
            Outbox(out / "outbox") as outbox:
        request.relay = outbox.url
        with _watching_steps(engine, status) if manual else nullcontext(), prefect_settings():
            state = document_lifecycle(request, return_state=True)
        outcome = state.result()
    console.print(f"document-lifecycle run {state.state_details.flow_run_id}: {outcome['status']}")
    with session_scope(engine) as session:
        chain = chain_summary(session)
    with engine.connect() as connection:  # after the session: on SQLite every transaction takes the write lock
        verdict = verify(connection)
    console.print(f"Seed chain issued into {out}:")
    for issued in chain.issued:
        f, d = issued.file, issued.document
        shutil.copyfile(path_of(home / "files", f.sha256), out / f.filename)
        console.print(f"  {number_symbol(d.number, d.symbol)}  {short_date(d.issued_on)}  {d.status.value}  {f.filename}")
        console.print(f"      {d.subject}")
        console.print(f"      flow run {issued.flow_run_id or '-'}")
    approvals_table = Table("document", "step", "answered by", "answer", title="Human steps")
    for st in chain.steps:
        d = chain.document(st.document_id)
        add_row(approvals_table, number_symbol(d.number, d.symbol) if d else f"#{st.document_id}", st.name,
                st.answered_by or "", st.status.value)
    console.print(approvals_table)
    distribution_table = Table("document", "distribution", "sent", "failed", "unresolved", "archive copy",
                               title=f"Distribution (messages in {out / 'outbox'})")
    for d, counts in chain.distributions:
        add_row(distribution_table, number_symbol(d.number, d.symbol), d.distribution, counts.get("sent", 0),
                counts.get("failed", 0), counts.get("unresolved", 0), counts.get("archived", 0))
    console.print(distribution_table)
    console.print(f"outbox: {len(outbox.messages)} messages (documents with their DOCX attached, and reminders)")
    print_assignments(engine, title="Assignments (giao nhiệm vụ) and their reports")
    console.print(f"audit log: {verdict.entries} entries, {'intact' if verdict.intact else 'BROKEN: ' + verdict.reason}; "
                  f"database: {redact(database)}")
    console.print(f"to use the demo's documents: {_home_line(home, database)}")


def _fresh_home(home: Path) -> None:
    """Empty the demo's home but for Prefect's state: its runs stay known (`vanban audit runs`), and the next
    demo's temporary server starts warm."""
    for entry in home.iterdir() if home.is_dir() else ():
        if entry.name != "prefect":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()


def _home_line(home: Path, database: str) -> str:
    """The one line that points another terminal at the demo's home (and at its database when it is elsewhere)."""
    line = f"export VANBAN_HOME={shlex.quote(str(home))}"
    if database != f"sqlite:///{home / 'vanban.db'}":
        line += f" VANBAN_DATABASE_URL={shlex.quote(redact(database))}"
    return line

