"""Fixtures: real SQLite files (and a real PostgreSQL schema when VANBAN_TEST_DATABASE_URL is set),
migrated by Alembic, loaded with the sample directory and, where asked, the issued seed chain."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.db import make_engine, migrate
from models.sample_data import sample_database

DATA = Path(__file__).parent / "data"

# One id per test run, shared by its xdist workers: it names the folders whose Prefect servers are this run's.
_RUN = os.environ.setdefault("VANBAN_TEST_RUN", uuid.uuid4().hex[:12])
# Prefect, where a test uses it, keeps its state in a folder of this test session and calls nothing outside.
_PREFECT_HOME = tempfile.mkdtemp(prefix=f"vanban-prefect-{_RUN}-")
os.environ.update({
    "PREFECT_HOME": _PREFECT_HOME,
    "PREFECT_LOCAL_STORAGE_PATH": str(Path(_PREFECT_HOME) / "storage"),
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
})


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """Prefect's own test harness (a temporary API database), started once for the session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):  # its 30 s are not enough on a busy two-core machine
        yield


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the developer's ~/.vanban; keys open with the sample passphrase (sample_database)."""
    from models.credentials import SAMPLE_PASSPHRASE

    monkeypatch.setenv("VANBAN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("VANBAN_DATABASE_URL", raising=False)
    monkeypatch.delenv("VANBAN_KEYSTORE", raising=False)
    monkeypatch.delenv("VANBAN_SECRET_KEY", raising=False)
    monkeypatch.setenv("VANBAN_KEY_PASSPHRASE", SAMPLE_PASSPHRASE)
    from models.config import get_settings
    from models.db import get_engine

    get_settings.cache_clear()
    get_engine.cache_clear()


def use_home(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """This process's flows on the data of ``folder`` (its vanban.db, files and keys), as a worker is configured:
    where vanban's data lives is never a flow's parameter."""
    from models.config import get_settings
    from models.db import get_engine

    monkeypatch.setenv("VANBAN_HOME", str(folder))
    get_settings.cache_clear()
    get_engine.cache_clear()


@pytest.fixture(autouse=True)
def _flows_on_the_test_database(_isolated_home: None, request: pytest.FixtureRequest,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A test that runs flows (prefect_harness) on a test database (engine, chain_engine) runs them there."""
    if "prefect_harness" in request.fixturenames:
        for name in ("chain_engine", "engine"):
            if name in request.fixturenames:
                use_home(Path(str(request.getfixturevalue(name).url.database)).parent, monkeypatch)
                return


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process commands print tables 200 columns wide, whichever test imported the CLI first (rich reads
    COLUMNS once, when its console is made)."""
    from flows.cli import common

    for console in (common.console, common.err):
        monkeypatch.setattr(console, "width", 200)


def _sqlite_template(tmp_path_factory: pytest.TempPathFactory, name: str, *, chain: bool) -> Path:
    folder = tmp_path_factory.mktemp(name)
    sample_database(folder, chain=chain)
    return folder


@pytest.fixture(scope="session")
def _directory_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _sqlite_template(tmp_path_factory, "directory", chain=False)


@pytest.fixture(scope="session")
def _chain_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _sqlite_template(tmp_path_factory, "chain", chain=True)


@pytest.fixture(scope="session")
def gallery(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """One issued DOCX of every kind (models/sample/gallery_2026.yaml), by kind code name, in Điều 7's order."""
    from models.sample_data import build_gallery

    folder = tmp_path_factory.mktemp("gallery")
    written = build_gallery(folder / "work", folder / "out")
    return {path.name[3:].split("-")[0]: path.read_bytes() for path in written}


def _copy(template: Path, tmp_path: Path) -> Engine:
    target = tmp_path / "db"
    shutil.copytree(template, target)
    return make_engine(f"sqlite:///{target / 'vanban.db'}")


@pytest.fixture
def engine(_directory_template: Path, tmp_path: Path) -> Iterator[Engine]:
    """A SQLite database with the schema and the sample directory."""
    eng = _copy(_directory_template, tmp_path)
    yield eng
    eng.dispose()


@pytest.fixture
def chain_engine(_chain_template: Path, tmp_path: Path) -> Iterator[Engine]:
    """A SQLite database where the seed chain has been issued (its files under db/files)."""
    eng = _copy(_chain_template, tmp_path)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def files_dir(tmp_path: Path) -> Path:
    return tmp_path / "files"


@pytest.fixture
def pg_empty_url() -> Iterator[str]:
    """A fresh, empty schema in the PostgreSQL of VANBAN_TEST_DATABASE_URL; dropped afterwards."""
    base = os.environ.get("VANBAN_TEST_DATABASE_URL")
    if not base:
        pytest.skip("VANBAN_TEST_DATABASE_URL is not set (.ci/run sets it)")
    schema = f"vanban_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def pg_url(pg_empty_url: str) -> str:
    """A fresh schema in the PostgreSQL of VANBAN_TEST_DATABASE_URL, migrated; dropped afterwards."""
    engine = make_engine(pg_empty_url)
    migrate(engine)
    engine.dispose()
    return pg_empty_url


def _prefect_servers_under(roots: tuple[str, ...]) -> list[int]:
    """Prefect API server processes whose PREFECT_HOME lies under one of ``roots``: started by this run, directly
    (the harness) or by a `vanban` command a test ran."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if b"prefect.server.api.server" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                continue
            env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:  # gone meanwhile, or not ours to read
            continue
        home = next((e.split(b"=", 1)[1].decode() for e in env if e.startswith(b"PREFECT_HOME=")), "")
        if home.startswith(roots):
            found.append(int(pid))
    return found


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """No test leaves a Prefect server behind: after the last teardown, any server this run started is an orphan.
    They are stopped, and the run fails naming them (checked once, by the controller when xdist runs workers)."""
    if hasattr(session.config, "workerinput") or not Path("/proc").is_dir():
        return
    roots = (f"{tempfile.gettempdir()}/vanban-prefect-{_RUN}-", str(session.config._tmp_path_factory.getbasetemp()))
    deadline = time.monotonic() + 20  # a server that is shutting down gets the time to finish
    while (orphans := _prefect_servers_under(roots)) and time.monotonic() < deadline:
        time.sleep(0.5)
    for pid in orphans:
        os.kill(pid, signal.SIGKILL)
    if orphans:
        session.config.get_terminal_writer().line(f"orphaned Prefect servers left by the tests (killed): {orphans}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
