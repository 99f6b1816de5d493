"""The one place that makes engines and sessions, and runs the Alembic migrations."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlmodel import Session, create_engine

from models.config import get_settings
from models.secret_refs import REFERENCE, clear_secrets, read_reference, redact, scrub, userinfo_span
from models.errors import RuleViolation, VanbanError

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 0x76616E62616E  # 'vanban': the PostgreSQL advisory lock that migrations take


def make_engine(url: str) -> Engine:
    """An engine for ``url``. SQLite transactions start with BEGIN IMMEDIATE so that writers queue
    instead of failing on lock upgrades; that is what makes number allocation safe across processes. A URL that
    is no database URL, or a database that cannot be reached, is a one-line VanbanError, its password masked."""
    try:
        parsed = make_url(url)
        parsed.get_dialect()  # an unknown scheme or a driver that is not installed: said here, in one line
    except (ArgumentError, ValueError) as exc:  # the URL itself is not shown: where its password is is not known
        raise VanbanError(f"database: the URL (scheme '{url.split(':', 1)[0][:20]}') is not a database URL vanban "
                          f"can use ({exc}); e.g. postgresql+psycopg://user@host:5432/db or sqlite:///path/vanban.db"
                          ) from None
    engine = _make_engine(url, parsed)

    @event.listens_for(engine, "handle_error")
    def _unreachable(context):  # noqa: ANN001, ANN202
        if context.connection is None and context.statement is None:  # connecting: the database is not there
            first = str(context.original_exception).strip().splitlines()[0]
            raise VanbanError(f"database: cannot use {redact(url)}: {scrub(first, clear_secrets(url))}")

    return engine


def _make_engine(url: str, parsed: URL) -> Engine:
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            try:
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise VanbanError(f"database: cannot make the folder of {parsed.database}: {exc.strerror}") from None
        engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection, _record):  # noqa: ANN001
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # noqa: ANN001
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


def get_engine(url: str | None = None) -> Engine:
    """The engine of ``url`` (default the configured database), one per database in a process. References in the
    URL ({env:NAME}, {secret:NAME}) are read here, so whatever carries a URL around (a flow's parameters, which
    Prefect keeps) carries the reference only."""
    return _engine(with_references_read(url or get_settings().database))


@lru_cache
def _engine(url: str) -> Engine:
    return make_engine(url)


get_engine.cache_clear = _engine.cache_clear  # type: ignore[attr-defined]  # forget the engines (tests, new settings)


def with_references_read(url: str) -> str:
    """``url`` with each reference replaced by the value it names (percent-encoded in 'user:password@'); one that
    is not set is a one-line error."""
    userinfo = userinfo_span(url)

    def value(m: re.Match[str]) -> str:
        found = read_reference(m[1], m[2])
        if not found:
            where = "environment variable" if m[1] == "env" else "Prefect Secret block"
            raise RuleViolation("database", "database.secret-missing",
                                f"the {where} '{m[2]}' that the database URL names is not set")
        return quote(found, safe="") if userinfo and userinfo[0] <= m.start() < userinfo[1] else found

    return REFERENCE.sub(value, url)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back on any error (nothing half-written)."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(url: str):  # noqa: ANN201
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(engine: Engine | None = None) -> None:
    """Create or upgrade the schema to the newest migration (Alembic; never ``create_all``)."""
    from alembic import command

    engine = engine or get_engine()
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Processes making first use of an empty database at once migrate it one after the other: the lock is
            # held to the commit, and the next one finds the schema at head. (On SQLite, BEGIN IMMEDIATE queues them.)
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def check_schema(engine: Engine | None = None) -> None:
    """Refuse to work on a database whose schema is missing, older or newer than this code knows."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    engine = engine or get_engine()
    script = ScriptDirectory.from_config(alembic_config(str(engine.url)))
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
        tables = set(inspect(connection).get_table_names())
    head = script.get_current_head()
    if current == head:
        return
    if current is None:
        hint = "the database has no vanban schema yet" if "agency" not in tables else "the schema has no version"
        raise VanbanError(f"{hint}: run 'vanban db upgrade' first")
    try:
        known = script.get_revision(current) is not None
    except Exception:  # alembic raises its own errors for a revision it has no script for  # noqa: BLE001
        known = False
    if not known:
        raise VanbanError(f"the database schema is at revision {current}, which this vanban does not know "
                          f"(newest here: {head}); use the vanban release that wrote it")
    raise VanbanError(f"the database schema is at revision {current}; run 'vanban db upgrade' to reach {head}")
