"""The renderer: the seed decision line for line, the Decree 30 format, deterministic bytes, escaping."""

from __future__ import annotations

import hashlib
import re
import zipfile
import io
from pathlib import Path

import pytest
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt
from sqlalchemy.engine import Engine
from sqlmodel import select

from doc_templates import render_document
from models.db import session_scope
from models.document import Document, GeneratedFile
from models.drafting import draft_document
from models.files import path_of
from models.signing import sign_document
from tests.docx_reading import find, has_top_border, lines, open_docx, paragraphs
from tests.test_drafting import seed_spec

SEED = Path(__file__).parent / "data" / "374-QD-UBND-2024.txt"
HEADER_UBND = ["ỦY BAN NHÂN DÂN", "TỈNH VĨNH LONG", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]


def seed_lines() -> list[str]:
    """The seed's lines, '**' bold marks removed. The trích yếu is one paragraph that the seed shows
    wrapped over two lines (as the page wrapped it): those two lines are joined."""
    blocks = re.split(r"\n\s*\n", SEED.read_text(encoding="utf-8").strip())
    out: list[str] = []
    for i, block in enumerate(blocks):
        block_lines = block.replace("**", "").splitlines()
        if i > 0 and blocks[i - 1] == "QUYẾT ĐỊNH":
            out.append(" ".join(block_lines))
        else:
            out.extend(block_lines)
    return out


def issued(engine: Engine, symbol: str) -> tuple[Document, bytes]:
    with session_scope(engine) as session:
        doc = session.exec(select(Document).where(Document.symbol == symbol)).one()
        return doc, render_document(session, doc)


def test_the_decision_reproduces_the_seed_line_for_line(chain_engine: Engine) -> None:
    _, data = issued(chain_engine, "QĐ-UBND")
    got = lines(open_docx(data))
    # The seed lacks the header lines the real document carries, and the signer's name.
    assert got[:4] == HEADER_UBND
    assert got[-1] == "Trần Thị Bình"
    assert got[4:-1] == seed_lines()


def test_the_stored_sha256_is_that_of_the_stored_file_and_of_a_fresh_rendering(chain_engine: Engine, tmp_path: Path) -> None:
    with session_scope(chain_engine) as session:
        records = session.exec(select(GeneratedFile).where(GeneratedFile.purpose == "issued")).all()
        assert sorted(r.filename for r in records) == ["10-TTr-STTTT.docx", "11-KH-STTTT.docx", "374-QD-UBND.docx"]
        for record in records:
            stored = path_of(tmp_path / "db" / "files", record.sha256).read_bytes()
            assert hashlib.sha256(stored).hexdigest() == record.sha256
            again = render_document(session, session.get(Document, record.document_id))
            assert again == stored


def test_zip_entries_have_fixed_timestamps(chain_engine: Engine) -> None:
    _, data = issued(chain_engine, "QĐ-UBND")
    infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    core = open_docx(data).core_properties
    assert core.created.date().isoformat() == "2024-03-04" and core.modified == core.created


@pytest.mark.parametrize("symbol", ["QĐ-UBND", "TTr-STTTT", "KH-STTTT"])
def test_page_setup_fonts_and_page_numbers(chain_engine: Engine, symbol: str) -> None:
    _, data = issued(chain_engine, symbol)
    doc = open_docx(data)
    section = doc.sections[0]
    assert section.orientation == WD_ORIENT.PORTRAIT
    assert (abs(section.page_width - Mm(210)) < Mm(0.5), abs(section.page_height - Mm(297)) < Mm(0.5)) == (True, True)
    assert Mm(20) <= section.top_margin <= Mm(25) and Mm(20) <= section.bottom_margin <= Mm(25)
    assert Mm(30) <= section.left_margin <= Mm(35) and Mm(15) <= section.right_margin <= Mm(20)
    assert section.different_first_page_header_footer
    assert "PAGE" in "".join(t.text for t in section.header._element.iter(qn("w:instrText")))
    assert section.header.paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert not any(p.text for p in section.first_page_header.paragraphs)
    every_run = [r for p in paragraphs(doc) for r in p.runs] + [r for p in section.header.paragraphs for r in p.runs]
    assert every_run
    for run in every_run:
        fonts = run._r.rPr.find(qn("w:rFonts"))
        assert {fonts.get(qn(f"w:{k}")) for k in ("ascii", "hAnsi", "cs", "eastAsia")} == {"Times New Roman"}, run.text
        assert not any(a.endswith("Theme") for a in fonts.attrib)
    run_defaults = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    defaults = run_defaults.find(qn("w:rFonts"))
    assert defaults.get(qn("w:ascii")) == "Times New Roman" and defaults.get(qn("w:asciiTheme")) is None
    language = run_defaults.find(qn("w:lang"))  # spell-checked as Vietnamese, not en-US
    assert (language.get(qn("w:val")), language.get(qn("w:eastAsia"))) == ("vi-VN", "vi-VN")


