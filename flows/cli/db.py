"""`vanban db`: the database schema (Alembic migrations)."""

from __future__ import annotations

import typer

from flows.cli.common import console, user_errors
from models.config import get_settings
from models.secret_refs import redact
from models.db import migrate

app = typer.Typer(help="The database schema (Alembic migrations).", no_args_is_help=True)


@app.command("upgrade")
@user_errors
def db_upgrade() -> None:
    """Create the schema or bring it to the newest migration."""
    migrate()
    console.print(f"schema up to date: {redact(get_settings().database)}")

