"""`vanban` commands of registers: an agency's outgoing or incoming register, voiding a number."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from flows.cli.common import Actor, add_row, console, ready_engine, user_errors
from models.config import today
from models.db import session_scope

app = typer.Typer()


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

