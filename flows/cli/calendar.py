"""`vanban calendar` commands: the working-day calendar of a year (days off and why), recording a public-sector
announcement, counting working days; and the warning other commands give when they count through a year for
which no announcement is recorded."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from flows.cli.common import Actor, add_row, console, err, ready_engine, user_errors
from models.legal_text import parse_date, short_date
from models.working_days import add_working_days, announce, announcement_warnings, describe_year

app = typer.Typer(help="Working days: the holidays of a year, the Government's announcements (nghỉ lễ, làm bù)",
                  no_args_is_help=True)


def warn_unannounced(*days: date) -> None:
    """On stderr, for each year of ``days`` without a recorded announcement: its counts may still move."""
    for line in announcement_warnings(*days):
        err.print(f"[yellow]warning:[/] {escape(line)}")


@app.command("show")
@user_errors
def show_cmd(
    year: Annotated[int, typer.Argument(help="The year, e.g. 2026")],
    as_json: Annotated[bool, typer.Option("--json", help="As JSON for other programs")] = False,
) -> None:
    """Every day off of the year beyond the weekends with its reason and source, the make-up Saturdays, the
    announcements recorded, the number of working days."""
    described = describe_year(year)
    warn_unannounced(date(year, 1, 1))
    if as_json:
        print(json.dumps(described, ensure_ascii=False, indent=2))
        return
    for title, days in (("Days off", described["days_off"]), ("Make-up Saturdays (làm bù)", described["working_saturdays"])):
        table = Table("day", "reason", "name", "source", title=f"{title} {year}", box=box.SIMPLE_HEAD)
        for d in days:
            for i, r in enumerate(d["reasons"]):
                add_row(table, d["day"] if i == 0 else "", r["reason"], r["name"], r["source"])
        console.print(table)
    weekend = described["weekend"]
    console.print(f"weekends: {weekend['rule']}: {weekend['days']} days, {weekend['make_up_saturdays']} worked")
    sources = "; ".join(f"{a['source']} ({a['file']})" for a in described["announcements"]) or "none recorded"
    console.print(f"announcements: {sources}")
    console.print(f"{described['working_days']} working days in {year}")


@app.command("announce")
@user_errors
def announce_cmd(
    file: Annotated[Path, typer.Argument(help="The announcement as YAML: year, source, days_off, working_saturdays")],
    actor: Actor,
) -> None:
    """Record a public-sector announcement (days off, make-up Saturdays) after checking it against the year."""
    new = announce(file, actor, ready_engine())
    console.print(f"recorded for {new.year}: {new.source} — {len(new.days_off)} day(s) off, "
                  f"{len(new.working_saturdays)} make-up Saturday(s)")


@app.command("add", context_settings={"ignore_unknown_options": True})  # so that -5 is a number, not an option
@user_errors
def add_cmd(
    start: Annotated[str, typer.Argument(help="The day to count from, e.g. 13/02/2026")],
    days: Annotated[int, typer.Argument(help="Working days to add (negative: before START)")],
) -> None:
    """The day N working days after (or before) a day: a deadline as the assignments count it."""
    first = parse_date(start, "start")
    result = add_working_days(first, days, field="start")
    warn_unannounced(first, result)
    console.print(short_date(result))
