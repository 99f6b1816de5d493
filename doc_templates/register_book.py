"""Registers as an inspector expects them: the outgoing register (sổ đăng ký văn bản đi, Phụ lục IV mục I)
and the incoming register (sổ đăng ký văn bản đến, Phụ lục IV mục VI) of an agency for a year, as DOCX.

A4 landscape (Decree 30 allows it for a body of tables); the cover lines of the official form, then the
table with the form's ten columns, each as wide as its content needs. The last line anchors the audit log: its
length and last hash at print.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.shared import Cm, Emu, Pt, Twips
from sqlmodel import Session, select

from doc_templates.renderer import (CELL_PADDING_PT, add_line, add_para, add_run, base_document, freeze_zip,
                                    set_core_properties)
from doc_templates.text_width import text_width_pt
from models.audit import AuditHead
from models.directory import Agency, Official, agency_at
from models.document import AddresseeRole, Document
from models.incoming import IncomingEntry
from models.kinds import type_name
from models.legal_text import pad2, short_date, upper
from models.recipients import addressees, resolve_lines
from models.register import OutgoingRegister, RegisterEntry

# Each column: its title, and the room (cm) a clerk needs to write in it by hand (0: vanban prints all of it).
OUTGOING_COLUMNS = [
    ("Số, ký hiệu văn bản", 0), ("Ngày tháng văn bản", 0), ("Tên loại và trích yếu nội dung văn bản", 0),
    ("Người ký", 0), ("Nơi nhận văn bản", 0), ("Đơn vị, người nhận bản lưu", 0), ("Số lượng bản", 0),
    ("Ngày chuyển", 2.0), ("Ký nhận", 2.5), ("Ghi chú", 2.0),
]
INCOMING_COLUMNS = [
    ("Ngày đến", 0), ("Số đến", 0), ("Tác giả", 0), ("Số, ký hiệu văn bản", 0), ("Ngày tháng văn bản", 0),
    ("Tên loại và trích yếu nội dung văn bản", 0), ("Đơn vị hoặc người nhận", 0), ("Ngày chuyển", 2.0),
    ("Ký nhận", 2.5), ("Ghi chú", 2.0),
]
SIZE = 11
# Cell margins, plus 1 pt for the grid's lines, which LibreOffice takes out of the cell's width
CELL_EXTRA_PT = CELL_PADDING_PT + 1

IMPORTED_NOTE = "(nhập từ sổ cũ)"  # Ghi chú of an entry imported from a register kept outside vanban


@dataclass
class Book:
    title: str  # "SỔ ĐĂNG KÝ VĂN BẢN ĐI"
    agency: Agency
    parent: Agency | None
    year: int
    columns: list[tuple[str, float]]
    rows: list[list[str]]
    first_date: date | None
    last_date: date | None
    first_number: str
    last_number: str


def outgoing_book(session: Session, agency: Agency, year: int) -> Book:
    """Every number the agency's outgoing registers gave in ``year``, voided ones with their reason."""
    entries = session.exec(
        select(RegisterEntry).join(OutgoingRegister, OutgoingRegister.id == RegisterEntry.register_id)
        .where(OutgoingRegister.agency_id == agency.id, OutgoingRegister.year == year)
        .order_by(RegisterEntry.issued_on, RegisterEntry.number)
    ).all()
    rows = []
    for e in entries:
        doc = session.get(Document, e.document_id) if e.document_id else None
        note = "; ".join(n for n in (IMPORTED_NOTE if e.imported else "",
                                     f"Hủy số: {e.voided_reason}" if e.voided_at else "") if n)
        if doc is None:  # a voided number, or one imported from the register kept before vanban
            rows.append([e.number_symbol, short_date(e.issued_on), e.subject or "", "", "", "", "", "", "", note])
            continue
        signer = session.get(Official, doc.signer_id) if doc.signer_id else None
        lines = addressees(session, doc, AddresseeRole.RECIPIENT)
        sent, archive = lines[:-1], lines[-1].text.removeprefix("Lưu:").strip() if lines else ""
        executors = addressees(session, doc, AddresseeRole.EXECUTOR)
        articles = {int(t.code): executors for line in sent for t in line.targets if t.type == "article" and t.code}
        copies = len(resolve_lines(session, sent, "recipients", issuer=agency, articles=articles,
                                   kinh_gui=addressees(session, doc, AddresseeRole.KINH_GUI), on=doc.issued_on)) + 1
        rows.append([e.number_symbol, short_date(e.issued_on), f"{type_name(doc.kind)} {doc.subject}",
                     signer.full_name if signer else "", "; ".join(line.text for line in sent), archive,
                     pad2(copies), "", "", note])
    numbers = [e.number_symbol.split("/")[0] for e in entries]
    return Book("SỔ ĐĂNG KÝ VĂN BẢN ĐI", agency, _parent(session, agency, year), year, OUTGOING_COLUMNS, rows,
                entries[0].issued_on if entries else None, entries[-1].issued_on if entries else None,
                numbers[0] if numbers else "", numbers[-1] if numbers else "")


