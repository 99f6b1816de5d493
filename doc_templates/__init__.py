"""Decree 30 document generation: one template per kind (``*.xml.j2``) and one renderer."""

from __future__ import annotations

from sqlmodel import Session

from doc_templates.renderer import render_docx
from doc_templates.view import build_view
from models.document import Document


def render_document(session: Session, document: Document) -> bytes:
    """The DOCX of a stored document as it stands (a draft shows a blank number and no date)."""
    return render_docx(build_view(session, document))


__all__ = ["render_document", "render_docx", "build_view"]
