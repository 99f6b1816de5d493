"""`vanban` commands of implementation reporting: the assignments decisions make, a day of tracking them, and
the scheduled deployment that tracks them daily."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table
from sqlalchemy.engine import Engine

from flows.cli.calendar import warn_unannounced
from flows.cli.common import Actor, add_row, console, err, ready_engine, user_errors
from models.assignments import overview
from models.channels import relay_url
from models.config import today
from models.db import session_scope
from models.legal_text import parse_date

app = typer.Typer()


def print_assignments(engine: Engine, *, title: str, overdue: bool = False, on: Any = None) -> list[dict[str, Any]]:
    """The assignments across decisions as a table, as they stand ``on`` (default today): due, reminded,
    overdue, reported."""
    with session_scope(engine) as session:
        rows = overview(session, on or today(), overdue_only=overdue)
    wide = console.width >= 140  # the task's text, where the terminal has room for it (--json always has it)
    table = Table("#", "decision", "lead", *(["task"] if wide else []), "due", "state", "notices", "report",
                  title=title, box=box.SIMPLE_HEAD)
    for r in rows:
        notices = ([f"reminded {d}" for d in r["reminded"]] + [f"escalated {d}" for d in r["escalated"]]
                   + [f"{n}: failed" for n in r["failed"]])
        report = f"{r['report']} ({r['reported_on']})" if r["report"] else ""
        add_row(table, r["id"], r["decision"], r["lead"], *([r["task"]] if wide else []), r["due"] or "", r["state"],
                "\n".join(notices), report)
    console.print(table)
    return rows


def warn_unannounced_years(day: date, rows: list[dict[str, Any]]) -> None:
    """Warn when the working days counted to these deadlines cross a year without a recorded announcement."""
    warn_unannounced(day, *(parse_date(r["due"]) for r in rows if r["due"]))


@app.command("assignments")
@user_errors
def assignments_cmd(
    overdue: Annotated[bool, typer.Option("--overdue", help="Only the assignments past their deadline")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="As JSON for other programs")] = False,
) -> None:
    """The assignments decisions have made, across decisions: due, reminded, overdue, reported (on time or late)."""
    engine = ready_engine()
    if as_json:
        with session_scope(engine) as session:
            rows = overview(session, today(), overdue_only=overdue)
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        rows = print_assignments(engine, title=f"Assignments on {today():%d/%m/%Y}", overdue=overdue)
        console.print(f"{len(rows)} assignment(s)")
    warn_unannounced_years(today(), rows)


@app.command("track")
@user_errors
def track_cmd(
    on: Annotated[str | None, typer.Option(help="The day to track, e.g. 09/12/2024; default today")] = None,
    actor: Actor = "system",
) -> None:
    """Run track-implementation once: reminders and escalations due that day (none twice; one that failed is sent
    again), then the overview. Exit 1 when a notice did not reach everyone."""
    from flows.runtime import prefect_settings
    from flows.track_implementation import Tracking, track_implementation

    engine = ready_engine()
    day: date = parse_date(on, "on") if on else today()
    relay_url()  # refused before Prefect starts
    with console.status(f"tracking assignments on {day:%d/%m/%Y}"), prefect_settings():
        state = track_implementation(Tracking(day=day, actor=actor), return_state=True)
    result = state.result(raise_on_failure=False)
    if isinstance(result, BaseException):
        raise result
    for n in result["notices"]:
        console.print(f"{n['kind']} for assignment #{n['assignment']} ({date.fromisoformat(n['day']):%d/%m/%Y}) to "
                      f"{', '.join(n['to'])}: {n['state']}")
        for failure in n["failures"]:
            console.print(f"  not delivered: {failure}")
    if not result["notices"]:
        console.print(f"nothing to send on {day:%d/%m/%Y}")
    warn_unannounced_years(day, print_assignments(engine, title=f"Assignments on {day:%d/%m/%Y}", on=day))
    if any(n["failures"] for n in result["notices"]):
        err.print("[bold yellow]a notice did not reach everyone:[/] fix the channel or the relay (VANBAN_SMTP_URL), "
                  "then run the same [bold]vanban track[/] again: it is sent again to those it missed")
        raise typer.Exit(1)


@app.command("serve")
@user_errors
def serve_cmd() -> None:
    """Serve the scheduled deployment track-implementation/daily (07:00, Asia/Ho_Chi_Minh) until interrupted."""
    from deployments.tracking import CRON, TIMEZONE, serve

    ready_engine()
    console.print(f"serving track-implementation/daily: '{CRON}' ({TIMEZONE}); Ctrl+C to stop")
    serve()
