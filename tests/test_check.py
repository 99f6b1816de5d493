"""The Decree 30 checker: every document vanban generates conforms; each single-property mutation of
one fires exactly the matching rule; bad files give a clear error or clear findings, never a crash."""

from __future__ import annotations

import copy
import io
import json
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import docx
import pytest
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Mm, Pt
from docx.text.paragraph import Paragraph
from sqlmodel import select

from doc_templates import render_document
from doc_templates.docx_reader import UnreadableDocx, read_layout
from doc_templates.nd30_rules import RULES, check
from models.db import make_engine, session_scope
from models.document import Document, DocumentKind
from models.drafting import draft_document
from models.issuing import issue_document
from models.legal_text import AuthorityForm, signer_block
from models.signing import sign_document
from tests.docx_reading import find, paragraphs
from tests.test_drafting import seed_spec

LETTER = {
    "kind": "official_letter", "issuer": "ubnd-tinh", "field_abbreviation": "VHXH",
    "subject": "triển khai Kế hoạch thông tin cơ sở năm 2024",
    "kinh_gui": [{"text": "Sở Thông tin và Truyền thông", "targets": ["agency:sttt"]},
                 {"text": "Ủy ban nhân dân các huyện, thị xã, thành phố", "targets": ["group:ubnd-cap-huyen"]}],
    "body": {"intro": ["Ủy ban nhân dân tỉnh đề nghị các cơ quan, đơn vị triển khai thực hiện Kế hoạch số 11/KH-STTTT "
                       "ngày 20/02/2024 của Giám đốc Sở Thông tin và Truyền thông."]},
    "recipients": [{"text": "Như trên", "targets": ["above"]}, {"text": "Lưu: VT, P.VHXH", "targets": ["archive"]}],
    "signer": "cvp",
}
REPORT = {
    "kind": "report", "issuer": "sttt", "subject": "Kết quả thực hiện Kế hoạch số 11/KH-STTTT ngày 20/02/2024",
    "kinh_gui": [{"text": "Ủy ban nhân dân tỉnh Vĩnh Long", "targets": ["agency:ubnd-tinh"]}],
    "body": {"sections": [{"label": "I.", "title": "KẾT QUẢ THỰC HIỆN", "children": [
        {"label": "1.", "text": "Đã rà soát, hoàn thiện quy chế hoạt động thông tin cơ sở trên địa bàn tỉnh."}]}]},
    "recipients": [{"text": "Như trên", "targets": ["above"]}, {"text": "Lưu: VT, P.TTBCXB", "targets": ["archive"]}],
    "signer": "gd-sttt",
}


