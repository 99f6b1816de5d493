"""The one renderer: a document's template (Jinja2, per kind) gives the order of its parts; this module
lays every part out as Decree 30/2020/NĐ-CP Phụ lục I says (nd30-format.md §1–3, checklist §10) and
writes byte-identical DOCX for the same document.
"""

from __future__ import annotations

import io
import math
import xml.etree.ElementTree as ET
import zipfile
from datetime import date, datetime
from pathlib import Path

from docx import Document as new_docx
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Emu, Mm, Pt, Twips
from docx.table import _Cell
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from doc_templates.text_width import line_widths, text_width_pt
from doc_templates.view import DocumentView
from models.legal_text import QUOC_HIEU, TIEU_NGU, list_items, with_end_mark

FONT = "Times New Roman"
# Sizes in points, each inside its Phụ lục I range (nd30-format.md §3).
SIZE = {
    "agency": 13, "quoc_hieu": 12, "tieu_ngu": 13, "number": 13, "date": 14, "vv": 12, "type": 14,
    "subject": 14, "body": 14, "noi_nhan": 12, "noi_nhan_item": 11, "signer": 14, "page": 13, "urgency": 13,
    "table": 13,
}
MARGIN_MM = {"top": 20, "bottom": 20, "left": 30, "right": 15}
TEXT_WIDTH = Mm(210 - MARGIN_MM["left"] - MARGIN_MM["right"])
# Column widths inside the official samples' ranges (nd30-format.md §2.3): header 5.8–6.9 | 9.5–10.7 cm,
# signature 5.3–6.9 | 9.5–11.1 cm; the signature table's left column is as wide as allowed for Nơi nhận.
HEADER_COLS = (Cm(6.5), Cm(10.0))
CLOSING_COLS = (Cm(6.9), Cm(9.6))
CELL_PADDING_PT = 2 * 5.4  # Word's default 0.19 cm left and right cell margins
INDENT = Cm(1)
GAP = Pt(6)  # at least 6 pt between paragraphs
SIGNATURE_SPACE = Pt(66)  # room for the signature and the seal between title and name
# A rule line is the top border of the paragraph under its text. Without this space above that paragraph the
# border lies on the bottom of the text's line box, 0.04 em under its descenders (p, the dot of ạ), in Word and
# LibreOffice alike: it would touch the letters. 3 pt keeps it clear and still close (docs/layout.md).
RULE_DROP = Pt(3)
EPOCH = datetime(1980, 1, 1)  # a draft has no date: its core properties carry this fixed one

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent), autoescape=True, undefined=StrictUndefined,
    trim_blocks=True, lstrip_blocks=True,
)
BODY_TAGS = {"p", "article", "section", "note"}
URGENCY_BOX = {"KHẨN": Mm(20), "THƯỢNG KHẨN": Mm(40), "HỎA TỐC": Mm(30)}  # ô 10b stamps, 8 mm high (Phụ lục I, III.2)


def render_markup(view: DocumentView) -> ET.Element:
    """The one template filled with the view: a tree of parts (header, type, basis, article …)."""
    text = _env.get_template("document.xml.j2").render(v=view)
    return ET.fromstring(text)


def render_docx(view: DocumentView) -> bytes:
    """The DOCX bytes of a document; the same view always gives the same bytes."""
    tree = render_markup(view)
    doc = base_document()
    set_core_properties(doc, title=view.title, subject=view.subject, author=view.issuer_name, on=view.issued_on,
                        keywords="vanban; dữ liệu mẫu (sample data)" if view.is_sample else "vanban")
    parts = list(tree)
    last_body = max((i for i, el in enumerate(parts) if el.tag in BODY_TAGS and (el.text or "").strip()), default=None)
    for i, el in enumerate(parts):
        text = " ".join((el.text or "").split()) if el.tag not in ("kinh-gui", "table") else ""
        if i == last_body:
            text = with_end_mark(text)
        _PART[el.tag](doc, view, el, text)
    buffer = io.BytesIO()
    doc.save(buffer)
    return freeze_zip(buffer.getvalue())


# --- page, styles, runs -------------------------------------------------------------------------

