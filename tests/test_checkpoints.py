"""An anchored audit log (issue 13, deliverable 2): checkpoints signed by an agency's key, at every issue and on
demand, exported and kept outside the database, prove that the log was not rewritten, truncated or wiped since,
nor the documents, register entries and file records they cover changed; stored files are checked against their
recorded SHA-256."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from models.audit import GENESIS, Action, AuditEntry, _entry_hash, record, verify
from models.checkpoints import checkpoint_now, export, latest, verify_against
from models.credentials import SAMPLE_PASSPHRASE, enrol_sample
from models.db import make_engine, session_scope
from models.document import GeneratedFile
from models.files import path_of
from models.sample_data import load_directory
from tests.test_approvals import keys_of
from tests.test_credentials import refused
from tests.test_directory import run, use_database


# --- what a forger with write access to the database does ------------------------------------------------

def rewrite(engine: Engine, seq: int, old: bytes, new: bytes) -> None:
    """Edit entry ``seq``, then re-link and re-hash every entry after it, and the head: the chain checks out."""
    with engine.begin() as conn:
        prev = conn.execute(text("SELECT hash FROM auditentry WHERE seq = :s"), {"s": seq - 1}).scalar() or GENESIS
        rows = conn.execute(text("SELECT id, payload FROM auditentry WHERE seq >= :s ORDER BY seq"), {"s": seq}).all()
        for i, (row_id, payload) in enumerate(rows):
            payload = bytes(payload)
            if i == 0:
                assert old in payload
                payload = payload.replace(old, new)
            payload = payload[:-64] + prev.encode()
            prev = _entry_hash(payload)
            conn.execute(text("UPDATE auditentry SET payload = :p, hash = :h WHERE id = :i"), {"p": payload, "h": prev, "i": row_id})
        conn.execute(text("UPDATE audithead SET hash = :h WHERE id = 1"), {"h": prev})


def truncate(engine: Engine, keep: int) -> None:
    """Delete the entries after ``keep`` and move the head back to it."""
    with engine.begin() as conn:
        last = conn.execute(text("SELECT hash FROM auditentry WHERE seq = :s"), {"s": keep}).scalar() or GENESIS
        assert conn.execute(text("DELETE FROM auditentry WHERE seq > :s"), {"s": keep}).rowcount
        conn.execute(text("UPDATE audithead SET seq = :s, hash = :h WHERE id = 1"), {"s": keep, "h": last})


TAMPERS: list[tuple[str, Callable[[Engine], None], str]] = [
    ("rewritten", lambda e: rewrite(e, 2, b"system", b"vt-ubnd"), "the log was rewritten: entry"),
    ("truncated", lambda e: truncate(e, 3), "the log was truncated: it ends at entry 3"),
    ("wiped", lambda e: truncate(e, 0), "the log was wiped: it has no entries"),
]


def anchored(engine: Engine, keystore: Path) -> dict:
    """A few entries, a checkpoint signed by UBND tỉnh's key, exported; then the log goes on."""
    with session_scope(engine) as session:
        for _ in range(4):
            record(session, Action.ACKNOWLEDGED, actor="vt-ubnd")
    with session_scope(engine) as session:
        checkpoint_now(session, "ubnd-tinh", keystore, SAMPLE_PASSPHRASE, actor="vt-ubnd")
    with session_scope(engine) as session:
        data = export(session, latest(session))
        record(session, Action.ACKNOWLEDGED, actor="vt-sttt")
    with engine.connect() as conn:
        assert verify(conn).intact and verify_against(conn, data) == []  # later entries are no rewriting
    return data


@pytest.mark.parametrize("name, tamper, words", TAMPERS, ids=[t[0] for t in TAMPERS])
def test_a_rewritten_truncated_or_wiped_log_fails_against_the_checkpoint_on_sqlite(
        engine: Engine, name: str, tamper: Callable[[Engine], None], words: str) -> None:
    data = anchored(engine, keys_of(engine))
    tamper(engine)
    with engine.connect() as conn:
        assert verify(conn).intact  # the chain alone cannot tell
        differs = verify_against(conn, data)
    assert any(words in d for d in differs), differs


@pytest.mark.parametrize("name, tamper, words", TAMPERS, ids=[t[0] for t in TAMPERS])
def test_a_rewritten_truncated_or_wiped_log_fails_against_the_checkpoint_on_postgresql(
        pg_url: str, tmp_path: Path, name: str, tamper: Callable[[Engine], None], words: str) -> None:
    engine = make_engine(pg_url)
    with session_scope(engine) as session:
        load_directory(session)
    with session_scope(engine) as session:
        enrol_sample(session, tmp_path / "keys")
    data = anchored(engine, tmp_path / "keys")
    tamper(engine)
    with engine.connect() as conn:
        assert verify(conn).intact
        differs = verify_against(conn, data)
    engine.dispose()
    assert any(words in d for d in differs), differs


