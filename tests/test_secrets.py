"""Secrets never in clear: a password is masked in every message and summary, a flow's parameters (which Prefect
keeps in its own database) hold references only, and a password in clear in a channel or the mail relay is refused
with the reference form to write instead."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from models.secret_refs import clear_secrets, redact, reference_form
from models.db import make_engine
from tests.test_directory import use_database

SECRET = "S3cret-pw"


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql+psycopg://vanban:S3cret-pw@db:5432/vanban", "postgresql+psycopg://vanban:***@db:5432/vanban"),
    ("postgresql://vanban:S3c/ret@pw@db/vanban", "postgresql://vanban:***@db/vanban"),  # '/' and '@' left unencoded
    ("postgresql+psycopg://vanban@db/vanban?password=S3cret-pw&sslmode=require",
     "postgresql+psycopg://vanban@db/vanban?password=***&sslmode=require"),
    ("mailtos://vanthu:S3cret-pw@mail.example.vn?from=vanthu@example.vn",
     "mailtos://vanthu:***@mail.example.vn?from=vanthu@example.vn"),
    ("mailtos://vanthu:{env:SMTP_PASSWORD}@mail.example.vn", "mailtos://vanthu:{env:SMTP_PASSWORD}@mail.example.vn"),
    ("json://{secret:SNV_TOKEN}@qlvb.example/inbox", "json://{secret:SNV_TOKEN}@qlvb.example/inbox"),
    ("postgresql+psycopg://vanban@db:5432/vanban?options=-csearch_path%3Dx", "postgresql+psycopg://vanban@db:5432/vanban?options=-csearch_path%3Dx"),
    ("mailto://127.0.0.1:2525?from=vanthu@vanban.local", "mailto://127.0.0.1:2525?from=vanthu@vanban.local"),
    ("sqlite:////srv/a@b/vanban.db", "sqlite:////srv/a@b/vanban.db"),
])
def test_redact_masks_passwords_and_keeps_references(url: str, shown: str) -> None:
    assert redact(url) == shown
    assert all(value not in redact(url) for value in clear_secrets(url))
    assert (reference_form(url) != url) == (shown != url)


def _one_line_without_secret(result) -> str:  # noqa: ANN001
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1, result.output
    assert SECRET not in result.output and SECRET not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.mark.parametrize("url", [
    "postgresql+psycopg://vanban:S3cret-pw@127.0.0.1:1/vanban",  # nothing listens on port 1
    "postgresql+psycopg://vanban@127.0.0.1:1/vanban?password=S3cret-pw",
    "postgresql+nosuchdriver://vanban:S3cret-pw@127.0.0.1/vanban",
    "postgresql:/vanban:S3cret-pw@127.0.0.1/vanban",  # not a URL SQLAlchemy reads: it is not shown at all
])
@pytest.mark.parametrize("command", [("documents",), ("db", "upgrade"), ("show", "1"), ("approvals",),
                                     ("register", "list"), ("audit", "verify")])
def test_a_database_password_is_in_no_message(url: str, command: tuple[str, ...],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.cli import app

    use_database(url, monkeypatch)
    line = _one_line_without_secret(CliRunner().invoke(app, list(command)))
    assert line.startswith("error: database: ")


def test_the_demo_shows_no_password_of_its_database(tmp_path: Path) -> None:
    from flows.cli import app

    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "demo"),
                                      "--database", "postgresql+psycopg://vanban:S3cret-pw@127.0.0.1:1/vanban"])
    assert "cannot use postgresql+psycopg://vanban:***@127.0.0.1:1/vanban" in _one_line_without_secret(result)


@pytest.fixture
def cli_chain(chain_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("COLUMNS", "80")
    use_database(chain_engine.url.render_as_string(hide_password=False), monkeypatch)
    return CliRunner()


@pytest.mark.parametrize("command", [("distribute", "374/QĐ-UBND", "--dry-run"),
                                     ("distribute", "374/QĐ-UBND", "--as", "vt-ubnd"),
                                     ("track", "--on", "09/12/2024")])
def test_a_password_in_clear_in_the_relay_is_refused_with_the_reference_form(
        cli_chain: CliRunner, command: tuple[str, ...], monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.cli import app

    monkeypatch.setenv("VANBAN_SMTP_URL", f"mailtos://vanthu:{SECRET}@mail.example.vn?from=vanthu@example.vn")
    from models.config import get_settings

    get_settings.cache_clear()
    line = _one_line_without_secret(cli_chain.invoke(app, list(command)))
    assert line == ("error: VANBAN_SMTP_URL: the URL carries a credential in clear; write it as a reference: "
                    "mailtos://vanthu:{env:NAME}@mail.example.vn?from=vanthu@example.vn (an environment variable, "
                    "or a Prefect Secret block) (channel.clear-credentials)")


def test_a_password_in_clear_in_a_channel_is_refused_with_the_reference_form(cli_chain: CliRunner) -> None:
    from flows.cli import app

    line = _one_line_without_secret(cli_chain.invoke(app, ["directory", "add-channel", "snv",
                                                           f"json://vanban:{SECRET}@qlvb.snv.example/inbox",
                                                           "--as", "vt-ubnd"]))
    assert "json://vanban:{env:NAME}@qlvb.snv.example/inbox" in line


# --- what Prefect keeps ---------------------------------------------------------------------------------------------

def _prefect_database() -> list[Path]:
    """The files of the Prefect database the test harness runs on (WAL included: the latest writes are there)."""
    from prefect.settings import get_current_settings

    url = get_current_settings().server.database.connection_url.get_secret_value()
    path = Path(url.split(":///", 1)[1])
    return [p for p in (path, Path(f"{path}-wal")) if p.exists()]


@pytest.fixture(params=["sqlite", "postgresql"])
def secret_database(request: pytest.FixtureRequest, engine: Engine, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(URL, the text of it that must reach no flow parameter): on SQLite a folder name stands for the secret; on
    PostgreSQL a real password (the test server trusts loopback, so it is sent and ignored)."""
    if request.param == "sqlite":
        folder = tmp_path / f"folder-{SECRET}"
        engine.dispose()
        shutil.copytree(Path(engine.url.database).parent, folder)
        yield f"sqlite:///{folder / 'vanban.db'}", SECRET
        return
    url = request.getfixturevalue("pg_url")
    seeded = make_engine(url)
    from models.db import session_scope
    from models.sample_data import load_directory

    with session_scope(seeded) as session:
        load_directory(session)
    seeded.dispose()
    yield url.replace("postgresql+psycopg://postgres@", f"postgresql+psycopg://postgres:{SECRET}@"), SECRET


