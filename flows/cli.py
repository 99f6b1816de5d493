"""`vanban`: the clerk's command line. Every command calls the same services as the flows will.

User mistakes (bad input, unknown codes, a missing schema) print one clear line naming the field and
the rule, and exit 1; they never print a traceback.
"""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from models.config import get_settings, today
from models.db import check_schema, get_engine, make_engine, migrate, session_scope
from models.directory import Agency, Official
from models.document import KIND_INFO, Document, find_document
from models.errors import RuleViolation, VanbanError
from models.files import path_of
from models.legal_text import AuthorityForm, number_symbol, parse_date, short_date

app = typer.Typer(help="vanban — Vietnamese administrative documents from draft to issue (Decree 30/2020/NĐ-CP).",
                  no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="The database schema (Alembic migrations).", no_args_is_help=True)
directory_app = typer.Typer(help="The directory: agencies, units, officials, signing authority.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log: who did what to which document, when, in which run.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(directory_app, name="directory")
app.add_typer(audit_app, name="audit")
DocRef = Annotated[str, typer.Argument(help="Document id, or number and symbol such as 374/QĐ-UBND")]
Actor = Annotated[str, typer.Option("--as", help="Official code of who acts (recorded in the audit log)")]

console = Console(markup=False)  # data prints as it is; styled lines opt in
err = Console(stderr=True)  # markup on: every piece of data in it is escaped


def user_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Print a user's mistake as one line and exit 1, instead of a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except RuleViolation as exc:
            err.print(f"[bold red]error:[/] {escape(exc.field)}: {escape(exc.message)} [dim]({exc.rule})[/]")
        except VanbanError as exc:
            err.print(f"[bold red]error:[/] {escape(str(exc))}")
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            err.print(f"[bold red]error:[/] database: cannot use {escape(get_settings().database)}: {escape(reason)}",
                      highlight=False)
        raise typer.Exit(1)

    return wrapper


def ready_engine() -> Engine:
    """The configured database with its schema checked; a brand-new, empty database is migrated."""
    engine = get_engine()
    with engine.connect() as connection:
        empty = not inspect(connection).get_table_names()
    if empty:
        migrate(engine)
    check_schema(engine)
    return engine


def add_row(table: Table, *values: object) -> None:
    """A row of data, printed as it is (brackets in a trích yếu are text, not rich markup)."""
    table.add_row(*(Text(str(v)) for v in values))


def vietnam_time(at: str) -> str:
    """An audit time (UTC, ISO) as a clerk reads it: Vietnam time."""
    moment = datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone(ZoneInfo(get_settings().timezone))
    return moment.strftime("%d/%m/%Y %H:%M:%S")


# --- db ------------------------------------------------------------------------------------------

@db_app.command("upgrade")
@user_errors
def db_upgrade() -> None:
    """Create the schema or bring it to the newest migration."""
    migrate()
    console.print(f"schema up to date: {get_settings().database}")


# --- directory -----------------------------------------------------------------------------------

@directory_app.command("load-sample")
@user_errors
def directory_load_sample() -> None:
    """Load the SAMPLE directory of Vĩnh Long province (2024): agencies, officials, registers."""
    from models.sample_data import load_directory

    with session_scope(ready_engine()) as session:
        counts = load_directory(session)
    console.print("sample directory loaded: " + ", ".join(f"{n} {k}" for k, n in counts.items()))


@directory_app.command("agencies")
@user_errors
def directory_agencies() -> None:
    """List the agencies of the directory."""
    table = Table("code", "ký hiệu", "name", "head")
    with session_scope(ready_engine()) as session:
        for a in session.exec(select(Agency).order_by(Agency.id)):
            add_row(table, a.code, a.abbreviation, a.name, a.head_title)
    console.print(table)


@directory_app.command("officials")
@user_errors
def directory_officials() -> None:
    """List the officials of the directory."""
    table = Table("code", "name", "title", "agency")
    with session_scope(ready_engine()) as session:
        for o in session.exec(select(Official).order_by(Official.id)):
            add_row(table, o.code, o.full_name, o.title, session.get(Agency, o.agency_id).code)
    console.print(table)


# --- documents -----------------------------------------------------------------------------------

@app.command("documents")
@user_errors
def documents() -> None:
    """List documents with their number, date and status."""
    table = Table("id", "kind", "số, ký hiệu", "ngày", "status", "trích yếu")
    with session_scope(ready_engine()) as session:
        for d in session.exec(select(Document).order_by(Document.id)):
            add_row(table, str(d.id), KIND_INFO[d.kind][0], number_symbol(d.number, d.symbol).strip(),
                          short_date(d.issued_on) if d.issued_on else "", d.status.value, d.subject)
    console.print(table)


@app.command("draft")
@user_errors
def draft(spec: Annotated[Path, typer.Argument(help="YAML file with the draft (see models/schemas.py)")],
          actor: Actor = "system") -> None:
    """Store a new draft from a YAML file; prints its id."""
    from models.drafting import draft_document, parse_create
    from models.sample_data import read_yaml

    data = read_yaml(spec)
    if not isinstance(data, dict):
        raise RuleViolation("file", "file.shape", f"{spec} must hold one draft as a mapping")
    parsed = parse_create(data)
    with session_scope(ready_engine()) as session:
        doc = draft_document(session, parsed, actor=actor)
    console.print(f"draft #{doc.id} stored: {KIND_INFO[doc.kind][0]} {number_symbol(None, doc.symbol).strip()}")


@app.command("sign")
@user_errors
def sign(
    document: DocRef,
    signer: Annotated[str | None, typer.Option(help="Official code; default the draft's planned signer")] = None,
    form: Annotated[AuthorityForm | None, typer.Option(help="Authority form")] = None,
) -> None:
    """Record the signature of a draft (the signer's authority is checked)."""
    from models.approvals import ApprovalStep, StepStatus
    from models.signing import sign_document

    with session_scope(ready_engine()) as session:
        doc = find_document(session, document)
        waiting = session.exec(select(ApprovalStep).where(
            ApprovalStep.document_id == doc.id, ApprovalStep.status.in_([StepStatus.PENDING, StepStatus.WAITING]))).first()
        if waiting is not None:
            raise RuleViolation("document", "approval.in-progress",
                                f"document #{doc.id} is in its approval chain: answer step #{waiting.id} "
                                "('vanban approvals' lists what waits)")
        doc = sign_document(session, doc, signer, form)
    console.print(f"document #{doc.id} signed ({doc.authority_form.value})")


@app.command("issue")
@user_errors
def issue(
    document: DocRef,
    on: Annotated[str | None, typer.Option("--date", help="Date of issue, DD/MM/YYYY; default today (Vietnam time)")] = None,
    actor: Actor = "system",
) -> None:
    """Number the signed document from its register, date it and produce the issued DOCX."""
    from models.issuing import issue_document

    issued_on = parse_date(on, "date") if on else today()
    with session_scope(ready_engine()) as session:
        entry, record = issue_document(session, find_document(session, document), issued_on, get_settings().files_dir,
                                       actor=actor)
    console.print(f"issued as {entry.number_symbol} on {short_date(issued_on)}: {record.filename} (sha256 {record.sha256})")


@app.command("render")
@user_errors
def render(document: DocRef, out: Annotated[Path, typer.Option(help="Where to write the DOCX")]) -> None:
    """Write a document's DOCX as it stands (a draft shows a blank number and no date)."""
    from doc_templates import render_document

    with session_scope(ready_engine()) as session:
        data = render_document(session, find_document(session, document))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    console.print(f"wrote {out}")


# --- human steps --------------------------------------------------------------------------------

@app.command("submit")
@user_errors
def submit_cmd(document: DocRef, actor: Actor = "system") -> None:
    """Submit a draft for approval: its chain of human steps starts (review by the Office, then signing)."""
    from models.approvals import describe, submit

    with session_scope(ready_engine()) as session:
        first = submit(session, find_document(session, document), actor=actor)
        shown = describe(session, first)
    console.print(f"step #{shown['id']} ({shown['step']}) waits for {', '.join(shown['approvers'])}")


@app.command("resubmit")
@user_errors
def resubmit_cmd(
    document: DocRef, actor: Actor = "system",
    spec: Annotated[Path | None, typer.Option(help="YAML with the revised draft (same form as 'vanban draft')")] = None,
) -> None:
    """After a return for rework: revise the draft and reopen the chain at the step that returned it."""
    from models.approvals import describe, resubmit
    from models.sample_data import read_yaml

    data = read_yaml(spec) if spec else None
    with session_scope(ready_engine()) as session:
        step = resubmit(session, find_document(session, document), actor=actor, spec=data)
        shown = describe(session, step)
    console.print(f"step #{shown['id']} ({shown['step']}, round {shown['round']}) waits for "
                  f"{', '.join(shown['approvers'])}")


@app.command("approvals")
@user_errors
def approvals(as_json: Annotated[bool, typer.Option("--json", help="As JSON for other programs")] = False) -> None:
    """The human steps waiting for an answer, and who may give it."""
    import json

    from models.approvals import describe, pending

    with session_scope(ready_engine()) as session:
        steps = [describe(session, step) for step in pending(session)]
    if as_json:
        print(json.dumps(steps, ensure_ascii=False, indent=2))
        return
    table = Table("id", "document", "step", "round", "may answer", "since (Vietnam)")
    for step in steps:
        add_row(table, str(step["id"]), f"#{step['document']} {step['kind']}: {step['subject'][:50]}", step["step"],
                      str(step["round"]), ", ".join(step["approvers"]), vietnam_time(step["since"]))
    console.print(table)
    console.print(f"{len(steps)} steps waiting")


def _answer(step: int, actor: str, decision: str, text: str | None) -> None:
    from models.approvals import answer

    answered = answer(ready_engine(), step, actor=actor, decision=decision, text=text)
    console.print(f"step #{answered.id} ({answered.name}) {answered.status.value} by {actor}")
    if answered.flow_run_id:  # a flow waits on this step: wake it (the answer is already recorded)
        from flows.human_step import wake

        console.print(wake(answered.flow_run_id, decision=decision, answered_by=actor, text=text))


AnswerAs = Annotated[str, typer.Option("--as", help="Official code of who answers")]


@app.command("approve")
@user_errors
def approve(step: int, actor: AnswerAs, comment: Annotated[str | None, typer.Option(help="Optional comment")] = None) -> None:
    """Approve a pending step (at the signing step, this signs the document)."""
    _answer(step, actor, "approve", comment)


@app.command("return")
@user_errors
def return_(step: int, actor: AnswerAs, reason: Annotated[str, typer.Option(help="What to rework")]) -> None:
    """Return a draft for rework: the drafter revises and resubmits it."""
    _answer(step, actor, "return", reason)


@app.command("reject")
@user_errors
def reject(step: int, actor: AnswerAs, reason: Annotated[str, typer.Option(help="Why it is rejected")]) -> None:
    """Reject the draft: the document ends rejected."""
    _answer(step, actor, "reject", reason)


@app.command("show")
@user_errors
def show(document: DocRef) -> None:
    """A document: its status, number, links, files and human steps."""
    from models.approvals import ApprovalStep
    from models.document import DocumentLink, GeneratedFile

    with session_scope(ready_engine()) as session:
        doc = find_document(session, document)
        issuer = session.get(Agency, doc.issuer_id)
        links = session.exec(select(DocumentLink).where(
            (DocumentLink.from_id == doc.id) | (DocumentLink.to_id == doc.id))).all()
        link_lines = []
        for link in links:
            other = session.get(Document, link.to_id if link.from_id == doc.id else link.from_id)
            arrow = "→" if link.from_id == doc.id else "←"
            link_lines.append(f"{link.relation.value} {arrow} #{other.id} {KIND_INFO[other.kind][0]} "
                              f"{number_symbol(other.number, other.symbol).strip()}")
        files = session.exec(select(GeneratedFile).where(GeneratedFile.document_id == doc.id)).all()
        steps = session.exec(select(ApprovalStep).where(ApprovalStep.document_id == doc.id)
                             .order_by(ApprovalStep.round, ApprovalStep.position)).all()
    console.print(f"[bold]#{doc.id} {KIND_INFO[doc.kind][0]} {escape(number_symbol(doc.number, doc.symbol).strip())}[/]"
                  f" — {doc.status.value}", markup=True)
    console.print(f"{issuer.name}; {short_date(doc.issued_on) if doc.issued_on else 'not issued'}")
    console.print(f"trích yếu: {doc.subject}")
    if doc.distribution:
        console.print(f"distribution: {doc.distribution} (vanban deliveries {doc.id})")
    for line in link_lines:
        console.print(f"link: {line}")
    for f in files:
        console.print(f"file: {f.filename} ({f.purpose}) sha256 {f.sha256}")
    for st in steps:
        answered = f" by {st.answered_by}" + (f": {st.comment}" if st.comment else "") if st.answered_by else ""
        console.print(f"step #{st.id} round {st.round} {st.name}: {st.status.value}{answered}")


# --- Decree 30 conformance ----------------------------------------------------------------------

KIND_LABEL = {"decision": "Quyết định", "submission": "Tờ trình", "plan": "Kế hoạch", "report": "Báo cáo",
              "resolution": "Nghị quyết", "official_letter": "Công văn", "other": "document"}


@app.command("check")
def check(
    files: Annotated[list[Path], typer.Argument(help="DOCX files to check")],
    as_json: Annotated[bool, typer.Option("--json", help="Findings as JSON for other programs")] = False,
) -> None:
    """Check DOCX files against the Decree 30/2020 format rules. Exit 0: no errors; 1: errors; 2: unreadable."""
    import json

    from doc_templates.docx_reader import UnreadableDocx
    from doc_templates.nd30_rules import check as check_docx

    results: list[dict[str, Any]] = []
    for path in files:
        try:
            report = check_docx(path.read_bytes())
        except (OSError, UnreadableDocx) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else str(exc)
            results.append({"file": str(path), "error": f"cannot be read: {reason}"})
            continue
        results.append({"file": str(path), "kind": report.kind, "errors": report.errors, "warnings": report.warnings,
                        "findings": [f.as_dict() for f in report.findings]})
    checked = [r for r in results if "error" not in r]
    summary = {"files": len(results), "with_errors": sum(r["errors"] > 0 for r in checked),
               "errors": sum(r["errors"] for r in checked), "warnings": sum(r["warnings"] for r in checked),
               "unreadable": len(results) - len(checked)}
    if as_json:
        print(json.dumps({"files": results, "summary": summary}, ensure_ascii=False, indent=2))
    else:
        for r in results:
            if "error" in r:
                err.print(f"[bold red]{escape(r['file'])}[/]: {escape(r['error'])}")
                continue
            verdict = "[green]conforms[/]" if not r["errors"] else f"[red]{r['errors']} errors[/]"
            console.print(f"[bold]{escape(r['file'])}[/] ({KIND_LABEL.get(r['kind'], r['kind'])}): {verdict}"
                          + (f", {r['warnings']} warnings" if r["warnings"] else ""), markup=True)
            for f in r["findings"]:
                mark = "[red]error[/]" if f["severity"] == "error" else "[yellow]warning[/]"
                where = escape(f["component"] + (f" «{f['paragraph']}»" if f["paragraph"] else ""))
                console.print(f"  {mark} {f['rule']}  {where}", markup=True)
                console.print(f"      expected {f['expected']}; found {f['found']}")
        console.print(f"{summary['files']} files checked: {summary['with_errors']} with errors, {summary['errors']} errors, "
                      f"{summary['warnings']} warnings, {summary['unreadable']} unreadable")
    raise typer.Exit(2 if summary["unreadable"] else 1 if summary["errors"] else 0)


# --- registers -----------------------------------------------------------------------------------

@app.command("register")
@user_errors
def register(
    agency: Annotated[str, typer.Argument(help="Agency code, e.g. ubnd-tinh")],
    year: Annotated[int | None, typer.Option(help="Default: this year")] = None,
    incoming: Annotated[bool, typer.Option("--incoming", help="The incoming register (sổ văn bản đến)")] = False,
    docx: Annotated[Path | None, typer.Option("--docx", help="Also write the register as DOCX (Phụ lục IV columns)")] = None,
) -> None:
    """An agency's outgoing register (sổ đăng ký văn bản đi) for a year, or its incoming register."""
    from doc_templates.register_book import incoming_book, outgoing_book, render_book
    from models.recipients import agency_by_code

    year = year or today().year
    with session_scope(ready_engine()) as session:
        found = agency_by_code(session, agency)
        book = (incoming_book if incoming else outgoing_book)(session, found, year)
        data = render_book(session, book) if docx else None
    table = Table(*(name for name, _ in book.columns), title=f"{book.title} NĂM {year} — {found.name}")
    for row in book.rows:
        add_row(table, *row)
    console.print(table)
    console.print(f"{len(book.rows)} entries")
    if docx and data:
        docx.parent.mkdir(parents=True, exist_ok=True)
        docx.write_bytes(data)
        console.print(f"wrote {docx}")


@app.command("void")
@user_errors
def void(entry: int, reason: Annotated[str, typer.Option(help="Why the number is voided")], actor: Actor = "system") -> None:
    """Void a number of an outgoing register (by its entry id, see 'vanban register'); it stays with its reason."""
    from models.register import void_number

    with session_scope(ready_engine()) as session:
        voided = void_number(session, entry, reason, actor=actor)
    console.print(f"{voided.number_symbol} voided: {voided.voided_reason}")


# --- audit ---------------------------------------------------------------------------------------

@audit_app.command("show")
@user_errors
def audit_show(document: DocRef) -> None:
    """A document's trail, in order, in Vietnam time."""
    from models.audit import trail

    with session_scope(ready_engine()) as session:
        doc = find_document(session, document)
        names = {o.code: o.full_name for o in session.exec(select(Official))}
        entries = trail(session, doc.id)
        title = f"{KIND_INFO[doc.kind][0]} {number_symbol(doc.number, doc.symbol).strip()} — {doc.subject[:60]}"
    table = Table("#", "time (Vietnam)", "actor", "action", "details", "file sha256", "flow run", title=title)
    for e in entries:
        actor = f"{e.actor} ({names[e.actor]})" if e.actor in names else e.actor
        add_row(table, str(e.seq), vietnam_time(e.at), actor, e.action, e.details, (e.file_sha256 or "")[:16],
                      (e.flow_run_id or "")[:8])
    console.print(table)
    console.print(f"{len(entries)} entries")


@audit_app.command("verify")
@user_errors
def audit_verify() -> None:
    """Recompute the hash chain. Exit 0 when intact; 1 naming the first entry that breaks it."""
    from sqlalchemy.exc import DBAPIError

    from models.audit import verify

    engine = ready_engine()
    try:
        with engine.connect() as connection:
            verdict = verify(connection)
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise VanbanError(f"the audit log cannot be read ({reason}): its tables were changed or removed") from None
    if verdict.intact:
        console.print(f"audit log intact: {verdict.entries} entries, last hash {verdict.head_hash}")
        return
    err.print(f"[bold red]audit log broken at entry {verdict.broken_at}:[/] {escape(verdict.reason)} "
              f"({verdict.entries} entries verified before it)")
    raise typer.Exit(1)


@audit_app.command("export")
@user_errors
def audit_export(
    fmt: Annotated[str, typer.Option("--format", help="csv or json")] = "csv",
    since: Annotated[str | None, typer.Option(help="Only entries from this date on (DD/MM/YYYY, Vietnam time)")] = None,
    out: Annotated[Path | None, typer.Option(help="Write to this file instead of standard output")] = None,
) -> None:
    """Every entry (or those since a date) as CSV or JSON, with times in UTC and in Vietnam time."""
    import csv
    import io
    import json

    from models.audit import AuditEntry

    if fmt not in ("csv", "json"):
        raise RuleViolation("format", "export.format", f"'{fmt}' is not a format; use csv or json")
    query = select(AuditEntry).order_by(AuditEntry.seq)
    if since:
        start = datetime.combine(parse_date(since, "since"), datetime.min.time(), ZoneInfo(get_settings().timezone))
        query = query.where(AuditEntry.at >= start.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    with session_scope(ready_engine()) as session:
        rows = [{**e.as_dict(), "at_vietnam": vietnam_time(e.at)} for e in session.exec(query)]
    if fmt == "json":
        text = json.dumps(rows, ensure_ascii=False, indent=2)
    else:
        buffer = io.StringIO()
        columns = ["seq", "at", "at_vietnam", "actor", "action", "document_id", "flow_run_id", "task_run_id",
                   "details", "file_sha256", "prev_hash", "hash"]
        writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        text = buffer.getvalue()
    if out:
        out.write_text(text, encoding="utf-8")
        err.print(f"{len(rows)} entries written to {escape(str(out))}")
    else:
        print(text, end="" if text.endswith("\n") else "\n")


@audit_app.command("runs")
@user_errors
def audit_runs(document: DocRef) -> None:
    """The Prefect flow runs behind a document, with states and durations, checked against its entries."""
    from models.audit import trail
    from flows.run_check import check_runs

    with session_scope(ready_engine()) as session:
        doc = find_document(session, document)
        entries = trail(session, doc.id)
    if not any(e.flow_run_id for e in entries):
        console.print(f"no Prefect flow runs are recorded for document #{doc.id}")
        return
    with console.status("asking Prefect about the runs"):
        runs, problems = check_runs(entries)
    table = Table("flow run", "name", "flow", "state", "started", "duration", "entries")
    for run in runs:
        add_row(table, run.id, run.name, run.flow, run.state, run.started, run.duration, ", ".join(run.actions))
    console.print(table)
    for problem in problems:
        err.print(f"[bold red]mismatch:[/] {escape(problem)}")
    if problems:
        raise typer.Exit(1)


# --- demo ----------------------------------------------------------------------------------------

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
    import importlib
    import json

    from pydantic import ValidationError

    from models.sample_data import read_yaml

    if flow_name not in FLOWS:
        raise RuleViolation("FLOW", "run.flow", f"'{flow_name}' is not a flow; use one of {', '.join(FLOWS)}")
    data = read_yaml(spec)
    if not isinstance(data, dict):
        raise RuleViolation("file", "file.shape", f"{spec} must hold the flow's parameters as a mapping")
    _string_keys(data, "spec")
    module_name, function, model_name = FLOWS[flow_name]
    engine = ready_engine()  # the schema is checked before Prefect starts
    module = importlib.import_module(module_name)
    try:
        request = getattr(module, model_name).model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"]).lstrip(".") or "spec"
        raise RuleViolation(loc, f"input.{first['type']}", first["msg"]) from None
    _check_documents(flow_name, request)
    from flows.runtime import prefect_settings

    with console.status(f"running {flow_name}") as status:
        _watch_steps(engine, status)
        with prefect_settings():
            state = getattr(module, function)(request, return_state=True)
    console.print(f"{flow_name} run {state.state_details.flow_run_id}: {state.type.value}")
    result = state.result(raise_on_failure=False)
    if isinstance(result, VanbanError):
        raise result  # printed as one line, like any other mistake
    console.print(json.dumps(result, ensure_ascii=False, default=str, indent=2))
    if not state.is_completed():
        raise typer.Exit(1)


def print_assignments(engine: Engine, *, title: str, overdue: bool = False, on: Any = None) -> list[dict[str, Any]]:
    """The assignments across decisions as a table, as they stand ``on`` (default today): due, reminded,
    overdue, reported."""
    from models.assignments import overview

    with session_scope(engine) as session:
        rows = overview(session, on or today(), overdue_only=overdue)
    from rich import box

    wide = console.width >= 140  # the task's text, where the terminal has room for it (--json always has it)
    table = Table("#", "decision", "lead", *(["task"] if wide else []), "due", "state", "notices", "report",
                  title=title, box=box.SIMPLE_HEAD)
    for r in rows:
        notices = [f"reminded {d}" for d in r["reminded"]] + [f"escalated {d}" for d in r["escalated"]]
        report = f"{r['report']} ({r['reported_on']})" if r["report"] else ""
        add_row(table, r["id"], r["decision"], r["lead"], *([r["task"]] if wide else []), r["due"] or "", r["state"],
                "\n".join(notices), report)
    console.print(table)
    return rows


def _string_keys(value: Any, where: str) -> None:
    """YAML reads a bare on/off/yes/no as true/false: a key that became one is named, not silently dropped."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if not isinstance(key, str):
                raise RuleViolation(where, "file.yaml-key", f"the key {key!r} is not a name (YAML reads a bare on, off, "
                                                            "yes or no as true or false): quote it, or use the field's name")
            _string_keys(inner, f"{where}.{key}")
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            _string_keys(inner, f"{where}[{i}]")


def _check_documents(flow_name: str, request: Any) -> None:
    """Validate the documents a flow will draft before it starts, so a mistake is named at once."""
    from models.sample_data import fill_references
    from models.drafting import parse_create

    specs = {"draft-plan": lambda r: [("spec", r.spec)],
             "submit-proposal": lambda r: [("submission", r.submission)],
             "decide": lambda r: [("decision", r.decision)] if r.document is None else [],
             "document-lifecycle": lambda r: [("plan.spec", r.plan.spec), ("proposal.submission", r.proposal.submission),
                                              ("decision.decision", fill_references(r.decision.decision, {"plan": 1, "submission": 1}))]}
    if flow_name == "report-implementation" and request.document is None:  # checked against its assignment and plan
        from models.reporting import compose_report

        with session_scope(get_engine()) as session:
            try:
                compose_report(session, request.report)
            except RuleViolation as exc:
                raise RuleViolation(f"report.{exc.field}", exc.rule, exc.message) from None
            session.rollback()
    for where, spec in specs.get(flow_name, lambda _r: [])(request):
        try:
            parse_create(spec)
        except RuleViolation as exc:
            raise RuleViolation(f"{where}.{exc.field}", exc.rule, exc.message) from None


def _watch_steps(engine: Engine, status) -> None:  # noqa: ANN001
    """Say, while the lifecycle runs, which human step waits for whom (manual demo)."""
    import threading
    import time

    from models.approvals import describe, pending

    def watch() -> None:
        shown: set[int] = set()
        while True:
            with session_scope(engine) as session:
                steps = [describe(session, s) for s in pending(session)]
            for step in steps:
                if step["id"] not in shown:
                    shown.add(step["id"])
                    console.print(f"waiting: step #{step['id']} {step['step']} of document #{step['document']} "
                                  f"({step['kind']}) for {', '.join(step['approvers'])}")
                    status.update(f"waiting at step #{step['id']} for {', '.join(step['approvers'])}")
            time.sleep(1)

    threading.Thread(target=watch, daemon=True).start()


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
    from flows.outbox import Outbox
    from models.approvals import ApprovalStep
    from models.audit import AuditEntry, verify
    from models.deliveries import ledger, summary
    from models.document import GeneratedFile
    from models.sample_data import load_directory

    home = out / ".vanban"
    if database is None:
        shutil.rmtree(home, ignore_errors=True)  # the demo always starts from a fresh database
        database = f"sqlite:///{home / 'vanban.db'}"
    home.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out / "outbox", ignore_errors=True)
    engine = make_engine(database)
    with console.status("preparing the database"):
        migrate(engine)
        with session_scope(engine) as session:
            if session.exec(select(Document)).first() is not None:
                raise RuleViolation("database", "demo.fresh", "the demo needs a fresh database; this one holds documents")
            counts = load_directory(session)
    console.print("sample directory loaded: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    from flows.lifecycle import document_lifecycle, seed_lifecycle
    from flows.runtime import prefect_settings

    request = seed_lifecycle(database=database, files=str(home / "files"))
    if manual:
        request.auto_approvers = []
        console.print("manual mode: answer each human step from another terminal, with the same VANBAN_HOME and\n"
                      f"  VANBAN_DATABASE_URL={database}\n  vanban approvals   then   vanban approve ID --as CODE")
    with console.status("running document-lifecycle in Prefect (its first start here takes a little longer)") as status, \
            Outbox(out / "outbox") as outbox:
        request.relay = outbox.url
        if manual:
            _watch_steps(engine, status)
        with prefect_settings():
            state = document_lifecycle(request, return_state=True)
        outcome = state.result()
    console.print(f"document-lifecycle run {state.state_details.flow_run_id}: {outcome['status']}")
    with session_scope(engine) as session:
        issued = session.exec(select(GeneratedFile).where(GeneratedFile.purpose == "issued").order_by(GeneratedFile.id)).all()
        docs = {f.document_id: session.get(Document, f.document_id) for f in issued}
        steps = session.exec(select(ApprovalStep).order_by(ApprovalStep.id)).all()
        runs = {e.document_id: e.flow_run_id for e in session.exec(select(AuditEntry).order_by(AuditEntry.seq))
                if e.flow_run_id and e.action == "issued"}
    with engine.connect() as connection:  # after the session: on SQLite every transaction takes the write lock
        verdict = verify(connection)
    console.print(f"Seed chain issued into {out}:")
    for f in issued:
        shutil.copyfile(path_of(home / "files", f.sha256), out / f.filename)
        d = docs[f.document_id]
        console.print(f"  {number_symbol(d.number, d.symbol)}  {short_date(d.issued_on)}  {d.status.value}  {f.filename}")
        console.print(f"      {d.subject}")
        console.print(f"      flow run {runs.get(d.id) or '-'}")
    approvals_table = Table("document", "step", "answered by", "answer", title="Human steps")
    for st in steps:
        d = docs.get(st.document_id)
        add_row(approvals_table, number_symbol(d.number, d.symbol) if d else f"#{st.document_id}", st.name,
                st.answered_by or "", st.status.value)
    console.print(approvals_table)
    distribution_table = Table("document", "distribution", "sent", "failed", "unresolved", "archive copy",
                               title=f"Distribution (messages in {out / 'outbox'})")
    with session_scope(engine) as session:
        for d in docs.values():
            if d.distribution:
                counts = summary(ledger(session, d.id))
                add_row(distribution_table, number_symbol(d.number, d.symbol), d.distribution, counts.get("sent", 0),
                        counts.get("failed", 0), counts.get("unresolved", 0), counts.get("archived", 0))
    console.print(distribution_table)
    console.print(f"outbox: {len(outbox.messages)} messages (documents with their DOCX attached, and reminders)")
    print_assignments(engine, title="Assignments (giao nhiệm vụ) and their reports")
    console.print(f"audit log: {verdict.entries} entries, {'intact' if verdict.intact else 'BROKEN: ' + verdict.reason}; "
                  f"database: {database}")


from flows import cli_distribution, cli_reporting  # noqa: E402,F401  (register their commands on app)

if __name__ == "__main__":  # python -m flows.cli: run the app of the imported module, where every command is registered
    from flows.cli import app as registered

    registered()
