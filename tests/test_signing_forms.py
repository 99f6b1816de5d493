"""Every signing form of Decree 30 Điều 13 (nd30-format.md §3.7), from the command line: drafted, signed, issued
and read back from the DOCX; and every form that does not fit the decision's competence, the signer's position,
the TL. list or the delegation refused at drafting, signing or issue, one line, nothing written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from models.audit import AuditEntry
from models.document import Document, DocumentStatus
from models.register import RegisterEntry
from tests.docx_reading import lines, open_docx
from tests.test_directory import cli, ok, run  # noqa: F401 - cli is the fixture these tests run on

OUTLINES = Path(__file__).parent / "data" / "outlines"
DATED = "04/03/2024"
ISSUED = "05/03/2024"
BASES = [[{"law": "Luật Tổ chức chính quyền địa phương", "date": "19/6/2015"}],
         [{"type_name": "Nghị định", "number": "30/2020/NĐ-CP", "date": "05/3/2020", "issuer": "Chính phủ",
           "subject": "về công tác văn thư"}]]
# SAMPLE grants beyond the 2024 sample directory, each through `vanban directory grant` (audited like any change)
GRANTS = {
    "acting": ["pgd-sttt", "sttt", "--form", "Q.", "--kinds", "official_letter", "--from", "01/01/2024",
               "--until", "31/03/2024"],
    "deputy-tl": ["pcvp-vhxh", "ubnd-tinh", "--form", "TL.", "--kinds", "official_letter"],
    "delegation": ["gd-sttt", "ubnd-tinh", "--form", "TUQ.", "--kinds", "official_letter", "--from", "01/01/2024",
                   "--until", "04/03/2024", "--delegated-by", "ct-ubnd", "--delegation", "Giấy ủy quyền số 05/GUQ-UBND"],
}


def decision(competence: str, signer: str, form: str) -> dict[str, Any]:
    return {"kind": "decision", "issuer": "ubnd-tinh", "dated": DATED, "is_sample": True, "competence": competence,
            "subject": "Thành lập Tổ công tác văn bản điện tử", "legal_bases": BASES,
            "body": {"articles": [{"text": "Thành lập Tổ công tác văn bản điện tử của tỉnh."}]},
            "recipients": [{"text": "Như trên", "targets": ["agency:sttt"]}, {"text": "Lưu: VT", "targets": ["archive"]}],
            "signer": signer, "authority_form": form}


def letter(issuer: str, signer: str, form: str) -> dict[str, Any]:
    return {"kind": "official_letter", "issuer": issuer, "dated": DATED, "is_sample": True, "field_abbreviation": "VHXH",
            "subject": "triển khai văn bản điện tử",
            "kinh_gui": [{"text": "Sở Tư pháp", "targets": ["agency:stp"]}],
            "body": {"intro": "Đề nghị Sở Tư pháp triển khai văn bản điện tử trong năm 2024."},
            "recipients": [{"text": "Như trên", "targets": ["above"]}, {"text": "Lưu: VT", "targets": ["archive"]}],
            "signer": signer, "authority_form": form}


def grant(cli: CliRunner, name: str) -> None:
    ok(cli, "directory", "grant", *GRANTS[name], "--as", "vt-ubnd")


def draft(cli: CliRunner, tmp_path: Path, spec: dict[str, Any]) -> str:
    path = tmp_path / "draft.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return ok(cli, "draft", str(path), "--as", "cv-vhxh").stdout.split("draft #")[1].split()[0]


def outline(cli: CliRunner, tmp_path: Path, doc_id: str) -> list[str]:
    """The document's text as the DOCX reads, line by line; the DOCX passes `vanban check`."""
    out = tmp_path / f"{doc_id}.docx"
    ok(cli, "render", doc_id, "--out", str(out))
    ok(cli, "check", str(out))
    return lines(open_docx(out.read_bytes()))


def signer_lines(cli: CliRunner, tmp_path: Path, doc_id: str, name: str) -> list[str]:
    """The lines between the Nơi nhận list and the signer's name."""
    text = outline(cli, tmp_path, doc_id)
    end = len(text) - 1 - text[::-1].index(name)
    start = max(i for i in range(end) if text[i].startswith("- "))  # the last Nơi nhận line
    return text[start + 1:end]


