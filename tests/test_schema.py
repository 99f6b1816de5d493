"""The schema comes from Alembic migrations, which must match the models; PostgreSQL works the same."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel, select

import models  # noqa: F401
from doc_templates import render_document
from models.db import make_engine, migrate, session_scope
from models.document import Document
from models.sample_data import load_directory, run_seed_chain


def test_migrations_match_the_models(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []


def test_migrating_twice_is_harmless(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate(engine)
    migrate(engine)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == "0008d"


def test_the_seed_chain_on_postgresql_renders_the_same_bytes(pg_url: str, chain_engine, tmp_path: Path) -> None:  # noqa: ANN001
    engine = make_engine(pg_url)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []
    with session_scope(engine) as session:
        load_directory(session)
    run_seed_chain(engine, tmp_path / "pg-files")
    with session_scope(engine) as pg, session_scope(chain_engine) as lite:
        for symbol in ("TTr-STTTT", "KH-STTTT", "QĐ-UBND"):
            on_pg = pg.exec(select(Document).where(Document.symbol == symbol)).one()
            on_sqlite = lite.exec(select(Document).where(Document.symbol == symbol)).one()
            assert render_document(pg, on_pg) == render_document(lite, on_sqlite)
    engine.dispose()


def _first_use(url: str, barrier, results) -> None:  # noqa: ANN001
    """A process's first command on the database: `vanban` migrates an empty one, then checks the schema."""
    import os

    from flows.cli.common import ready_engine
    from models.config import get_settings
    from models.db import get_engine

    os.environ["VANBAN_DATABASE_URL"] = url
    get_settings.cache_clear()
    get_engine.cache_clear()
    barrier.wait()
    try:
        ready_engine().dispose()
        results.put("ok")
    except Exception as exc:  # noqa: BLE001 - what went wrong is the test's finding
        results.put(f"{type(exc).__name__}: {exc}")


def test_eight_processes_making_first_use_of_an_empty_postgresql_database_all_succeed(pg_empty_url: str) -> None:
    """The migration holds an advisory lock to its commit: the others wait, then find the schema at head."""
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    barrier, results = ctx.Barrier(8), ctx.Queue()
    workers = [ctx.Process(target=_first_use, args=(pg_empty_url, barrier, results)) for _ in range(8)]
    for w in workers:
        w.start()
    outcomes = [results.get(timeout=120) for _ in workers]
    for w in workers:
        w.join(timeout=60)
    assert outcomes == ["ok"] * 8
    engine = make_engine(pg_empty_url)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == "0008d"
        assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []
    engine.dispose()
