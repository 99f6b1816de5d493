"""Reads any DOCX into what the Decree 30 rules look at: page setup, headers, and the paragraphs of each
component (agency, Quốc hiệu, Số, date, type name, căn cứ, body, Nơi nhận, signer), each with its
effective formatting — direct formatting, then the character style, the paragraph style chain, the
document defaults and the theme fonts, as Word resolves them — and its geometry: the width it is set in,
its lines, its height, so the rule lines can be measured against the text they underline and the pages
counted (docs/layout.md).

Works on the XML (lxml) rather than python-docx proxies: the checker must stay near the cost of opening.
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from functools import cached_property

import docx
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn
from lxml import etree

from doc_templates import text_width
from doc_templates.text_width import ASCENT_EM, LINE_EM
from models.errors import VanbanError
from models.kinds import KINDS, Heading

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_ON = {None, "1", "true", "on"}
DEFAULT_SIZE = 10.0  # Word's size for text that no style sizes
DEFAULT_CELL_MARGIN = 108  # twips: Word's left and right cell margins when a table sets none
EMU_PER_PT = 12700
WP = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}"
# Type names as printed (ô 5a) → their kind, from the kinds table (models/kinds.py)
_PRINTED = [k for k in KINDS.values() if k.heading in (Heading.TITLE, Heading.TYPE_ONLY)]
KIND_OF_TYPE = {unicodedata.normalize("NFC", k.name.upper()): k.kind.value for k in _PRINTED}
TYPE_NAMES = {unicodedata.normalize("NFC", k.name.upper()): k.name for k in _PRINTED}


class UnreadableDocx(VanbanError):
    """The file is not a DOCX that can be opened (not a zip, encrypted, legacy .doc, corrupt)."""


@dataclass
class Run:
    text: str
    fonts: dict[str, str | None]
    size: float | None
    bold: bool
    italic: bool
    caps: bool
    underline: bool


@dataclass
class Para:
    el: etree._Element = field(repr=False)
    text: str
    runs: list[Run]
    align: str
    first_line_cm: float
    before_pt: float
    after_pt: float
    line: float | None  # line spacing as a multiple of single, when given as such
    top_border: bool
    bottom_border: bool
    place: str  # "body", "header-table", "closing-table", "table", "nested-table"
    cell: tuple[int, int] | None = None
    left_pt: float = 0.0  # indents
    right_pt: float = 0.0
    bottom_space_pt: float = 0.0  # how far its bottom border lies under the text
    mark_size: float | None = None  # the paragraph mark's size: how tall an empty paragraph is
    line_pt: float | None = None  # a line height given in points ...
    line_exact: bool = False  # ... exactly, or at least
    breaks_page: bool = False  # a page break in it, or before it
    box_pt: float = 0.0  # the width it is set in: the text area, or its cell less the cell margins

    @property
    def shown(self) -> str:
        """The text as printed (all-caps formatting applied)."""
        return "".join(r.text.upper() if r.caps else r.text for r in self.runs)

    @property
    def text_runs(self) -> list[Run]:
        return [r for r in self.runs if r.text.strip()]

    @property
    def size_pt(self) -> float:
        """The size its lines are set at: the largest of its text, or its mark's when it has none."""
        return max((r.size or DEFAULT_SIZE for r in self.text_runs), default=self.mark_size or DEFAULT_SIZE)

    @cached_property
    def line_widths(self) -> list[float]:
        """The printed width of each of its lines (text_width wraps it in its box)."""
        runs = [(r.text.upper() if r.caps else r.text, r.size or DEFAULT_SIZE, r.bold) for r in self.runs]
        return text_width.line_widths(runs, self.box_pt - self.left_pt - self.right_pt,
                                      first_line_pt=self.first_line_cm * 567 / 20)

    def centre_pt(self, width: float) -> float:
        """Where a line ``width`` wide of this paragraph has its centre, from the left edge of its box."""
        inner = self.box_pt - self.left_pt - self.right_pt
        if self.align == "center":
            return self.left_pt + inner / 2
        if self.align in ("right", "end"):
            return self.box_pt - self.right_pt - width / 2
        return self.left_pt + width / 2

    @property
    def height_pt(self) -> float:
        """How tall it prints: its lines at their line height, and its spacing before and after."""
        natural = LINE_EM * self.size_pt * (self.line or 1.0)
        line = natural if self.line_pt is None else self.line_pt if self.line_exact else max(self.line_pt, natural)
        return self.before_pt + len(self.line_widths) * line + self.after_pt


