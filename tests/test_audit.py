"""The audit log: every action of the seed chain is there; any single-entry tamper is found at the right
entry; a change and its entry commit together; concurrent writers keep one chain; the registers print."""

from __future__ import annotations

import json
import multiprocessing as mp
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from doc_templates.register_book import INCOMING_COLUMNS, OUTGOING_COLUMNS, incoming_book, outgoing_book, render_book
from models.audit import Action, AuditEntry, AuditHead, record, trail, verify
from models.db import make_engine, session_scope
from models.document import Document, GeneratedFile, find_document
from models.drafting import draft_document
from models.errors import RuleViolation
from models.directory import agency_by_code
from models.register import RegisterEntry, void_number
from tests.docx_reading import lines, open_docx
from tests.test_drafting import seed_spec


def actions(session: Session, ref: str) -> list[tuple[str, str]]:
    return [(e.action, e.actor) for e in trail(session, find_document(session, ref).id)]


def test_every_action_of_the_seed_chain_is_recorded(chain_engine: Engine) -> None:
    with session_scope(chain_engine) as session:
        assert actions(session, "374/QĐ-UBND") == [
            ("drafted", "cv-vhxh"), ("signed", "pct-vhxh"), ("number_allocated", "vt-ubnd"), ("issued", "vt-ubnd"),
            ("assignment_opened", "vt-ubnd")]  # Điều 2 becomes a tracked obligation as the decision is issued
        assert actions(session, "10/TTr-STTTT") == [
            ("drafted", "cv-sttt"), ("signed", "gd-sttt"), ("number_allocated", "vt-sttt"), ("issued", "vt-sttt"),
            ("received", "vt-ubnd")]
        decision = find_document(session, "374/QĐ-UBND")
        issued = [e for e in trail(session, decision.id) if e.action == "issued"][0]
        stored = session.exec(select(GeneratedFile).where(GeneratedFile.document_id == decision.id)).one()
        assert issued.file_sha256 == stored.sha256
        assert json.loads(issued.details)["number_symbol"] == "374/QĐ-UBND"
        loaded = [e for e in session.exec(select(AuditEntry)) if e.action == "directory_loaded"]
        assert [e.actor for e in loaded] == ["system"]
        assert issued.at.endswith("Z") and issued.flow_run_id is None  # outside Prefect: no run id
    with chain_engine.connect() as conn:
        verdict = verify(conn)
    assert verdict.intact and verdict.entries == 1 + 5 + 5 + 5 + 1  # and the sample keys enrolled


# --- tampering -----------------------------------------------------------------------------------

def _sql(engine: Engine, *statements: str) -> None:
    """Tamper with the database directly; each statement must really change something."""
    with engine.begin() as conn:
        for statement in statements:
            changed = conn.execute(text(statement)).rowcount
            assert changed, f"the tamper changed nothing: {statement}"
    with engine.connect() as conn:  # and the payload must still be bytes, as vanban writes it
        assert conn.execute(text("SELECT count(*) FROM auditentry WHERE typeof(payload) <> 'blob'")).scalar() == 0


def _rehash(engine: Engine, seq: int) -> None:
    """Recompute one entry's hash after an edit (what a careful forger does)."""
    from models.audit import _entry_hash

    with engine.begin() as conn:
        payload = conn.execute(text("SELECT payload FROM auditentry WHERE seq = :s"), {"s": seq}).scalar_one()
        conn.execute(text("UPDATE auditentry SET hash = :h WHERE seq = :s"), {"h": _entry_hash(payload), "s": seq})


def _renumber(payload: bytes, seq: int) -> bytes:
    return str(seq).encode() + payload[payload.index(b"\x1f"):]


def _insert_at(engine: Engine, k: int, rehash: bool = True) -> None:
    """A well-formed entry slipped in at k: the later entries renumbered (and re-hashed), its prev correct."""
    from models.audit import _entry_hash, canonical

    with engine.begin() as conn:
        later = conn.execute(text("SELECT id, payload, hash FROM auditentry WHERE seq >= :k ORDER BY seq DESC"), {"k": k}).all()
        for row_id, payload, stored in later:
            moved = _renumber(bytes(payload), int(bytes(payload).split(b"\x1f")[0]) + 1)
            conn.execute(text("UPDATE auditentry SET payload = :p, hash = :h WHERE id = :i"),
                         {"p": moved, "h": _entry_hash(moved) if rehash else stored, "i": row_id})
        prev = conn.execute(text("SELECT hash FROM auditentry WHERE seq = :s"), {"s": k - 1}).scalar_one()
        payload = canonical(k, "2024-03-04T01:00:00.000000Z", None, "system", "issued", None, None, "{}", None, prev)
        conn.execute(text("INSERT INTO auditentry (payload, hash) VALUES (:p, :h)"), {"p": payload, "h": _entry_hash(payload)})


