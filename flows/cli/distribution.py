"""`vanban` commands of distribution: the distribution plan and run, the ledger, redelivery and receipts
(acknowledgements). The channels of the directory are in `flows.cli.directory`."""

from __future__ import annotations

import json
import threading
import time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich import box
from rich.markup import escape
from rich.table import Table
from sqlalchemy.engine import Engine
from sqlmodel import func, select

from flows.cli.calendar import warn_unannounced
from flows.cli.common import Actor, DocRef, add_row, console, err, ready_engine, user_errors
from models.channels import redact, relay_url
from models.config import get_settings, today
from models.db import session_scope
from models.deliveries import Delivery, DeliveryState, ledger, plan, request_redelivery, summary
from models.document import Document, find_document
from models.errors import RuleViolation
from models.kinds import type_name
from models.legal_text import number_symbol

app = typer.Typer()


def _title(doc: Document) -> str:
    return f"{type_name(doc.kind)} {number_symbol(doc.number, doc.symbol).strip()}"


@app.command("distribute")
@user_errors
def distribute_cmd(
    document: DocRef,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show Nơi nhận → recipients → channels, what cannot be sent and why; send nothing")] = False,
    actor: Actor = "system",
    concurrency: Annotated[int, typer.Option(min=1, max=16, help="Messages in flight at once")] = 4,
    retries: Annotated[int, typer.Option(min=0, max=10, help="Further tries after a passing error (4xx, unreachable)")] = 3,
) -> None:
    """Send an issued document to every recipient of its Nơi nhận, through their channels (the distribute flow)."""
    engine = ready_engine()
    with session_scope(engine) as session:
        doc = find_document(session, document)
        lines = plan(session, doc, check_sending_now=dry_run)
        title, doc_id = _title(doc), doc.id
    if dry_run:
        _print_plan(title, lines)
        return
    _run_distribution(engine, doc_id, title, actor=actor, concurrency=concurrency, retries=retries)


def _print_plan(title: str, lines: list) -> None:  # noqa: ANN001 - list[PlanLine]
    table = Table("Nơi nhận", "recipient", "code", "channels", "note", title=f"Distribution plan of {title}",
                  box=box.SIMPLE_HEAD)
    recipients = unusable = unresolved = unchecked = 0
    for pl in lines:
        line = pl.line
        if line.archive:
            add_row(table, line.text, "(archive copy)", "", "", "stored, not sent")
            continue
        if line.problem:
            unresolved += 1
            add_row(table, line.text, "", "", "", f"UNRESOLVED: {line.problem}")
            continue
        for i, p in enumerate(pl.recipients):
            recipients += 1
            notes = [f"{redact(u)}: {why.rule}: {why.message}" for u, why in p.problems.items()]
            if not p.channels:
                notes.append("NO CHANNEL: the directory lists none (vanban directory add-channel)")
            unusable += bool(notes)
            unchecked += bool(p.unchecked)
            notes += [f"{redact(u)}: not checked: {', '.join(names)} (a Prefect Secret block, read only when sending)"
                      for u, names in p.unchecked.items()]
            add_row(table, line.text if i == 0 else "", p.recipient.label, p.code,
                    "\n".join(redact(u) for u in p.channels), "; ".join(notes))
        for r in line.repeated:
            add_row(table, "", r.label, "", "", "already listed above: sent once")
        for text in line.vague:
            unresolved += 1
            add_row(table, "", text, "", "", "UNRESOLVED: names no agency, unit or official")
    console.print(table)
    console.print(f"{recipients} recipients, {unusable} with a channel problem, {unresolved} unresolved lines"
                  + (f", {unchecked} with a Prefect Secret block not checked" if unchecked else ""))


def _run_distribution(engine: Engine, doc_id: int, title: str, **options: Any) -> None:
    from flows.distribute import Distribution, distribute
    from flows.runtime import prefect_settings

    request = Distribution(document=doc_id, distributed_by=options.pop("actor", "system"), **options)
    relay_url(request.relay)  # refused before Prefect starts
    with console.status(f"distributing {title}") as status:
        _watch_ledger(engine, doc_id, status, title)
        with prefect_settings():
            state = distribute(request, return_state=True)
    result = state.result(raise_on_failure=False)
    if isinstance(result, BaseException):
        raise result
    _print_outcome(engine, doc_id, title, result)