@dataclass
class RuleLine:
    """A rule line under a line of text (the agency name, the Tiêu ngữ, the trích yếu), measured against the text
    it underlines, in points; None where a drawn shape does not say."""
    length_pt: float | None
    offset_pt: float | None  # its centre less the centre of the text's longest line
    drop_pt: float | None  # from the baseline of the text's last line down to the rule


@dataclass
class Layout:
    page_width_mm: float | None
    page_height_mm: float | None
    landscape: bool
    margins_mm: dict[str, float | None]
    title_page: bool
    header_paras: list[Para]  # default header
    first_header_paras: list[Para] | None  # None: no first-page header of its own
    paragraphs: list[Para]  # reading order, tables cell by cell
    tracked_changes: int
    text_boxes: int
    nested_tables: int
    has_tables: bool
    agency: list[Para] = field(default_factory=list)
    quoc_hieu: Para | None = None
    tieu_ngu: Para | None = None
    tieu_ngu_rule: RuleLine | None = None
    agency_rule: RuleLine | None = None
    number: Para | None = None
    date: Para | None = None
    vv: Para | None = None
    type_name: Para | None = None
    subject: Para | None = None
    subject_rule: RuleLine | None = None
    attached_note: Para | None = None
    authority: Para | None = None
    bases: list[Para] = field(default_factory=list)
    decides: Para | None = None
    kinh_gui: list[Para] = field(default_factory=list)
    body: list[Para] = field(default_factory=list)
    notes: list[Para] = field(default_factory=list)
    noi_nhan: Para | None = None
    noi_nhan_items: list[Para] = field(default_factory=list)
    signer_lines: list[Para] = field(default_factory=list)
    signer_name: Para | None = None
    parties: list[list[Para]] = field(default_factory=list)  # two-party kinds: each column's lines, name last
    title: str = ""  # the core properties' title: vanban writes the kind's name there ('Thư công 06/UBND-VP')
    content_height_pt: float = 0.0  # every paragraph and table row, stacked
    page_breaks: int = 0

    @property
    def pages(self) -> int:
        """How many pages it prints on, estimated: after each explicit page break a new page, and the height of its
        lines against the height of the text area (keeping lines together can only add pages)."""
        area = (self.page_height_mm or 297) - (self.margins_mm.get("top") or 0) - (self.margins_mm.get("bottom") or 0)
        by_height = math.ceil(self.content_height_pt / (area * 72 / 25.4)) if area > 0 else 1
        return max(1 + self.page_breaks, by_height, 1)

    @cached_property
    def kind(self) -> str:
        """A kind's code name (models/kinds.py) from the type name printed, the V/v line of a Công văn, or, for a
        kind that prints neither (Thư công), the document's title property; 'other' when none tells."""
        if self.type_name is not None:
            return KIND_OF_TYPE.get(_squash(self.type_name.shown), "other")
        if self.vv is not None:
            return "official_letter"
        return next((k.kind.value for k in KINDS.values() if k.heading is Heading.NONE
                     and _squash(self.title).startswith(k.name + " ")), "other")

    @property
    def kind_row(self):  # noqa: ANN201 — models.kinds.Kind or None
        """The kinds table's row for this document, when its kind is known."""
        return next((k for k in KINDS.values() if k.kind.value == self.kind), None)

    @property
    def is_draft(self) -> bool:
        """A draft: the number is still blank ('Số:      /QĐ-UBND')."""
        return self.number is not None and re.match(r"^Số:\s*/", self.number.text.strip()) is not None

    @property
    def signer_block(self) -> list[str]:
        """Ô 7a/7b as printed, one entry per line above the name: a paragraph broken by hand (Shift+Enter) holds
        several lines."""
        return [_squash(line) for p in self.signer_lines for line in p.shown.split("\n") if line.strip()]

    @property
    def attached(self) -> bool:
        """A document issued with a decision ("Kèm theo Quyết định …"): no Số line, no date, no signer."""
        return self.attached_note is not None


