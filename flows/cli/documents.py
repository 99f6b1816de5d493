"""`vanban` commands of documents: list, draft, sign, issue, render, show; the kinds and their gallery."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from sqlmodel import select

from flows.cli.common import (
    Actor, DocRef, add_row, console, make_folder, passphrase, ready_engine, user_errors, write_file,
)
from models.config import get_settings, today
from models.db import session_scope
from models.document import Document, find_document
from models.errors import RuleViolation
from models.kinds import type_name
from models.legal_text import AuthorityForm, number_symbol, parse_date, short_date

app = typer.Typer()


@app.command("documents")
@user_errors
def documents() -> None:
    """List documents with their number, date and status."""
    table = Table("id", "kind", "số, ký hiệu", "ngày", "status", "trích yếu")
    with session_scope(ready_engine()) as session:
        for d in session.exec(select(Document).order_by(Document.id)):
            add_row(table, str(d.id), type_name(d.kind), number_symbol(d.number, d.symbol).strip(),
                          short_date(d.issued_on) if d.issued_on else "", d.status.value, d.subject)
    console.print(table)


@app.command("draft")
@user_errors
def draft(spec: Annotated[Path, typer.Argument(help="YAML file with the draft (see models/schemas.py)")],
          actor: Actor = "system") -> None:
    """Store a new draft from a YAML file; prints its id."""
    from models.drafting import draft_document, parse_create
    from models.yaml_files import read_yaml

    data = read_yaml(spec)
    if not isinstance(data, dict):
        raise RuleViolation("file", "file.shape", f"{spec} must hold one draft as a mapping")
    parsed = parse_create(data)
    with session_scope(ready_engine()) as session:
        doc = draft_document(session, parsed, actor=actor)
    console.print(f"draft #{doc.id} stored: {type_name(doc.kind)} {number_symbol(None, doc.symbol).strip()}")


@app.command("sign")
@user_errors
def sign(
    document: DocRef,
    signer: Annotated[str | None, typer.Option(help="Official code; default the draft's planned signer")] = None,
    form: Annotated[AuthorityForm | None, typer.Option(help="Authority form")] = None,
) -> None:
    """Sign a draft outside any approval chain, with the signer's key (his authority is checked)."""
    from models.approvals import sign_with_key

    keystore = get_settings().keystore_dir
    doc = sign_with_key(ready_engine(), document, signer=signer, form=form, keystore=keystore,
                        passphrase=passphrase(f"{signer or 'the signer'}'s key in {keystore}"))
    console.print(f"document #{doc.id} signed ({doc.authority_form.value})")


@app.command("issue")
@user_errors
def issue(
    document: DocRef,
    on: Annotated[str | None, typer.Option("--date", help="Date of issue, DD/MM/YYYY; default today (Vietnam time)")] = None,
    actor: Actor = "system",
) -> None:
    """Number the signed document from its register, date it and produce the issued DOCX; the audit log is
    checkpointed with the issuing agency's key (in your keystore) in the same step."""
    from models.checkpoints import issue_sealed

    issued_on = parse_date(on, "date") if on else today()
    settings = get_settings()
    secret = passphrase(f"the issuing agency's key in {settings.keystore_dir}")
    with session_scope(ready_engine()) as session:
        entry, record = issue_sealed(session, find_document(session, document), issued_on, settings.files_dir,
                                     keystore=settings.keystore_dir, passphrase=secret, actor=actor)
    console.print(f"issued as {entry.number_symbol} on {short_date(issued_on)}: {record.filename} (sha256 {record.sha256})")


@app.command("render")
@user_errors
def render(document: DocRef, out: Annotated[Path, typer.Option(help="Where to write the DOCX")]) -> None:
    """Write a document's DOCX as it stands (a draft shows a blank number and no date)."""
    from doc_templates import render_document

    with session_scope(ready_engine()) as session:
        data = render_document(session, find_document(session, document))
    write_file(out, data)
    console.print(f"wrote {out}")


@app.command("show")
@user_errors
def show(document: DocRef) -> None:
    """A document: its status, number, links, files and human steps."""
    from models.views import describe_document

    with session_scope(ready_engine()) as session:
        view = describe_document(session, find_document(session, document))
    doc = view.document
    console.print(f"[bold]#{doc.id} {type_name(doc.kind)} {escape(number_symbol(doc.number, doc.symbol).strip())}[/]"
                  f" — {doc.status.value}", markup=True)
    console.print(f"{view.issuer.name}; {short_date(doc.issued_on) if doc.issued_on else 'not issued'}")
    console.print(f"trích yếu: {doc.subject}")
    if doc.distribution:
        console.print(f"distribution: {doc.distribution} (vanban deliveries {doc.id})")
    for link in view.links:
        other = link.other
        console.print(f"link: {link.relation} {'→' if link.outgoing else '←'} #{other.id} {type_name(other.kind)} "
                      f"{number_symbol(other.number, other.symbol).strip()}")
    for f in view.files:
        console.print(f"file: {f.filename} ({f.purpose}) sha256 {f.sha256}")
    for st in view.steps:
        answered = f" by {st.answered_by}" + (f": {st.comment}" if st.comment else "") if st.answered_by else ""
        console.print(f"step #{st.id} round {st.round} {st.name}: {st.status.value}{answered}")



@app.command("kinds")
@user_errors
def kinds() -> None:
    """The 29 kinds of Decree 30 Điều 7 and the parts each one has (models/kinds.py)."""
    from models.kinds import KINDS, Presence

    def mark(value: Presence) -> str:
        return {Presence.REQUIRED: "required", Presence.OPTIONAL: "optional", Presence.NONE: ""}[value]

    table = Table("kind", "tên loại", "viết tắt", "mẫu", "heading", "căn cứ", "body", "Kính gửi", "form", "signatures")
    for k in KINDS.values():
        form = ", ".join(f.key + ("" if f.required else "?") for f in k.form)
        signatures = " | ".join(p.label for p in k.parties) if k.parties else "in person" if k.in_person else "one"
        add_row(table, k.kind.value, k.name, k.abbreviation or "—", k.sample, k.heading.value, mark(k.bases),
                "articles" if k.articles else "sections", mark(k.kinh_gui) + (" (table)" if k.table is not Presence.NONE else ""),
                form, signatures)
    console.print(table)


@app.command("gallery")
@user_errors
def gallery(out: Annotated[Path, typer.Option("--out", help="Folder to write one DOCX of every kind into")]) -> None:
    """Draft, sign and issue one sample of every kind in a throw-away database and write the DOCX files to OUT,
    for a reviewer to open side by side (samples: models/sample/gallery_2026.yaml)."""
    import tempfile

    from models.sample_data import build_gallery

    with tempfile.TemporaryDirectory(prefix="vanban-gallery-") as folder:
        with console.status("issuing one document of every kind…") as status:
            written = build_gallery(Path(folder), make_folder(out), progress=lambda msg: status.update(msg))
    for path in written:
        console.print(f"  {escape(path.name)}")
    console.print(f"{len(written)} documents written to {escape(str(out))}")
