"""Checkpoints (điểm neo) anchor the audit log outside the database.

A hash chain proves that no entry was changed apart from the others; it cannot prove that someone who can write
to the database did not rewrite the whole chain and its head, cut it short, or wipe it. A checkpoint can: it is
signed by an agency's own key (its 'agency' credential, the key in the keystore of the văn thư who issues), made
at every issue and on `vanban audit checkpoint`, and covers the chain's head (its length and last hash) and a
digest of what the log speaks of: the issued documents' text, the register entries and the stored files' hashes.
It is itself an audit entry (the signature in its details), so the log carries its own anchors; exported to a
file and kept elsewhere (e-mailed to the archive, printed, handed to another system), it lets `vanban audit verify
--against FILE` prove that the database was not rewritten, truncated or wiped since.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from sqlalchemy import func, text
from sqlalchemy.engine import Connection
from sqlmodel import Session, select

from models.audit import Action, AuditEntry, AuditHead, record
from models.credentials import (
    Credential, canonical_json, certificate_of, day_of, in_force_credential, read_key, sign_bytes, signature_holds,
    timestamp, utc_now,
)
from models.directory import Agency, agency_by_code
from models.document import Document, GeneratedFile
from models.errors import RuleViolation
from models.files import path_of, sha256
from models.register import RegisterEntry

FORMAT = "vanban-checkpoint/1"


class Seal:
    """An agency's key, opened from the keystore, ready to sign checkpoints (its credential in force today)."""

    def __init__(self, session: Session, agency: Agency, keystore: Path, passphrase: str) -> None:
        self.agency = agency.code
        self.credential = in_force_credential(session, "agency", agency.id, day_of(utc_now()), "agency")
        self.key = read_key(session, keystore, self.credential, passphrase)


def seal_of(session: Session, agency_id: int, keystore: Path, passphrase: str) -> Seal:
    """The seal of the agency ``agency_id`` (a document's issuer)."""
    return Seal(session, session.get(Agency, agency_id), keystore, passphrase)


def _digest(rows: list[list[Any]]) -> str:
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")).hexdigest()


def state(session: Session, register_entries: int, files: int) -> dict[str, str]:
    """Digests of what the log speaks of, up to the register entry and file record ids given (rows that never
    change once written; a voided number keeps its row, the voiding is in the log): the register entries, the
    documents they numbered (their text, number, date and status), the stored files' hashes. Linear in what was
    issued: about 130 ms per 1,000 issued documents (SQLite, on this project's 2-core machines)."""
    entries = session.exec(select(RegisterEntry).where(RegisterEntry.id <= register_entries).order_by(RegisterEntry.id)).all()
    # one query, not content_digest per document: a checkpoint is made at every issue and reads them all; what a
    # document prints beyond its row (addressees, links) is in its issued file's SHA-256, in the files' digest
    documents = session.exec(select(Document).where(Document.id.in_(
        select(RegisterEntry.document_id).where(RegisterEntry.id <= register_entries))).order_by(Document.id)).all()
    stored = session.exec(select(GeneratedFile).where(GeneratedFile.id <= files).order_by(GeneratedFile.id)).all()
    return {
        "register_entries": _digest([[e.id, e.register_id, e.number, e.number_symbol, e.issued_on, e.document_id,
                                      e.imported, e.subject] for e in entries]),
        "documents": _digest([[d.id, d.status.value, d.number, d.issued_on, d.kind.value, d.issuer_id, d.symbol, d.place,
                               d.subject, d.competence, d.legal_bases, d.body, d.signer_id,
                               d.authority_form.value if d.authority_form else None, d.as_of] for d in documents]),
        "files": _digest([[f.id, f.document_id, f.purpose, f.filename, f.sha256, f.size] for f in stored]),
    }


def checkpoint(session: Session, seal: Seal, *, actor: str) -> AuditEntry:
    """Record a checkpoint of the log as it stands in this transaction, signed with ``seal``."""
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()
                        .execution_options(populate_existing=True)).one()
    upto = {"register_entries": session.exec(select(func.coalesce(func.max(RegisterEntry.id), 0))).one(),
            "files": session.exec(select(func.coalesce(func.max(GeneratedFile.id), 0))).one()}
    covered = {"agency": seal.agency, "entries": head.seq, "head": head.hash, "upto": upto,
               "state": state(session, upto["register_entries"], upto["files"]), "at": timestamp(utc_now()),
               "fingerprint": seal.credential.fingerprint}
    return record(session, Action.CHECKPOINT, actor=actor,
                  details={**covered, "signature": sign_bytes(seal.key, canonical_json(covered))})


def latest(session: Session) -> AuditEntry:
    """The last checkpoint of the log (read from the end: one is made at every issue)."""
    for entry in session.exec(select(AuditEntry).order_by(AuditEntry.seq.desc()).execution_options(yield_per=200)):
        if entry.action == Action.CHECKPOINT.value:
            return entry
    raise RuleViolation("checkpoint", "checkpoint.none", "the log holds no checkpoint yet: vanban audit checkpoint "
                                                         "--agency CODE --as CODE")


