"""`vanban` commands of registers: the `register` group (an agency's register book, the registers by year,
opening one, importing a legacy register) and voiding a number."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from flows.cli.common import Actor, add_row, console, ready_engine, user_errors, write_file
from models.config import today
from models.db import session_scope
from models.document import MAX_ID

app = typer.Typer()
register_app = typer.Typer(help="Registers (sổ đăng ký văn bản): one per agency, year and series.",
                           no_args_is_help=True)
app.add_typer(register_app, name="register")

AgencyCode = Annotated[str, typer.Argument(help="Agency code, e.g. ubnd-tinh")]
Json = Annotated[bool, typer.Option("--json", help="Machine-readable output")]


@register_app.command("show")
@user_errors
def show(
    agency: AgencyCode,
    year: Annotated[int | None, typer.Option(min=1, max=9999, help="Default: this year")] = None,
    incoming: Annotated[bool, typer.Option("--incoming", help="The incoming register (sổ văn bản đến)")] = False,
    docx: Annotated[Path | None, typer.Option("--docx", help="Also write the register as DOCX (Phụ lục IV columns)")] = None,
    as_json: Json = False,
) -> None:
    """An agency's outgoing register (sổ đăng ký văn bản đi) for a year, or its incoming register."""
    from doc_templates.register_book import incoming_book, outgoing_book, render_book
    from models.directory import agency_by_code

    year = year or today().year
    with session_scope(ready_engine()) as session:
        found = agency_by_code(session, agency)
        book = (incoming_book if incoming else outgoing_book)(session, found, year)
        data = render_book(session, book) if docx else None
    if docx and data:
        write_file(docx, data, "--docx")
    if as_json:
        columns = [name for name, _ in book.columns]
        print(json.dumps({"agency": found.code, "year": year, "title": book.title,
                          "entries": [dict(zip(columns, row, strict=True)) for row in book.rows]},
                         ensure_ascii=False, indent=2))
        return
    table = Table(*(name for name, _ in book.columns), title=f"{book.title} NĂM {year} — {found.name}")
    for row in book.rows:
        add_row(table, *row)
    console.print(table)
    console.print(f"{len(book.rows)} entries")
    if docx:
        console.print(f"wrote {docx}")


@register_app.command("list")
@user_errors
def list_(
    agency: Annotated[str | None, typer.Argument(help="Agency code (default: every agency)")] = None,
    year: Annotated[int | None, typer.Option(min=1, max=9999, help="Only this year")] = None,
    as_json: Json = False,
) -> None:
    """The outgoing registers: agency, year, series, kinds numbered, last number, how each opened."""
    from models.directory import agency_by_code
    from models.register import list_registers

    with session_scope(ready_engine()) as session:
        agency_id = agency_by_code(session, agency).id if agency else None
        registers = list_registers(session, agency_id, year)
    if as_json:
        print(json.dumps([r.as_dict() for r in registers], ensure_ascii=False, indent=2))
        return
    table = Table("agency", "year", "series", "kinds", "last number", "opened", "imported")
    for r in registers:
        add_row(table, r.agency, r.year, r.series, r.kinds, r.last_number, r.opened, r.imported or "")
    console.print(table)


@register_app.command("open")
@user_errors
def open_(
    agency: AgencyCode,
    year: Annotated[int, typer.Option(min=1, max=9999, help="The year of the register")],
    actor: Actor,
    series: Annotated[str, typer.Option(help="Series code; 'chung' = the agency's shared series")] = "chung",
    kinds: Annotated[str, typer.Option(help="Kinds it numbers, e.g. decision,plan; '*' = every kind")] = "*",
    opening_number: Annotated[int, typer.Option(min=0, max=MAX_ID, help="The last number given before vanban kept it")] = 0,
) -> None:
    """Open a register explicitly (a year's registers otherwise open by themselves from the last year's)."""
    from models.directory import agency_by_code
    from models.register import open_register

    with session_scope(ready_engine()) as session:
        opened = open_register(session, agency_by_code(session, agency).id, year, series=series, kinds=kinds,
                               opening_number=opening_number, actor=actor)
    console.print(f"opened register '{opened.series}' of {agency} for {year} (kinds {opened.kinds}); "
                  f"next number {opened.last_number + 1:02d}")


@register_app.command("import")
@user_errors
def import_(
    agency: AgencyCode,
    file: Annotated[Path, typer.Argument(help="CSV: number, symbol, date (DD/MM/YYYY), subject, optional series")],
    year: Annotated[int, typer.Option(min=1, max=9999, help="The year of the register")],
    actor: Actor,
    series: Annotated[str | None, typer.Option(help="Series code (default: the year's only series)")] = None,
) -> None:
    """Import the numbers the agency gave this year outside vanban (sổ cũ); numbering continues after them."""
    from models.directory import agency_by_code
    from models.register import import_legacy

    with session_scope(ready_engine()) as session:
        register, entries = import_legacy(session, agency_by_code(session, agency).id, year, file, series=series,
                                          actor=actor)
    numbers = sorted(e.number for e in entries)
    console.print(f"imported {len(entries)} entries, numbers {numbers[0]:02d}-{numbers[-1]:02d}, into register "
                  f"'{register.series}' of {agency} for {year}; next number {register.last_number + 1:02d}")


@app.command("void")
@user_errors
def void(entry: Annotated[str, typer.Argument(help="The number as printed, e.g. 05/QĐ-UBND (add /2026 when it repeats "
                                                   "across years), or the entry's id")],
         reason: Annotated[str, typer.Option(help="Why the number is voided")], actor: Actor = "system") -> None:
    """Void a number of an outgoing register; it stays there with its reason and is never given again."""
    from models.register import void_number

    with session_scope(ready_engine()) as session:
        voided = void_number(session, entry, reason, actor=actor)
    console.print(f"{voided.number_symbol} voided: {voided.voided_reason}")
