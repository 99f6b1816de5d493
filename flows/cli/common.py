"""The shared face of the `vanban` commands: the consoles, one-line user errors, the checked database, the
argument types every area uses.

User mistakes (bad input, unknown codes, a missing schema) print one clear line naming the field and
the rule, and exit 1; they never print a traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from models.config import get_settings
from models.db import check_schema, get_engine, migrate
from models.errors import RuleViolation, VanbanError

DocRef = Annotated[str, typer.Argument(help="Document id, or number and symbol such as 374/QĐ-UBND")]
Actor = Annotated[str, typer.Option("--as", help="Official code of who acts (recorded in the audit log)")]
AnswerAs = Annotated[str, typer.Option("--as", help="Official code of who answers")]

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
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            err.print(f"[bold red]error:[/] database: cannot use {escape(get_settings().database)}: {escape(reason)}",
                      highlight=False)
        raise typer.Exit(1)

    return wrapper


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
