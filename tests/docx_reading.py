"""Reading a generated DOCX back the way a reader sees it: paragraphs in reading order (table cells
left to right), with their formatting. Test helper only."""

from __future__ import annotations

import io
from collections.abc import Iterator

import docx
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph


def open_docx(data: bytes) -> DocxDocument:
    return docx.Document(io.BytesIO(data))


def paragraphs(doc: DocxDocument) -> Iterator[Paragraph]:
    for el in doc.element.body.iterchildren():
        if el.tag == qn("w:tbl"):
            for row in Table(el, doc).rows:
                for cell in row.cells:
                    yield from cell.paragraphs
        elif el.tag == qn("w:p"):
            yield Paragraph(el, doc)


def lines(doc: DocxDocument) -> list[str]:
    """Non-empty paragraph texts in reading order."""
    return [p.text for p in paragraphs(doc) if p.text.strip()]


def find(doc: DocxDocument, start: str) -> Paragraph:
    for p in paragraphs(doc):
        if p.text.startswith(start):
            return p
    raise AssertionError(f"no paragraph starts with {start!r}")


def has_top_border(p: Paragraph) -> bool:
    ppr = p._p.pPr
    return ppr is not None and ppr.find(qn("w:pBdr")) is not None and ppr.find(qn("w:pBdr")).find(qn("w:top")) is not None
