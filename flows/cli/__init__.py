"""`vanban`: the clerk's command line, a thin face over the services in `models/` (the same the flows call).

Each area of commands is a module with its own Typer app; this package only assembles them. Commands of most
areas sit at the top level (`vanban issue`, `vanban distribute`); `db`, `directory`, `audit`, `calendar`, `keys`
and `receipts` are groups. An area module never imports this package back: the shared pieces are in `flows.cli.common`.
"""

from __future__ import annotations

import typer

from flows.cli import (
    approvals, audit, calendar, check, db, directory, distribution, documents, keys, registers, reporting, running,
    service,
)
from flows.cli.common import OneLineUsage

app = typer.Typer(cls=OneLineUsage, help="vanban — Vietnamese administrative documents from draft to issue (Decree 30/2020/NĐ-CP).",
                  no_args_is_help=True, pretty_exceptions_enable=False)
for area in (documents, approvals, check, registers, running, reporting, distribution, service):
    app.add_typer(area.app)  # no name: its commands join the top level
app.add_typer(db.app, name="db")
app.add_typer(directory.app, name="directory")
app.add_typer(audit.app, name="audit")
app.add_typer(calendar.app, name="calendar")
app.add_typer(keys.app, name="keys")
app.add_typer(distribution.receipts_app, name="receipts")
