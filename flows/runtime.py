"""Prefect as vanban runs it on the embedded default: state under the data directory, no outside calls,
quiet logs (runs are still recorded), and no per-run heartbeat delay. Importing this module applies
``models.config.configure_prefect`` (do it before Prefect is imported); run flows inside ``prefect_settings``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from models.config import configure_prefect


@contextmanager
def prefect_settings() -> Iterator[None]:
    """The heartbeat thread is joined in 1 s steps at the end of every flow run: off, it costs nothing."""
    from prefect.settings import temporary_settings

    with temporary_settings(updates={"flows.heartbeat_frequency": None}):
        yield


configure_prefect()