def test_decision_components_follow_decree_30(chain_engine: Engine) -> None:
    _, data = issued(chain_engine, "QĐ-UBND")
    doc = open_docx(data)
    header = doc.tables[0]
    quoc_hieu = find(doc, "CỘNG HÒA")
    assert quoc_hieu.runs[0].bold and quoc_hieu.runs[0].font.size == Pt(12)
    tieu_ngu = find(doc, "Độc lập - Tự do - Hạnh phúc")
    assert tieu_ngu.runs[0].bold and Pt(13) <= tieu_ngu.runs[0].font.size <= Pt(14)
    left_cell, right_cell = header.rows[0].cells
    assert has_top_border(left_cell.paragraphs[-1]) and has_top_border(right_cell.paragraphs[-1])
    assert all(r.bold for p in left_cell.paragraphs for r in p.runs)  # ỦY BAN NHÂN DÂN / TỈNH VĨNH LONG, no parent
    number = find(doc, "Số: ")
    assert number.text == "Số: 374/QĐ-UBND" and number.runs[0].font.size == Pt(13)
    date_p = find(doc, "Vĩnh Long, ngày")
    assert date_p.runs[0].italic and Pt(13) <= date_p.runs[0].font.size <= Pt(14)
    assert header.rows[1].cells[0].paragraphs[0] is not None  # Số and date share the second row (one baseline)
    for start in ("QUYẾT ĐỊNH", "Phê duyệt Kế hoạch", "CHỦ TỊCH ỦY BAN", "QUYẾT ĐỊNH:"):
        p = find(doc, start)
        assert p.alignment == WD_ALIGN_PARAGRAPH.CENTER and all(r.bold for r in p.runs), start
    subject_rule = list(paragraphs(doc))[[p.text for p in paragraphs(doc)].index(find(doc, "Phê duyệt Kế hoạch").text) + 1]
    assert has_top_border(subject_rule)
    bases = [p for p in paragraphs(doc) if p.text.startswith(("Căn cứ", "Theo đề nghị"))]
    assert len(bases) == 6 and all(r.italic for p in bases for r in p.runs)
    assert [p.text[-1] for p in bases] == [";"] * 5 + ["."]
    for n in (1, 2, 3):
        article = find(doc, f"Điều {n}.")
        assert article.runs[0].text.startswith(f"Điều {n}.") and article.runs[0].bold
    assert not find(doc, "Điều 1.").runs[1].bold  # an untitled article's text is regular
    for p in [find(doc, "Điều 1."), find(doc, "Giao Giám đốc"), find(doc, "Quyết định có hiệu lực")] + bases:
        assert p.alignment == WD_ALIGN_PARAGRAPH.JUSTIFY
        assert p.paragraph_format.first_line_indent >= Cm(1) - 10
        assert p.paragraph_format.space_before >= Pt(6)
        assert all(r.font.size in (Pt(13), Pt(14)) for r in p.runs)
    assert find(doc, "(Kèm theo").runs[0].italic
    noi_nhan = find(doc, "Nơi nhận:")
    assert noi_nhan.runs[0].bold and noi_nhan.runs[0].italic and noi_nhan.runs[0].font.size == Pt(12)
    items = [p for p in paragraphs(doc) if p.text.startswith("- ")]
    assert [p.runs[0].font.size for p in items] == [Pt(11)] * 5
    assert items[-1].text == "- Lưu: VT, 3.30.05." and all(p.text.endswith(";") for p in items[:-1])
    for start in ("KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Trần Thị Bình"):
        p = find(doc, start)
        assert p.runs[0].bold and p.runs[0].font.size == Pt(14)
    closing = doc.tables[-1]
    assert closing.rows[0]._tr.trPr.find(qn("w:cantSplit")) is not None


def test_a_department_header_prints_its_parent_in_regular_type(chain_engine: Engine) -> None:
    _, data = issued(chain_engine, "TTr-STTTT")
    doc = open_docx(data)
    left = doc.tables[0].rows[0].cells[0]
    texts = [p.text for p in left.paragraphs if p.text]
    assert texts == ["UBND TỈNH VĨNH LONG", "SỞ THÔNG TIN VÀ", "TRUYỀN THÔNG"]
    assert not left.paragraphs[0].runs[0].bold and all(p.runs[0].bold for p in left.paragraphs[1:3])
    assert find(doc, "Kính gửi:").text == "Kính gửi: Ủy ban nhân dân tỉnh Vĩnh Long."
    assert find(doc, "Số:").text == "Số: 10/TTr-STTTT"
    assert find(doc, "Vĩnh Long, ngày").text == "Vĩnh Long, ngày 20 tháng 02 năm 2024"
    assert lines(doc)[-1] == "Ngô Văn Khoa" and "GIÁM ĐỐC" in lines(doc)
    assert "sample" in doc.core_properties.keywords  # the Tờ trình body is sample text


