"""The 2025 reorganisation: documents of 2024 keep the directory of 2024, documents from then on get the new one;
a reorganisation is one transaction and one audit entry, and refuses to leave work with nobody to answer."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import func, select

from doc_templates import render_document
from doc_templates.view import build_view
from models.assignments import Assignment
from models.audit import Action, AuditEntry
from models.directory import Agency, agency_by_code, head_of, leaders_of
from models.document import Document, find_document
from models.drafting import draft_document
from models.errors import RuleViolation
from models.issuing import issue_document
from models.recipients import resolve_distribution
from models.register import OutgoingRegister
from models.reorganisation import reorganise
from models.db import make_engine, session_scope
from models.sample_data import load_directory, load_reorganisations
from models.signing import sign_document


def letter(issuer: str, dated: str, signer: str) -> dict:
    """A Công văn of ``issuer`` to Sở Nội vụ, written for ``dated``."""
    return {"kind": "official_letter", "issuer": issuer, "field_abbreviation": "VP", "dated": dated, "signer": signer,
            "subject": "Về việc cử cán bộ tham gia tập huấn chuyển đổi số",
            "kinh_gui": [{"text": "Sở Nội vụ", "targets": ["agency:snv"]}],
            "body": {"intro": ["Đề nghị Sở Nội vụ cử cán bộ tham gia tập huấn."]},
            "recipients": [{"text": "Như trên", "targets": ["above"]}, {"text": "Lưu: VT", "targets": ["archive"]}]}


def entries(engine: Engine) -> int:
    with session_scope(engine) as session:
        return session.exec(select(func.count()).select_from(AuditEntry)).one()


def test_the_seed_documents_render_the_same_after_the_2025_reorganisation(chain_engine: Engine) -> None:
    refs = ("10/TTr-STTTT", "11/KH-STTTT", "374/QĐ-UBND")
    with session_scope(chain_engine) as session:
        before = {ref: render_document(session, find_document(session, ref)) for ref in refs}
    with session_scope(chain_engine) as session:
        done = load_reorganisations(session, actor="vt-ubnd")
    assert [d["effective"] for d in done] == ["2025-03-01", "2025-07-01"]
    with session_scope(chain_engine) as session:
        after = {ref: render_document(session, find_document(session, ref)) for ref in refs}
        view = build_view(session, find_document(session, "10/TTr-STTTT"))
        reorganised = [e for e in session.exec(select(AuditEntry).order_by(AuditEntry.seq))
                       if e.action == Action.DIRECTORY_REORGANISED.value]
    assert after == before  # byte for byte: the 2024 header, signer and text
    assert view.issuer_lines == ["SỞ THÔNG TIN VÀ", "TRUYỀN THÔNG"] and view.parent_line == "UBND TỈNH VĨNH LONG"
    assert [e.actor for e in reorganised] == ["vt-ubnd", "vt-ubnd"]  # one entry per reorganisation, with who did it


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_2026_letter_of_the_new_department_gets_its_header_and_the_2026_register(
        backend: str, request: pytest.FixtureRequest, files_dir) -> None:  # noqa: ANN001
    if backend == "sqlite":
        engine = request.getfixturevalue("engine")
    else:  # the sample loaded into a fresh PostgreSQL schema
        engine = make_engine(request.getfixturevalue("pg_url"))
        with session_scope(engine) as session:
            load_directory(session)
    with session_scope(engine) as session:
        load_reorganisations(session)
    with session_scope(engine) as session:
        doc_id = draft_document(session, letter("skhcn", "10/02/2026", "gd-skhcn"), actor="cv-sttt").id
    with session_scope(engine) as session:
        sign_document(session, session.get(Document, doc_id))
    with session_scope(engine) as session:
        entry, _ = issue_document(session, session.get(Document, doc_id), date(2026, 2, 10), files_dir, actor="vt-skhcn")
        view = build_view(session, session.get(Document, doc_id))
        skhcn = agency_by_code(session, "skhcn")
        registers = session.exec(select(OutgoingRegister).where(OutgoingRegister.agency_id == skhcn.id)
                                 .order_by(OutgoingRegister.year)).all()
    assert entry.number_symbol == "01/SKHCN-VP"  # numbering starts at 01 in the 2026 register, opened by itself
    assert [(r.year, r.opened_from) for r in registers] == [(2025, None), (2026, 2025)]
    assert view.parent_line == "UBND TỈNH VĨNH LONG" and view.issuer_lines == ["SỞ KHOA HỌC", "VÀ CÔNG NGHỆ"]
    assert view.signer_lines == ["GIÁM ĐỐC"] and view.signer_name == "Phan Văn Phúc"


def test_the_directory_of_each_day(engine: Engine) -> None:
    with session_scope(engine) as session:
        load_reorganisations(session)
    with session_scope(engine) as session:
        sttt, ubnd = agency_by_code(session, "sttt"), agency_by_code(session, "ubnd-tinh")
        skhcn = agency_by_code(session, "skhcn")
        assert head_of(session, sttt.id, date(2025, 2, 28)).code == "gd-sttt"
        assert head_of(session, sttt.id, date(2025, 3, 1)) is None
        assert [o.code for o in leaders_of(session, skhcn.id, date(2025, 3, 1))] == ["gd-sttt", "pgd-sttt", "gd-skhcn"]
        assert head_of(session, ubnd.id, date(2025, 6, 30)).code == "ct-ubnd"
        assert head_of(session, ubnd.id, date(2025, 7, 1)).code == "ct-ubnd-2025"
        with pytest.raises(RuleViolation) as exc:
            agency_by_code(session, "sttt", "issuer", date(2026, 1, 5))
    assert exc.value.rule == "directory.retired" and "'sttt'" in exc.value.message and "'skhcn'" in exc.value.message
    with pytest.raises(RuleViolation) as exc, session_scope(engine) as session:  # a 2026 draft by the old Sở
        draft_document(session, letter("sttt", "05/01/2026", "gd-sttt"))
    assert exc.value.field == "issuer" and exc.value.rule == "directory.retired"
    with pytest.raises(RuleViolation) as exc, session_scope(engine) as session:  # the former director signs no more as head
        draft_document(session, letter("skhcn", "05/01/2026", "gd-sttt") | {"authority_form": "head"})
    assert exc.value.rule == "signer.form"


def test_distribution_uses_the_directory_of_the_send_date(chain_engine: Engine) -> None:
    with session_scope(chain_engine) as session:
        load_reorganisations(session)
    with session_scope(chain_engine) as session:
        decision = find_document(session, "374/QĐ-UBND")
        then = resolve_distribution(session, decision, date(2024, 3, 4))
        now = resolve_distribution(session, decision, date(2026, 1, 5))
    codes_then = {r.label for line in then for r in line.recipients}
    codes_now = {r.label for line in now for r in line.recipients}
    assert "Giám đốc Sở Thông tin và Truyền thông" in codes_then
    assert not any("Thông tin và Truyền thông" in label for label in codes_now)
    problems = [line.problem for line in now if line.problem]
    assert any("retired" in p for p in problems)  # the district committees and Sở TTTT are gone: unresolved lines


def test_a_merger_hands_the_open_assignment_to_the_successor(chain_engine: Engine) -> None:
    with session_scope(chain_engine) as session:
        done = reorganise(session, {"name": "Hợp nhất", "effective": "01/3/2025",
                                    "merge": [{"from": ["sttt"], "into": "skhcn"}]}, actor="vt-ubnd")
    with session_scope(chain_engine) as session:
        assignment = session.exec(select(Assignment)).one()
        lead = session.get(Agency, assignment.lead_id).code
    assert done["merged"] == [{"from": ["sttt"], "into": "skhcn", "assignments": 1}] and lead == "skhcn"


def test_a_reorganisation_that_leaves_work_with_no_owner_writes_nothing(chain_engine: Engine) -> None:
    before = entries(chain_engine)
    with pytest.raises(RuleViolation) as exc, session_scope(chain_engine) as session:
        reorganise(session, {"name": "Giải thể", "effective": "01/3/2025", "retire": [{"agency": "sttt"}]})
    assert exc.value.rule == "reorganisation.no-owner"
    assert "assignment #1 of 374/QĐ-UBND (lead 'sttt')" in exc.value.message
    with session_scope(chain_engine) as session:
        assert agency_by_code(session, "sttt").valid_until is None
    assert entries(chain_engine) == before


def test_a_renaming_from_a_date(engine: Engine) -> None:
    with session_scope(engine) as session:
        reorganise(session, {"name": "Đổi tên", "effective": "01/01/2026", "rename": [
            {"agency": "snv", "name": "Sở Nội vụ và Lao động", "header_name": "SỞ NỘI VỤ\nVÀ LAO ĐỘNG"}]})
    with session_scope(engine) as session:
        old = draft_document(session, letter("snv", "31/12/2025", None) | {"kinh_gui": [{"text": "Sở Tư pháp", "targets": ["agency:stp"]}]})
        new = draft_document(session, letter("snv", "02/01/2026", None) | {"kinh_gui": [{"text": "Sở Tư pháp", "targets": ["agency:stp"]}]})
        assert build_view(session, old).issuer_lines == ["SỞ NỘI VỤ"]
        assert build_view(session, new).issuer_lines == ["SỞ NỘI VỤ", "VÀ LAO ĐỘNG"]


@pytest.mark.parametrize("spec, rule, named", [
    ({"add": {"agencies": [{"code": "skhcn", "name": "X", "abbreviation": "X", "header_name": "X", "place": "X",
                            "head_title": "Giám đốc"}]}}, "directory.duplicate", "'skhcn'"),
    ({"move": [{"official": "pgd-skhcn-bt", "agency": "skhcn", "title": "Giám đốc", "is_head": True}]},
     "directory.position-conflict", "'skhcn' is headed by 'gd-skhcn'"),
    ({"add": {"officials": [{"code": "cv-moi", "full_name": "Nguyễn Văn Mới", "positions": [
        {"agency": "snv", "title": "Chuyên viên"}, {"agency": "stp", "title": "Chuyên viên"}]}]}},
     "directory.position-conflict", "official 'cv-moi' holds 'Chuyên viên' at 'snv'"),
    ({"add": {"signing_authority": [{"official": "gd-skhcn", "agency": "skhcn", "form": "KT.", "valid_from": "01/01/2020",
                                     "valid_until": "31/12/2020"}]}}, "directory.authority-tenure", "'gd-skhcn'"),
])
def test_bad_reorganisations_name_the_entry_and_write_nothing(engine: Engine, spec: dict, rule: str, named: str) -> None:
    with session_scope(engine) as session:
        load_reorganisations(session)  # gd-skhcn heads Sở KH&CN from 01/3/2025 only: a tenure to check against
    before = entries(engine)
    with pytest.raises(RuleViolation) as exc, session_scope(engine) as session:
        reorganise(session, {"name": "Sai", "effective": "01/01/2026", **spec})
    assert exc.value.rule == rule and named in exc.value.message
    assert entries(engine) == before