def export(session: Session, entry: AuditEntry) -> dict[str, Any]:
    """A checkpoint as kept outside the database: its entry (seq, hash, details) and the certificates that check it."""
    details = json.loads(entry.details)
    credential = session.exec(select(Credential).where(Credential.fingerprint == details["fingerprint"])).one()
    cas = session.exec(select(Credential).where(Credential.role == "ca", Credential.agency_id == credential.agency_id)
                       .order_by(Credential.id)).all()
    return {"format": FORMAT, "seq": entry.seq, "hash": entry.hash, "actor": entry.actor, "details": details,
            "certificate": credential.certificate, "ca_certificates": [ca.certificate for ca in cas]}


def _signed(data: dict[str, Any]) -> list[str]:
    """What is wrong with the file itself: its signature, by the certificate it carries, issued by its agency's CA."""
    details = dict(data["details"])
    signature = details.pop("signature", "")
    cert = certificate_of(data["certificate"])
    if hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest() != details.get("fingerprint"):
        return ["the file's certificate is not the one the checkpoint names"]
    if not signature_holds(cert, canonical_json(details), signature):
        return [f"the file's checkpoint is not signed by {details.get('agency')}'s key: it was altered or forged"]
    for pem in data.get("ca_certificates", []):
        try:
            cert.verify_directly_issued_by(certificate_of(pem))
            return []
        except (InvalidSignature, ValueError, TypeError):
            continue
    return ["the file's certificate was not issued by the CA it carries"]


def verify_against(connection: Connection, data: dict[str, Any]) -> list[str]:
    """What differs between the database and a checkpoint kept outside it (empty: nothing): the log rewritten,
    truncated or wiped before the checkpoint, or the documents, register entries or file records it covers changed."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise RuleViolation("against", "checkpoint.format", f"the file is not a vanban checkpoint ({FORMAT})")
    try:
        problems = _signed(data)
        details = data["details"]
        covered, own_seq, own_hash = int(details["entries"]), int(data["seq"]), str(data["hash"])
    except (KeyError, TypeError, ValueError) as exc:
        raise RuleViolation("against", "checkpoint.format", f"the checkpoint file is incomplete ({exc})") from None
    if problems:
        return problems
    count = connection.execute(text("SELECT count(*) FROM auditentry")).scalar_one()
    if count == 0:
        return [f"the log was wiped: it has no entries; the checkpoint covers {covered} and is entry {own_seq}"]
    hashes = dict(connection.execute(text("SELECT seq, hash FROM auditentry WHERE seq IN (:a, :b)"),
                                     {"a": covered, "b": own_seq}).all())
    last = connection.execute(text("SELECT max(seq) FROM auditentry")).scalar_one()
    if last < own_seq:
        problems.append(f"the log was truncated: it ends at entry {last}; the checkpoint covers {covered} entries "
                        f"and is entry {own_seq}")
    if covered and covered in hashes and hashes[covered] != details["head"]:
        problems.append(f"the log was rewritten: entry {covered} has hash {hashes[covered][:16]}…, the checkpoint "
                        f"says {details['head'][:16]}…")
    if own_seq in hashes and hashes[own_seq] != own_hash:
        problems.append(f"the log was rewritten: entry {own_seq} is not the checkpoint (hash {hashes[own_seq][:16]}…, "
                        f"the file says {own_hash[:16]}…)")
    with Session(bind=connection) as session:
        now = state(session, int(details["upto"]["register_entries"]), int(details["upto"]["files"]))
    names = {"documents": "issued documents", "register_entries": "register entries", "files": "stored file records"}
    for part, name in names.items():
        if now[part] != details["state"][part]:
            problems.append(f"the {name} the checkpoint covers were changed since")
    return problems


def file_problems(session: Session, files_dir: Path) -> list[str]:
    """Each stored file whose bytes are missing or no longer match its recorded SHA-256."""
    problems = []
    for f in session.exec(select(GeneratedFile).order_by(GeneratedFile.id)):
        path = path_of(files_dir, f.sha256)
        try:
            data = path.read_bytes()
        except OSError:
            problems.append(f"{f.filename} ({f.purpose}) of document #{f.document_id}: missing from {files_dir}")
            continue
        if sha256(data) != f.sha256:
            problems.append(f"{f.filename} ({f.purpose}) of document #{f.document_id}: its bytes no longer match its "
                            f"recorded SHA-256 {f.sha256[:16]}… (now {sha256(data)[:16]}…)")
    return problems


def issue_sealed(session: Session, document: Document, issued_on, files_dir: Path, *, keystore: Path,  # noqa: ANN001
                 passphrase: str, actor: str):  # noqa: ANN201 - issue_document's (entry, file)
    """Issue a document and checkpoint the log in the same transaction, signed with the issuing agency's key. The key
    is opened first: a văn thư who does not hold it issues nothing (no number, no file)."""
    from models.issuing import issue_document

    seal = seal_of(session, document.issuer_id, keystore, passphrase)
    issued = issue_document(session, document, issued_on, files_dir, actor=actor)
    checkpoint(session, seal, actor=actor)
    return issued


def checkpoint_now(session: Session, agency: str, keystore: Path, passphrase: str, *, actor: str) -> AuditEntry:
    """`vanban audit checkpoint --agency CODE`: a checkpoint signed with that agency's key from ``keystore``."""
    found = agency_by_code(session, agency, "agency")
    return checkpoint(session, Seal(session, found, keystore, passphrase), actor=actor)