def _swap(engine: Engine, k: int) -> None:
    """Entries k and k+1 trade places (their recorded positions swapped, hashes left as they were)."""
    with engine.begin() as conn:
        rows = conn.execute(text("SELECT id, payload FROM auditentry WHERE seq IN (:a, :b) ORDER BY seq"),
                            {"a": k, "b": k + 1}).all()
        conn.execute(text("UPDATE auditentry SET payload = :p WHERE id = :i"), {"p": _renumber(bytes(rows[0][1]), 0), "i": rows[0][0]})
        conn.execute(text("UPDATE auditentry SET payload = :p WHERE id = :i"), {"p": _renumber(bytes(rows[1][1]), k), "i": rows[1][0]})
        conn.execute(text("UPDATE auditentry SET payload = :p WHERE id = :i"), {"p": _renumber(bytes(rows[0][1]), k + 1), "i": rows[0][0]})


def _replace(seq: int, old: str, new: str) -> Callable[[Engine], None]:
    return lambda e: _sql(e, f"UPDATE auditentry SET payload = CAST(replace(CAST(payload AS TEXT), '{old}', '{new}') AS BLOB) "
                             f"WHERE seq = {seq}")


TAMPERS: list[tuple[str, Callable[[Engine], None], int, str]] = [
    ("edit an entry's details", _replace(7, '"kind"', '"type"'), 7, "altered"),
    ("edit the actor of the last entry", _replace(17, "system", "ct-ubnd"), 17, "altered"),
    ("edit the time inside the entry", _replace(4, "T", "t"), 4, "altered"),
    ("edit and recompute the hash", lambda e: (_replace(3, "signed", "rejected")(e), _rehash(e, 3)), 3, "hash recomputed"),
    ("edit the last entry and recompute its hash", lambda e: (_replace(17, "system", "ct-ubnd")(e), _rehash(e, 17)),
     17, "does not match the chain head"),
    ("delete an entry", lambda e: _sql(e, "DELETE FROM auditentry WHERE seq = 5"), 5, "missing"),
    ("insert an entry", lambda e: _insert_at(e, 8), 8, "inserted"),
    ("insert an entry, the later ones renumbered but not re-hashed", lambda e: _insert_at(e, 8, rehash=False), 8,
     "inserted"),
    ("swap two entries", lambda e: _swap(e, 10), 10, "altered"),
    ("remove the last entries", lambda e: _sql(e, "DELETE FROM auditentry WHERE seq > 13"), 14, "removed from the end"),
    ("truncate the log", lambda e: _sql(e, "DELETE FROM auditentry"), 1, "removed from the end"),
]


@pytest.mark.parametrize("workers", [1, 2], ids=["serial", "two workers"])
@pytest.mark.parametrize("name, tamper, at, words", TAMPERS, ids=[t[0] for t in TAMPERS])
def test_verify_names_the_entry_that_was_tampered_with(chain_engine: Engine, name: str, tamper, at: int, words: str,  # noqa: ANN001
                                                       workers: int) -> None:
    tamper(chain_engine)
    with chain_engine.connect() as conn:
        verdict = verify(conn, workers=workers)
    assert not verdict.intact
    assert verdict.broken_at == at, verdict
    assert words in verdict.reason, verdict.reason
    if words == "inserted":  # named at the inserted entry, and only the entries before it counted as verified
        assert verdict.entries == at - 1 and verdict.reason.startswith(f"entry {at} was inserted")


def test_an_entry_added_without_the_head_is_found(chain_engine: Engine) -> None:
    from models.audit import _entry_hash, canonical

    with chain_engine.begin() as conn:
        last = conn.execute(text("SELECT hash FROM auditentry WHERE seq = 17")).scalar_one()
        payload = canonical(18, "2024-03-05T00:00:00.000000Z", None, "system", "issued", None, None, "{}", None, last)
        conn.execute(text("INSERT INTO auditentry (payload, hash) VALUES (:p, :h)"), {"p": payload, "h": _entry_hash(payload)})
    with chain_engine.connect() as conn:
        verdict = verify(conn)
    assert (verdict.intact, verdict.broken_at) == (False, 18) and "without the head" in verdict.reason