def incoming_book(session: Session, agency: Agency, year: int) -> Book:
    entries = session.exec(select(IncomingEntry).where(IncomingEntry.agency_id == agency.id, IncomingEntry.year == year)
                           .order_by(IncomingEntry.number)).all()
    rows = [[short_date(e.received_on), pad2(e.number), e.author, e.number_symbol, short_date(e.document_date),
             e.type_and_subject, e.assigned_to or "", short_date(e.forwarded_on) if e.forwarded_on else "", "",
             e.note or ""] for e in entries]
    return Book("SỔ ĐĂNG KÝ VĂN BẢN ĐẾN", agency, _parent(session, agency, year), year, INCOMING_COLUMNS, rows,
                entries[0].received_on if entries else None, entries[-1].received_on if entries else None,
                pad2(entries[0].number) if entries else "", pad2(entries[-1].number) if entries else "")


def _parent(session: Session, agency: Agency, year: int) -> Agency | None:
    """The parent agency as it was named at the end of the register's year."""
    return agency_at(session, agency.parent_id, date(year, 12, 31)) if agency.parent_id else None


def column_widths(columns: list[tuple[str, float]], rows: list[list[str]], available_pt: float) -> list[float]:
    """Widths (pt) sized to the content, as a browser sizes an automatic table (docs/layout.md): each column at
    least its longest word (a number and symbol never breaks) and its room for handwriting; the width left over
    goes to the columns whose entries would still wrap, in proportion to what they lack to print on one line."""
    low, high = [], []
    for i, (title, hand_cm) in enumerate(columns):
        texts = [(title, True)] + [(row[i], False) for row in rows]
        word = max(text_width_pt(w, SIZE, bold=bold) for text, bold in texts for w in text.split() or [""])
        line = max([text_width_pt(row[i], SIZE) for row in rows] + [word])  # a title may wrap; entries decide
        hand = Cm(hand_cm).pt
        low.append(max(word, hand) + CELL_EXTRA_PT)
        high.append(max(line, hand) + CELL_EXTRA_PT)
    spare, wanted = available_pt - sum(low), sum(high) - sum(low)
    if spare <= 0:  # even the longest words do not fit: every column shrinks alike
        return [w * available_pt / sum(low) for w in low]
    if wanted <= spare:  # everything prints on one line: the rest of the width in proportion to the content
        return [w * available_pt / sum(high) for w in high]
    return [lo + (hi - lo) * spare / wanted for lo, hi in zip(low, high, strict=True)]


def render_book(session: Session, book: Book) -> bytes:
    doc = base_document(landscape=True)
    set_core_properties(doc, title=f"{book.title} {book.year}", subject=book.agency.name, author=book.agency.name,
                        on=book.last_date, keywords="vanban; register")
    # Cover and first page (bìa và trang đầu)
    if book.parent:
        add_line(doc, book.parent.header_as_parent or upper(book.parent.name), 13)
    for line in book.agency.header_name.split("\n"):
        add_line(doc, line, 13, bold=True)
    add_line(doc, book.title, 16, bold=True, before=Pt(60))
    add_line(doc, f"Năm {book.year}", 14, bold=True, before=Pt(12))
    span = (f"Từ ngày {short_date(book.first_date)} đến ngày {short_date(book.last_date)}" if book.first_date
            else "Từ ngày ...... đến ngày ......")
    add_line(doc, span, 14, before=Pt(24))
    add_line(doc, f"Từ số {book.first_number or '......'} đến số {book.last_number or '......'}", 14)
    add_line(doc, "Quyển số: 01", 14)
    doc.paragraphs[-1].runs[-1].add_break(WD_BREAK.PAGE)
    # The register itself
    table = doc.add_table(rows=2 + len(book.rows), cols=len(book.columns))
    table.style = doc.styles["Table Grid"]
    table.autofit = False
    section = doc.sections[0]
    available = Emu(section.page_width - section.left_margin - section.right_margin).pt
    widths = column_widths(book.columns, book.rows, available)
    for i, (name, _) in enumerate(book.columns):
        width = Twips(int(widths[i] * 20))  # whole twips, rounded down: the columns never pass the margin
        table.columns[i].width = width  # the grid, which LibreOffice lays out by
        for row_index, row in enumerate(table.rows):
            cell = row.cells[i]
            cell.width = width  # each cell's own width, which Word lays out by
            if row_index == 0:
                text, bold = name, True
            elif row_index == 1:
                text, bold = f"({i + 1})", False
            else:
                text, bold = book.rows[row_index - 2][i], False
            p = add_para(cell, align=WD_ALIGN_PARAGRAPH.CENTER if row_index < 2 or i in (0, 1, 6) else WD_ALIGN_PARAGRAPH.LEFT)
            add_run(p, text, SIZE, bold=bold)
    for row in table.rows[:2]:  # the column titles repeat on every page
        row._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    head = session.exec(select(AuditHead)).first()
    anchor = (f"In từ vanban. Nhật ký: {head.seq} mục, mã băm cuối {head.hash}" if head else "In từ vanban.")
    p = add_para(doc, align=WD_ALIGN_PARAGRAPH.LEFT, before=Pt(12))
    add_run(p, anchor, 10, italic=True)
    out = io.BytesIO()
    doc.save(out)
    return freeze_zip(out.getvalue())


__all__ = ["Book", "IMPORTED_NOTE", "INCOMING_COLUMNS", "OUTGOING_COLUMNS", "incoming_book", "outgoing_book", "render_book"]
