"""`vanban directory`: the directory (agencies, units, officials) and how each receives documents (channels)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from sqlmodel import select

from flows.cli.common import add_row, console, ready_engine, user_errors
from models.channels import Channel, add_channel, redact
from models.db import session_scope
from models.directory import Agency, Official
from models.recipients import Recipient, owner_of, recipient_code

app = typer.Typer(help="The directory: agencies, units, officials, signing authority.", no_args_is_help=True)


@app.command("load-sample")
@user_errors
def directory_load_sample() -> None:
    """Load the SAMPLE directory of Vĩnh Long province (2024): agencies, officials, registers."""
    from models.sample_data import load_directory

    with session_scope(ready_engine()) as session:
        counts = load_directory(session)
    console.print("sample directory loaded: " + ", ".join(f"{n} {k}" for k, n in counts.items()))


@app.command("agencies")
@user_errors
def directory_agencies() -> None:
    """List the agencies of the directory."""
    table = Table("code", "ký hiệu", "name", "head")
    with session_scope(ready_engine()) as session:
        for a in session.exec(select(Agency).order_by(Agency.id)):
            add_row(table, a.code, a.abbreviation, a.name, a.head_title)
    console.print(table)


@app.command("officials")
@user_errors
def directory_officials() -> None:
    """List the officials of the directory."""
    table = Table("code", "name", "title", "agency")
    with session_scope(ready_engine()) as session:
        for o in session.exec(select(Official).order_by(Official.id)):
            add_row(table, o.code, o.full_name, o.title, session.get(Agency, o.agency_id).code)
    console.print(table)


@app.command("channels")
@user_errors
def directory_channels() -> None:
    """List the channels of the directory (references to secrets are shown as written, never their values)."""
    table = Table("owner", "kind", "channel")
    with session_scope(ready_engine()) as session:
        for c in session.exec(select(Channel).order_by(Channel.owner_kind, Channel.owner_id, Channel.id)):
            add_row(table, recipient_code(session, Recipient(c.owner_kind, c.owner_id, "")), c.owner_kind, redact(c.url))
    console.print(table)


@app.command("add-channel")
@user_errors
def directory_add_channel(
    code: Annotated[str, typer.Argument(help="Agency or official code, or a unit as agency/UNIT (vp-ubnd/P.VHXH)")],
    url: Annotated[str, typer.Argument(help="mailto:address, or an apprise URL; credentials as {env:NAME} or {secret:NAME}")],
) -> None:
    """Give a recipient a channel (e-mail address, webhook, chat …)."""
    with session_scope(ready_engine()) as session:
        kind, owner_id = owner_of(session, code)
        add_channel(session, kind, owner_id, url, "url")
    console.print(f"{code}: channel {redact(url)} added")
