"""Loads the sample directory of Vĩnh Long (2024) and runs the seed chain: draft, sign, issue."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models.audit import Action, record
from models.db import session_scope
from models.directory import Agency, agency_by_code
from models.document import Document, GeneratedFile
from models.drafting import draft_document, parse_create
from models.errors import RuleViolation
from models.files import path_of
from models.incoming import register_incoming
from models.issuing import issue_document
from models.legal_text import parse_date
from models.signing import sign_document
from models.yaml_files import read_yaml

SAMPLE = Path(__file__).parent / "sample"
DIRECTORY_FILE = SAMPLE / "vinh_long_2024.yaml"
REORGANISATION_FILE = SAMPLE / "vinh_long_2025.yaml"  # the 2025 reorganisation, on top of the 2024 sample
SEED_CHAIN_FILE = SAMPLE / "seed_chain_2024.yaml"
GALLERY_FILE = SAMPLE / "gallery_2026.yaml"  # one document of every kind of Điều 7, on the 2025 directory


def load_directory(session: Session, path: Path = DIRECTORY_FILE, *, is_sample: bool = True,
                   actor: str = "system") -> dict[str, int]:
    """Import a directory file (by default the 2024 sample) in one audited step; counts by section."""
    from models.directory_io import import_directory

    data = read_yaml(path)
    codes = [a.get("code") for a in (data or {}).get("agencies") or [] if isinstance(a, dict)]
    if codes and session.exec(select(Agency).where(Agency.code.in_(codes))).first():
        raise RuleViolation("directory", "directory.already-loaded", f"the agencies of {path.name} are in this database already")
    counts = import_directory(session, data, is_sample=is_sample)
    record(session, Action.DIRECTORY_LOADED, actor=actor, details={"file": path.name, "sample": is_sample, **counts})
    return counts


def load_reorganisations(session: Session, path: Path = REORGANISATION_FILE, *, actor: str = "system") -> list[dict]:
    """Apply each reorganisation of ``path`` in order (one audit entry each); what each did."""
    from models.reorganisation import reorganise

    data = read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("reorganisations"), list):
        raise RuleViolation("file", "file.shape", f"{path.name} must hold a list 'reorganisations'")
    out = []
    for i, spec in enumerate(data["reorganisations"]):
        try:
            out.append(reorganise(session, spec, actor=actor))
        except RuleViolation as exc:
            raise RuleViolation(f"reorganisations[{i}].{exc.field}", exc.rule, exc.message) from None
    return out


@dataclass
class IssuedDocument:
    key: str
    document: Document
    file: GeneratedFile


def fill_references(value: Any, ids: dict[str, int]) -> Any:
    """'@plan' → the id of the document created under the key 'plan', anywhere in a nested spec."""
    if isinstance(value, str) and value.startswith("@"):
        if value[1:] not in ids:
            raise RuleViolation("document", "document.unknown", f"'{value}' names no earlier document of the chain")
        return ids[value[1:]]
    if isinstance(value, list):
        return [fill_references(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: fill_references(v, ids) for k, v in value.items()}
    return value


def run_seed_chain(engine: Engine, files_dir: Path, path: Path = SEED_CHAIN_FILE,
                   progress: Callable[[str], None] = lambda _msg: None) -> list[IssuedDocument]:
    """Draft, sign and issue each document of the chain, each step in its own transaction."""
    ids: dict[str, int] = {}
    out: list[IssuedDocument] = []
    for entry in read_yaml(path)["documents"]:
        key = entry["key"]
        spec = parse_create(fill_references(entry["draft"], ids))
        with session_scope(engine) as session:
            doc_id = draft_document(session, spec, actor=entry["drafted_by"]).id
        progress(f"{key}: drafted")
        with session_scope(engine) as session:
            sign_document(session, session.get(Document, doc_id))
        progress(f"{key}: signed")
        with session_scope(engine) as session:
            doc = session.get(Document, doc_id)
            issued_on = parse_date(entry["issued_on"], f"{key}.issued_on")
            _, stored = issue_document(session, doc, issued_on, files_dir, actor=entry["issued_by"])
        progress(f"{key}: issued as {stored.filename}")
        if "received" in entry:
            arrival = entry["received"]
            with session_scope(engine) as session:
                register_incoming(session, agency_by_code(session, arrival["agency"], f"{key}.received.agency"),
                                  session.get(Document, doc_id), parse_date(arrival["on"], f"{key}.received.on"),
                                  assigned_to=arrival.get("assigned_to"), actor=arrival["by"])
            progress(f"{key}: received at {arrival['agency']}")
        ids[key] = doc_id
        out.append(IssuedDocument(key, doc, stored))
    return out


def sample_database(folder: Path, *, chain: bool = False, year: int = 2024) -> str:
    """A new SQLite database in ``folder``: the schema, the sample directory of ``year`` (2024, or 2025 with its
    reorganisations) and, if ``chain``, the seed chain issued (its files under ``folder/files``); the sample
    officials and issuing agencies enrolled, their keys in ``folder/keys`` (passphrase SAMPLE_PASSPHRASE). Returns
    its URL. For tests, benchmarks, rehearsals and the gallery."""
    from models.credentials import enrol_sample
    from models.db import make_engine, migrate

    url = f"sqlite:///{folder / 'vanban.db'}"
    engine = make_engine(url)
    migrate(engine)
    with session_scope(engine) as session:
        load_directory(session)
    if year == 2025:
        with session_scope(engine) as session:
            load_reorganisations(session)
    if chain:
        run_seed_chain(engine, folder / "files")
    with session_scope(engine) as session:
        enrol_sample(session, folder / "keys")
    engine.dispose()
    return url


def build_gallery(folder: Path, out: Path, progress: Callable[[str], None] = lambda _msg: None) -> list[Path]:
    """One issued document of every kind (gallery_2026.yaml), drafted, signed and issued in a new sample database
    under ``folder``, copied into ``out`` as '01-resolution-01-NQ-HDND.docx' …, in the file's order."""
    from models.db import make_engine
    from models.directory_io import import_directory

    engine = make_engine(sample_database(folder, year=2025))
    try:
        with session_scope(engine) as session:
            counts = import_directory(session, read_yaml(GALLERY_FILE)["directory"], is_sample=True)
            record(session, Action.DIRECTORY_LOADED, actor="system", details={"file": GALLERY_FILE.name, "sample": True, **counts})
        issued = run_seed_chain(engine, folder / "files", GALLERY_FILE, progress)
    finally:
        engine.dispose()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for i, item in enumerate(issued, start=1):
        target = out / f"{i:02d}-{item.key}-{item.file.filename}"
        target.write_bytes(path_of(folder / "files", item.file.sha256).read_bytes())
        written.append(target)
    return written
