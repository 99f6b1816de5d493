"""Outgoing registers: numbering rules, voiding, and allocation under real concurrency."""

from __future__ import annotations

import multiprocessing as mp
from datetime import date

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models.db import make_engine, session_scope
from models.directory import Agency
from models.errors import RuleViolation
from models.recipients import agency_by_code
from models.register import OutgoingRegister, RegisterEntry, allocate_number, open_register, void_number


def _agency(session: Session, code: str = "sttt") -> Agency:
    return agency_by_code(session, code)


def test_numbers_continue_from_the_opening_number_with_leading_zeros(session: Session) -> None:
    sttt = _agency(session)
    first = allocate_number(session, sttt.id, "submission", date(2024, 2, 20), "TTr-STTTT", None)
    second = allocate_number(session, sttt.id, "plan", date(2024, 2, 20), "KH-STTTT", None)
    assert (first.number, first.number_symbol) == (10, "10/TTr-STTTT")  # the sample register's last 2024 number is 09
    assert (second.number, second.number_symbol) == (11, "11/KH-STTTT")  # one shared series


def test_a_new_year_starts_at_01(session: Session) -> None:
    sttt = _agency(session)
    open_register(session, sttt.id, 2025)
    entry = allocate_number(session, sttt.id, "plan", date(2025, 1, 2), "KH-STTTT", None)
    assert entry.number_symbol == "01/KH-STTTT"
    nine = [allocate_number(session, sttt.id, "plan", date(2025, 1, 3), "KH-STTTT", None) for _ in range(9)]
    assert [e.number_symbol.split("/")[0] for e in nine] == ["02", "03", "04", "05", "06", "07", "08", "09", "10"]


def test_no_register_for_the_year_is_a_clear_error(session: Session) -> None:
    with pytest.raises(RuleViolation) as exc:
        allocate_number(session, _agency(session).id, "plan", date(2023, 5, 5), "KH-STTTT", None)
    assert (exc.value.field, exc.value.rule) == ("register", "register.missing")


def test_a_series_for_a_kind_wins_over_the_shared_one(session: Session) -> None:
    ubnd = _agency(session, "ubnd-tinh")
    open_register(session, ubnd.id, 2024, series="qd", kinds="decision", opening_number=100)
    decision = allocate_number(session, ubnd.id, "decision", date(2024, 3, 4), "QĐ-UBND", None)
    letter = allocate_number(session, ubnd.id, "official_letter", date(2024, 3, 4), "UBND-VHXH", None)
    assert decision.number_symbol == "101/QĐ-UBND"
    assert letter.number_symbol == "374/UBND-VHXH"


def test_numbers_follow_the_order_of_issue(session: Session) -> None:
    sttt = _agency(session)
    allocate_number(session, sttt.id, "plan", date(2024, 3, 1), "KH-STTTT", None)
    with pytest.raises(RuleViolation) as exc:
        allocate_number(session, sttt.id, "plan", date(2024, 2, 1), "KH-STTTT", None)
    assert (exc.value.field, exc.value.rule) == ("issued_on", "register.time-order")


def test_a_voided_number_stays_and_is_never_reused(session: Session) -> None:
    sttt = _agency(session)
    entry = allocate_number(session, sttt.id, "plan", date(2024, 2, 20), "KH-STTTT", None)
    void_number(session, entry.id, "cấp nhầm số")
    following = allocate_number(session, sttt.id, "plan", date(2024, 2, 20), "KH-STTTT", None)
    assert following.number == entry.number + 1
    kept = session.get(RegisterEntry, entry.id)
    assert kept.voided_reason == "cấp nhầm số" and kept.voided_at is not None
    with pytest.raises(RuleViolation) as exc:
        void_number(session, entry.id, "again")
    assert exc.value.rule == "register.already-voided"
    with pytest.raises(RuleViolation) as exc:
        void_number(session, following.id, "   ")
    assert (exc.value.field, exc.value.rule) == ("reason", "register.void-reason")


def _allocate_one(url: str, agency_id: int, barrier, results) -> None:  # noqa: ANN001
    engine = make_engine(url)
    barrier.wait()
    with session_scope(engine) as session:
        entry = allocate_number(session, agency_id, "plan", date(2024, 6, 1), "KH-STTTT", None)
        results.put(entry.number)
    engine.dispose()


def _allocate_concurrently(url: str, engine: Engine, processes: int = 50) -> list[int]:
    with session_scope(engine) as session:
        agency_id = _agency(session).id
    engine.dispose()  # children open their own connections
    ctx = mp.get_context("fork")
    barrier, results = ctx.Barrier(processes), ctx.Queue()
    workers = [ctx.Process(target=_allocate_one, args=(url, agency_id, barrier, results)) for _ in range(processes)]
    for w in workers:
        w.start()
    numbers = [results.get(timeout=120) for _ in workers]
    for w in workers:
        w.join(timeout=60)
        assert w.exitcode == 0
    return numbers


def _check_distinct_consecutive(engine: Engine, numbers: list[int], opening: int) -> None:
    assert sorted(numbers) == list(range(opening + 1, opening + 51))
    with session_scope(engine) as session:
        register = session.exec(select(OutgoingRegister).where(OutgoingRegister.agency_id == _agency(session).id)).one()
        entries = session.exec(select(RegisterEntry.number).where(RegisterEntry.register_id == register.id)).all()
    assert register.last_number == opening + 50
    assert sorted(entries) == sorted(numbers)


def test_50_processes_allocate_50_distinct_consecutive_numbers_on_sqlite(engine: Engine) -> None:
    numbers = _allocate_concurrently(str(engine.url), engine)
    _check_distinct_consecutive(engine, numbers, opening=9)


def test_50_processes_allocate_50_distinct_consecutive_numbers_on_postgresql(pg_url: str) -> None:
    from models.sample_data import load_directory

    engine = make_engine(pg_url)
    with session_scope(engine) as session:
        load_directory(session)
    numbers = _allocate_concurrently(pg_url, engine)
    _check_distinct_consecutive(engine, numbers, opening=9)
