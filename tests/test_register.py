"""Outgoing registers: numbering rules, voiding, registers by year (opened by themselves, explicitly,
legacy imports), the migration that brought them, and allocation under real concurrency."""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from doc_templates.register_book import IMPORTED_NOTE, outgoing_book, render_book
from flows.cli import app
from models.audit import Action, AuditEntry
from models.db import alembic_config, make_engine, session_scope
from models.directory import Agency, agency_by_code
from models.errors import RuleViolation
from models.register import (
    OutgoingRegister, RegisterEntry, allocate_number, import_legacy, list_registers, open_register, void_number,
)
from models.sample_data import load_reorganisations
from tests.docx_reading import lines, open_docx
from tests.test_directory import use_database


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


def test_no_register_for_the_year_nor_before_is_a_clear_error_naming_the_agency(session: Session) -> None:
    with pytest.raises(RuleViolation) as exc:
        allocate_number(session, _agency(session).id, "plan", date(2023, 5, 5), "KH-STTTT", None)
    assert (exc.value.field, exc.value.rule) == ("register", "register.missing")
    assert "agency 'sttt'" in exc.value.message and "vanban register open sttt --year 2023" in exc.value.message
    never = _agency(session, "snv")  # no register at all
    with pytest.raises(RuleViolation) as exc:
        allocate_number(session, never.id, "plan", date(2026, 11, 29), "KH-SNV", None)
    assert "agency 'snv'" in exc.value.message and "#" not in exc.value.message


def _audited(session: Session, action: Action) -> list[tuple[str, dict]]:
    """(actor, details) of the entries of ``action``, in the order of the chain."""
    entries = session.exec(select(AuditEntry).order_by(AuditEntry.seq)).all()
    return [(e.actor, json.loads(e.details)) for e in entries if e.action == action.value]


def test_a_2026_issue_opens_the_year_from_the_last_registers_and_numbers_from_01(session: Session) -> None:
    sttt = _agency(session)  # registers of 2024 only (opening number 9)
    first = allocate_number(session, sttt.id, "submission", date(2026, 1, 5), "TTr-STTTT", None, actor="vt-sttt")
    second = allocate_number(session, sttt.id, "plan", date(2026, 1, 5), "KH-STTTT", None)
    assert (first.number_symbol, second.number_symbol) == ("01/TTr-STTTT", "02/KH-STTTT")
    opened = session.exec(select(OutgoingRegister).where(OutgoingRegister.year == 2026)).one()
    assert (opened.series, opened.kinds, opened.opening_number, opened.last_number, opened.opened_from) == \
        ("chung", "*", 0, 2, 2024)
    assert _audited(session, Action.REGISTER_OPENED) == [("vt-sttt", {
        "agency": "sttt", "year": 2026, "series": "chung", "kinds": "*", "opening_number": 0,
        "opened": "automatically from 2024"})]
    listed = [r.as_dict() for r in list_registers(session, sttt.id)]
    assert listed == [
        {"agency": "sttt", "year": 2024, "series": "chung", "kinds": "*", "last_number": 9, "opened": "explicitly",
         "imported": 0},
        {"agency": "sttt", "year": 2026, "series": "chung", "kinds": "*", "last_number": 2,
         "opened": "automatically from 2024", "imported": 0},
    ]


def test_per_kind_series_are_copied_into_the_new_year(session: Session) -> None:
    ubnd = _agency(session, "ubnd-tinh")
    open_register(session, ubnd.id, 2024, series="qd", kinds="decision", opening_number=100, actor="vt-ubnd")
    decision = allocate_number(session, ubnd.id, "decision", date(2025, 1, 2), "QĐ-UBND", None)
    letter = allocate_number(session, ubnd.id, "official_letter", date(2025, 1, 2), "UBND-VHXH", None)
    assert (decision.number_symbol, letter.number_symbol) == ("01/QĐ-UBND", "01/UBND-VHXH")
    assert [(r.series, r.kinds, r.opened) for r in list_registers(session, ubnd.id, 2025)] == [
        ("chung", "*", "automatically from 2024"), ("qd", "decision", "automatically from 2024")]
    assert [d["series"] for _, d in _audited(session, Action.REGISTER_OPENED)] == ["qd", "chung", "qd"]


