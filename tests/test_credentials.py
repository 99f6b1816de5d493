"""Officials prove who they are (issue 13): every answer and signature is signed with the official's key and
verified against the certificate in force before it is recorded; an answer without the key, or with a proof that
does not hold, is refused and the refusal recorded under the code it claimed; one-time codes for the Prefect UI."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import pyotp
import pytest
from click.testing import Result
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from models.approvals import ApprovalStep, StepStatus, answer, answer_with_key
from models.audit import AuditEntry, trail
from models.credentials import (
    SAMPLE_PASSPHRASE, Credential, KeyProof, certificate_of, OtpProof, OtpSecret, _certificate, _store, _subject, credentials_of,
    day_of, enrol, key_file, make_proof, revoke, signature_holds, statement, timestamp, utc_now, write_key,
)
from models.db import session_scope
from models.directory import Agency, Official
from models.document import Document, content_digest
from models.errors import RuleViolation
from flows.cli import app
from tests.test_approvals import keys_of, new_decision, open_step, respond
from tests.test_directory import run, use_database


@pytest.fixture
def clerk(chain_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """The `vanban` app in this process on the issued seed chain, the sample keys in its keystore."""
    monkeypatch.setenv("COLUMNS", "400")  # a keystore's path is long: one line still
    use_database(chain_engine.url.render_as_string(hide_password=False), monkeypatch)
    return CliRunner()


def use_keystore(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    from models.config import get_settings

    monkeypatch.setenv("VANBAN_KEYSTORE", str(folder))
    get_settings.cache_clear()


def refused(result: Result, rule: str) -> str:
    """One line naming the rule, exit 1, no traceback."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert f"({rule})" in result.stderr, result.stderr
    return result.stderr


def refusals(engine: Engine, doc_id: int) -> list[tuple[str, str, str]]:
    """The recorded refusals of a document: (actor, code claimed, rule)."""
    with Session(engine) as session:
        found = [(e.actor, json.loads(e.details)) for e in trail(session, doc_id) if e.action == "answer_refused"]
    return [(actor, d["claimed_by"], d["rule"]) for actor, d in found]


def answered(engine: Engine, doc_id: int) -> list[tuple[str, str]]:
    with Session(engine) as session:
        return [(e.action, e.actor) for e in trail(session, doc_id)
                if e.action in ("approved", "returned", "rejected", "signed")]