@pytest.mark.parametrize("column, value", [("seq", "99"), ("at", "'2024-01-01T00:00:00.000000Z'"), ("document_id", "1")])
def test_the_index_columns_cannot_drift_from_what_was_recorded(chain_engine: Engine, column: str, value: str) -> None:
    """seq, at and document_id are generated from the hashed payload: the database refuses to edit them."""
    with pytest.raises(Exception, match="generated|cannot"):
        with chain_engine.begin() as conn:
            conn.execute(text(f"UPDATE auditentry SET {column} = {value} WHERE seq = 13"))
    with chain_engine.connect() as conn:
        row = conn.execute(text("SELECT seq, at, document_id, payload FROM auditentry WHERE seq = 13")).one()
    assert bytes(row.payload).startswith(f"13\x1f{row.at}\x1f{row.document_id}\x1f".encode())


def test_two_workers_agree_with_one(chain_engine: Engine) -> None:
    with chain_engine.connect() as conn:
        assert verify(conn, workers=2) == verify(conn, workers=1)
        assert verify(conn, workers=2).intact


# --- one transaction ---------------------------------------------------------------------------------

def test_a_change_and_its_entry_commit_together(chain_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    def count(session: Session) -> tuple[int, int, int]:
        return (len(session.exec(select(Document)).all()), len(session.exec(select(AuditEntry)).all()),
                len(session.exec(select(RegisterEntry)).all()))

    with session_scope(chain_engine) as session:
        before = count(session)
    with pytest.raises(RuleViolation) as exc:  # the entry cannot be written: the draft is not kept either
        with session_scope(chain_engine) as session:
            draft_document(session, seed_spec("decision"), actor="ghost")
    assert exc.value.field == "actor"

    with session_scope(chain_engine) as session:
        doc = draft_document(session, seed_spec("decision"), actor="cv-vhxh")
        from models.signing import sign_document

        sign_document(session, doc)
        doc_id = doc.id
    with session_scope(chain_engine) as session:
        after_draft = count(session)

    import models.issuing

    def broken_renderer(*_args, **_kw) -> bytes:
        raise OSError("disk full")

    monkeypatch.setattr("doc_templates.render_document", broken_renderer)
    with pytest.raises(OSError):
        with session_scope(chain_engine) as session:
            models.issuing.issue_document(session, session.get(Document, doc_id), date(2024, 3, 5), Path("/tmp/x"))
    with session_scope(chain_engine) as session:  # no number, no entry: the issue left nothing behind
        assert count(session) == after_draft
        assert after_draft[0] == before[0] + 1 and after_draft[2] == before[2]
    with chain_engine.connect() as conn:
        assert verify(conn).intact


# --- concurrency -------------------------------------------------------------------------------------

def _append_many(url: str, n: int, barrier) -> None:  # noqa: ANN001
    engine = make_engine(url)
    barrier.wait()
    for i in range(n):
        with session_scope(engine) as session:
            record(session, Action.REMINDED, details={"i": i})
    engine.dispose()


def _eight_processes(url: str, engine: Engine, per_process: int = 25) -> None:
    with engine.connect() as conn:
        start = verify(conn).entries
    engine.dispose()
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(8)
    workers = [ctx.Process(target=_append_many, args=(url, per_process, barrier)) for _ in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=300)
        assert w.exitcode == 0
    with engine.connect() as conn:
        verdict = verify(conn)
    assert verdict.intact and verdict.entries == start + 8 * per_process


def test_eight_processes_append_one_chain_on_sqlite(engine: Engine) -> None:
    _eight_processes(str(engine.url), engine)


def test_eight_processes_append_one_chain_on_postgresql(pg_url: str) -> None:
    _eight_processes(pg_url, make_engine(pg_url))


def test_threads_append_one_chain(engine: Engine) -> None:
    def work() -> None:
        for _ in range(10):
            with session_scope(engine) as session:
                record(session, Action.ACKNOWLEDGED)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with engine.connect() as conn:
        verdict = verify(conn)
    assert verdict.intact and verdict.entries == 2 + 80  # the directory loaded, the sample keys enrolled
    with Session(engine) as session:
        assert session.get(AuditHead, 1).seq == 82


# --- registers ---------------------------------------------------------------------------------------

def test_the_outgoing_registers_list_the_seed_chain(chain_engine: Engine) -> None:
    with session_scope(chain_engine) as session:
        sttt = outgoing_book(session, agency_by_code(session, "sttt"), 2024)
        ubnd = outgoing_book(session, agency_by_code(session, "ubnd-tinh"), 2024)
        data = render_book(session, ubnd)
    assert [r[0] for r in sttt.rows] == ["10/TTr-STTTT", "11/KH-STTTT"]
    assert sttt.rows[0][1] == "20/02/2024" and sttt.rows[0][2].startswith("Tờ trình Về việc phê duyệt")
    (row,) = ubnd.rows
    assert row[:4] == ["374/QĐ-UBND", "04/3/2024", "Quyết định Phê duyệt Kế hoạch thực hiện Chiến lược phát triển "
                       "lĩnh vực thông tin cơ sở trên địa bàn tỉnh Vĩnh Long năm 2024", "Trần Thị Bình"]
    assert row[4].startswith("Như Điều 3; CT, PCT.UBND tỉnh phụ trách VHXH") and row[5] == "VT, 3.30.05"
    assert int(row[6]) > 30  # Điều 3's parties, the leaders and units named, and the archive copy
    text = lines(open_docx(data))
    assert "SỔ ĐĂNG KÝ VĂN BẢN ĐI" in text and "Năm 2024" in text and "Từ số 374 đến số 374" in text
    assert [name for name, _ in OUTGOING_COLUMNS] == text[text.index("Số, ký hiệu văn bản"):][:10]
    assert "374/QĐ-UBND" in text and any(t.startswith("In từ vanban. Nhật ký: 17 mục") for t in text)


def test_a_voided_number_is_shown_with_its_reason(chain_engine: Engine) -> None:
    with session_scope(chain_engine) as session:
        entry = session.exec(select(RegisterEntry).where(RegisterEntry.number == 11)).one()
        void_number(session, entry.id, "ban hành nhầm, thay bằng văn bản khác", actor="vt-sttt")
    with session_scope(chain_engine) as session:
        book = outgoing_book(session, agency_by_code(session, "sttt"), 2024)
        assert book.rows[1][0] == "11/KH-STTTT" and book.rows[1][9] == "Hủy số: ban hành nhầm, thay bằng văn bản khác"
        assert actions(session, "11/KH-STTTT")[-1] == ("number_voided", "vt-sttt")


def test_the_incoming_register_lists_what_arrived(chain_engine: Engine) -> None:
    with session_scope(chain_engine) as session:
        book = incoming_book(session, agency_by_code(session, "ubnd-tinh"), 2024)
        data = render_book(session, book)
    assert [r[:5] for r in book.rows] == [
        ["21/02/2024", "01", "Sở Thông tin và Truyền thông", "10/TTr-STTTT", "20/02/2024"],
        ["21/02/2024", "02", "Sở Thông tin và Truyền thông", "11/KH-STTTT", "20/02/2024"]]
    assert book.rows[0][6] == "Phòng Văn hóa - Xã hội"
    text = lines(open_docx(data))
    assert "SỔ ĐĂNG KÝ VĂN BẢN ĐẾN" in text
    assert [name for name, _ in INCOMING_COLUMNS] == text[text.index("Ngày đến"):][:10]


# --- the command line --------------------------------------------------------------------------------

def vanban(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "COLUMNS": "250", "VANBAN_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture
def chain_home(_chain_template: Path, tmp_path: Path) -> Path:
    home = tmp_path / "home"
    import shutil

    shutil.copytree(_chain_template, home)
    return home


def test_audit_commands(chain_home: Path, tmp_path: Path) -> None:
    shown = vanban(chain_home, "audit", "show", "374/QĐ-UBND")
    assert shown.returncode == 0, shown.stderr
    order = [shown.stdout.index(word) for word in ("drafted", "signed", "number_allocated", "issued")]
    assert order == sorted(order) and "cv-vhxh (Đỗ Thị Giang)" in shown.stdout and "5 entries" in shown.stdout
    ok = vanban(chain_home, "audit", "verify")
    assert ok.returncode == 0 and "intact: 17 entries" in ok.stdout
    later = vanban(chain_home, "audit", "export", "--format", "json", "--since", "01/01/2099")
    assert later.returncode == 0 and json.loads(later.stdout) == []
    earlier = vanban(chain_home, "audit", "export", "--format", "json", "--since", "01/01/2020")
    assert len(json.loads(earlier.stdout)) == 17
    everything = json.loads(vanban(chain_home, "audit", "export", "--format", "json").stdout)
    assert [e["seq"] for e in everything] == list(range(1, 18)) and everything[0]["action"] == "directory_loaded"
    csv_text = vanban(chain_home, "audit", "export").stdout
    assert csv_text.splitlines()[0].startswith("seq,at,at_vietnam,actor,action") and len(csv_text.splitlines()) == 18
    runs = vanban(chain_home, "audit", "runs", "374/QĐ-UBND")
    assert runs.returncode == 0 and "no Prefect flow runs" in runs.stdout
    book = vanban(chain_home, "register", "show", "ubnd-tinh", "--year", "2024", "--incoming", "--docx", str(tmp_path / "den.docx"))
    assert book.returncode == 0 and (tmp_path / "den.docx").exists() and "10/TTr-STTTT" in book.stdout

    engine = make_engine(f"sqlite:///{chain_home / 'vanban.db'}")
    _sql(engine, "UPDATE auditentry SET payload = CAST(replace(CAST(payload AS TEXT), 'cv-vhxh', 'ct-ubnd') AS BLOB) "
                 "WHERE seq = 12")
    broken = vanban(chain_home, "audit", "verify")
    assert broken.returncode == 1 and "broken at entry 12" in broken.stderr and "Traceback" not in broken.stderr
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE auditentry"))
    missing = vanban(chain_home, "audit", "verify")
    assert missing.returncode == 1 and "the audit log cannot be read" in missing.stderr and "Traceback" not in missing.stderr
    engine.dispose()


def test_bad_export_arguments(chain_home: Path) -> None:
    bad = vanban(chain_home, "audit", "export", "--format", "xml")
    assert bad.returncode == 1 and "format: 'xml' is not a format" in bad.stderr
    bad_date = vanban(chain_home, "audit", "export", "--since", "31/02/2024")
    assert bad_date.returncode == 1 and "since: 31/02/2024 is not a calendar date" in bad_date.stderr


# --- Prefect runs behind a document ----------------------------------------------------------------

def test_runs_are_checked_against_prefect(prefect_harness, chain_engine: Engine) -> None:  # noqa: ANN001
    from prefect import flow, task

    from flows.run_check import check_runs

    @task
    def draft_in_task() -> int:
        with session_scope(chain_engine) as session:
            return draft_document(session, seed_spec("decision"), actor="cv-vhxh").id

    @flow(name="audit-test")
    def drafting_flow() -> int:
        return draft_in_task()

    doc_id = drafting_flow()
    with session_scope(chain_engine) as session:
        entries = trail(session, doc_id)
    (entry,) = entries
    assert entry.flow_run_id and entry.task_run_id
    rows, problems = check_runs(entries)
    assert problems == [] and rows[0].state == "COMPLETED" and rows[0].flow == "audit-test"

    from models.audit import canonical

    fields = entry.fields
    forged = AuditEntry(seq=98, at=entry.at, payload=canonical(98, entry.at, doc_id, "cv-vhxh", "drafted",
                        "6f1c1c1c-0000-4000-8000-000000000000", None, "{}", None, fields["prev_hash"]), hash="")
    late_at = "2030-01-01T00:00:00.000000Z"
    late = AuditEntry(seq=99, at=late_at, payload=canonical(99, late_at, doc_id, "cv-vhxh", "drafted", entry.flow_run_id,
                      None, "{}", None, fields["prev_hash"]), hash="")
    _, problems = check_runs([forged, late])
    assert any("which Prefect does not know" in p for p in problems)
    assert any("entry 99 (drafted) at 2030-01-01" in p and "lies outside" in p for p in problems)


def test_runs_of_the_demo_are_found_where_vanban_keeps_prefect(tmp_path: Path) -> None:
    """`audit runs` reads the Prefect state under VANBAN_HOME that the flows wrote, with vanban's settings
    (no PREFECT_HOME given, nothing in ~/.prefect, no telemetry): the demo's runs are known and completed."""
    user = tmp_path / "user"
    user.mkdir()
    env = {"PATH": "/usr/bin:/bin", "COLUMNS": "250", "HOME": str(user)}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "flows.cli", *args], capture_output=True, text=True, env=env,
                              timeout=300)

    demo = run("demo", "--out", str(tmp_path / "out"))
    assert demo.returncode == 0, demo.stderr
    home = tmp_path / "out" / ".vanban"  # the demo's one home, which it names in its last line
    assert demo.stdout.splitlines()[-1] == f"to use the demo's documents: export VANBAN_HOME={home}"
    env["VANBAN_HOME"] = str(home)
    runs = run("audit", "runs", "374/QĐ-UBND")
    assert runs.returncode == 0, runs.stdout + runs.stderr
    assert "COMPLETED" in runs.stdout and "Prefect does not know" not in runs.stdout + runs.stderr
    assert "decide" in runs.stdout and "distribute" in runs.stdout
    assert (home / "prefect").is_dir() and not (user / ".prefect").exists()
    listed, shown = run("documents"), run("show", "374/QĐ-UBND")  # README's "Using it" sees the demo's documents
    assert listed.returncode == 0 and "374/QĐ-UBND" in listed.stdout and "12/BC-STTTT" in listed.stdout, listed.stderr
    assert shown.returncode == 0 and "issued" in shown.stdout, shown.stderr