def _watch_ledger(engine: Engine, doc_id: int, status, title: str) -> None:  # noqa: ANN001
    """Progress while the flow sends: how many rows are settled."""

    def watch() -> None:
        while True:
            time.sleep(0.5)
            with session_scope(engine) as session:
                rows = session.exec(select(Delivery.state, func.count()).where(Delivery.document_id == doc_id)
                                    .group_by(Delivery.state)).all()
            counts = {state.value if hasattr(state, "value") else state: n for state, n in rows}
            total = sum(counts.values())
            done = counts.get("sent", 0) + counts.get("failed", 0) + counts.get("archived", 0) + counts.get("unresolved", 0)
            status.update(f"distributing {title}: {done} of {total} settled ({counts.get('sent', 0)} sent)")

    threading.Thread(target=watch, daemon=True).start()


def _print_outcome(engine: Engine, doc_id: int, title: str, result: dict[str, Any]) -> None:
    counts = result["deliveries"]
    console.print(f"distribution of {title}: {result['status']} — "
                  + ", ".join(f"{n} {state}" for state, n in sorted(counts.items())))
    with session_scope(engine) as session:
        bad = [r for r in ledger(session, doc_id) if r.state in (DeliveryState.FAILED, DeliveryState.UNRESOLVED)]
    for r in bad:
        console.print(f"  {r.state.value}: {r.label} ({r.recipient_code or r.line_text}) {redact(r.channel_url)} — "
                      f"{r.error_rule}: {r.error}")
    if result["status"] != "completed":
        err.print("[bold yellow]not every recipient has the document:[/] see [bold]vanban deliveries[/], "
                  "fix the directory, then [bold]vanban redeliver --failed[/]")
        raise typer.Exit(1)


@app.command("deliveries")
@user_errors
def deliveries_cmd(
    document: DocRef,
    unacknowledged: Annotated[int | None, typer.Option(
        "--unacknowledged", metavar="N", min=0, max=1000,
        help="Only recipients who have not acknowledged N working days after it was sent to them")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="As JSON for other programs")] = False,
) -> None:
    """The ledger of a document: who got it through which channel, when, and who acknowledged it."""
    from models.views import unacknowledged_after

    with session_scope(ready_engine()) as session:
        doc = find_document(session, document)
        rows, title = ledger(session, doc.id), _title(doc)
        status = doc.distribution or "not distributed"
    if unacknowledged is not None:
        rows = unacknowledged_after(rows, unacknowledged, today())
        warn_unannounced(today())
    if as_json:
        print(json.dumps([{
            "line": r.line_text, "recipient": r.label, "code": r.recipient_code, "channel": redact(r.channel_url),
            "state": r.state.value, "attempts": r.attempts, "redeliveries": r.redeliveries, "message_id": r.message_id,
            "sent_at": r.sent_at, "acknowledged_at": r.acknowledged_at, "acknowledged_by": r.acknowledged_by,
            "acknowledged_proof": r.acknowledged_proof,
            "error_rule": r.error_rule, "error": r.error} for r in rows], ensure_ascii=False, default=str, indent=2))
        return
    table = Table("Nơi nhận", "recipient", "code", "channel", "state", "tries", "sent (Vietnam)", "acknowledged", "note",
                  title=f"Deliveries of {title}: {status}", box=box.SIMPLE_HEAD)
    zone = ZoneInfo(get_settings().timezone)
    for r in rows:
        sent = r.sent_at.astimezone(zone).strftime("%d/%m/%Y %H:%M") if r.sent_at else ""
        ack = (f"{r.acknowledged_at.astimezone(zone).strftime('%d/%m/%Y %H:%M')} {r.acknowledged_by}"
               + (f" ({r.acknowledged_proof})" if r.acknowledged_proof else "") if r.acknowledged_at else "")
        note = f"{r.error_rule}: {r.error}" if r.error_rule else ""
        if r.redeliveries:
            note = f"redelivered {r.redeliveries}× {note}".strip()
        add_row(table, r.line_text, r.label, r.recipient_code or "", redact(r.channel_url), r.state.value,
                str(r.attempts), sent, ack, note)
    console.print(table)
    counts = summary(rows)
    console.print(", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no deliveries")


