"""The one place that makes engines and sessions, and runs the Alembic migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from models.config import get_settings
from models.errors import VanbanError

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str) -> Engine:
    """An engine for ``url``. SQLite transactions start with BEGIN IMMEDIATE so that writers queue
    instead of failing on lock upgrades; that is what makes number allocation safe across processes."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
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


@lru_cache
def get_engine(url: str | None = None) -> Engine:
    return make_engine(url or get_settings().database)


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