def test_a_flow_run_keeps_references_only(prefect_harness: None, secret_database: tuple[str, str], tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """`vanban run draft-plan` on the configured database (VANBAN_DATABASE_URL, with its password): Prefect's
    database (flow and task runs, states, logs, events) never holds the secret, and a flow has no database
    parameter to put one in."""
    from flows.cli import app
    from tests.test_drafting import seed_spec

    url, secret = secret_database
    use_database(url, monkeypatch)
    plan = {k: v for k, v in seed_spec("plan").items() if k != "links"}
    for extra, code in (({}, 0), ({"database": "{env:VANBAN_TEST_THE_DATABASE}"}, 1)):
        spec = tmp_path / "plan.yaml"
        spec.write_text(yaml.safe_dump({"spec": plan, "drafted_by": "cv-sttt", **extra}, allow_unicode=True),
                        encoding="utf-8")
        result = CliRunner().invoke(app, ["run", "draft-plan", str(spec)])
        assert result.exit_code == code, (result.output, result.stderr)
        assert secret not in result.output
    assert "database: Extra inputs are not permitted (input.extra_forbidden)" in result.stderr
    stored = b"".join(p.read_bytes() for p in _prefect_database())
    assert secret.encode() not in stored
    assert b"cv-sttt" in stored  # the run's parameters were stored and read