@pytest.fixture(scope="module")
def generated(_chain_template: Path, gallery: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The seed chain as drafts and issued, a Công văn and a Báo cáo, and the gallery's one issued sample of every
    kind ('gallery-minutes' …)."""
    folder = tmp_path_factory.mktemp("generated")
    shutil.copytree(_chain_template, folder / "db")
    engine = make_engine(f"sqlite:///{folder / 'db' / 'vanban.db'}")
    out: dict[str, bytes] = {}
    with session_scope(engine) as session:
        for doc in session.exec(select(Document)).all():
            out[f"issued-{doc.kind.value}"] = render_document(session, doc)
        for name, spec in (("official_letter", LETTER), ("report", REPORT), ("decision", seed_spec("decision")),
                           ("submission", seed_spec("submission")), ("plan", seed_spec("plan"))):
            doc = draft_document(session, copy.deepcopy(spec))
            out[f"draft-{name}"] = render_document(session, doc)
            if name in ("official_letter", "report"):
                sign_document(session, doc)
                issue_document(session, doc, date(2024, 12, 20), folder / "files")
                out[f"issued-{name}"] = render_document(session, doc)
    engine.dispose()
    return out | {f"gallery-{kind}": data for kind, data in gallery.items()}


def test_every_generated_document_conforms(generated: dict[str, bytes]) -> None:
    assert sorted(generated) == sorted([f"{state}-{kind}" for state in ("draft", "issued")
                                        for kind in ("decision", "submission", "plan", "report", "official_letter")]
                                       + [f"gallery-{kind.value}" for kind in DocumentKind])
    for name, data in generated.items():
        report = check(data)
        assert report.findings == [], (name, report.findings)
    assert check(generated["issued-decision"]).kind == "decision"
    assert check(generated["issued-official_letter"]).kind == "official_letter"
    assert check(generated["draft-plan"]).kind == "plan"


# --- mutations: one property changed, exactly one rule fires ------------------------------------

def _run(doc, start: str, index: int = 0):  # noqa: ANN001, ANN202
    return find(doc, start).runs[index]


def _set_text(doc, start: str, text: str) -> None:  # noqa: ANN001
    p = find(doc, start)
    p.runs[0].text = text
    for r in p.runs[1:]:
        r.text = ""


def _header_page_run(doc):  # noqa: ANN001, ANN202
    return doc.sections[0].header.paragraphs[0]


def _remove_page_field(doc) -> None:  # noqa: ANN001
    p = _header_page_run(doc)._p
    for r in list(p.iter(qn("w:r"))):
        p.remove(r)


def _following(doc, start: str):  # noqa: ANN001, ANN202
    all_paras = list(paragraphs(doc))
    return all_paras[[q._p for q in all_paras].index(find(doc, start)._p) + 1]


def _strip_font_and_use_style(doc) -> None:  # noqa: ANN001
    """The run loses its direct font and inherits Arial from the Normal style: found through the styles."""
    run = _run(doc, "Giao Giám đốc")
    run._r.rPr.remove(run._r.rPr.find(qn("w:rFonts")))
    fonts = doc.styles["Normal"].element.rPr.find(qn("w:rFonts"))
    for key in ("ascii", "hAnsi", "cs", "eastAsia"):
        fonts.set(qn(f"w:{key}"), "Arial")


def _track_a_change(doc) -> None:  # noqa: ANN001
    p = find(doc, "Giao Giám đốc")._p
    ins = parse_xml(f'<w:ins {nsdecls("w")} w:id="90" w:author="x" w:date="2024-03-04T00:00:00Z"/>')
    p.append(ins)


def _add_text_box(doc) -> None:  # noqa: ANN001
    p = find(doc, "Giao Giám đốc")._p
    p.append(parse_xml(
        f'<w:r {nsdecls("w")} xmlns:v="urn:schemas-microsoft-com:vml"><w:pict><v:shape><v:textbox><w:txbxContent><w:p><w:r><w:t>hộp</w:t></w:r></w:p>'
        f'</w:txbxContent></v:textbox></v:shape></w:pict></w:r>'))


def _nest_a_table(doc) -> None:  # noqa: ANN001
    doc.tables[-1].rows[0].cells[1].add_table(1, 1).rows[0].cells[0].paragraphs[0].add_run("x")


def _insert(doc, start: str, char: str) -> None:  # noqa: ANN001
    """``char`` in the middle of the first run of the paragraph that starts with ``start``: the text looks the same."""
    run = _run(doc, start)
    run.text = run.text[:4] + char + run.text[4:]


def _remove(paragraph) -> None:  # noqa: ANN001
    paragraph._p.getparent().remove(paragraph._p)


def _indent_rule(doc, start: str, left: float, right: float) -> None:  # noqa: ANN001
    """The rule line under the paragraph starting ``start`` moved and resized through its indents (points)."""
    fmt = _following(doc, start).paragraph_format
    fmt.left_indent, fmt.right_indent = Pt(fmt.left_indent.pt + left), Pt(fmt.right_indent.pt + right)


def _landscape(doc) -> None:  # noqa: ANN001
    s = doc.sections[0]
    s.orientation, s.page_width, s.page_height = WD_ORIENT.LANDSCAPE, s.page_height, s.page_width


@dataclass
class Mutation:
    name: str
    rule: str
    change: Callable
    base: str = "issued-decision"


MUTATIONS = [
    Mutation("top margin 15 mm", "ND30-MARGINS", lambda d: setattr(d.sections[0], "top_margin", Mm(15))),
    Mutation("left margin 25 mm", "ND30-MARGINS", lambda d: setattr(d.sections[0], "left_margin", Mm(25))),
    Mutation("right margin 25 mm", "ND30-MARGINS", lambda d: setattr(d.sections[0], "right_margin", Mm(25))),
    Mutation("Letter paper", "ND30-PAGE-SIZE", lambda d: (setattr(d.sections[0], "page_width", Mm(215.9)),
                                                          setattr(d.sections[0], "page_height", Mm(279.4)))),
    # a Công văn: a decision's trích yếu would wrap anew in the wider text area, and its rule no longer fit it
    Mutation("landscape", "ND30-PAGE-ORIENT", _landscape, "issued-official_letter"),
    Mutation("a run in Arial", "ND30-FONT", lambda d: setattr(_run(d, "Điều 3.", 1).font, "name", "Arial")),
    Mutation("Arial through the Normal style", "ND30-FONT", _strip_font_and_use_style),
    Mutation("Quốc hiệu at 14 pt", "ND30-QUOC-HIEU", lambda d: setattr(_run(d, "CỘNG HÒA").font, "size", Pt(14))),
    Mutation("Quốc hiệu spelled HOÀ", "ND30-QUOC-HIEU", lambda d: _set_text(d, "CỘNG HÒA", "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM")),
    Mutation("Tiêu ngữ not bold", "ND30-TIEU-NGU", lambda d: setattr(_run(d, "Độc lập"), "bold", False)),
    Mutation("Tiêu ngữ without its rule line", "ND30-TIEU-NGU-RULE",
             lambda d: _following(d, "Độc lập")._p.pPr.remove(_following(d, "Độc lập")._p.pPr.find(qn("w:pBdr")))),
    Mutation("agency name not bold", "ND30-AGENCY", lambda d: setattr(_run(d, "TỈNH VĨNH LONG"), "bold", False)),
    Mutation("number 5 without its zero", "ND30-NUMBER-PAD", lambda d: _set_text(d, "Số:", "Số: 5/QĐ-UBND")),
    Mutation("unknown type abbreviation", "ND30-NUMBER-TYPE", lambda d: _set_text(d, "Số:", "Số: 374/QD-UBND")),
    Mutation("spaces around '/'", "ND30-NUMBER", lambda d: _set_text(d, "Số:", "Số: 374 / QĐ-UBND")),
    Mutation("year in the symbol", "ND30-NUMBER-YEAR", lambda d: _set_text(d, "Số:", "Số: 374/2024/QĐ-UBND")),
    Mutation("month padded 'tháng 03'", "ND30-DATE-PAD",
             lambda d: _set_text(d, "Vĩnh Long, ngày", "Vĩnh Long, ngày 04 tháng 03 năm 2024")),
    Mutation("day unpadded 'ngày 4'", "ND30-DATE-PAD",
             lambda d: _set_text(d, "Vĩnh Long, ngày", "Vĩnh Long, ngày 4 tháng 3 năm 2024")),
    Mutation("date upright", "ND30-DATE-STYLE", lambda d: setattr(_run(d, "Vĩnh Long, ngày"), "italic", False)),
    Mutation("place in lower case", "ND30-DATE-PLACE",
             lambda d: _set_text(d, "Vĩnh Long, ngày", "vĩnh long, ngày 04 tháng 3 năm 2024")),
    Mutation("type name not bold", "ND30-TYPE-NAME", lambda d: setattr(_run(d, "QUYẾT ĐỊNH"), "bold", False)),
    Mutation("trích yếu left-aligned", "ND30-SUBJECT",
             lambda d: setattr(find(d, "Phê duyệt Kế hoạch"), "alignment", WD_ALIGN_PARAGRAPH.LEFT)),
    Mutation("authority line in normal case", "ND30-AUTHORITY",
             lambda d: _set_text(d, "CHỦ TỊCH ỦY BAN", "Chủ tịch Ủy ban nhân dân tỉnh Vĩnh Long")),
    Mutation("a căn cứ upright", "ND30-BASIS-STYLE", lambda d: setattr(_run(d, "Căn cứ Quyết định số 135"), "italic", False)),
    Mutation("no final '.' after the last căn cứ", "ND30-BASIS-PUNCT",
             lambda d: setattr(_run(d, "Theo đề nghị"), "text", _run(d, "Theo đề nghị").text[:-1] + ";")),
    Mutation("'QUYẾT ĐỊNH:' not bold", "ND30-DECIDES", lambda d: setattr(_run(d, "QUYẾT ĐỊNH:"), "bold", False)),
    Mutation("body at 12 pt", "ND30-BODY-SIZE", lambda d: setattr(_run(d, "Giao Giám đốc").font, "size", Pt(12))),
    Mutation("body left-aligned", "ND30-BODY-ALIGN",
             lambda d: setattr(find(d, "Giao Giám đốc"), "alignment", WD_ALIGN_PARAGRAPH.LEFT)),
    Mutation("body without first-line indent", "ND30-BODY-INDENT",
             lambda d: setattr(find(d, "Giao Giám đốc").paragraph_format, "first_line_indent", Cm(0))),
    Mutation("body without spacing", "ND30-BODY-SPACING",
             lambda d: setattr(find(d, "Giao Giám đốc").paragraph_format, "space_before", Pt(0))),
    Mutation("double line spacing", "ND30-BODY-SPACING",
             lambda d: setattr(find(d, "Giao Giám đốc").paragraph_format, "line_spacing", 2.0)),
    Mutation("'Điều 2.' not bold", "ND30-ARTICLE-LABEL", lambda d: setattr(_run(d, "Điều 2."), "bold", False)),
    Mutation("no './.' at the end", "ND30-END-MARK",
             lambda d: _set_text(d, "Quyết định có hiệu lực", "Quyết định có hiệu lực thi hành kể từ ngày ký.")),
    Mutation("Party-style 'K/T'", "ND30-SIGNER-AUTHORITY", lambda d: _set_text(d, "KT. CHỦ TỊCH", "K/T CHỦ TỊCH")),
    Mutation("signer's name in capitals", "ND30-SIGNER-NAME", lambda d: _set_text(d, "Trần Thị Bình", "TRẦN THỊ BÌNH")),
    Mutation("'Nơi nhận:' at 11 pt", "ND30-NOI-NHAN-HEADING", lambda d: setattr(_run(d, "Nơi nhận:").font, "size", Pt(11))),
    Mutation("a recipient at 12 pt", "ND30-NOI-NHAN-ITEMS", lambda d: setattr(_run(d, "- LĐVP").font, "size", Pt(12))),
    Mutation("no 'Lưu: VT'", "ND30-NOI-NHAN-ARCHIVE", lambda d: _set_text(d, "- Lưu:", "- Lưu: 3.30.05.")),
    Mutation("no page number", "ND30-PAGE-NUMBER", _remove_page_field),
    Mutation("a number on page 1", "ND30-PAGE-NUMBER",
             lambda d: setattr(d.sections[0], "different_first_page_header_footer", False)),
    Mutation("a tracked change", "ND30-TRACKED-CHANGES", _track_a_change),
    Mutation("a text box", "ND30-TEXT-BOX", _add_text_box),
    Mutation("a table inside the signature table", "ND30-NESTED-TABLE", _nest_a_table),
    Mutation("a Biên bản without the secretary's name", "ND30-PARTIES",
             lambda d: _remove(d.tables[1].rows[0].cells[0].paragraphs[-1]), "gallery-minutes"),
    Mutation("V/v line bold", "ND30-VV", lambda d: setattr(_run(d, "V/v"), "bold", True), "issued-official_letter"),
    # rule lines measured against the line they underline (§3.1, §3.2, §3.5)
    Mutation("Tiêu ngữ rule on its descenders (no space above it)", "ND30-TIEU-NGU-RULE",
             lambda d: setattr(_following(d, "Độc lập").paragraph_format, "space_before", Pt(0))),
    Mutation("Tiêu ngữ rule 40 pt short", "ND30-TIEU-NGU-RULE", lambda d: _indent_rule(d, "Độc lập", 20, 20)),
    Mutation("Tiêu ngữ rule a blank line below it", "ND30-TIEU-NGU-RULE",
             lambda d: setattr(_following(d, "Độc lập").paragraph_format, "space_before", Pt(16))),
    Mutation("agency rule 15 pt off centre", "ND30-AGENCY", lambda d: _indent_rule(d, "TỈNH VĨNH LONG", 15, -15)),
    Mutation("agency rule as long as the name", "ND30-AGENCY", lambda d: _indent_rule(d, "TỈNH VĨNH LONG", -40, -40)),
    Mutation("trích yếu rule a quarter of its line", "ND30-SUBJECT",
             lambda d: _indent_rule(d, "Phê duyệt Kế hoạch", 35, 35)),
    Mutation("trích yếu rule on its descenders", "ND30-SUBJECT",
             lambda d: setattr(_following(d, "Phê duyệt Kế hoạch").paragraph_format, "space_before", Pt(0))),
    Mutation("a right-to-left override in the body", "ND30-CHARACTERS", lambda d: _insert(d, "Giao Giám đốc", "\u202e")),
    Mutation("a soft hyphen in the agency name", "ND30-CHARACTERS", lambda d: _insert(d, "TỈNH VĨNH LONG", "\u00ad")),
    Mutation("a noncharacter in Nơi nhận", "ND30-CHARACTERS", lambda d: _insert(d, "- LĐVP", "\ufdd0")),
    Mutation("a word joiner in the page header", "ND30-CHARACTERS",
             lambda d: _header_page_run(d).add_run("\u2060")),
]


# --- the signer block read as a stack (§3.7) -----------------------------------------------------

def _signer_stack(*lines: str) -> Callable:
    """Ô 7a/7b above the name replaced by ``lines``, each a copy of the first line's paragraph, its formatting kept
    (a line holding '\n' is one paragraph broken by hand)."""
    def change(doc) -> None:  # noqa: ANN001
        cell = doc.tables[-1].rows[0].cells[1]
        old = [p for p in cell.paragraphs if p.text.strip()][:-1]  # the last one is the name
        for text in lines:
            el = copy.deepcopy(old[0]._p)
            old[0]._p.addprevious(el)
            runs = Paragraph(el, cell).runs
            runs[0].text = text
            for r in runs[1:]:
                r.text = ""
        for p in old:
            p._p.getparent().remove(p._p)
    return change


BAD_STACKS = [  # what went wrong, ô 7a/7b above the name, the rule that names it
    ("Q. with a title line of its own", ["Q. CHỦ TỊCH", "QUYỀN CHỦ TỊCH"], "ND30-SIGNER-STACK"),
    ("Q. and a title in one paragraph broken by hand", ["Q. CHỦ TỊCH\nCHỦ TỊCH"], "ND30-SIGNER-STACK"),
    ("a deputy under TL. without KT.", ["TL. CHỦ TỊCH", "PHÓ CHÁNH VĂN PHÒNG"], "ND30-SIGNER-STACK"),
    ("KT. above the head's own title", ["KT. CHỦ TỊCH", "CHỦ TỊCH"], "ND30-SIGNER-STACK"),
    ("KT. with no title under it", ["KT. CHỦ TỊCH"], "ND30-SIGNER-STACK"),
    ("TM.+KT. above a unit head's title", ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "CHÁNH VĂN PHÒNG"], "ND30-SIGNER-STACK"),
    ("a deputy under TM. without KT.", ["TM. ỦY BAN NHÂN DÂN", "PHÓ CHỦ TỊCH"], "ND30-SIGNER-STACK"),
    ("TM. with no title under it", ["TM. ỦY BAN NHÂN DÂN"], "ND30-SIGNER-STACK"),
    ("KT. above TM.", ["KT. CHỦ TỊCH", "TM. ỦY BAN NHÂN DÂN", "PHÓ CHỦ TỊCH"], "ND30-SIGNER-STACK"),
    ("TL. twice", ["TL. CHỦ TỊCH", "TL. CHÁNH VĂN PHÒNG", "TRƯỞNG PHÒNG"], "ND30-SIGNER-STACK"),
    ("a TUQ. passed on with KT.", ["TUQ. CHỦ TỊCH", "KT. GIÁM ĐỐC SỞ TƯ PHÁP", "PHÓ GIÁM ĐỐC SỞ TƯ PHÁP"],
     "ND30-SIGNER-STACK"),
    ("TUQ. with no title under it", ["TUQ. CHỦ TỊCH"], "ND30-SIGNER-STACK"),
    ("an authority line under a title", ["CHỦ TỊCH", "KT. CHỦ TỊCH"], "ND30-SIGNER-STACK"),
    ("a deputy's title alone", ["PHÓ CHỦ TỊCH"], "ND30-SIGNER-STACK"),
    ("an unknown prefix 'UQ.'", ["UQ. CHỦ TỊCH", "GIÁM ĐỐC SỞ TƯ PHÁP"], "ND30-SIGNER-AUTHORITY"),
    ("'KT' without its dot", ["KT CHỦ TỊCH", "PHÓ CHỦ TỊCH"], "ND30-SIGNER-AUTHORITY"),
]
MUTATIONS += [Mutation(f"signer stack: {name}", rule, _signer_stack(*lines)) for name, lines, rule in BAD_STACKS]


def mutated(data: bytes, change: Callable) -> bytes:
    doc = docx.Document(io.BytesIO(data))
    change(doc)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.name)
def test_a_mutation_fires_exactly_its_rule(generated: dict[str, bytes], mutation: Mutation) -> None:
    assert check(generated[mutation.base]).findings == []  # the conforming sample
    findings = check(mutated(generated[mutation.base], mutation.change)).findings
    assert {f.rule for f in findings} == {mutation.rule}, findings


def test_every_rule_has_a_breaking_sample() -> None:
    assert len({m.name for m in MUTATIONS}) >= 20
    assert set(RULES) == {m.rule for m in MUTATIONS}


def _printed(form: AuthorityForm, signer_title: str, unit_head_title: str | None = None) -> list[str]:
    return signer_block(form, head_title="Chủ tịch", signer_title=signer_title, collective="Ủy ban nhân dân",
                        unit_head_title=unit_head_title)


GOOD_STACKS = [  # every block vanban prints (docs/signing.md; test_signing_forms renders each through the CLI) …
    _printed(AuthorityForm.HEAD, "Chủ tịch"),
    _printed(AuthorityForm.TM, "Chủ tịch"),
    _printed(AuthorityForm.KT, "Phó Chủ tịch"),
    _printed(AuthorityForm.TM_KT, "Phó Chủ tịch"),
    _printed(AuthorityForm.Q, "Phó Chủ tịch"),
    _printed(AuthorityForm.TL, "Chánh Văn phòng"),
    _printed(AuthorityForm.TL, "Phó Chánh Văn phòng", "Chánh Văn phòng"),
    _printed(AuthorityForm.TUQ, "Giám đốc Sở Thông tin và Truyền thông"),
    # … and those of other agencies: a minister's deputy, the head of an advisory body with his post in the agency
    ["KT. BỘ TRƯỞNG", "THỨ TRƯỞNG"],
    ["TRƯỞNG BAN", "PHÓ CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH"],
    ["KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH"],
]


@pytest.mark.parametrize("lines", GOOD_STACKS, ids=lambda lines: " / ".join(lines))
def test_every_signer_stack_vanban_prints_conforms(generated: dict[str, bytes], lines: list[str]) -> None:
    assert check(mutated(generated["issued-official_letter"], _signer_stack(*lines))).findings == []


def test_a_stack_finding_says_where_the_stack_breaks(generated: dict[str, bytes]) -> None:
    (finding,) = check(mutated(generated["issued-decision"], _signer_stack("Q. CHỦ TỊCH", "QUYỀN CHỦ TỊCH"))).findings
    assert (finding.rule, finding.component, finding.paragraph) == ("ND30-SIGNER-STACK", "signer", "Q. CHỦ TỊCH / QUYỀN CHỦ TỊCH")
    assert finding.expected == "the name right under 'Q. CHỦ TỊCH' (an acting head has no title line of his own)"
    assert finding.found == "QUYỀN CHỦ TỊCH"
    (finding,) = check(mutated(generated["issued-decision"], _signer_stack("TL. CHỦ TỊCH", "PHÓ CHÁNH VĂN PHÒNG"))).findings
    assert finding.expected.startswith("'KT. <unit head's title>' between 'TL. CHỦ TỊCH' and a deputy's title")
    assert finding.found == "PHÓ CHÁNH VĂN PHÒNG"


def test_findings_say_what_was_expected_and_found(generated: dict[str, bytes]) -> None:
    data = mutated(generated["issued-decision"], MUTATIONS[16].change)  # "tháng 03"
    (finding,) = check(data).findings
    assert finding.rule == "ND30-DATE-PAD" and finding.component == "place and date"
    assert finding.paragraph == "Vĩnh Long, ngày 04 tháng 03 năm 2024"
    assert finding.expected.startswith("tháng 3") and finding.found == "tháng 03"


def test_an_attached_plan_needs_no_number_line(generated: dict[str, bytes]) -> None:
    """A plan issued with a decision has no Số line, no date and no signer: those rules do not apply."""
    def attach(doc) -> None:  # noqa: ANN001
        header = doc.tables[0]
        header._tbl.remove(header.rows[1]._tr)
        subject = find(doc, "Thực hiện Chiến lược")
        subject._p.addnext(OxmlElement("w:p"))
        p = Paragraph(subject._p.getnext(), subject._parent)
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = p.add_run("(Kèm theo Quyết định số 374/QĐ-UBND ngày 04 tháng 3 năm 2024 của Chủ tịch UBND tỉnh)")
        run.italic, run.font.size, run.font.name = True, Pt(14), "Times New Roman"
        closing = doc.tables[-1]
        for para in closing.rows[0].cells[1].paragraphs:
            for r in para.runs:
                r.text = ""

    report = check(mutated(generated["issued-plan"], attach))
    assert report.kind == "plan" and report.findings == []


def test_a_rule_line_is_measured_against_its_line(generated: dict[str, bytes]) -> None:
    """vanban's rule lines sit under their text, centred, at the length Decree 30 gives; a rule on the descenders
    (vanban's before issue 12) is named as touching the letters."""
    layout = read_layout(generated["issued-decision"])
    for rule, measured, share in ((layout.tieu_ngu_rule, [layout.tieu_ngu], (1.0, 1.0)),
                                  (layout.agency_rule, layout.agency, (1 / 3, 1 / 2)),  # ỦY BAN NHÂN DÂN / TỈNH VĨNH LONG
                                  (layout.subject_rule, [layout.subject], (1 / 3, 1 / 2))):
        line = measured[-1]
        widest = max(w for p in measured for w in p.line_widths)
        assert share[0] - 0.01 <= rule.length_pt / widest <= share[1] + 0.01, (line.text, rule)
        assert abs(rule.offset_pt) < 0.5 and 0 < rule.drop_pt - 0.22 * line.size_pt < line.size_pt, (line.text, rule)
    touching = next(m for m in MUTATIONS if m.name.startswith("Tiêu ngữ rule on its descenders"))
    (finding,) = check(mutated(generated["issued-decision"], touching.change)).findings
    assert finding.rule == "ND30-TIEU-NGU-RULE" and finding.paragraph == "Độc lập - Tự do - Hạnh phúc"
    assert finding.found.endswith("it touches the letters") and "under the descenders" in finding.expected


def test_a_one_page_document_has_no_page_number(generated: dict[str, bytes]) -> None:
    """Decree 30 numbers pages from page 2: a one-page Công văn without any header field conforms; a page break,
    or a number printed on its page 1, still fires ND30-PAGE-NUMBER."""
    assert read_layout(generated["issued-official_letter"]).pages == 1
    assert read_layout(generated["issued-decision"]).pages == 2
    bare = mutated(generated["issued-official_letter"], _remove_page_field)
    assert not any(p.text for p in docx.Document(io.BytesIO(bare)).sections[0].header.paragraphs)
    assert check(bare).findings == []

    def break_page(doc) -> None:  # noqa: ANN001
        find(doc, "Ủy ban nhân dân tỉnh đề nghị").runs[0].add_break(WD_BREAK.PAGE)

    two_pages = mutated(bare, break_page)
    assert read_layout(two_pages).pages == 2
    assert [(f.rule, f.found) for f in check(two_pages).findings] == [("ND30-PAGE-NUMBER", "no page number in the header")]
    numbered = mutated(generated["issued-official_letter"],
                       lambda d: setattr(d.sections[0], "different_first_page_header_footer", False))
    assert [(f.rule, f.found) for f in check(numbered).findings] == [("ND30-PAGE-NUMBER", "a number on page 1")]


# --- bad files -----------------------------------------------------------------------------------

def test_unreadable_files_raise_a_clear_error(tmp_path: Path, generated: dict[str, bytes]) -> None:
    cases = {
        b"plain text": "not a zip archive",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512: "encrypted document or a legacy .doc",
        generated["issued-decision"][:4000]: "not a zip archive",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("hello.txt", "x")
    cases[buffer.getvalue()] = "without word/document.xml"
    for data, message in cases.items():
        with pytest.raises(UnreadableDocx) as exc:
            check(data)
        assert message in str(exc.value)


def test_a_docx_with_no_paragraphs_gets_findings_not_a_crash() -> None:
    empty = io.BytesIO()
    doc = docx.Document()
    body = doc.element.body
    for p in list(body.iterchildren(qn("w:p"))):
        body.remove(p)
    doc.save(empty)
    rules = {f.rule for f in check(empty.getvalue()).findings}
    assert {"ND30-QUOC-HIEU", "ND30-TIEU-NGU", "ND30-AGENCY", "ND30-NOI-NHAN-HEADING"} <= rules
    assert "ND30-PAGE-NUMBER" not in rules  # nothing in it: one page, which Decree 30 does not number


def vanban_check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flows.cli", "check", *args], capture_output=True, text=True,
                          timeout=120, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})


def test_the_check_command(tmp_path: Path, generated: dict[str, bytes]) -> None:
    good = tmp_path / "374-QD-UBND.docx"
    good.write_bytes(generated["issued-decision"])
    bad = tmp_path / "mutated.docx"
    bad.write_bytes(mutated(generated["issued-decision"], MUTATIONS[16].change))
    junk = tmp_path / "junk.docx"
    junk.write_text("not a docx")

    ok = vanban_check(str(good))
    assert ok.returncode == 0 and "conforms" in ok.stdout and "0 errors" in ok.stdout
    failing = vanban_check(str(good), str(bad))
    assert failing.returncode == 1
    assert "ND30-DATE-PAD" in failing.stdout and "expected tháng 3" in failing.stdout and "found tháng 03" in failing.stdout
    assert "2 files checked: 1 with errors, 1 errors" in failing.stdout
    unreadable = vanban_check(str(junk), str(tmp_path / "missing.docx"))
    assert unreadable.returncode == 2 and "not a DOCX" in unreadable.stderr and "Traceback" not in unreadable.stderr
    as_json = vanban_check("--json", str(good), str(bad), str(junk))
    assert as_json.returncode == 2
    payload = json.loads(as_json.stdout)
    assert payload["summary"] == {"files": 3, "with_errors": 1, "errors": 1, "warnings": 0, "unreadable": 1}
    assert payload["files"][1]["findings"][0]["rule"] == "ND30-DATE-PAD"
    assert "error" in payload["files"][2]
