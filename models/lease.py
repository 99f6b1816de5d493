"""Leases: one run at a time sends for a distribution (or for the day's notices), even when the database
connection it locked with is lost.

A lease is a row (``name``: 'distribution:12', 'notices') with its ``holder``, a ``fence`` that every new
holder raises, and a ``beat`` that the holder raises whenever it renews: at every hand-over of a message (in
the same transaction that records it) and from a heartbeat thread on its own connection. Nothing depends on
a connection staying open (a PostgreSQL advisory lock dies with its connection while its process goes on
sending) nor on clocks agreeing between machines: a rival takes the lease over only after it has watched the
beat stand still for ``ttl`` seconds of its own clock, and raising the fence makes every later renewal of
the silent holder fail, so it hands nothing more over (``LeaseLost``).
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Field, Session, SQLModel

from models.db import session_scope
from models.document import utcnow
from models.errors import VanbanError

APPLICATION_NAME = "vanban lease"  # how the heartbeat's connection shows in pg_stat_activity
TTL = 30.0  # seconds a holder may go unheard before a rival takes over; it renews four times as often


class Lease(SQLModel, table=True):
    """Who sends for one distribution (or the notices) now."""

    name: str = Field(primary_key=True, description="'distribution:12', 'notices'")
    holder: str | None = Field(default=None, description="'host:pid:run' of the run holding it; none: free")
    fence: int = Field(default=0, description="Raised by every new holder: an earlier holder's renewals fail")
    beat: int = Field(default=0, description="Raised at each renewal: a rival waits for it to stand still")
    renewed_at: datetime | None = Field(default=None, description="For people reading the table; not used to decide")


class LeaseLost(VanbanError):
    """Another run took the lease over after this one had been silent for its whole time to live."""


@dataclass(frozen=True)
class Held:
    name: str
    holder: str
    fence: int
    taken_over_from: str | None = None  # the silent holder it was taken from, for the audit log


def renew(session: Session | Connection, lease: Held) -> None:
    """In the caller's transaction: prove the lease is still ours and show we are alive (beat + 1)."""
    done = session.execute(update(Lease).where(Lease.name == lease.name, Lease.fence == lease.fence,
                                               Lease.holder == lease.holder)
                           .values(beat=Lease.beat + 1, renewed_at=utcnow()))
    if done.rowcount != 1:
        raise LeaseLost(f"{lease.name}: another run took over after this one stopped answering; "
                        "this run hands nothing more over")


def _try_take(engine: Engine, name: str, me: str, seen: dict) -> Held | None:
    """One attempt: a free lease is taken at once, a held one once its beat has stood still for ``ttl``
    (``seen`` keeps what was observed and since when, on this process's monotonic clock)."""
    try:
        with session_scope(engine) as session:
            row = session.get(Lease, name, populate_existing=True)
            if row is None:
                session.add(Lease(name=name, holder=me, fence=1, renewed_at=utcnow()))
                session.flush()
                return Held(name, me, 1)
            state = (row.holder, row.fence, row.beat)
            silent = seen.get("state") == state and time.monotonic() - seen["since"] >= seen["ttl"]
            if row.holder is not None and not silent:
                if seen.get("state") != state:
                    seen.update(state=state, since=time.monotonic())
                return None
            previous, fence, beat = state
            taken = session.execute(update(Lease).where(Lease.name == name, Lease.fence == fence, Lease.beat == beat)
                                    .values(holder=me, fence=fence + 1, beat=0, renewed_at=utcnow()))
            return Held(name, me, fence + 1, previous) if taken.rowcount == 1 else None
    except IntegrityError:  # a rival inserted the row first: look again
        return None


class _Heartbeat(threading.Thread):
    """Renews the lease every ``every`` seconds on a connection of its own, opened again if it is lost."""

    def __init__(self, engine: Engine, lease: Held, every: float) -> None:
        super().__init__(name=f"lease {lease.name}", daemon=True)
        self.engine, self.lease, self.every = engine, lease, every
        self.halt = threading.Event()
        self.lost = False

    def run(self) -> None:
        connection: Connection | None = None
        try:
            while not self.halt.wait(self.every):
                try:
                    if connection is None:
                        connection = self.engine.connect()
                        if self.engine.dialect.name == "postgresql":
                            connection.exec_driver_sql(f"SET application_name = '{APPLICATION_NAME}'")
                            connection.commit()
                    with connection.begin():
                        renew(connection, self.lease)
                except LeaseLost:
                    self.lost = True
                    return
                except DBAPIError:  # the connection was lost (or the database refused): a new one next beat
                    if connection is not None:
                        connection.invalidate()
                        connection.close()
                    connection = None
        finally:
            if connection is not None:
                connection.invalidate()  # its application_name stays with it, out of the pool
                connection.close()


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@contextmanager
def hold(engine: Engine, name: str, ttl: float) -> Iterator[Held]:
    """Take the lease ``name`` (waiting while another run holds it and is alive), keep it alive while the
    block runs, and free it after."""
    me, seen = holder_name(), {"ttl": ttl}
    while (lease := _try_take(engine, name, me, seen)) is None:
        time.sleep(min(0.25, ttl / 4))
    heartbeat = _Heartbeat(engine, lease, ttl / 4)
    heartbeat.start()
    try:
        yield lease
    finally:
        heartbeat.halt.set()
        heartbeat.join()
        with session_scope(engine) as session:  # only ours to free: a lease taken over stays with its new holder
            session.execute(update(Lease).where(Lease.name == name, Lease.fence == lease.fence, Lease.holder == me)
                            .values(holder=None, renewed_at=utcnow()))
