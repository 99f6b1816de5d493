"""The one settings object: where vanban keeps its data and which database it uses; and the environment Prefect
runs in as vanban uses it."""

from __future__ import annotations

import os
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Read from the environment: ``VANBAN_HOME``, ``VANBAN_DATABASE_URL``, ``VANBAN_TIMEZONE``,
    ``VANBAN_SMTP_URL``, ``VANBAN_MAIL_DOMAIN``, ``VANBAN_MAX_ATTACHMENT_BYTES``, ``VANBAN_TODAY``,
    ``VANBAN_CALENDAR_FILE``, ``VANBAN_KEYSTORE``, ``VANBAN_SECRET_KEY``, ``VANBAN_RECEIPT_KEY_FILE``.
    (``VANBAN_KEY_PASSPHRASE`` is read only where a key is opened, never kept here.)"""

    model_config = SettingsConfigDict(env_prefix="VANBAN_", extra="ignore")

    home: Path = Field(default_factory=lambda: Path.home() / ".vanban", description="Data directory")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default a SQLite file in the data directory. "
        "PostgreSQL: postgresql+psycopg://user@host:5432/db",
    )
    timezone: str = Field(default="Asia/Ho_Chi_Minh", description="Time zone of 'today' and of shown times")
    smtp_url: str | None = Field(
        default=None,
        description="Outgoing mail relay for e-mail channels, as an apprise URL; credentials only as "
        "{env:NAME} or {secret:NAME}, e.g. mailtos://vanthu:{env:SMTP_PASSWORD}@mail.example.vn?from=vanthu@example.vn",
    )
    mail_domain: str = Field(default="vanban.local", description="Right-hand side of the message ids vanban gives")
    max_attachment_bytes: int = Field(default=25_000_000, description="Largest attachments a channel is sent")
    today: date | None = Field(default=None, description="A simulated today (deadline tests and rehearsals); "
                                                         "default the real date in VANBAN_TIMEZONE")
    calendar_file: Path | None = Field(default=None, description="The agency's public-sector announcements of days "
                                       "off and moved days; default calendar.yaml in the data directory")
    keystore: Path | None = Field(default=None, description="The folder of this person's private keys (PKCS#8 PEM, "
                                  "passphrase-encrypted); default keys in the data directory. Never in the database")
    secret_key: str | None = Field(default=None, description="The agency's key that encrypts TOTP secrets at rest, or "
                                   "a reference to it: {env:NAME} or {secret:NAME} (a Prefect Secret block)")
    receipt_key_file: Path | None = Field(default=None, description="The secret receipt tokens are derived from "
                                          "(made on first use); default receipt.key in the data directory")

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'vanban.db'}"

    @property
    def files_dir(self) -> Path:
        """Where generated DOCX are kept, named by their SHA-256."""
        return self.home / "files"

    @property
    def keystore_dir(self) -> Path:
        return self.keystore or self.home / "keys"

    @property
    def calendar_path(self) -> Path:
        """Where ``vanban calendar announce`` records the agency's announcements (joined with vanban's own)."""
        return self.calendar_file or self.home / "calendar.yaml"

    @property
    def receipt_key_path(self) -> Path:
        """The receipt key: every process that sends or checks receipts must read the same file."""
        return self.receipt_key_file or self.home / "receipt.key"


@lru_cache
def get_settings() -> Settings:
    return Settings()


def today() -> date:
    """Today where the province is (VANBAN_TIMEZONE), or the simulated VANBAN_TODAY: the default date of
    issue, and the day deadlines are counted to."""
    settings = get_settings()
    return settings.today or datetime.now(ZoneInfo(settings.timezone)).date()


def configure_prefect() -> None:
    """The environment Prefect reads at import, as vanban runs it (state under VANBAN_HOME, no telemetry, quiet
    logs); whatever the user set wins. Called before Prefect is imported, by flows/runtime.py and by whatever
    else reaches Prefect (a Secret block read when sending)."""
    if "PREFECT_HOME" not in os.environ:
        prefect_home = get_settings().home / "prefect"
        prefect_home.mkdir(parents=True, exist_ok=True)
        os.environ["PREFECT_HOME"] = str(prefect_home)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # no telemetry from a closed network
    # The runs' log lines (in Vietnamese where a clerk reads them) reach Prefect's API and its UI; the console
    # stays quiet, as the CLI says what happens itself (a failed run's reason included).
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    # the in-process server's own logs: its shutdown can log cancelled background writes, which are not ours
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "CRITICAL")
    os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "true")
    # the temporary server's first start on a busy two-core machine can take longer than Prefect's 20 s
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