FORMS = [
    (None, decision("head", "ct-ubnd", "head"), "Nguyễn Văn An", ["CHỦ TỊCH"]),
    (None, decision("collective", "ct-ubnd", "TM."), "Nguyễn Văn An", ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"]),
    (None, decision("head", "pct-vhxh", "KT."), "Trần Thị Bình", ["KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]),
    (None, decision("collective", "pct-kt", "TM.+KT."), "Lê Văn Cường",
     ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]),
    ("acting", letter("sttt", "pgd-sttt", "Q."), "Bùi Thị Mai", ["Q. GIÁM ĐỐC"]),
    (None, letter("ubnd-tinh", "cvp", "TL."), "Phạm Văn Dũng", ["TL. CHỦ TỊCH", "CHÁNH VĂN PHÒNG"]),
    ("deputy-tl", letter("ubnd-tinh", "pcvp-vhxh", "TL."), "Hoàng Thị Hoa",
     ["TL. CHỦ TỊCH", "KT. CHÁNH VĂN PHÒNG", "PHÓ CHÁNH VĂN PHÒNG"]),
    ("delegation", letter("ubnd-tinh", "gd-sttt", "TUQ."), "Ngô Văn Khoa",
     ["TUQ. CHỦ TỊCH", "GIÁM ĐỐC SỞ THÔNG TIN VÀ TRUYỀN THÔNG"]),
]


@pytest.mark.parametrize("granted, spec, name, expected", FORMS, ids=[s["authority_form"] + (f"-{g}" if g else "")
                                                                      for g, s, _, _ in FORMS])
def test_every_form_is_drafted_signed_issued_and_printed(cli: CliRunner, engine: Engine, tmp_path: Path,
                                                         granted: str | None, spec: dict[str, Any], name: str,
                                                         expected: list[str]) -> None:
    if granted:
        grant(cli, granted)
    doc_id = draft(cli, tmp_path, spec)
    assert ok(cli, "sign", doc_id).stdout.strip() == f"document #{doc_id} signed ({spec['authority_form']})"
    issued = ok(cli, "issue", doc_id, "--date", DATED if granted == "delegation" else ISSUED).stdout
    assert issued.startswith("issued as ")
    assert signer_lines(cli, tmp_path, doc_id, name) == expected
    form_id = spec["authority_form"] + (f"-{granted}" if granted else "")
    assert outline(cli, tmp_path, doc_id) == (OUTLINES / f"form-{form_id}.txt").read_text(encoding="utf-8").splitlines()


def counts(engine: Engine) -> tuple[int, ...]:
    with Session(engine) as s:
        return tuple(s.exec(select(func.count()).select_from(t)).one() for t in (Document, RegisterEntry, AuditEntry))


def refused(cli: CliRunner, engine: Engine, *args: str) -> str:
    """The command fails with one line naming the field and the rule, and writes nothing."""
    before = counts(engine)
    result = run(cli, *args)
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert counts(engine) == before
    return result.output.strip()


@pytest.mark.parametrize("spec, field, rule", [
    (decision("collective", "pct-vhxh", "KT."), "authority_form", "signer.competence"),  # a collective act
    (decision("head", "ct-ubnd", "TM."), "authority_form", "signer.competence"),  # a head's act
    (letter("ubnd-tinh", "pct-vhxh", "TL."), "signer", "signer.tl-list"),
    (letter("ubnd-tinh", "gd-sttt", "TUQ."), "authority_form", "signer.tuq-delegation"),
    (letter("ubnd-tinh", "pct-vhxh", "Q."), "authority_form", "signer.form"),  # no record of acting
])
def test_a_form_that_does_not_fit_is_refused_at_drafting(cli: CliRunner, engine: Engine, tmp_path: Path,
                                                          spec: dict[str, Any], field: str, rule: str) -> None:
    path = tmp_path / "draft.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    message = refused(cli, engine, "draft", str(path), "--as", "cv-vhxh")
    assert len(message.splitlines()) == 1, message
    assert message.startswith(f"error: {field}: ") and message.endswith(f"({rule})"), message


def test_a_deputy_granted_the_head_forms_still_signs_kt(cli: CliRunner, engine: Engine, tmp_path: Path) -> None:
    # a directory that grants a deputy 'head' and TM. does not make him the head: the position decides
    ok(cli, "directory", "grant", "pct-vhxh", "ubnd-tinh", "--form", "head", "--as", "vt-ubnd")
    ok(cli, "directory", "grant", "pct-vhxh", "ubnd-tinh", "--form", "TM.", "--as", "vt-ubnd")
    for competence, form in (("head", "head"), ("collective", "TM.")):
        path = tmp_path / "draft.yaml"
        path.write_text(yaml.safe_dump(decision(competence, "pct-vhxh", form), allow_unicode=True), encoding="utf-8")
        message = refused(cli, engine, "draft", str(path), "--as", "cv-vhxh")
        assert "pct-vhxh is not the head of ubnd-tinh on 04/3/2024" in message and "signer.form-position" in message


def test_a_delegation_holds_only_in_its_dates_at_signing_and_issue(cli: CliRunner, engine: Engine,
                                                                   tmp_path: Path) -> None:
    grant(cli, "delegation")
    doc_id = draft(cli, tmp_path, letter("ubnd-tinh", "gd-sttt", "TUQ."))
    ok(cli, "sign", doc_id)
    late = refused(cli, engine, "issue", doc_id, "--date", ISSUED)  # the delegation ended on 04/3/2024
    assert "'Giấy ủy quyền số 05/GUQ-UBND' holds from 01/01/2024 until 04/3/2024, not on 05/3/2024" in late
    assert "signer.tuq-period" in late
    with Session(engine) as s:
        assert s.get(Document, int(doc_id)).status is DocumentStatus.SIGNED


def test_signing_checks_the_competence_again(cli: CliRunner, engine: Engine, tmp_path: Path) -> None:
    spec = {k: v for k, v in decision("collective", "", "").items() if k not in ("signer", "authority_form")}
    doc_id = draft(cli, tmp_path, spec)
    kt = refused(cli, engine, "sign", doc_id, "--signer", "pct-vhxh", "--form", "KT.")
    assert kt.startswith("error: authority_form: a Quyết định under the collective competence is signed TM. or TM.+KT.")
    # with no form asked for, the deputy's form that fits a collective act is chosen
    assert ok(cli, "sign", doc_id, "--signer", "pct-vhxh").stdout.strip() == f"document #{doc_id} signed (TM.+KT.)"


def test_the_head_does_not_sign_as_acting_head(cli: CliRunner, engine: Engine, tmp_path: Path) -> None:
    ok(cli, "directory", "grant", "gd-sttt", "sttt", "--form", "Q.", "--as", "vt-ubnd")
    path = tmp_path / "draft.yaml"
    path.write_text(yaml.safe_dump(letter("sttt", "gd-sttt", "Q."), allow_unicode=True), encoding="utf-8")
    message = refused(cli, engine, "draft", str(path), "--as", "cv-vhxh")
    assert message.endswith("gd-sttt is the head of sttt on 04/3/2024 and signs as head or TM., not Q. "
                            "(signer.form-position)")
