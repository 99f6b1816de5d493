"""The lease one distribution (or the notices) is sent under: a live holder keeps it, a silent one loses it,
and a holder that lost it hands nothing more over. Real SQLite, threads for the rival runs; the PostgreSQL
case with processes killed and the lease's connection terminated is in tests/test_distribution.py."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from models.db import session_scope
from models.deliveries import Delivery, DeliveryState, claim, hand_over, record_plan
from models.document import Document, utcnow
from models.lease import Held, Lease, LeaseLost, _try_take, hold, renew


def take_silently(engine: Engine, name: str) -> Held:
    """A holder with no heartbeat: as a run that stopped (killed, frozen, cut off from the database)."""
    held = _try_take(engine, name, "stopped-run", {"ttl": 0})
    assert held is not None
    return held


def test_a_live_holder_keeps_the_lease_and_a_rival_gets_it_when_freed(engine: Engine) -> None:
    got: list[tuple[Held, float]] = []

    def rival() -> None:
        with hold(engine, "distribution:1", ttl=0.3) as lease:
            got.append((lease, time.monotonic()))

    with hold(engine, "distribution:1", ttl=0.3) as first:
        waiting = threading.Thread(target=rival)
        waiting.start()
        time.sleep(1.0)  # over three times the rival's patience: the heartbeat keeps the lease alive
        assert got == []
        freed = time.monotonic()
    waiting.join(timeout=10)
    (second, when), = got
    assert second.fence == first.fence + 1 and second.taken_over_from is None and when - freed < 0.3
    with session_scope(engine) as session:
        assert session.get(Lease, "distribution:1").holder is None


def test_a_silent_holder_is_taken_over_and_can_hand_nothing_more_over(chain_engine: Engine) -> None:
    with session_scope(chain_engine) as session:
        doc = session.exec(select(Document).where(Document.symbol == "QĐ-UBND")).one()
        record_plan(session, doc, domain="vanban.local")
    name = f"distribution:{doc.id}"
    stale = take_silently(chain_engine, name)
    with session_scope(chain_engine) as session:
        rows = claim(session, doc.id, 3, "stale-worker", utcnow(), stale)
        assert hand_over(session, rows[0].id, "stale-worker", stale)
    started = time.monotonic()
    with hold(chain_engine, name, ttl=0.3) as fresh:
        assert time.monotonic() - started >= 0.3  # it watched the beat stand still first
        assert fresh.taken_over_from == "stopped-run" and fresh.fence == stale.fence + 1
        with pytest.raises(LeaseLost), session_scope(chain_engine) as session:
            hand_over(session, rows[1].id, "stale-worker", stale)
        with session_scope(chain_engine) as session:
            counts = record_plan(session, session.get(Document, doc.id), domain="vanban.local",
                                 taken_over_from=fresh.taken_over_from)
            state = {r.id: r.state for r in session.exec(select(Delivery).where(Delivery.id.in_([r.id for r in rows])))}
    # the row handed over is sent again (its outcome is unknown); the two only claimed were never sent
    assert counts == {"added": 0, "resent_after_crash": 1, "never_handed_over": 2}
    assert set(state.values()) == {DeliveryState.PLANNED}
    with session_scope(chain_engine) as session:
        assert session.get(Lease, name).holder is None  # freed by its holder, not by the stale one
        with pytest.raises(LeaseLost):
            renew(session, stale)