def test_the_last_body_paragraph_ends_with_the_end_mark(chain_engine: Engine) -> None:
    for symbol, last in (("KH-STTTT", "thực hiện Kế hoạch./."), ("QĐ-UBND", "kể từ ngày ký./.")):
        _, data = issued(chain_engine, symbol)
        body = [t for t in lines(open_docx(data)) if t.endswith("./.")]
        assert len(body) == 1 and body[0].endswith(last)


def test_a_draft_shows_a_blank_number_and_no_date(chain_engine: Engine) -> None:
    with session_scope(chain_engine) as session:
        doc = draft_document(session, seed_spec("decision"))
        data = render_document(session, doc)
    text = lines(open_docx(data))
    assert "Số:      /QĐ-UBND" in text
    assert "Vĩnh Long, ngày      tháng      năm" in text
    assert not any(re.search(r"ngày \d", t) for t in text[:8])
    assert open_docx(data).core_properties.created.year == 1980


def test_hostile_text_comes_out_literally(chain_engine: Engine) -> None:
    spec = seed_spec("decision")
    spec["subject"] = 'Phê duyệt <b>kế hoạch</b> & "{{ x }}" {% if 1 %}y{% endif %} </document>'
    spec["executors"][0]["text"] = "Chánh Văn phòng <UBND> & đồng chí \"A\""
    with session_scope(chain_engine) as session:
        doc = draft_document(session, spec)
        sign_document(session, doc)
        data = render_document(session, doc)
    text = lines(open_docx(data))
    assert spec["subject"] in text
    assert any("Chánh Văn phòng <UBND> & đồng chí \"A\"; Giám đốc" in t for t in text)
    zipfile.ZipFile(io.BytesIO(data)).testzip()


def test_other_kinds_render(engine: Engine) -> None:
    """A Công văn (V/v line, several Kính gửi aligned under the colon) and a Báo cáo both render."""
    letter = {
        "kind": "official_letter", "issuer": "ubnd-tinh", "field_abbreviation": "VHXH",
        "subject": "triển khai Kế hoạch thông tin cơ sở năm 2024",
        "kinh_gui": [{"text": "Sở Thông tin và Truyền thông", "targets": ["agency:sttt"]},
                     {"text": "Ủy ban nhân dân các huyện, thị xã, thành phố", "targets": ["group:ubnd-cap-huyen"]}],
        "body": {"intro": ["Ủy ban nhân dân tỉnh đề nghị các đơn vị triển khai thực hiện Kế hoạch."]},
        "recipients": [{"text": "Như trên", "targets": ["above"]}, {"text": "Lưu: VT, P.VHXH", "targets": ["archive"]}],
        "signer": "cvp",
    }
    report = {
        "kind": "report", "issuer": "sttt", "subject": "Kết quả thực hiện Kế hoạch năm 2024",
        "kinh_gui": [{"text": "Ủy ban nhân dân tỉnh Vĩnh Long", "targets": ["agency:ubnd-tinh"]}],
        "body": {"sections": [{"label": "I.", "title": "KẾT QUẢ THỰC HIỆN",
                               "children": [{"label": "1.", "text": "Đã hoàn thành."}]}]},
        "recipients": [{"text": "Như trên", "targets": ["above"]}, {"text": "Lưu: VT", "targets": ["archive"]}],
        "signer": "gd-sttt",
    }
    with session_scope(engine) as session:
        letter_doc = draft_document(session, letter)
        report_doc = draft_document(session, report)
        letter_lines = lines(open_docx(render_document(session, letter_doc)))
        report_lines = lines(open_docx(render_document(session, report_doc)))
    assert "Số:      /UBND-VHXH" in letter_lines
    assert "V/v triển khai Kế hoạch thông tin cơ sở năm 2024" in letter_lines
    assert "Kính gửi: - Sở Thông tin và Truyền thông;" in letter_lines
    assert "- Ủy ban nhân dân các huyện, thị xã, thành phố." in letter_lines
    assert "TL. CHỦ TỊCH" in letter_lines and "CHÁNH VĂN PHÒNG" in letter_lines
    assert not any(t in ("CÔNG VĂN",) for t in letter_lines)
    assert "BÁO CÁO" in report_lines and "I. KẾT QUẢ THỰC HIỆN" in report_lines
    assert "1. Đã hoàn thành./." in report_lines