def base_document(*, landscape: bool = False):  # noqa: ANN201
    """An empty DOCX with the Decree 30 page (A4, margins, page numbers from page 2) and fonts."""
    doc = new_docx()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    width, height = (Mm(297), Mm(210)) if landscape else (Mm(210), Mm(297))
    section.page_width, section.page_height = width, height
    section.top_margin, section.bottom_margin = mm_up(MARGIN_MM["top"]), mm_up(MARGIN_MM["bottom"])
    section.left_margin, section.right_margin = mm_up(MARGIN_MM["left"]), mm_up(MARGIN_MM["right"])
    section.header_distance = section.footer_distance = Mm(10)
    # Page numbers: centred at the top from page 2; page 1 has its own, empty header.
    section.different_first_page_header_footer = True
    section.first_page_header.is_linked_to_previous = False
    header_p = section.header.paragraphs[0]
    header_p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _page_field(header_p)

    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    set_fonts(defaults)
    # Vietnamese text, so that Word and LibreOffice check its spelling as Vietnamese (the template says en-US)
    lang = defaults.find(qn("w:lang"))
    for attribute in ("w:val", "w:eastAsia"):
        lang.set(qn(attribute), "vi-VN")
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(SIZE["body"])
    set_fonts(normal.element.get_or_add_rPr())
    pf = normal.paragraph_format
    pf.space_before = pf.space_after = Pt(0)
    pf.line_spacing = 1.0
    return doc


def set_core_properties(doc, *, title: str, subject: str, author: str, on: date | None, keywords: str) -> None:  # noqa: ANN001
    """Core properties from the document's own data (never the clock), for byte-identical output."""
    props = doc.core_properties
    stamp = datetime.combine(on, datetime.min.time()) if on else EPOCH
    props.title, props.subject, props.author, props.keywords = title, subject, author, keywords
    props.last_modified_by = "vanban"
    props.created = props.modified = stamp
    props.revision = 1
    props.comments = ""


def mm_up(mm: float) -> Twips:
    """Word stores margins in whole twips: round up, so 15 mm does not become 14.99 mm (out of range)."""
    return Twips(math.ceil(mm * 1440 / 25.4))


