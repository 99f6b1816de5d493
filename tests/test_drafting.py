"""Drafting: composition of a decision from data, and bad input refused with the field and rule named,
leaving nothing written."""

from __future__ import annotations

import copy
import unicodedata
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from models.db import session_scope
from models.directory import AgencyGroup
from models.document import Addressee, Document, DocumentLink, DocumentStatus, LinkRelation
from models.drafting import draft_document
from models.errors import RuleViolation
from models.sample_data import SEED_CHAIN_FILE, fill_references
from models.yaml_files import read_yaml
from models.signing import sign_document


def seed_spec(key: str) -> dict[str, Any]:
    """The seed chain's draft for ``key``, with '@submission' → 1 and '@plan' → 2 (their ids in chain_engine)."""
    entry = next(e for e in read_yaml(SEED_CHAIN_FILE)["documents"] if e["key"] == key)
    return copy.deepcopy(fill_references(entry["draft"], {"submission": 1, "plan": 2}))


def counts(engine: Engine) -> tuple[int, int, int]:
    with Session(engine) as s:
        return tuple(s.exec(select(func.count()).select_from(t)).one() for t in (Document, Addressee, DocumentLink))


def refuse(engine: Engine, spec: dict[str, Any]) -> RuleViolation:
    """Draft ``spec`` in one transaction; it must fail and leave the tables as they were."""
    before = counts(engine)
    with pytest.raises(RuleViolation) as exc:
        with session_scope(engine) as session:
            draft_document(session, spec)
    assert counts(engine) == before
    return exc.value


def test_the_decision_is_composed_from_data(chain_engine: Engine) -> None:
    with session_scope(chain_engine) as session:
        decision = session.exec(select(Document).where(Document.symbol == "QĐ-UBND")).one()
        body = decision.body
        links = {(link.relation, link.to_id) for link in session.exec(select(DocumentLink).where(DocumentLink.from_id == decision.id))}
    assert body["proposal"] == ("Theo đề nghị của Giám đốc Sở Thông tin và Truyền thông tại Tờ trình số "
                                "10/TTr-STTTT ngày 20/02/2024.")
    first, second, third = body["articles"]
    assert first["text"].startswith("Phê duyệt Kế hoạch thực hiện Chiến lược")
    assert first["note"] == "(Kèm theo Kế hoạch số 11/KH-STTTT ngày 20/02/2024 của Giám đốc Sở Thông tin và Truyền thông)"
    assert second["title"] == "Tổ chức thực hiện"
    assert second["paragraphs"][0].startswith("Giao Giám đốc Sở Thông tin và Truyền thông chủ trì, phối hợp với")
    assert third["text"].endswith("và các cơ quan, đơn vị có liên quan chịu trách nhiệm thi hành Quyết định này.")
    assert body["assignments"][0]["due"] == "2024-12-15"
    assert decision.competence == "CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH VĨNH LONG"
    assert links == {(LinkRelation.RESPONDS_TO, 1), (LinkRelation.APPROVES, 2)}


def test_a_draft_has_no_number_until_issued(chain_engine: Engine) -> None:
    spec = seed_spec("decision")
    spec["subject"] = "Phê duyệt một kế hoạch khác"
    with session_scope(chain_engine) as session:
        doc = draft_document(session, spec)
        assert (doc.number, doc.issued_on, doc.status) == (None, None, DocumentStatus.DRAFT)
        sign_document(session, doc)
        assert doc.number is None and doc.status is DocumentStatus.SIGNED


def test_text_is_stored_in_nfc(chain_engine: Engine) -> None:
    spec = seed_spec("decision")
    spec["subject"] = unicodedata.normalize("NFD", "Phê duyệt Kế hoạch năm 2024")
    with session_scope(chain_engine) as session:
        doc = draft_document(session, spec)
    assert doc.subject == "Phê duyệt Kế hoạch năm 2024" and unicodedata.is_normalized("NFC", doc.subject)


