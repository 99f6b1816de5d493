"""Prefect as vanban runs it on the embedded default: state under the data directory, no outside calls,
quiet logs (runs are still recorded), and no per-run heartbeat delay. Call ``configure`` before Prefect
is imported; run flows inside ``prefect_settings``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from models.config import get_settings


def configure() -> None:
    """Environment defaults Prefect reads at import; whatever the user set wins."""
    if "PREFECT_HOME" not in os.environ:
        prefect_home = get_settings().home / "prefect"
        prefect_home.mkdir(parents=True, exist_ok=True)
        os.environ["PREFECT_HOME"] = str(prefect_home)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # no telemetry from a closed network
    # The CLI says what happens itself (a failed run's reason included); runs and states are still recorded.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "CRITICAL")
    # the in-process server's own logs: its shutdown can log cancelled background writes, which are not ours
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "CRITICAL")
    os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "true")
    # the temporary server's first start on a busy two-core machine can take longer than Prefect's 20 s
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


@contextmanager
def prefect_settings() -> Iterator[None]:
    """The heartbeat thread is joined in 1 s steps at the end of every flow run: off, it costs nothing."""
    from prefect.settings import temporary_settings

    with temporary_settings(updates={"flows.heartbeat_frequency": None}):
        yield


configure()