@app.command("redeliver")
@user_errors
def redeliver_cmd(
    document: DocRef,
    failed: Annotated[bool, typer.Option("--failed", help="Only the recipients whose delivery failed")] = False,
    to: Annotated[str | None, typer.Option("--to", metavar="CODE", help="Only this recipient (directory code)")] = None,
    actor: Actor = "system",
) -> None:
    """Send a document again on purpose (recorded as a redelivery): to everyone, the failed ones, or one recipient."""
    engine = ready_engine()
    with session_scope(engine) as session:
        doc = find_document(session, document)
        if doc.distribution is None:
            raise RuleViolation("document", "distribution.not-started",
                                f"{_title(doc)} has not been distributed yet: use 'vanban distribute'")
        chosen = request_redelivery(session, doc, failed_only=failed, to=to, actor=actor)
        title, doc_id = _title(doc), doc.id
    if not chosen:
        console.print(f"{title}: nothing to send again" + (" (no failed delivery)" if failed else ""))
        return
    console.print(f"{title}: sending again to {len(chosen)} recipient channel(s)")
    _run_distribution(engine, doc_id, title, actor=actor)


@app.command("ack")
@user_errors
def ack_cmd(
    document: DocRef,
    by: Annotated[str, typer.Option("--by", metavar="CODE", help="The recipient who acknowledges (directory code)")],
    token: Annotated[str | None, typer.Option(
        "--token", help="The receipt token of the recipient's message (Mã xác nhận); without it the clerk of --as "
                        "records the acknowledgement under their own name")] = None,
    actor: Actor = "system",
) -> None:
    """Record that a recipient has received the document (đã nhận): with its receipt token, or as a clerk's record."""
    from models.receipts import acknowledge_as_clerk

    engine = ready_engine()
    with session_scope(engine) as session:
        doc = find_document(session, document)
        title, doc_id = _title(doc), doc.id
    fresh = acknowledge_as_clerk(engine, doc_id, by, token=token, actor=actor)
    if not fresh:
        console.print(f"{title}: {by} had acknowledged it already")
        return
    console.print(f"{title}: acknowledged by {by} " + ("(with its receipt token)" if token else f"(recorded by {actor})"))


receipts_app = typer.Typer(help="Receipts: an HTTP endpoint recipients' systems call to acknowledge.", no_args_is_help=True)


def is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name: it may resolve to anything
        return False


@receipts_app.command("serve")
@user_errors
def receipts_serve(
    host: Annotated[str, typer.Option(help="Address to listen on (anything but loopback needs --public)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8030,
    public: Annotated[bool, typer.Option("--public", help="Allow an address other networks reach")] = False,
) -> None:
    """Serve POST /receipts {"message_id": "<…>", "token": "…", "by": "name"} until interrupted."""
    from flows.receipts import receipt_server

    if not is_loopback(host):
        if not public:
            raise RuleViolation("host", "receipts.public-needs-flag",
                                f"{host} is not a loopback address: other machines could reach the endpoint; "
                                "add --public if that is meant")
        err.print(f"[bold yellow]warning:[/] receipts listen on {escape(host)}, reachable from other machines: only a "
                  "message's receipt token acknowledges it, but serve it behind TLS (a reverse proxy) and a rate limit")
    engine = ready_engine()
    try:
        server = receipt_server(engine, host, port)
    except OSError as exc:
        raise RuleViolation("port", "receipts.cannot-listen", f"cannot listen on {host}:{port}: {exc.strerror}") from None
    console.print(f"receipts: POST http://{host}:{server.server_address[1]}/receipts  (Ctrl+C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
