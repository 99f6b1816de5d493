"""Every kind of Decree 30 Điều 7 (models/kinds.py): one sample each (models/sample/gallery_2026.yaml) drafted,
signed, numbered from its register, issued, passing `vanban check` and reading as its outline in tests/data/outlines;
the parts a kind cannot have, or must have, refused at drafting with the field and the rule, nothing written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from doc_templates.nd30_rules import check
from models.kinds import KINDS, DocumentKind, Heading
from models.legal_text import TYPE_ABBREVIATIONS
from tests.docx_reading import lines, open_docx
from tests.test_directory import cli, ok  # noqa: F401 - cli is the fixture these tests run on
from tests.test_signing_forms import refused

OUTLINES = Path(__file__).parent / "data" / "outlines"

# Điều 7 of Decree 30, in its order, with the abbreviations of Phụ lục III Mục I (nd30-format.md §4), written out here
# independently of the table under test.
DIEU_7 = [
    ("Nghị quyết", "NQ"), ("Quyết định", "QĐ"), ("Chỉ thị", "CT"), ("Quy chế", "QC"), ("Quy định", "QyĐ"),
    ("Thông cáo", "TC"), ("Thông báo", "TB"), ("Hướng dẫn", "HD"), ("Chương trình", "CTr"), ("Kế hoạch", "KH"),
    ("Phương án", "PA"), ("Đề án", "ĐA"), ("Dự án", "DA"), ("Báo cáo", "BC"), ("Biên bản", "BB"),
    ("Tờ trình", "TTr"), ("Hợp đồng", "HĐ"), ("Công văn", None), ("Công điện", "CĐ"), ("Bản ghi nhớ", "BGN"),
    ("Bản thỏa thuận", "BTT"), ("Giấy ủy quyền", "GUQ"), ("Giấy mời", "GM"), ("Giấy giới thiệu", "GGT"),
    ("Giấy nghỉ phép", "GNP"), ("Phiếu gửi", "PG"), ("Phiếu chuyển", "PC"), ("Phiếu báo", "PB"), ("Thư công", None),
]


def test_the_table_holds_the_29_kinds_of_dieu_7_with_their_abbreviations() -> None:
    assert [(k.name, k.abbreviation) for k in KINDS.values()] == DIEU_7
    assert len(TYPE_ABBREVIATIONS) == 27 and "Công văn" not in TYPE_ABBREVIATIONS


@pytest.mark.parametrize("kind", list(DocumentKind), ids=lambda k: k.value)
def test_each_kind_is_issued_passes_the_check_and_reads_as_its_outline(gallery: dict[str, bytes],
                                                                       kind: DocumentKind) -> None:
    data = gallery[kind.value]
    report = check(data)
    assert report.kind == kind.value and report.findings == []
    text = lines(open_docx(data))
    assert text == (OUTLINES / f"{kind.value}.txt").read_text(encoding="utf-8").splitlines()
    row = KINDS[kind]
    number = next(line for line in text if line.startswith("Số: "))
    assert f"/{row.abbreviation}-" in number if row.abbreviation else number.count("-") == 1
    if row.heading is not Heading.VV and row.heading is not Heading.NONE:
        assert row.name.upper() in text


def test_the_gallery_command_writes_one_document_of_every_kind(cli: CliRunner, tmp_path: Path) -> None:
    result = ok(cli, "gallery", "--out", str(tmp_path / "gallery"))
    written = sorted(p.name for p in (tmp_path / "gallery").glob("*.docx"))
    assert len(written) == 29 and "29 documents written" in result.stdout
    assert written[0].startswith("01-resolution-01-NQ-") and written[-1].startswith("29-public_letter-")
    ok(cli, "check", str(tmp_path / "gallery" / written[22]))  # the Giấy mời, as a clerk would check it


def test_the_kinds_command_lists_every_kind_and_its_parts(cli: CliRunner) -> None:
    out = ok(cli, "kinds").stdout
    for k in KINDS.values():
        assert k.kind.value in out and k.name in out


def _spec(**fields: Any) -> dict[str, Any]:
    spec = {"kind": "official_letter", "issuer": "sttt", "field_abbreviation": "VP", "subject": "thử",
            "dated": "04/3/2024", "kinh_gui": [{"text": "Ủy ban nhân dân tỉnh", "targets": ["agency:ubnd-tinh"]}],
            "recipients": [{"text": "Như trên", "targets": ["above"]}, {"text": "Lưu: VT", "targets": ["archive"]}],
            "signer": "gd-sttt", "body": {"intro": "Đề nghị Ủy ban nhân dân tỉnh xem xét."}}
    return {**spec, **fields}


INVITATION = _spec(kind="Giấy mời", kinh_gui=[], body={}, recipients=[{"text": "Lưu: VT", "targets": ["archive"]}],
                   form={"invitees": "Đại diện lãnh đạo các sở, ban, ngành tỉnh", "time": "08:00 12/3/2024",
                         "place": "Hội trường Sở"})


@pytest.mark.parametrize("spec, field, rule", [
    (_spec(kind="Giấy báo"), "kind", "kind.unknown"),
    (_spec(legal_bases=[[{"law": "Luật Tổ chức chính quyền địa phương", "date": "19/6/2015"}]]), "legal_bases",
     "kind.part"),  # căn cứ in a Công văn
    (_spec(kind="report", body={"articles": [{"text": "Điều trong một báo cáo."}]}), "body.articles", "kind.part"),
    (_spec(kind="decision", competence="head", kinh_gui=[], legal_bases=[[{"law": "Luật Tổ chức chính quyền địa phương",
                                                               "date": "19/6/2015"}]],
           body={"sections": [{"label": "I.", "text": "Mục trong một quyết định."}]}), "body.sections", "kind.part"),
    (_spec(kind="official_letter", kinh_gui=[]), "kinh_gui", "kinh-gui.required"),
    (_spec(body={}), "body", "body.required"),
    (_spec(kind="decision", competence="head", kinh_gui=[]), "legal_bases", "legal-bases.required"),
    (_spec(kind="dispatch_slip"), "body.table", "table.required"),
    ({**INVITATION, "form": {k: v for k, v in INVITATION["form"].items() if k != "time"}}, "form.time", "form.required"),
    ({**INVITATION, "form": {k: v for k, v in INVITATION["form"].items() if k != "place"}}, "form.place", "form.required"),
    ({**INVITATION, "form": {**INVITATION["form"], "time": "sáng thứ Hai"}}, "form.time", "datetime.format"),
    ({**INVITATION, "form": {**INVITATION["form"], "dress": "áo dài"}}, "form.dress", "form.unknown"),
    (_spec(kind="minutes", kinh_gui=[], signer=None), "form.started", "form.required"),
    (_spec(kind="resolution", competence="head", kinh_gui=[], legal_bases=[[{"law": "Luật Tổ chức chính quyền địa phương",
                                                                              "date": "19/6/2015"}]]), "competence", "kind.competence"),
])
def test_a_part_the_kind_cannot_have_or_lacks_is_refused(cli: CliRunner, engine: Engine, tmp_path: Path,
                                                         spec: dict[str, Any], field: str, rule: str) -> None:
    path = tmp_path / "draft.yaml"
    path.write_text(yaml.safe_dump({k: v for k, v in spec.items() if v is not None}, allow_unicode=True), encoding="utf-8")
    message = refused(cli, engine, "draft", str(path), "--as", "cv-sttt")
    assert f"{field}:" in message and f"({rule})" in message and len(message.splitlines()) == 1, message


def test_a_giay_moi_prints_its_time_place_and_invitees(cli: CliRunner, tmp_path: Path) -> None:
    """One invitee stays one item, commas and all; the time is written out as Decree 30 writes dates."""
    path = tmp_path / "moi.yaml"
    path.write_text(yaml.safe_dump(INVITATION, allow_unicode=True), encoding="utf-8")
    doc_id = ok(cli, "draft", str(path), "--as", "cv-sttt").stdout.split("draft #")[1].split()[0]
    out = tmp_path / "moi.docx"
    ok(cli, "render", doc_id, "--out", str(out))
    text = lines(open_docx(out.read_bytes()))
    assert "Sở Thông tin và Truyền thông trân trọng kính mời: Đại diện lãnh đạo các sở, ban, ngành tỉnh." in text
    assert "Thời gian: 08 giờ 00 phút, thứ Ba, ngày 12 tháng 3 năm 2024." in text
    assert "Địa điểm: Hội trường Sở./." in text


def test_one_paragraph_written_as_a_plain_string_stays_one_paragraph(cli: CliRunner, tmp_path: Path) -> None:
    """Specs as clerks write them: 'intro: …, …' is one paragraph, commas and all."""
    spec = _spec(body={"intro": "Sở đề nghị các huyện, thị xã, thành phố báo cáo trước ngày 15 tháng 3 năm 2024."})
    path = tmp_path / "cv.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    doc_id = ok(cli, "draft", str(path), "--as", "cv-sttt").stdout.split("draft #")[1].split()[0]
    out = tmp_path / "cv.docx"
    ok(cli, "render", doc_id, "--out", str(out))
    assert "Sở đề nghị các huyện, thị xã, thành phố báo cáo trước ngày 15 tháng 3 năm 2024./." in lines(open_docx(out.read_bytes()))