def set_fonts(rpr) -> None:  # noqa: ANN001
    """Times New Roman for every script; theme fonts removed (they would win over the names)."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in list(fonts.attrib):
        if attr.endswith("Theme"):
            del fonts.attrib[attr]
    for key in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(key), FONT)


def add_run(paragraph, text: str, size: float, *, bold: bool = False, italic: bool = False):  # noqa: ANN001, ANN202
    run = paragraph.add_run(text)
    run.font.size = Pt(size)
    run.font.name = FONT
    run.bold = bold
    run.italic = italic
    set_fonts(run._r.get_or_add_rPr())
    return run


def add_para(container, *, align=WD_ALIGN_PARAGRAPH.CENTER, before=Pt(0), indent=None, first_line=None,  # noqa: ANN001, ANN202
             keep=False):
    """A paragraph in a document or table cell (a new cell's empty first paragraph is reused). ``keep``: a heading,
    printed whole and on the page of the paragraph after it (docs/layout.md)."""
    first = container.paragraphs[0] if isinstance(container, _Cell) and len(container.paragraphs) == 1 else None
    fresh = first is not None and first._p.pPr is None and not first.runs
    p = first if fresh else container.add_paragraph()
    fmt = p.paragraph_format
    fmt.alignment = align
    fmt.space_before = before
    fmt.space_after = Pt(0)
    if indent is not None:
        fmt.left_indent = indent
    if first_line is not None:
        fmt.first_line_indent = first_line
    if keep:
        fmt.keep_with_next = fmt.keep_together = True
    return p


def add_line(container, text: str, size: float, **style) -> None:  # noqa: ANN001
    before = style.pop("before", Pt(0))
    align = style.pop("align", WD_ALIGN_PARAGRAPH.CENTER)
    keep = style.pop("keep", False)
    add_run(add_para(container, align=align, before=before, keep=keep), text, size, **style)


def widest_line_pt(text: str, size: float, box_pt: float, *, bold: bool = False) -> float:
    """The printed width of the longest line of ``text`` wrapped in a box ``box_pt`` wide."""
    return max(line_widths([(text, size, bold)], box_pt))


def add_rule(container, width_pt: float, box_pt: float, *, keep: bool = False) -> None:  # noqa: ANN001
    """A solid rule of ``width_pt`` centred in a box ``box_pt`` wide, just under the line above it: an empty
    paragraph's top border."""
    p = add_para(container, before=RULE_DROP, keep=keep)
    ppr = p._p.get_or_add_pPr()
    border = OxmlElement("w:pBdr")
    top = OxmlElement("w:top")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        top.set(qn(key), value)
    border.append(top)
    ppr.insert(0, border)
    side = max(0.0, (box_pt - width_pt) / 2)
    p.paragraph_format.left_indent = p.paragraph_format.right_indent = Pt(round(side, 1))
    mark = OxmlElement("w:rPr")
    size = OxmlElement("w:sz")
    size.set(qn("w:val"), "8")
    mark.append(size)
    ppr.append(mark)


def _page_field(paragraph) -> None:  # noqa: ANN001
    """A PAGE field (complex field, which Word and LibreOffice both update)."""
    for kind, instr in (("begin", None), (None, " PAGE "), ("separate", None), (None, "2"), ("end", None)):
        run = add_run(paragraph, "", SIZE["page"])
        if kind:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
            run._r.append(fld)
        elif instr.strip() == "PAGE":
            code = OxmlElement("w:instrText")
            code.set(qn("xml:space"), "preserve")
            code.text = instr
            run._r.append(code)
        else:
            run.text = instr


def add_table(doc, rows: int, cols: tuple, *, keep_rows: bool = False):  # noqa: ANN001, ANN202
    """A borderless two-column table of fixed widths ``cols``."""
    table = doc.add_table(rows=rows, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    table._tbl.tblPr.append(layout)
    for row in table.rows:
        row.cells[0].width, row.cells[1].width = cols
        if keep_rows:
            cant = OxmlElement("w:cantSplit")
            row._tr.get_or_add_trPr().append(cant)
    table.columns[0].width, table.columns[1].width = cols
    return table


# --- parts ---------------------------------------------------------------------------------------

def _header(doc, v: DocumentView, _el, _text) -> None:  # noqa: ANN001
    """Ô 1–4 (and 5b): agency | Quốc hiệu, Tiêu ngữ; then Số | place and date on one baseline."""
    with_number = v.number_line is not None
    table = add_table(doc, 2 if with_number else 1, HEADER_COLS)
    left, right = table.rows[0].cells
    left_box, right_box = (col.pt - CELL_PADDING_PT for col in HEADER_COLS)
    if v.parent_line:
        add_line(left, v.parent_line, SIZE["agency"])
    for line in v.issuer_lines:
        add_line(left, line, SIZE["agency"], bold=True)
    name_width = max(widest_line_pt(line, SIZE["agency"], left_box, bold=True) for line in v.issuer_lines)
    add_rule(left, name_width * 0.4, left_box)  # 1/3 to 1/2 of the agency name (§3.2)
    add_line(right, QUOC_HIEU, SIZE["quoc_hieu"], bold=True)
    add_line(right, TIEU_NGU, SIZE["tieu_ngu"], bold=True)
    add_rule(right, widest_line_pt(TIEU_NGU, SIZE["tieu_ngu"], right_box, bold=True), right_box)  # as long as the Tiêu ngữ (§3.1)
    if with_number:
        number_cell, date_cell = table.rows[1].cells
        add_line(number_cell, v.number_line, SIZE["number"], before=Pt(6))
        if v.vv_line:
            add_line(number_cell, v.vv_line, SIZE["vv"], before=GAP)
        if v.date_line:
            add_line(date_cell, v.date_line, SIZE["date"], italic=True, before=Pt(6))
        if v.urgency:
            _stamp(number_cell, v.urgency)


def _stamp(cell, text: str) -> None:  # noqa: ANN001
    """Ô 10b: the urgency in a single-bordered box under the number, bold upper case (Phụ lục I, III.2)."""
    p = add_para(cell, align=WD_ALIGN_PARAGRAPH.CENTER, before=Pt(12))
    add_run(p, text, SIZE["urgency"], bold=True)
    ppr = p._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    for side in ("top", "left", "bottom", "right"):
        edge = OxmlElement(f"w:{side}")
        for key, value in (("w:val", "single"), ("w:sz", "8"), ("w:space", "1"), ("w:color", "000000")):
            edge.set(qn(key), value)
        borders.append(edge)
    ppr.insert(0, borders)
    side = max(0.0, (HEADER_COLS[0].pt - CELL_PADDING_PT - URGENCY_BOX[text].pt) / 2)
    p.paragraph_format.left_indent = p.paragraph_format.right_indent = Pt(round(side, 1))


def _type(doc, _v, _el, text: str) -> None:  # noqa: ANN001
    add_line(doc, text, SIZE["type"], bold=True, before=Pt(18), keep=True)


def _subject(doc, _v, _el, text: str) -> None:  # noqa: ANN001
    add_line(doc, text, SIZE["subject"], bold=True, keep=True)
    # 1/3 to 1/2 of the trích yếu's (longest) line (§3.5)
    add_rule(doc, widest_line_pt(text, SIZE["subject"], TEXT_WIDTH.pt, bold=True) * 0.4, TEXT_WIDTH.pt, keep=True)


def _authority(doc, _v, _el, text: str) -> None:  # noqa: ANN001
    add_line(doc, text, SIZE["body"], bold=True, before=Pt(12), keep=True)


def _decides(doc, _v, _el, text: str) -> None:  # noqa: ANN001
    add_line(doc, text, SIZE["body"], bold=True, before=Pt(12), keep=True)


def _basis(doc, _v, _el, text: str) -> None:  # noqa: ANN001
    p = add_para(doc, align=WD_ALIGN_PARAGRAPH.JUSTIFY, before=GAP, first_line=INDENT)
    add_run(p, text, SIZE["body"], italic=True)


def _labelled(doc, label: str, title: str | None, text: str, *, bold_label: bool) -> None:  # noqa: ANN001
    """'Điều 1. …', 'I. MỤC TIÊU', '1. …': a titled label line is bold; an untitled one runs into text."""
    p = add_para(doc, align=WD_ALIGN_PARAGRAPH.JUSTIFY, before=GAP, first_line=INDENT, keep=bool(title))
    if title:
        add_run(p, f"{label} {title}", SIZE["body"], bold=True)
        if text:
            p = add_para(doc, align=WD_ALIGN_PARAGRAPH.JUSTIFY, before=GAP, first_line=INDENT)
            add_run(p, text, SIZE["body"])
        return
    add_run(p, label, SIZE["body"], bold=bold_label)
    if text:
        add_run(p, f" {text}", SIZE["body"])


def _article(doc, _v, el, text: str) -> None:  # noqa: ANN001
    _labelled(doc, el.get("label"), el.get("title"), text, bold_label=True)


def _section(doc, _v, el, text: str) -> None:  # noqa: ANN001
    _labelled(doc, el.get("label"), el.get("title"), text, bold_label=False)


def _note(doc, _v, _el, text: str) -> None:  # noqa: ANN001
    add_line(doc, text, SIZE["body"], italic=True, before=GAP)


def _p(doc, _v, _el, text: str) -> None:  # noqa: ANN001
    add_run(add_para(doc, align=WD_ALIGN_PARAGRAPH.JUSTIFY, before=GAP, first_line=INDENT), text, SIZE["body"])


def _kinh_gui(doc, _v, el, _text) -> None:  # noqa: ANN001
    """Ô 9a: one addressee on the 'Kính gửi:' line; several as '- …;' lines aligned under the colon."""
    items = [" ".join((to.text or "").split()) for to in el]
    lead = el.get("lead")
    if el.get("own-line"):  # Công điện (Mẫu 1.6): "… điện:" centred and bold, the addressees under it
        add_line(doc, lead, SIZE["body"], bold=True, before=Pt(12), keep=True)
        for line in list_items(items):
            add_run(add_para(doc, align=WD_ALIGN_PARAGRAPH.LEFT, indent=INDENT, keep=True), line, SIZE["body"])
        return
    if len(items) == 1:
        add_line(doc, f"{lead} {items[0].rstrip('.')}.", SIZE["body"], before=Pt(12), keep=True)
        return
    start = Cm(3)
    p = add_para(doc, align=WD_ALIGN_PARAGRAPH.LEFT, before=Pt(12), indent=start, keep=True)
    lines = [f"- {item.rstrip(';.')}{'.' if i == len(items) - 1 else ';'}" for i, item in enumerate(items)]
    add_run(p, f"{lead} {lines[0]}", SIZE["body"])
    under_colon = start + Pt(text_width_pt(lead + " ", SIZE["body"]))
    for line in lines[1:]:
        add_run(add_para(doc, align=WD_ALIGN_PARAGRAPH.LEFT, indent=under_colon, keep=True), line, SIZE["body"])


def _closing(doc, v: DocumentView, _el, _text) -> None:  # noqa: ANN001
    """Ô 9b | ô 7a–7b: Nơi nhận on the left, level with the signer's authority line on the right; the row never
    splits, and the paragraph before it keeps with it, so the signer never stands alone on a page."""
    if doc.paragraphs:
        doc.paragraphs[-1].paragraph_format.keep_with_next = True
    if v.parties:
        _parties(doc, v)
    table = add_table(doc, 1, CLOSING_COLS, keep_rows=True)
    left, right = table.rows[0].cells
    if v.recipients:
        add_line(left, "Nơi nhận:", SIZE["noi_nhan"], bold=True, italic=True, align=WD_ALIGN_PARAGRAPH.LEFT, before=Pt(12))
        dash = Pt(text_width_pt("- ", SIZE["noi_nhan_item"]))
        for item in v.recipients:  # a wrapped item continues under its text, not under the dash
            p = add_para(left, align=WD_ALIGN_PARAGRAPH.LEFT, indent=dash, first_line=-dash)
            add_run(p, item, SIZE["noi_nhan_item"])
    for i, line in enumerate(v.signer_lines):
        add_line(right, line, SIZE["signer"], bold=True, before=Pt(12) if i == 0 else Pt(0))
    if v.signer_name:
        add_line(right, v.signer_name, SIZE["signer"], bold=True, before=SIGNATURE_SPACE)


def _parties(doc, v: DocumentView) -> None:  # noqa: ANN001
    """Two signatures side by side (Biên bản: THƯ KÝ | CHỦ TỌA, Mẫu 1.9; the two-party kinds): label and title
    lines, the room to sign, the name; Nơi nhận follows under them."""
    half = Emu(TEXT_WIDTH // 2)
    table = add_table(doc, 1, (half, half), keep_rows=True)
    for cell, (lines, name) in zip(table.rows[0].cells, v.parties):
        for i, line in enumerate(lines):
            add_line(cell, line, SIZE["signer"], bold=True, before=Pt(12) if i == 0 else Pt(0))
        add_line(cell, name, SIZE["signer"], bold=True, before=SIGNATURE_SPACE)


def _table(doc, _v, el, _text) -> None:  # noqa: ANN001
    """A bordered table of the body (what a Phiếu gửi lists): the header row bold, repeated on each page."""
    header = [" ".join((th.text or "").split()) for th in el.findall("th")]
    rows = [[" ".join((td.text or "").split()) for td in tr.findall("td")] for tr in el.findall("tr")]
    table = doc.add_table(rows=1 + len(rows), cols=len(header))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for r, cells in enumerate([header, *rows]):
        for cell, text in zip(table.rows[r].cells, cells):
            add_run(add_para(cell, align=WD_ALIGN_PARAGRAPH.CENTER if r == 0 else WD_ALIGN_PARAGRAPH.LEFT), text,
                    SIZE["table"], bold=r == 0)
    repeat = OxmlElement("w:tblHeader")
    table.rows[0]._tr.get_or_add_trPr().append(repeat)


_PART = {
    "header": _header, "type": _type, "subject": _subject, "authority": _authority, "basis": _basis,
    "decides": _decides, "article": _article, "section": _section, "note": _note, "p": _p,
    "kinh-gui": _kinh_gui, "closing": _closing, "table": _table,
}


def freeze_zip(data: bytes) -> bytes:
    """Rewrite the package with fixed timestamps and attributes, so equal content gives equal bytes."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0
            target.writestr(info, source.read(item.filename))
    return out.getvalue()