def _squash(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def _on(el: etree._Element | None) -> bool | None:
    if el is None:
        return None
    return el.get(f"{W}val") in _ON


class _Styles:
    """Style chains and defaults of one document, with theme fonts resolved."""

    def __init__(self, document) -> None:  # noqa: ANN001
        styles = document.styles.element
        self.by_id = {s.get(f"{W}styleId"): s for s in styles.iter(f"{W}style")}
        self.default_para = next((sid for sid, s in self.by_id.items()
                                  if s.get(f"{W}type") == "paragraph" and s.get(f"{W}default") in ("1", "true")), None)
        defaults = styles.find(f"{W}docDefaults")
        self.doc_rpr = defaults.find(f"{W}rPrDefault/{W}rPr") if defaults is not None else None
        self.doc_ppr = defaults.find(f"{W}pPrDefault/{W}pPr") if defaults is not None else None
        self.theme = _theme_fonts(document)
        self._chains: dict[str | None, list[etree._Element]] = {}

    def chain(self, style_id: str | None) -> list[etree._Element]:
        if style_id not in self._chains:
            out, seen, sid = [], set(), style_id
            while sid and sid in self.by_id and sid not in seen:
                seen.add(sid)
                out.append(self.by_id[sid])
                based = self.by_id[sid].find(f"{W}basedOn")
                sid = based.get(f"{W}val") if based is not None else None
            self._chains[style_id] = out
        return self._chains[style_id]

    def para_style(self, p: etree._Element) -> str | None:
        ps = p.find(f"{W}pPr/{W}pStyle")
        return ps.get(f"{W}val") if ps is not None else self.default_para

    def rpr_chain(self, r: etree._Element, para_style: str | None) -> list[etree._Element]:
        chain = [r.find(f"{W}rPr")]
        rs = r.find(f"{W}rPr/{W}rStyle")
        if rs is not None:
            chain += [s.find(f"{W}rPr") for s in self.chain(rs.get(f"{W}val"))]
        chain += [s.find(f"{W}rPr") for s in self.chain(para_style)]
        chain.append(self.doc_rpr)
        return [e for e in chain if e is not None]

    def ppr_chain(self, p: etree._Element, para_style: str | None) -> list[etree._Element]:
        chain = [p.find(f"{W}pPr")] + [s.find(f"{W}pPr") for s in self.chain(para_style)] + [self.doc_ppr]
        return [e for e in chain if e is not None]

    def font(self, chain: list[etree._Element], key: str) -> str | None:
        """Within one rFonts a theme attribute wins over the name; the first level that says anything wins."""
        for rpr in chain:
            fonts = rpr.find(f"{W}rFonts")
            if fonts is None:
                continue
            theme = fonts.get(f"{W}{key}Theme")
            if theme is not None:
                return self.theme.get(theme, f"theme:{theme}")
            name = fonts.get(f"{W}{key}")
            if name is not None:
                return name
        return None


def _theme_fonts(document) -> dict[str, str]:  # noqa: ANN001
    for rel in document.part.rels.values():
        if rel.reltype == RT.THEME and not rel.is_external:
            root = etree.fromstring(rel.target_part.blob)
            a = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
            out = {}
            for scheme, prefix in (("majorFont", "major"), ("minorFont", "minor")):
                node = root.find(f".//{a}{scheme}")
                if node is None:
                    continue
                for script, suffix in (("latin", "HAnsi"), ("ea", "EastAsia"), ("cs", "Bidi")):
                    face = node.find(f"{a}{script}")
                    if face is not None:
                        out[f"{prefix}{suffix}"] = face.get("typeface") or None
                out[f"{prefix}Ascii"] = out.get(f"{prefix}HAnsi")
            return out
    return {}


def _first(chain: list[etree._Element], tag: str) -> etree._Element | None:
    for e in chain:
        found = e.find(f"{W}{tag}")
        if found is not None:
            return found
    return None


def _para(styles: _Styles, p: etree._Element, place: str, cell: tuple[int, int] | None = None, *,
          box_pt: float = 0.0) -> Para:
    pstyle = styles.para_style(p)
    runs: list[Run] = []
    for r in p.iter(f"{W}r"):
        if _inside(r, p, f"{W}txbxContent") or _inside(r, p, f"{W}del"):
            continue
        text = "".join(ch.text or ("\t" if ch.tag == f"{W}tab" else "\n" if ch.tag == f"{W}br" else "")
                       for ch in r.iterchildren(f"{W}t", f"{W}tab", f"{W}br"))
        chain = styles.rpr_chain(r, pstyle)
        sz = _first(chain, "sz")
        underline = _first(chain, "u")
        runs.append(Run(
            text=text, fonts={k: styles.font(chain, k) for k in ("ascii", "hAnsi")},
            size=int(sz.get(f"{W}val")) / 2 if sz is not None and sz.get(f"{W}val", "").isdigit() else None,
            bold=bool(_on(_first(chain, "b"))), italic=bool(_on(_first(chain, "i"))), caps=bool(_on(_first(chain, "caps"))),
            underline=underline is not None and underline.get(f"{W}val") not in (None, "none"),
        ))
    pchain = styles.ppr_chain(p, pstyle)
    jc = _first(pchain, "jc")
    ind = next((e.find(f"{W}ind") for e in pchain if e.find(f"{W}ind") is not None
                and ({f"{W}firstLine", f"{W}hanging"} & set(e.find(f"{W}ind").attrib))), None)
    first = 0.0
    if ind is not None:
        first = int(ind.get(f"{W}firstLine", 0) or 0) - int(ind.get(f"{W}hanging", 0) or 0)
    spacing_before = next((e.find(f"{W}spacing").get(f"{W}before") for e in pchain
                           if e.find(f"{W}spacing") is not None and e.find(f"{W}spacing").get(f"{W}before") is not None), "0")
    spacing_after = next((e.find(f"{W}spacing").get(f"{W}after") for e in pchain
                          if e.find(f"{W}spacing") is not None and e.find(f"{W}spacing").get(f"{W}after") is not None), "0")
    line_el = next((e.find(f"{W}spacing") for e in pchain
                    if e.find(f"{W}spacing") is not None and e.find(f"{W}spacing").get(f"{W}line") is not None), None)
    line = line_pt = None
    rule = line_el.get(f"{W}lineRule", "auto") if line_el is not None else None
    if rule == "auto":
        line = int(line_el.get(f"{W}line")) / 240
    elif rule is not None:
        line_pt = int(line_el.get(f"{W}line")) / 20
    top, bottom = (_border(p, side) for side in ("top", "bottom"))
    # the mark's own properties, then the paragraph style's and the defaults (a w:p has no w:rPr of its own)
    mark = _first([e for e in (p.find(f"{W}pPr/{W}rPr"), *styles.rpr_chain(p, pstyle)) if e is not None], "sz")
    text = "".join(r.text for r in runs)
    return Para(
        el=p, text=unicodedata.normalize("NFC", text), runs=runs,
        align=jc.get(f"{W}val") if jc is not None else "left", first_line_cm=first / 567,
        before_pt=int(spacing_before) / 20, after_pt=int(spacing_after) / 20, line=line,
        top_border=top is not None, bottom_border=bottom is not None,
        place=place, cell=cell,
        left_pt=_twips_pt(pchain, "ind", ("left", "start")), right_pt=_twips_pt(pchain, "ind", ("right", "end")),
        bottom_space_pt=float(bottom.get(f"{W}space", 0) or 0) if bottom is not None else 0.0,
        mark_size=int(mark.get(f"{W}val")) / 2 if mark is not None and mark.get(f"{W}val", "").isdigit() else None,
        line_pt=line_pt, line_exact=rule == "exact", box_pt=box_pt,
        breaks_page=bool(_on(_first(pchain, "pageBreakBefore"))) or _ends_section_on_new_page(p) or any(
            br.get(f"{W}type") == "page" for br in p.iter(f"{W}br")),
    )


def _ends_section_on_new_page(p: etree._Element) -> bool:
    """A section break in the paragraph, after which the next section starts on a new page (not 'continuous')."""
    sect = p.find(f"{W}pPr/{W}sectPr")
    kind = sect.find(f"{W}type") if sect is not None else None
    return sect is not None and (kind is None or kind.get(f"{W}val") != "continuous")


def _cell_padding(styles: _Styles, tbl: etree._Element) -> float:
    """A table's left and right cell margins together, in points: its own, its style's, or Word's default."""
    style = tbl.find(f"{W}tblPr/{W}tblStyle")
    levels = [tbl.find(f"{W}tblPr")] + [s.find(f"{W}tblPr") for s in styles.chain(style.get(f"{W}val") if style is not None else None)]
    total = 0.0
    for sides in (("left", "start"), ("right", "end")):
        margins = [e.find(f"{W}tblCellMar/{W}{side}") for e in levels if e is not None for side in sides]
        width = next((m.get(f"{W}w") for m in margins if m is not None and (m.get(f"{W}w") or "").isdigit()), None)
        total += int(width if width is not None else DEFAULT_CELL_MARGIN) / 20
    return total


def _tc_width(tc: etree._Element) -> float:
    """A cell's own width in points, when given in twips (a table without a grid)."""
    width = tc.find(f"{W}tcPr/{W}tcW")
    value = width.get(f"{W}w", "") if width is not None and width.get(f"{W}type", "dxa") == "dxa" else ""
    return int(value) / 20 if value.isdigit() else 0.0


def _row_height(row: etree._Element, content_pt: float) -> float:
    """A table row's height: its tallest cell's content, unless the row sets its height (exactly, or at least)."""
    given = row.find(f"{W}trPr/{W}trHeight")
    value = given.get(f"{W}val", "") if given is not None else ""
    if not value.isdigit():
        return content_pt
    return int(value) / 20 if given.get(f"{W}hRule") == "exact" else max(int(value) / 20, content_pt)


def _border(p: etree._Element, side: str) -> etree._Element | None:
    """The paragraph's own border on ``side``, unless it is switched off."""
    found = p.find(f"{W}pPr/{W}pBdr/{W}{side}")
    return found if found is not None and found.get(f"{W}val") not in ("nil", "none") else None


def _twips_pt(chain: list[etree._Element], tag: str, names: tuple[str, ...]) -> float:
    """The first of the attributes ``names`` of ``tag`` the chain sets, in points (0 when none does)."""
    for e in chain:
        found = e.find(f"{W}{tag}")
        if found is None:
            continue
        for name in names:
            value = found.get(f"{W}{name}")
            if value is not None and value.lstrip("-").isdigit():
                return int(value) / 20
    return 0.0


def _inside(el: etree._Element, stop: etree._Element, tag: str) -> bool:
    parent = el.getparent()
    while parent is not None and parent is not stop:
        if parent.tag == tag:
            return True
        parent = parent.getparent()
    return False


def _blocks(container: etree._Element):  # noqa: ANN202
    """Body children in order, looking through content controls (w:sdt)."""
    for child in container:
        if child.tag == f"{W}sdt":
            content = child.find(f"{W}sdtContent")
            if content is not None:
                yield from _blocks(content)
        else:
            yield child


def open_docx(data: bytes):  # noqa: ANN201
    """python-docx's Document, or UnreadableDocx with the reason in words."""
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise UnreadableDocx("an encrypted document or a legacy .doc file (OLE), not a DOCX; save it as .docx without a password")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise UnreadableDocx("not a DOCX (it is not a zip archive)")
    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except zipfile.BadZipFile as exc:
        raise UnreadableDocx(f"a damaged zip archive ({exc})") from None
    if "word/document.xml" not in names:
        raise UnreadableDocx("a zip archive without word/document.xml, so not a Word document")
    try:
        return docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx and lxml raise many kinds on damaged parts  # noqa: BLE001
        raise UnreadableDocx(f"a damaged DOCX ({type(exc).__name__}: {exc})") from None


def _header_paras(document, styles: _Styles, sect_pr: etree._Element, kind: str) -> list[Para] | None:  # noqa: ANN001
    for ref in sect_pr.findall(f"{W}headerReference"):
        if ref.get(f"{W}type") == kind:
            part = document.part.related_parts.get(ref.get(qn("r:id")))
            if part is None:
                return None
            return [_para(styles, p, "header") for p in part.element.iter(f"{W}p")]
    return None


def read_layout(data: bytes) -> Layout:
    """The layout of a DOCX with its Decree 30 components found."""
    document = open_docx(data)
    styles = _Styles(document)
    body = document.element.body
    sect_pr = body.find(f"{W}sectPr")
    if sect_pr is None:
        sect_pr = etree.SubElement(etree.Element("x"), f"{W}sectPr")
    pg = sect_pr.find(f"{W}pgSz")
    mar = sect_pr.find(f"{W}pgMar")

    def mm(el, attr):  # noqa: ANN001, ANN202
        value = el.get(f"{W}{attr}") if el is not None else None
        return int(value) * 25.4 / 1440 if value not in (None, "") and value.lstrip("-").isdigit() else None

    text_width = ((mm(pg, "w") or 210) - (mm(mar, "left") or 0) - (mm(mar, "right") or 0)) * 72 / 25.4
    paragraphs: list[Para] = []
    tables = [b for b in _blocks(body) if b.tag == f"{W}tbl"]
    nested = 0
    height = 0.0  # the content stacked, to count the pages
    for block in _blocks(body):
        if block.tag == f"{W}p":
            paragraphs.append(_para(styles, block, "body", box_pt=text_width))
            height += paragraphs[-1].height_pt
        elif block.tag == f"{W}tbl":
            place = "header-table" if block is tables[0] and not any(p.text.strip() for p in paragraphs) else \
                "closing-table" if block is tables[-1] else "table"
            grid = [int(g.get(f"{W}w", 0) or 0) / 20 for g in block.findall(f"{W}tblGrid/{W}gridCol")]
            padding = _cell_padding(styles, block)
            for r, row in enumerate(block.findall(f"{W}tr")):
                column, tallest = 0, 0.0
                for c, tc in enumerate(row.findall(f"{W}tc")):
                    span = tc.find(f"{W}tcPr/{W}gridSpan")
                    span = int(span.get(f"{W}val", 1)) if span is not None else 1
                    box = (sum(grid[column:column + span]) or _tc_width(tc)) - padding
                    column += span
                    cell_height = 0.0
                    for p in tc.iter(f"{W}p"):
                        inner = _inside(p, tc, f"{W}tbl")
                        nested += inner and p.getparent().tag == f"{W}tc"
                        paragraphs.append(_para(styles, p, "nested-table" if inner else place, (r, c), box_pt=box))
                        cell_height += paragraphs[-1].height_pt
                    tallest = max(tallest, cell_height)
                height += _row_height(row, tallest)
    tracked = sum(1 for _ in body.iter(f"{W}ins", f"{W}del", f"{W}moveFrom", f"{W}moveTo"))
    layout = Layout(
        page_width_mm=mm(pg, "w"), page_height_mm=mm(pg, "h"),
        landscape=(pg is not None and pg.get(f"{W}orient") == "landscape") or
                  ((mm(pg, "w") or 0) > (mm(pg, "h") or 0)),
        margins_mm={k: mm(mar, k) for k in ("top", "bottom", "left", "right")},
        title_page=_on(sect_pr.find(f"{W}titlePg")) is True,
        header_paras=_header_paras(document, styles, sect_pr, "default") or [],
        first_header_paras=_header_paras(document, styles, sect_pr, "first"),
        paragraphs=paragraphs, tracked_changes=tracked, title=document.core_properties.title or "",
        content_height_pt=height, page_breaks=sum(p.breaks_page for p in paragraphs),
        text_boxes=sum(1 for _ in body.iter(f"{W}txbxContent")), nested_tables=nested, has_tables=bool(tables),
    )
    _classify(layout)
    return layout


_NUMBER_START = re.compile(r"^Số\s*:")
_DATE = re.compile(r",\s*ngày\b")
_ARTICLE = re.compile(r"^Điều\s+\d+\s*\.")


def _classify(layout: Layout) -> None:
    """Find each component by its text and place (what a reader of the page would do)."""
    paras = [p for p in layout.paragraphs if p.place != "nested-table"]
    head = [p for p in paras if p.place == "header-table"]
    for p in paras[:12]:
        squashed = _squash(p.shown).upper()
        if layout.quoc_hieu is None and squashed.startswith(("CỘNG HÒA XÃ HỘI", "CỘNG HOÀ XÃ HỘI")):
            layout.quoc_hieu = p
        elif layout.tieu_ngu is None and _squash(p.text).startswith("Độc lập"):
            layout.tieu_ngu = p
    if layout.tieu_ngu is not None:
        layout.tieu_ngu_rule = _rule_under(layout.tieu_ngu, _next(paras, layout.tieu_ngu))
    left = [p for p in head if p.cell == (0, 0)]
    under_agency = None
    for p in left:
        if not p.text.strip() or _NUMBER_START.match(p.text):
            under_agency = p
            break
        layout.agency.append(p)
    if layout.agency:
        layout.agency_rule = _rule_under(layout.agency[-1], under_agency)
    for p in head or paras[:15]:
        if layout.number is None and _NUMBER_START.match(p.text.strip()):
            layout.number = p
        elif layout.date is None and _DATE.search(p.text):
            layout.date = p
        elif layout.vv is None and p.text.strip().startswith("V/v"):
            layout.vv = p
    body = [p for p in paras if p.place == "body"]
    rest = [p for p in body if p.text.strip()]
    i = 0
    if rest and _squash(rest[0].shown) in TYPE_NAMES:
        layout.type_name = rest[0]
        i = 1
        if i < len(rest) and layout.kind_row is not None and layout.kind_row.heading is Heading.TITLE:
            layout.subject = rest[i]
            i += 1
        if i < len(rest) and rest[i].text.strip().startswith("(Kèm theo"):
            layout.attached_note = rest[i]  # an attached document's rule line comes under this line (§8)
            i += 1
        if layout.subject is not None:
            above = rest[i - 1]
            layout.subject_rule = _rule_under(above, _next(paras, above))
    if layout.kind in ("decision", "resolution") and i < len(rest) \
            and not rest[i].text.strip().startswith(("Căn cứ", "Theo", "QUYẾT ĐỊNH:", "QUYẾT NGHỊ:")):
        layout.authority = rest[i]
        i += 1
    if layout.kind in ("decision", "resolution"):
        for j in range(i, len(rest)):
            if _squash(rest[j].shown) in ("QUYẾT ĐỊNH:", "QUYẾT NGHỊ:"):
                layout.decides = rest[j]
                layout.bases = rest[i:j]
                i = j + 1
                break
    in_kinh_gui = False  # several addressees continue as "- …;" lines under "Kính gửi:"
    for p in rest[i:]:
        text = p.text.strip()
        # Kính gửi, or the "… điện:" line of a Công điện (Mẫu 1.6)
        in_kinh_gui = text.startswith("Kính gửi") or text.endswith(" điện:") or (in_kinh_gui and text.startswith("-"))
        if in_kinh_gui:
            layout.kinh_gui.append(p)
        elif p.align == "center" and text.startswith("(") and text.endswith(")"):
            layout.notes.append(p)
        else:
            layout.body.append(p)
    closing = [p for p in paras if p.place == "closing-table" and p.text.strip()]
    for p in closing:
        if p.cell and p.cell[1] == 0:
            if p.text.strip().startswith("Nơi nhận"):
                layout.noi_nhan = p
            elif layout.noi_nhan is not None:
                layout.noi_nhan_items.append(p)
        elif p.cell and p.cell[1] >= 1:
            layout.signer_lines.append(p)
    if layout.signer_lines:
        layout.signer_name = layout.signer_lines.pop()
    if layout.kind_row is not None and layout.kind_row.parties:  # the table of two signatures before Nơi nhận
        signed = [p for p in paras if p.place == "table" and p.text.strip() and p.cell is not None and p.cell[0] == 0]
        layout.parties = [[p for p in signed if p.cell[1] == column] for column in sorted({p.cell[1] for p in signed})]


def _next(paras: list[Para], p: Para) -> Para | None:
    for i, q in enumerate(paras):
        if q is p:
            return paras[i + 1] if i + 1 < len(paras) else None
    return None


def _rule_under(text: Para, following: Para | None) -> RuleLine | None:
    """The rule line under ``text``, measured against it: the top border of the empty paragraph after it in the same
    place, or ``text``'s own bottom border; or a line drawn in either, of which only a DrawingML line tells its
    length (where a drawn shape sits depends on its anchor, which is not followed)."""
    below_baseline = (LINE_EM - ASCENT_EM) * text.size_pt  # the line box reaches this far under the baseline
    if following is not None and following.top_border and not following.text.strip() \
            and (following.place, following.cell) == (text.place, text.cell):
        rule, drop = following, below_baseline + text.after_pt + following.before_pt  # spacing lies above a top border
    elif text.bottom_border:
        rule, drop = text, below_baseline + text.bottom_space_pt
    else:
        return _line_shape(text, following)
    length = rule.box_pt - rule.left_pt - rule.right_pt
    return RuleLine(length, rule.left_pt + length / 2 - text.centre_pt(max(text.line_widths)), drop)


def _line_shape(*paras: Para | None) -> RuleLine | None:
    """A line drawn (DrawingML or VML) in one of the paragraphs, with its length when its drawing gives it."""
    for p in paras:
        if p is None:
            continue
        for el in p.el.iter():
            tag = el.tag if isinstance(el.tag, str) else ""
            if tag.endswith("}line") or tag.endswith("}cxnSp") or (tag.endswith("}prstGeom") and el.get("prst") == "line"):
                drawing = next((a for a in el.iterancestors() if isinstance(a.tag, str)
                                and a.tag.endswith(("}inline", "}anchor"))), None)
                extent = drawing.find(f"{WP}extent") if drawing is not None else None
                cx = extent.get("cx", "") if extent is not None else ""
                return RuleLine(int(cx) / EMU_PER_PT if cx.isdigit() else None, None, None)
    return None