@pytest.mark.parametrize("mutate, field, rule", [
    (lambda s: s.update(issuer="ubnd-tinh-xyz"), "issuer", "directory.unknown-agency"),
    (lambda s: s.update(drafting_unit="vp-ubnd/P.XYZ"), "drafting_unit", "directory.unknown-unit"),
    (lambda s: s.update(signer="nobody"), "signer", "directory.unknown-official"),
    (lambda s: s.update(signer="gd-sttt"), "signer", "signer.authority"),  # Sở TTTT's director cannot sign for UBND
    (lambda s: s.update(authority_form="Q."), "authority_form", "signer.form"),
    (lambda s: s.update(authority_form="TL."), "signer", "signer.tl-list"),  # a Phó Chủ tịch is not on the TL. list
    (lambda s: s.update(authority_form="TUQ."), "authority_form", "signer.tuq-delegation"),
    (lambda s: s.update(competence="collective"), "authority_form", "signer.competence"),  # KT. of a collective act
    (lambda s: s.update(authority_form="TM.+KT."), "authority_form", "signer.competence"),  # TM. of a head's act
    (lambda s: s.update(signer="ct-ubnd", authority_form="TM."), "authority_form", "signer.competence"),
    (lambda s: s.update(legal_bases=[]), "legal_bases", "legal-bases.required"),
    (lambda s: s.update(competence=None), "competence", "decision.competence"),
    (lambda s: s["legal_bases"][1][0].update(date="30/02/2020"), "legal_bases[1][0].date", "date.exists"),
    (lambda s: s["legal_bases"][0][0].update(number="1/QH"), "legal_bases[0][0]", "input.value_error"),
    (lambda s: s.update(subject="Phê duyệt\x07 kế hoạch"), "subject", "text.control-characters"),
    (lambda s: s["recipients"][1]["targets"].__setitem__(0, "official:ghost"), "recipients[1]", "directory.unknown-official"),
    (lambda s: s["recipients"][3]["targets"].__setitem__(0, "unit:vp-ubnd/P.NONE"), "recipients[3]", "directory.unknown-unit"),
    (lambda s: s["recipients"].pop(), "recipients[3]", "recipients.archive-last"),
    (lambda s: s["recipients"][0]["targets"].__setitem__(0, "article:9"), "recipients[0]", "recipients.article"),
    (lambda s: s["executors"][2]["targets"].__setitem__(0, "group:nope"), "executors[2]", "directory.unknown-group"),
    (lambda s: s.update(approves=99), "approves", "document.unknown"),
    (lambda s: s.update(responds_to=2), "responds_to", "document.kind"),
    (lambda s: s.update(unknown_field=1), "unknown_field", "input.extra_forbidden"),
])
def test_bad_input_is_refused_naming_field_and_rule(chain_engine: Engine, mutate, field: str, rule: str) -> None:  # noqa: ANN001
    spec = seed_spec("decision")
    mutate(spec)
    error = refuse(chain_engine, spec)
    assert (error.field, error.rule) == (field, rule), str(error)


def test_a_group_that_resolves_to_nothing_is_refused(chain_engine: Engine) -> None:
    with session_scope(chain_engine) as session:
        session.add(AgencyGroup(code="empty", name="các cơ quan không có"))
    spec = seed_spec("decision")
    spec["recipients"].insert(1, {"text": "Các cơ quan không có", "targets": ["group:empty"]})
    error = refuse(chain_engine, spec)
    assert (error.field, error.rule) == ("recipients[1]", "recipients.group-empty")
    assert "resolves to no agency" in error.message


def test_a_submission_needs_kinh_gui_and_a_cong_van_its_field(engine: Engine) -> None:
    spec = seed_spec("submission")
    spec["kinh_gui"] = []
    spec["recipients"][0]["targets"] = ["agency:ubnd-tinh"]
    assert refuse(engine, spec).rule == "kinh-gui.required"
    letter = {"kind": "official_letter", "issuer": "ubnd-tinh", "subject": "triển khai kế hoạch",
              "kinh_gui": [{"text": "Sở Thông tin và Truyền thông", "targets": ["agency:sttt"]}],
              "body": {"intro": "Đề nghị Sở triển khai kế hoạch."},
              "recipients": [{"text": "Như trên", "targets": ["above"]}, {"text": "Lưu: VT", "targets": ["archive"]}]}
    assert refuse(engine, letter).field == "field_abbreviation"
    letter["field_abbreviation"] = "VHXH"
    with session_scope(engine) as session:
        assert draft_document(session, letter).symbol == "UBND-VHXH"


def test_decision_citing_an_unissued_document_is_refused(engine: Engine) -> None:
    with session_scope(engine) as session:
        submission = draft_document(session, seed_spec("submission"))
    spec = seed_spec("decision")
    spec.update(responds_to=submission.id, approves=None)
    error = refuse(engine, spec)
    assert (error.field, error.rule) == ("responds_to", "document.not-issued")


def test_signing_checks_authority_again(chain_engine: Engine) -> None:
    spec = seed_spec("decision")
    with session_scope(chain_engine) as session:
        doc_id = draft_document(session, spec).id
    with pytest.raises(RuleViolation) as exc:
        with session_scope(chain_engine) as session:
            sign_document(session, session.get(Document, doc_id), "pgd-sttt")
    assert exc.value.rule == "signer.authority"
    with session_scope(chain_engine) as session:
        assert session.get(Document, doc_id).status is DocumentStatus.DRAFT
