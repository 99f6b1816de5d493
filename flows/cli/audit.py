"""`vanban audit`: who did what to which document, when, in which run; the hash chain verified; exports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from sqlmodel import select

from flows.cli.common import (
    Actor, DocRef, add_row, console, err, passphrase, ready_engine, user_errors, vietnam_time, write_file,
)
from models.db import session_scope
from models.directory import Official
from models.document import find_document
from models.errors import RuleViolation, VanbanError
from models.kinds import type_name
from models.legal_text import number_symbol, parse_date

app = typer.Typer(help="The audit log: who did what to which document, when, in which run.", no_args_is_help=True)


@app.command("show")
@user_errors
def audit_show(document: DocRef) -> None:
    """A document's trail, in order, in Vietnam time."""
    from models.audit import trail

    with session_scope(ready_engine()) as session:
        doc = find_document(session, document)
        names = {o.code: o.full_name for o in session.exec(select(Official))}
        entries = trail(session, doc.id)
        title = f"{type_name(doc.kind)} {number_symbol(doc.number, doc.symbol).strip()} — {doc.subject[:60]}"
    table = Table("#", "time (Vietnam)", "actor", "action", "details", "file sha256", "flow run", title=title)
    for e in entries:
        actor = f"{e.actor} ({names[e.actor]})" if e.actor in names else e.actor
        add_row(table, str(e.seq), vietnam_time(e.at), actor, e.action, e.details, (e.file_sha256 or "")[:16],
                      (e.flow_run_id or "")[:8])
    console.print(table)
    console.print(f"{len(entries)} entries")


@app.command("verify")
@user_errors
def audit_verify(
    against: Annotated[Path | None, typer.Option(help="A checkpoint kept outside the database (vanban audit checkpoint "
                                                      "--export): prove nothing was rewritten, truncated or wiped since")] = None,
    files: Annotated[bool, typer.Option("--files", help="Also read every stored file and compare it with its recorded SHA-256")] = False,
) -> None:
    """Recompute the hash chain. Exit 0 when intact; 1 naming the first entry that breaks it, what differs from
    the checkpoint, or the stored files that no longer match."""
    import json

    from sqlalchemy.exc import DBAPIError

    from models.audit import verify
    from models.checkpoints import file_problems, verify_against
    from models.config import get_settings

    checkpoint = None
    if against is not None:
        try:
            checkpoint = json.loads(against.read_text(encoding="utf-8"))
        except OSError as exc:
            raise RuleViolation("against", "file.read", f"cannot read {against}: {exc.strerror}") from None
        except ValueError:
            raise RuleViolation("against", "checkpoint.format", f"{against} is not a checkpoint (JSON)") from None
    engine = ready_engine()
    try:
        with engine.connect() as connection:
            verdict = verify(connection)
            differs = verify_against(connection, checkpoint) if checkpoint is not None else []
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise VanbanError(f"the audit log cannot be read ({reason}): its tables were changed or removed") from None
    broken = []
    if files:
        with session_scope(engine) as session:
            broken = file_problems(session, get_settings().files_dir)
    if verdict.intact:
        console.print(f"audit log intact: {verdict.entries} entries, last hash {verdict.head_hash}")
    else:
        err.print(f"[bold red]audit log broken at entry {verdict.broken_at}:[/] {escape(verdict.reason)} "
                  f"({verdict.entries} entries verified before it)")
    for problem in differs:
        err.print(f"[bold red]against {escape(str(against))}:[/] {escape(problem)}")
    if checkpoint is not None and not differs:
        console.print(f"matches the checkpoint in {against} (entry {checkpoint['seq']}, "
                      f"{vietnam_time(checkpoint['details']['at'])}, signed by {checkpoint['details']['agency']})")
    for problem in broken:
        err.print(f"[bold red]file:[/] {escape(problem)}")
    if files and not broken:
        console.print("every stored file matches its recorded SHA-256")
    if not verdict.intact or differs or broken:
        raise typer.Exit(1)


@app.command("checkpoint")
@user_errors
def audit_checkpoint(
    agency: Annotated[str | None, typer.Option(help="Make a new checkpoint signed with this agency's key (in your keystore)")] = None,
    actor: Actor = "system",
    export: Annotated[Path | None, typer.Option(help="Write the latest checkpoint to this file, to keep outside the database")] = None,
) -> None:
    """Anchor the log: a checkpoint (the chain's head and a digest of documents, register entries and file hashes)
    signed by an agency's key; one is also made at every issue. --export writes the latest to a file."""
    import json

    from models.checkpoints import checkpoint_now, export as export_checkpoint, latest
    from models.config import get_settings

    if agency is None and export is None:
        raise RuleViolation("agency", "checkpoint.what", "say --agency CODE to make a checkpoint, --export FILE to write "
                                                         "the latest, or both")
    engine = ready_engine()
    if agency is not None:
        keystore = get_settings().keystore_dir
        secret = passphrase(f"{agency}'s key in {keystore}")
        with session_scope(engine) as session:
            made = checkpoint_now(session, agency, keystore, secret, actor=actor)
        console.print(f"checkpoint: entry {made.seq}, covering {made.seq - 1} entries, signed by {agency}")
    if export is not None:
        with session_scope(engine) as session:
            data = export_checkpoint(session, latest(session))
        try:
            export.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            raise RuleViolation("export", "file.write", f"cannot write {export}: {exc.strerror}") from None
        console.print(f"checkpoint of entry {data['seq']} written to {export}: keep it outside the database")


@app.command("export")
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

    from models.views import audit_entries

    if fmt not in ("csv", "json"):
        raise RuleViolation("format", "export.format", f"'{fmt}' is not a format; use csv or json")
    start = parse_date(since, "since") if since else None
    with session_scope(ready_engine()) as session:
        rows = [{**e.as_dict(), "at_vietnam": vietnam_time(e.at)} for e in audit_entries(session, start)]
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
        write_file(out, text)
        err.print(f"{len(rows)} entries written to {escape(str(out))}")
    else:
        print(text, end="" if text.endswith("\n") else "\n")


@app.command("runs")
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

