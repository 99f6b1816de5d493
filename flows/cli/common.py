"""The shared face of the `vanban` commands: the consoles, one-line user errors, the checked database, the
argument types every area uses.

User mistakes (bad input, unknown codes, a missing schema) print one clear line naming the field and
the rule, and exit 1; they never print a traceback.
"""

from __future__ import annotations

import functools
import sys
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
from sqlalchemy.exc import DBAPIError, OperationalError
from typer.core import TyperGroup

from models.config import get_settings
from models.secret_refs import clear_secrets, redact, scrub
from models.db import check_schema, get_engine, migrate
from models.document import MAX_ID
from models.errors import RuleViolation, VanbanError
from models.legal_text import CODE_MAX, NAME_MAX, clean_text

def _cleaned(name: str, max_length: int) -> Callable[[str | None], str | None]:
    """An argument's text as every text vanban is given: NFC, no hidden characters, not too long (a usage error)."""

    def clean(value: str | None) -> str | None:
        try:
            return None if value is None else clean_text(value, name, max_length=max_length)
        except RuleViolation as exc:
            raise typer.BadParameter(f"{exc.message} ({exc.rule})") from None

    return clean


DocRef = Annotated[str, typer.Argument(help="Document id, or number and symbol such as 374/QĐ-UBND",
                                       callback=_cleaned("DOCUMENT", NAME_MAX))]
Actor = Annotated[str, typer.Option("--as", help="Official code of who acts (recorded in the audit log)",
                                    callback=_cleaned("--as", CODE_MAX))]
AnswerAs = Annotated[str, typer.Option("--as", help="Official code of who answers", callback=_cleaned("--as", CODE_MAX))]
StepId = Annotated[int, typer.Argument(min=1, max=MAX_ID, help="The step's id (vanban approvals)")]

console = Console(markup=False, soft_wrap=True)  # data prints as it is; styled lines opt in; lines are not wrapped (tables still fit)
err = Console(stderr=True, soft_wrap=True)  # markup on: every piece of data in it is escaped; a message is one line, never wrapped


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
        except DBAPIError as exc:
            if not isinstance(exc, OperationalError) and exc.statement is not None:
                raise  # a statement the database refused is vanban's fault, not the user's: the traceback is wanted
            url = get_settings().database  # the driver's own words may quote the URL: its secrets are masked too
            reason = scrub(str(exc.orig or exc).strip().splitlines()[0], clear_secrets(url))
            err.print(f"[bold red]error:[/] database: cannot use {escape(redact(url))}: {escape(reason)}",
                      highlight=False)
        raise typer.Exit(1)

    return wrapper


def passphrase(whose: str) -> str:
    """The passphrase that opens a key in the keystore: VANBAN_KEY_PASSPHRASE (automation), else typed, hidden."""
    import os

    given = os.environ.get("VANBAN_KEY_PASSPHRASE")
    if given:
        return given
    try:
        return typer.prompt(f"passphrase of {whose}", hide_input=True, err=True)
    except typer.Abort:  # nothing to read (no terminal, end of input)
        raise RuleViolation("passphrase", "keys.passphrase-needed",
                            "type the keystore's passphrase, or set VANBAN_KEY_PASSPHRASE") from None


class OneLineUsage(TyperGroup):
    """The `vanban` command whose usage mistakes (an unknown option, a value that is not a number, a missing
    argument) print one line too, like every other mistake, instead of a usage panel."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)  # returns the exit code of a typer.Exit
        except typer.TyperException as exc:  # the usage errors of typer's own click
            if type(exc).__name__ != "NoArgsIsHelpError":  # that one has printed the help already
                err.print(f"[bold red]error:[/] {escape(exc.format_message())}", highlight=False)
            sys.exit(exc.exit_code)
        except typer.Abort:
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


def write_file(path: Path, data: bytes | str, option: str = "--out") -> None:
    """Write what a command produces where the user said; a path that cannot be written is one line."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            path.write_text(data, encoding="utf-8")
        else:
            path.write_bytes(data)
    except OSError as exc:
        raise RuleViolation(option, "file.write", f"cannot write {path}: {exc.strerror}") from None


def make_folder(path: Path, option: str = "--out") -> Path:
    """A folder a command writes into, made if needed; one that cannot be is one line."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RuleViolation(option, "file.write", f"cannot make the folder {path}: {exc.strerror}") from None
    return path


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