def test_changed_registers_documents_and_a_forged_file_are_named(chain_engine: Engine) -> None:
    data = anchored(chain_engine, keys_of(chain_engine))
    with chain_engine.begin() as conn:  # the register and the document say 375 instead of 374, nothing else
        assert conn.execute(text("UPDATE registerentry SET number = 375, number_symbol = '375/QĐ-UBND' "
                                 "WHERE number = 374")).rowcount == 1
        assert conn.execute(text("UPDATE document SET number = 375 WHERE number = 374")).rowcount == 1
        assert conn.execute(text("UPDATE generatedfile SET filename = 'x.docx' WHERE id = 1")).rowcount == 1
    with chain_engine.connect() as conn:
        assert verify(conn).intact
        assert verify_against(conn, data) == [
            "the issued documents the checkpoint covers were changed since",
            "the register entries the checkpoint covers were changed since",
            "the stored file records the checkpoint covers were changed since"]
        forged = {**data, "details": {**data["details"], "entries": data["details"]["entries"] - 1}}
        assert verify_against(conn, forged) == ["the file's checkpoint is not signed by ubnd-tinh's key: it was altered "
                                                "or forged"]


@pytest.fixture
def clerk(chain_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("COLUMNS", "400")
    use_database(chain_engine.url.render_as_string(hide_password=False), monkeypatch)
    monkeypatch.setenv("VANBAN_HOME", str(Path(chain_engine.url.database).parent))  # its files are there
    from models.config import get_settings

    get_settings.cache_clear()
    return CliRunner()


def test_the_clerk_anchors_and_verifies(clerk: CliRunner, chain_engine: Engine, tmp_path: Path) -> None:
    kept = tmp_path / "checkpoint.json"
    refused(run(clerk, "audit", "checkpoint", "--export", str(kept)), "checkpoint.none")
    refused(run(clerk, "audit", "checkpoint", "--agency", "snv", "--as", "vt-ubnd"), "keys.not-enrolled")
    made = run(clerk, "audit", "checkpoint", "--agency", "ubnd-tinh", "--as", "vt-ubnd", "--export", str(kept))
    assert made.exit_code == 0 and "covering 17 entries, signed by ubnd-tinh" in made.stdout, made.output
    assert json.loads(kept.read_text(encoding="utf-8"))["seq"] == 18
    good = run(clerk, "audit", "verify", "--against", str(kept), "--files")
    assert good.exit_code == 0 and "matches the checkpoint" in good.stdout and "every stored file matches" in good.stdout
    truncate(chain_engine, 12)
    cut = run(clerk, "audit", "verify", "--against", str(kept))
    assert cut.exit_code == 1 and "audit log intact: 12 entries" in cut.stdout
    assert "the log was truncated: it ends at entry 12; the checkpoint covers 17 entries and is entry 18" in cut.stderr
    assert "Traceback" not in cut.output
    refused(run(clerk, "audit", "verify", "--against", str(tmp_path / "none.json")), "file.read")
    (tmp_path / "other.json").write_text('{"a": 1}', encoding="utf-8")
    refused(run(clerk, "audit", "verify", "--against", str(tmp_path / "other.json")), "checkpoint.format")


def test_a_swapped_file_is_found(clerk: CliRunner, chain_engine: Engine) -> None:
    with Session(chain_engine) as session:
        stored = session.exec(select(GeneratedFile).order_by(GeneratedFile.id)).all()
    files = Path(chain_engine.url.database).parent / "files"
    victim, other = stored[-1], stored[0]
    path_of(files, victim.sha256).write_bytes(path_of(files, other.sha256).read_bytes())
    found = run(clerk, "audit", "verify", "--files")
    assert found.exit_code == 1 and "audit log intact" in found.stdout
    assert found.stderr.splitlines() == [f"file: {victim.filename} ({victim.purpose}) of document #{victim.document_id}: "
                                         f"its bytes no longer match its recorded SHA-256 {victim.sha256[:16]}… (now "
                                         f"{other.sha256[:16]}…)"]


def test_a_checkpoint_at_every_issue(chain_engine: Engine) -> None:
    """Issuing checkpoints the log with the issuing agency's key; without that key nothing is issued."""
    from datetime import date

    from models.approvals import submit
    from models.checkpoints import issue_sealed
    from models.document import Document
    from models.drafting import draft_document
    from models.errors import RuleViolation
    from tests.test_approvals import open_step, respond
    from tests.test_drafting import seed_spec

    with session_scope(chain_engine) as session:
        doc = draft_document(session, {**seed_spec("decision"), "subject": "Quyết định thử"}, actor="cv-vhxh")
        submit(session, doc, actor="cv-vhxh")
        doc_id = doc.id
    respond(chain_engine, open_step(chain_engine, doc_id).id, actor="cvp", decision="approve")
    respond(chain_engine, open_step(chain_engine, doc_id).id, actor="pct-vhxh", decision="approve")
    files = Path(chain_engine.url.database).parent / "files"
    with pytest.raises(RuleViolation) as exc, session_scope(chain_engine) as session:
        issue_sealed(session, session.get(Document, doc_id), date(2024, 3, 5), files, keystore=files,
                     passphrase=SAMPLE_PASSPHRASE, actor="vt-ubnd")
    assert exc.value.rule == "keys.missing"
    with Session(chain_engine) as session:
        assert session.get(Document, doc_id).number is None
    with session_scope(chain_engine) as session:
        issue_sealed(session, session.get(Document, doc_id), date(2024, 3, 5), files, keystore=keys_of(chain_engine),
                     passphrase=SAMPLE_PASSPHRASE, actor="vt-ubnd")
    with Session(chain_engine) as session:
        last = session.exec(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        details = json.loads(last.details)
        assert (last.action, last.actor, details["agency"], details["entries"]) == ("checkpoint", "vt-ubnd", "ubnd-tinh",
                                                                                    last.seq - 1)
        data = export(session, latest(session))
    with chain_engine.connect() as conn:
        assert verify_against(conn, data) == []