def test_a_shared_series_numbers_every_kind_in_one_run(session: Session) -> None:
    sttt = _agency(session)
    numbers = [allocate_number(session, sttt.id, kind, date(2025, 3, 2), "X-STTTT", None).number
               for kind in ("submission", "plan", "report", "official_letter")]
    assert numbers == [1, 2, 3, 4]


def test_an_explicit_opening_is_audited_with_its_actor(session: Session) -> None:
    sttt = _agency(session)
    open_register(session, sttt.id, 2026, series="bc", kinds="report, plan", opening_number=4, actor="vt-sttt")
    assert _audited(session, Action.REGISTER_OPENED) == [("vt-sttt", {
        "agency": "sttt", "year": 2026, "series": "bc", "kinds": "report,plan", "opening_number": 4,
        "opened": "explicitly"})]
    assert allocate_number(session, sttt.id, "report", date(2026, 2, 2), "BC-STTTT", None).number == 5


def test_a_kind_no_register_of_the_year_numbers_opens_the_series_the_year_lacks(engine: Engine, tmp_path: Path,
                                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 11: after an explicit 'qd' for decisions, a Công văn of 2026 opens 2024's shared series by itself."""
    use_database(engine.url.render_as_string(hide_password=False), monkeypatch)
    made = CliRunner().invoke(app, ["register", "open", "ubnd-tinh", "--year", "2026", "--series", "qd",
                                    "--kinds", "decision", "--as", "vt-ubnd"])
    assert made.exit_code == 0, made.output
    with session_scope(engine) as session:
        ubnd = _agency(session, "ubnd-tinh").id
        letter = allocate_number(session, ubnd, "official_letter", date(2026, 1, 5), "UBND-VHXH", None, actor="vt-ubnd")
        decision = allocate_number(session, ubnd, "decision", date(2026, 1, 5), "QĐ-UBND", None)
        second = allocate_number(session, ubnd, "plan", date(2026, 1, 6), "KH-UBND", None)
    assert (letter.number_symbol, decision.number_symbol, second.number_symbol) == \
        ("01/UBND-VHXH", "01/QĐ-UBND", "02/KH-UBND")
    with session_scope(engine) as session:
        assert [(r.series, r.kinds, r.last_number, r.opened) for r in list_registers(session, ubnd, 2026)] == [
            ("chung", "*", 2, "automatically from 2024"), ("qd", "decision", 1, "explicitly")]
        assert [(actor, d["series"], d["opened"]) for actor, d in _audited(session, Action.REGISTER_OPENED)] == [
            ("vt-ubnd", "qd", "explicitly"), ("vt-ubnd", "chung", "automatically from 2024")]


def test_a_copied_series_that_would_number_a_kind_twice_is_not_opened(engine: Engine) -> None:
    with session_scope(engine) as session:  # 2024: 'chung' for every kind, 'qd' for decisions
        ubnd = _agency(session, "ubnd-tinh").id
        open_register(session, ubnd, 2024, series="qd", kinds="decision")
        open_register(session, ubnd, 2026, series="vb", kinds="decision,plan")  # 2026: decisions numbered in 'vb'
    before = _counts(engine)
    with pytest.raises(RuleViolation) as exc, session_scope(engine) as session:
        allocate_number(session, ubnd, "official_letter", date(2026, 1, 5), "UBND-VHXH", None)
    assert (exc.value.field, exc.value.rule) == ("register", "register.missing")
    assert exc.value.message == (
        "agency 'ubnd-tinh' has no outgoing register for official_letter in 2026 (its 2024 series 'qd' would number "
        "decision like 'vb'); open one: vanban register open ubnd-tinh --year 2026 --kinds official_letter --as CODE")
    assert _counts(engine) == before


def test_a_kind_the_last_year_did_not_number_either_stays_a_clear_error(session: Session) -> None:
    sttt = _agency(session)
    open_register(session, sttt.id, 2024, series="bc", kinds="report")
    open_register(session, sttt.id, 2026, series="bc", kinds="report")
    open_register(session, sttt.id, 2026, series="chung", kinds="plan")  # 2024's 'chung' is taken by name
    with pytest.raises(RuleViolation) as exc:
        allocate_number(session, sttt.id, "submission", date(2026, 2, 2), "TTr-STTTT", None)
    assert exc.value.rule == "register.missing" and "--kinds submission" in exc.value.message
    assert [r.series for r in list_registers(session, sttt.id, 2026)] == ["bc", "chung"]


def _counts(engine: Engine) -> list[int]:
    with session_scope(engine) as session:
        return [session.exec(select(func.count()).select_from(t)).one() for t in (OutgoingRegister, RegisterEntry,
                                                                                  AuditEntry)]


SO_CU_2026 = "number,symbol,date,subject\n1,TTr-STTTT,05/01/2026,Tờ trình A\n"


def test_an_import_for_an_agency_ended_before_the_year_is_refused_naming_its_period_and_successor(
        engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 11: Sở TTTT ends on 28/02/2025 (merged into Sở KH&CN): it keeps no register of 2026."""
    with session_scope(engine) as session:
        load_reorganisations(session, actor="vt-ubnd")
    before = _counts(engine)
    use_database(engine.url.render_as_string(hide_password=False), monkeypatch)
    result = CliRunner().invoke(app, ["register", "import", "sttt", str(_csv(tmp_path, SO_CU_2026, "so-cu-2026.csv")),
                                      "--year", "2026", "--as", "vt-sttt"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert " ".join(result.stderr.split()) == (
        "error: agency: agency 'sttt' is in the directory until 28/02/2025, not in 2026: it keeps no register for "
        "2026; its successor is 'skhcn' (register.agency-period)")
    assert _counts(engine) == before


def _founded_on_new_years_eve(session: Session) -> None:
    """An agency in force from 31/12/2025: 2025 is its year by that one day, 2024 is not."""
    session.add(Agency(code="snnmt", name="Sở Nông nghiệp và Môi trường", abbreviation="SNNMT",
                       header_name="SỞ NÔNG NGHIỆP\nVÀ MÔI TRƯỜNG", place="Vĩnh Long", head_title="Giám đốc",
                       valid_from=date(2025, 12, 31)))


@pytest.mark.parametrize("change, code, year, ok_year, message", [
    (load_reorganisations, "sttt", 2026, 2025, "agency 'sttt' is in the directory until 28/02/2025, not in 2026: "
                                               "it keeps no register for 2026; its successor is 'skhcn'"),
    (load_reorganisations, "ubnd-h-tra-on", 2026, 2025, "agency 'ubnd-h-tra-on' is in the directory until 30/6/2025, "
                                                        "not in 2026: it keeps no register for 2026; its successor is "
                                                        "'ubnd-tinh'"),
    (_founded_on_new_years_eve, "snnmt", 2024, 2025, "agency 'snnmt' is in the directory from 31/12/2025, not in "
                                                     "2024: it keeps no register for 2024"),
])
def test_each_way_of_opening_a_register_needs_the_agency_in_force_that_year(
        engine: Engine, tmp_path: Path, change, code: str, year: int, ok_year: int, message: str) -> None:  # noqa: ANN001
    with session_scope(engine) as session:
        change(session)
    with session_scope(engine) as session:
        agency = _agency(session, code).id
    before = _counts(engine)
    legacy = _csv(tmp_path, SO_CU_2026.replace("2026", str(year)))
    for way in (lambda s: open_register(s, agency, year, series="moi"),
                lambda s: allocate_number(s, agency, "plan", date(year, 6, 1), "KH-X", None),  # opening by itself
                lambda s: import_legacy(s, agency, year, legacy)):
        with pytest.raises(RuleViolation) as exc, session_scope(engine) as session:
            way(session)
        assert (exc.value.field, exc.value.rule, exc.value.message) == ("agency", "register.agency-period", message)
        assert _counts(engine) == before
    with session_scope(engine) as session:  # a year it holds even one day of is a year of its registers
        assert open_register(session, agency, ok_year, series="moi").year == ok_year


LEGACY = """\ufeffnumber;symbol;date;subject
1;QĐ-UBND;02/01/2026;Quyết định về việc giao chỉ tiêu kế hoạch năm 2026
2;UBND-VHXH;05/01/2026;V/v triển khai nhiệm vụ năm 2026
3;QĐ-UBND;05/01/2026;Quyết định ban hành Quy chế làm việc
"""


def _csv(tmp_path: Path, content: str, name: str = "so-cu.csv") -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def test_a_legacy_import_then_numbering_continues_after_it(session: Session, tmp_path: Path) -> None:
    ubnd = _agency(session, "ubnd-tinh")
    path = _csv(tmp_path, LEGACY.replace("Quyết định ban hành", "Quye\u0302\u0301t định ban hành"))  # decomposed
    register, entries = import_legacy(session, ubnd.id, 2026, path, actor="vt-ubnd")
    assert (register.year, register.last_number, register.opened_from) == (2026, 3, 2024)
    assert [(e.number_symbol, e.imported, e.document_id) for e in entries] == [
        ("01/QĐ-UBND", True, None), ("02/UBND-VHXH", True, None), ("03/QĐ-UBND", True, None)]
    assert entries[2].subject == "Quyết định ban hành Quy chế làm việc"  # NFC
    with pytest.raises(RuleViolation) as exc:  # not before the last imported date
        allocate_number(session, ubnd.id, "decision", date(2026, 1, 4), "QĐ-UBND", None)
    assert exc.value.rule == "register.time-order"
    assert allocate_number(session, ubnd.id, "decision", date(2026, 1, 6), "QĐ-UBND", None).number_symbol == "04/QĐ-UBND"
    actor, details = _audited(session, Action.REGISTER_IMPORTED)[0]
    assert actor == "vt-ubnd" and details == {
        "agency": "ubnd-tinh", "year": 2026, "series": "chung", "count": 3, "numbers": "01-03", "file": "so-cu.csv",
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    assert [r.imported for r in list_registers(session, ubnd.id, 2026)] == [3]
    book = outgoing_book(session, ubnd, 2026)
    assert book.rows[0][:3] == ["01/QĐ-UBND", "02/01/2026", "Quyết định về việc giao chỉ tiêu kế hoạch năm 2026"]
    assert [row[-1] for row in book.rows] == [IMPORTED_NOTE] * 3 + [""]
    printed = lines(open_docx(render_book(session, book)))
    assert printed.count(IMPORTED_NOTE) == 3 and "Từ số 01 đến số 04" in printed


@pytest.mark.parametrize("content, rule, named", [
    ("number,symbol,date,subject\n1,QĐ-UBND,02/01/2026,A\n2,QĐ-UBND,03/01/2026,B\n",
     "register.import-overlap",
     "line 2 (01/QĐ-UBND): the register 'chung' of 'ubnd-tinh' for 2026 has number 01 already (01/QĐ-UBND of 02/01/2026)"),
    ("number,symbol,date,subject\n2,QĐ-UBND,02/01/2026,A\n3,QĐ-UBND,03/01/2026,B\n2,QĐ-UBND,03/01/2026,C\n",
     "register.import-duplicate", "line 4 (02/QĐ-UBND): number 02 is also on line 2"),
    ("number,symbol,date,subject\n2,QĐ-UBND,02/01/2025,A\n", "register.import-year", "02/01/2025 is not in 2026"),
    ("number,symbol,date,subject\n0,QĐ-UBND,02/01/2026,A\n", "register.import-number", "'0' is not a number"),
    ("number,symbol,date,subject\n2,QĐ-UBND,30/02/2026,A\n", "date.exists", "30/02/2026"),
    ("number,symbol,date,subject\n3,QĐ-UBND,02/01/2026,A\n", "register.import-gap", "would lack number 02;"),
    ("number,symbol,date,subject\n2,QĐ-UBND,08/01/2026,A\n3,QĐ-UBND,07/01/2026,B\n", "register.time-order",
     "line 3 (03/QĐ-UBND): 07/01/2026 is before 08/01/2026, the date of line 2 (02/QĐ-UBND)"),
    ("number,symbol,date,subject\n2,QĐ-UBND,02/01/2026,A\x1b\n", "text.control-characters", "U+001B"),
    ("number,symbol,ngay,subject\n2,QĐ-UBND,02/01/2026,A\n", "register.import-columns", "missing date"),
    ("number,symbol,date,subject,series\n2,QĐ-UBND,02/01/2026,A,qd\n", "register.unknown-series",
     "agency 'ubnd-tinh' has no register 'qd' for 2026"),
])
def test_a_bad_legacy_import_is_one_clear_line_and_writes_nothing(engine: Engine, tmp_path: Path, content: str,
                                                                  rule: str, named: str) -> None:
    with session_scope(engine) as session:  # 01/QĐ-UBND issued by vanban on 02/01/2026: the year is open
        ubnd = _agency(session, "ubnd-tinh").id
        allocate_number(session, ubnd, "decision", date(2026, 1, 2), "QĐ-UBND", None)
    with session_scope(engine) as session:
        before = [session.exec(select(func.count()).select_from(t)).one()
                  for t in (OutgoingRegister, RegisterEntry, AuditEntry)]
    with pytest.raises(RuleViolation) as exc, session_scope(engine) as session:
        import_legacy(session, ubnd, 2026, _csv(tmp_path, content), actor="vt-ubnd")
    assert exc.value.rule == rule and named in str(exc.value), str(exc.value)
    assert "\n" not in str(exc.value)
    with session_scope(engine) as session:
        assert [session.exec(select(func.count()).select_from(t)).one()
                for t in (OutgoingRegister, RegisterEntry, AuditEntry)] == before
        assert session.exec(select(OutgoingRegister.last_number).where(OutgoingRegister.year == 2026)).one() == 1


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


def test_a_number_is_voided_by_its_number_and_symbol_as_printed(session: Session) -> None:
    sttt = _agency(session)
    first = allocate_number(session, sttt.id, "plan", date(2024, 2, 20), "KH-STTTT", None)
    again = allocate_number(session, sttt.id, "plan", date(2026, 1, 5), "KH-STTTT", None)  # 10 then 01 in 2026
    assert (first.number_symbol, again.number_symbol) == ("10/KH-STTTT", "01/KH-STTTT")
    assert void_number(session, "10/KH-STTTT", "cấp nhầm số").id == first.id
    with pytest.raises(RuleViolation) as exc:
        void_number(session, "11/KH-STTTT", "cấp nhầm số")
    assert exc.value.rule == "register.unknown-entry" and "11/KH-STTTT" in exc.value.message
    allocate_number(session, sttt.id, "plan", date(2026, 1, 6), "KH-STTTT", None)
    allocate_number(session, sttt.id, "plan", date(2026, 1, 7), "KH-STTTT", None)
    later = allocate_number(session, sttt.id, "plan", date(2026, 1, 8), "KH-STTTT", None)
    for _ in range(6):
        later = allocate_number(session, sttt.id, "plan", date(2026, 1, 8), "KH-STTTT", None)
    assert later.number_symbol == "10/KH-STTTT"  # the same number and symbol as in 2024
    with pytest.raises(RuleViolation) as exc:
        void_number(session, "10/KH-STTTT", "cấp nhầm số")
    assert exc.value.rule == "register.ambiguous-entry" and "10/KH-STTTT/2026" in exc.value.message
    assert void_number(session, "10/KH-STTTT/2026", "cấp nhầm số").id == later.id


def _allocate_one(url: str, agency_id: int, on: date, barrier, results) -> None:  # noqa: ANN001
    engine = make_engine(url)
    barrier.wait()
    with session_scope(engine) as session:
        entry = allocate_number(session, agency_id, "plan", on, "KH-STTTT", None)
        results.put(entry.number)
    engine.dispose()


def _allocate_concurrently(url: str, engine: Engine, on: date, reports: bool, processes: int = 50) -> list[int]:
    with session_scope(engine) as session:
        agency_id = _agency(session).id
        if reports:  # the year is open, but for reports only
            open_register(session, agency_id, on.year, series="bc", kinds="report")
    engine.dispose()  # children open their own connections
    ctx = mp.get_context("fork")
    barrier, results = ctx.Barrier(processes), ctx.Queue()
    workers = [ctx.Process(target=_allocate_one, args=(url, agency_id, on, barrier, results)) for _ in range(processes)]
    for w in workers:
        w.start()
    numbers = [results.get(timeout=120) for _ in workers]
    for w in workers:
        w.join(timeout=60)
        assert w.exitcode == 0
    return numbers


def _check_distinct_consecutive(engine: Engine, numbers: list[int], on: date, opening: int) -> None:
    assert sorted(numbers) == list(range(opening + 1, opening + 51))
    with session_scope(engine) as session:
        register = session.exec(select(OutgoingRegister).where(
            OutgoingRegister.agency_id == _agency(session).id, OutgoingRegister.year == on.year,
            OutgoingRegister.series == "chung")).one()
        entries = session.exec(select(RegisterEntry.number).where(RegisterEntry.register_id == register.id)).all()
        openings = [d for _, d in _audited(session, Action.REGISTER_OPENED) if d["opened"] != "explicitly"]
    assert register.last_number == opening + 50
    assert sorted(entries) == sorted(numbers)
    assert len(openings) == (0 if register.opened_from is None else 1)  # a new year opened once, by one of them


# 2024: the sample register (last number 09); 2025: the first issues of a year open it, once; 2025 with a series
# for reports opened explicitly: the first plans open the shared series beside it, once
CONCURRENT = pytest.mark.parametrize("on, opening, reports", [
    (date(2024, 6, 1), 9, False), (date(2025, 1, 2), 0, False), (date(2025, 1, 2), 0, True)])


@CONCURRENT
def test_50_processes_allocate_50_distinct_consecutive_numbers_on_sqlite(engine: Engine, on: date, opening: int,
                                                                         reports: bool) -> None:
    numbers = _allocate_concurrently(str(engine.url), engine, on, reports)
    _check_distinct_consecutive(engine, numbers, on, opening)


@CONCURRENT
def test_50_processes_allocate_50_distinct_consecutive_numbers_on_postgresql(pg_url: str, on: date, opening: int,
                                                                             reports: bool) -> None:
    from models.sample_data import load_directory

    engine = make_engine(pg_url)
    with session_scope(engine) as session:
        load_directory(session)
    numbers = _allocate_concurrently(pg_url, engine, on, reports)
    _check_distinct_consecutive(engine, numbers, on, opening)


def _migrate_to(engine: Engine, revision: str) -> None:
    from alembic import command

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        if revision == "head":
            command.upgrade(cfg, revision)
        else:
            command.downgrade(cfg, revision)


def _check_migration_0006_keeps_existing_rows(engine: Engine) -> None:
    """Registers and entries written before 0006 stay valid: opened explicitly, allocated (not imported)."""
    _migrate_to(engine, "0005")
    with engine.begin() as conn:
        register_id = conn.execute(text("SELECT id FROM outgoingregister WHERE last_number = 9")).scalar_one()
        conn.execute(text("INSERT INTO registerentry (register_id, number, number_symbol, issued_on, allocated_at) "
                          "VALUES (:r, 10, '10/TTr-STTTT', :d, :d)"), {"r": register_id, "d": date(2024, 2, 20)})
        conn.execute(text("UPDATE outgoingregister SET last_number = 10 WHERE id = :r"), {"r": register_id})
    _migrate_to(engine, "head")
    with session_scope(engine) as session:
        entry = session.exec(select(RegisterEntry)).one()
        assert (entry.number, entry.imported, entry.subject) == (10, False, None)
        assert [r.opened for r in list_registers(session)] == ["explicitly", "explicitly"]
        following = allocate_number(session, _agency(session).id, "plan", date(2024, 2, 21), "KH-STTTT", None)
        assert following.number_symbol == "11/KH-STTTT"


def test_migration_0006_on_sqlite(engine: Engine) -> None:
    _check_migration_0006_keeps_existing_rows(engine)


def test_migration_0006_on_postgresql(pg_url: str) -> None:
    from models.sample_data import load_directory

    engine = make_engine(pg_url)
    with session_scope(engine) as session:
        load_directory(session)
    _check_migration_0006_keeps_existing_rows(engine)
    engine.dispose()