def test_an_answer_without_the_officials_key_is_refused_and_recorded(clerk: CliRunner, chain_engine: Engine,
                                                                     tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc_id = new_decision(chain_engine)
    step = str(open_step(chain_engine, doc_id).id)
    use_keystore(monkeypatch, tmp_path / "mine")  # whoever types it holds no key of cvp's
    assert "no private key of official-cvp's certificate" in refused(run(clerk, "approve", step, "--as", "cvp"), "keys.missing")
    # another official's key under cvp's file name
    with Session(chain_engine) as session:
        cvp = credentials_of(session, "cvp")[0]
    forged = key_file(tmp_path / "mine", "official-cvp", cvp.key_id)
    forged.parent.mkdir()
    shutil.copy(next(keys_of(chain_engine).glob("official-pcvp-vhxh.*")), forged)
    refused(run(clerk, "approve", step, "--as", "cvp"), "keys.mismatch")
    use_keystore(monkeypatch, keys_of(chain_engine))  # cvp's own keystore, the wrong passphrase
    monkeypatch.setenv("VANBAN_KEY_PASSPHRASE", "đoán thử")
    refused(run(clerk, "return", step, "--as", "cvp", "--reason", "Sai"), "keys.passphrase")
    monkeypatch.delenv("VANBAN_KEY_PASSPHRASE")  # typed at the prompt instead: nobody typed it
    asked = run(clerk, "approve", step, "--as", "cvp")
    assert asked.exit_code == 1 and asked.stderr.splitlines()[0].startswith("passphrase of cvp's key in ")
    assert asked.stderr.splitlines()[1:] == ["error: passphrase: type the keystore's passphrase, or set "
                                             "VANBAN_KEY_PASSPHRASE (keys.passphrase-needed)"]
    assert refusals(chain_engine, doc_id) == [("cvp", "cvp", "keys.missing"), ("cvp", "cvp", "keys.mismatch"),
                                              ("cvp", "cvp", "keys.passphrase")]
    assert open_step(chain_engine, doc_id).status is StepStatus.PENDING and answered(chain_engine, doc_id) == []

    done = clerk.invoke(app, ["approve", step, "--as", "cvp", "--comment", "Đạt"], input=f"{SAMPLE_PASSPHRASE}\n")
    assert done.exit_code == 0 and "approved by cvp" in done.stdout, done.output
    with Session(chain_engine) as session:
        entry = [e for e in trail(session, doc_id) if e.action == "approved"][0]
        details, kept = json.loads(entry.details), session.get(ApprovalStep, int(step)).proof
        holder = session.exec(select(Credential).where(Credential.fingerprint == details["fingerprint"])).one()
        assert (entry.actor, session.get(Official, holder.official_id).code) == ("cvp", "cvp")  # the proven official
        digest = content_digest(session, session.get(Document, doc_id))
    assert kept == {k: details[k] for k in ("proof", "at", "digest", "signature", "fingerprint")} and kept["proof"] == "key"
    said = statement(step=int(step), document=doc_id, decision="approve", text="Đạt", digest=digest, at=details["at"])
    cert = certificate_of(holder)
    assert signature_holds(cert, said, details["signature"])  # anyone can check it again with the certificate
    assert not signature_holds(cert, said.replace(b"approve", b"reject"), details["signature"])


def test_a_revoked_certificate_proves_nothing_until_a_new_one(clerk: CliRunner, chain_engine: Engine) -> None:
    doc_id = new_decision(chain_engine)
    step = str(open_step(chain_engine, doc_id).id)
    assert run(clerk, "keys", "revoke", "cvp", "--reason", "mất USB token", "--as", "vt-ubnd").exit_code == 0
    assert "was revoked on" in refused(run(clerk, "approve", step, "--as", "cvp"), "keys.revoked")
    shown = json.loads(run(clerk, "keys", "show", "cvp", "--json").stdout)
    assert [(c["role"], c["state"].startswith("revoked from"), c["key_here"]) for c in shown] == [("person", True, True)]
    refused(run(clerk, "keys", "rotate", "cvp", "--as", "vt-ubnd"), "keys.revoked")  # nothing in force to rotate
    assert run(clerk, "keys", "init", "cvp", "--as", "vt-ubnd").exit_code == 0
    refused(run(clerk, "keys", "init", "cvp", "--as", "vt-ubnd"), "keys.enrolled")
    assert run(clerk, "approve", step, "--as", "cvp").exit_code == 0
    rotated = run(clerk, "keys", "rotate", "pct-vhxh", "--as", "vt-ubnd")
    assert rotated.exit_code == 0 and "revoked (rotated)" in rotated.stdout
    assert run(clerk, "approve", str(open_step(chain_engine, doc_id).id), "--as", "pct-vhxh").exit_code == 0
    assert refusals(chain_engine, doc_id) == [("cvp", "cvp", "keys.revoked")]
    assert answered(chain_engine, doc_id) == [("approved", "cvp"), ("signed", "pct-vhxh"), ("approved", "pct-vhxh")]
    with Session(chain_engine) as session:
        recorded = [json.loads(e.details) for e in session.exec(select(AuditEntry).order_by(AuditEntry.seq))
                    if e.action in ("key_revoked", "key_enrolled", "key_rotated") and e.actor == "vt-ubnd"]
    assert [(d["owner"], d.get("reason", "")) for d in recorded] == [("cvp", "mất USB token"), ("cvp", ""), ("pct-vhxh", "")]


def test_an_expired_certificate_is_refused(chain_engine: Engine) -> None:
    doc_id = new_decision(chain_engine)
    with session_scope(chain_engine) as session:
        revoke(session, "cvp", reason="hết nhiệm kỳ", actor="vt-ubnd")
        enrol(session, ["cvp"], keystore=keys_of(chain_engine), passphrase=SAMPLE_PASSPHRASE, actor="vt-ubnd",
              valid_from=date(2020, 1, 1), years=1)
    with pytest.raises(RuleViolation) as exc:
        respond(chain_engine, open_step(chain_engine, doc_id).id, actor="cvp", decision="approve")
    assert exc.value.rule == "keys.expired" and "expired after 31/12/2020" in exc.value.message
    assert refusals(chain_engine, doc_id) == [("cvp", "cvp", "keys.expired")]


def _proof(engine: Engine, step: ApprovalStep, code: str, decision: str = "approve") -> KeyProof:
    with Session(engine) as session:
        official = session.exec(select(Official).where(Official.code == code)).one()
        return make_proof(session, keys_of(engine), official, SAMPLE_PASSPHRASE, step=step.id, document=step.document_id,
                          decision=decision, text=None, digest=content_digest(session, session.get(Document, step.document_id)))


def test_a_proof_that_does_not_hold_is_refused(chain_engine: Engine) -> None:
    doc_id = new_decision(chain_engine)
    step = open_step(chain_engine, doc_id)
    good = _proof(chain_engine, step, "cvp")
    other = _proof(chain_engine, step, "pcvp-vhxh")
    stale_at = timestamp(utc_now() - timedelta(minutes=20))
    cases = [
        (None, "proof.required"),
        (KeyProof(good.at, good.digest, other.signature, good.fingerprint), "proof.signature"),  # another's signature
        (other, "proof.certificate"),  # pcvp-vhxh's proof given as cvp's
        (_proof(chain_engine, step, "cvp", "reject"), "proof.signature"),  # signed for another decision
        (KeyProof(stale_at, good.digest, good.signature, good.fingerprint), "proof.stale"),
    ]
    for proof, rule in cases:
        with pytest.raises(RuleViolation) as exc:
            answer(chain_engine, step.id, actor="cvp", decision="approve", proof=proof)
        assert exc.value.rule == rule, (rule, exc.value)
    with session_scope(chain_engine) as session:  # the draft changes after it was read and signed
        session.get(Document, doc_id).subject += " (sửa)"
    with pytest.raises(RuleViolation) as exc:
        answer(chain_engine, step.id, actor="cvp", decision="approve", proof=good)
    assert exc.value.rule == "proof.document-changed"
    assert [rule for _, _, rule in refusals(chain_engine, doc_id)] == [r for _, r in cases] + ["proof.document-changed"]
    assert open_step(chain_engine, doc_id).status is StepStatus.PENDING and answered(chain_engine, doc_id) == []


def test_a_certificate_the_agency_ca_did_not_issue_is_refused(chain_engine: Engine) -> None:
    """Someone who can write to the database adds a certificate of his own for cvp: it is not the CA's."""
    doc_id = new_decision(chain_engine)
    keystore = keys_of(chain_engine)
    with session_scope(chain_engine) as session:
        revoke(session, "cvp", reason="thay", actor="vt-ubnd")
        official = session.exec(select(Official).where(Official.code == "cvp")).one()
        agency = session.get(Agency, official.agency_id)
        key = ec.generate_private_key(ec.SECP256R1())
        today = day_of(utc_now())
        cert = _certificate("person", _subject("person", agency, official, None), key.public_key(), key, None, today,
                            today + timedelta(days=30))
        _store(session, "person", agency, official, cert, today, today + timedelta(days=30))
        write_key(keystore, "official-cvp", key, SAMPLE_PASSPHRASE)
    with pytest.raises(RuleViolation) as exc:
        respond(chain_engine, open_step(chain_engine, doc_id).id, actor="cvp", decision="approve")
    assert exc.value.rule == "proof.untrusted"
    assert refusals(chain_engine, doc_id) == [("cvp", "cvp", "proof.untrusted")]


def test_sign_is_refused_in_a_chain_and_after_a_return(clerk: CliRunner, chain_engine: Engine,
                                                       monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    doc_id = new_decision(chain_engine)
    assert "answer step #" in refused(run(clerk, "sign", str(doc_id)), "sign.in-chain")
    respond(chain_engine, open_step(chain_engine, doc_id).id, actor="cvp", decision="return", text="Sai thể thức")
    assert "returned for rework at 'Kiểm tra nội dung, thể thức' (Sai thể thức)" in \
        refused(run(clerk, "sign", str(doc_id), "--signer", "ct-ubnd", "--form", "head"), "sign.returned")
    with session_scope(chain_engine) as session:  # a draft that never entered a chain
        from models.drafting import draft_document
        from tests.test_drafting import seed_spec

        outside = draft_document(session, {**seed_spec("decision"), "subject": "Quyết định ký trực tiếp"}, actor="cv-vhxh").id
    use_keystore(monkeypatch, tmp_path / "mine")  # not the Chairman's keystore
    assert "official-ct-ubnd" in refused(run(clerk, "sign", str(outside), "--signer", "ct-ubnd", "--form", "head"),
                                         "keys.missing")
    assert refusals(chain_engine, outside) == [("ct-ubnd", "ct-ubnd", "keys.missing")]
    use_keystore(monkeypatch, keys_of(chain_engine))
    assert run(clerk, "sign", str(outside), "--signer", "ct-ubnd", "--form", "head").exit_code == 0
    with Session(chain_engine) as session:
        signed = [json.loads(e.details) for e in trail(session, outside) if e.action == "signed"]
    assert [(d["authority_form"], d["proof"]) for d in signed] == [("head", "key")] and signed[0]["signature"]


def test_automatic_answers_are_marked_and_only_for_sample_officials(chain_engine: Engine) -> None:
    doc_id = new_decision(chain_engine)
    with session_scope(chain_engine) as session:
        session.exec(select(Official).where(Official.code == "cvp")).one().is_sample = False
    step = open_step(chain_engine, doc_id).id
    with pytest.raises(RuleViolation) as exc:
        answer_with_key(chain_engine, step, actor="cvp", decision="approve", keystore=keys_of(chain_engine),
                        passphrase=SAMPLE_PASSPHRASE, automatic=True)
    assert exc.value.rule == "approval.automatic-sample"
    answer_with_key(chain_engine, step, actor="pcvp-vhxh", decision="approve", keystore=keys_of(chain_engine),
                    passphrase=SAMPLE_PASSPHRASE, automatic=True)
    with Session(chain_engine) as session:
        entries = [(e.action, e.actor, json.loads(e.details)) for e in trail(session, doc_id)
                   if e.action in ("approved", "answer_refused")]
    assert [(a, actor, d.get("automatic"), d.get("rule")) for a, actor, d in entries] == [
        ("answer_refused", "cvp", None, "approval.automatic-sample"), ("approved", "pcvp-vhxh", True, None)]


def _enrol_otp(engine: Engine, code: str) -> pyotp.TOTP:
    from models.credentials import totp_enrol

    with session_scope(engine) as session:
        uri = totp_enrol(session, code, actor="vt-ubnd")
    return pyotp.parse_uri(uri)


def test_one_time_codes_prove_a_review_never_a_signature(chain_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from models.config import get_settings

    with pytest.raises(RuleViolation) as exc:
        _enrol_otp(chain_engine, "cvp")
    assert exc.value.rule == "totp.no-secret-key"
    monkeypatch.setenv("VANBAN_SECRET_KEY", "khoá bí mật của cơ quan")
    get_settings.cache_clear()
    totp = _enrol_otp(chain_engine, "cvp")
    with Session(chain_engine) as session:
        stored = session.get(OtpSecret, session.exec(select(Official.id).where(Official.code == "cvp")).one())
    assert totp.secret not in stored.secret  # kept encrypted, not in clear
    first, second = new_decision(chain_engine), new_decision(chain_engine)
    step = open_step(chain_engine, first).id
    wrong = next(c for c in ("000000", "111111", "222222") if not totp.verify(c, valid_window=1))
    for code, rule in (("", "totp.invalid"), (wrong, "totp.invalid")):
        with pytest.raises(RuleViolation) as exc:
            answer(chain_engine, step, actor="cvp", decision="approve", proof=OtpProof(code))
        assert exc.value.rule == rule
    with pytest.raises(RuleViolation) as exc:
        answer(chain_engine, step, actor="pcvp-vhxh", decision="approve", proof=OtpProof(totp.now()))
    assert exc.value.rule == "totp.not-enrolled"
    code = totp.now()
    answer(chain_engine, step, actor="cvp", decision="approve", proof=OtpProof(code))
    with pytest.raises(RuleViolation) as exc:  # the same code again, on another document
        answer(chain_engine, open_step(chain_engine, second).id, actor="cvp", decision="approve", proof=OtpProof(code))
    assert exc.value.rule == "totp.reused"
    signer = _enrol_otp(chain_engine, "pct-vhxh")
    with pytest.raises(RuleViolation) as exc:
        answer(chain_engine, open_step(chain_engine, first).id, actor="pct-vhxh", decision="approve",
               proof=OtpProof(signer.now()))
    assert exc.value.rule == "proof.sign-needs-key"
    assert [r for _, _, r in refusals(chain_engine, first)] == ["totp.invalid", "totp.invalid", "totp.not-enrolled",
                                                                "proof.sign-needs-key"]
    with Session(chain_engine) as session:
        assert session.get(ApprovalStep, step).proof == {"proof": "totp"}
    monkeypatch.setenv("VANBAN_SECRET_KEY", "một khoá khác")
    get_settings.cache_clear()
    with pytest.raises(RuleViolation) as exc:
        answer(chain_engine, open_step(chain_engine, second).id, actor="cvp", decision="approve", proof=OtpProof(totp.now()))
    assert exc.value.rule == "totp.secret-key"
