"""Credentials (chứng thư số): who an official is, proved by a key nobody else holds.

Each agency that enrols officials has a certificate authority (CA: here a sample/test CA that vanban makes;
in service, the agency's own). An official's certificate (EC P-256, X.509) is issued by the CA of the agency the
official works in; an agency's own certificate (its seal, for signed checkpoints of the audit log) by its CA. The
directory keeps each certificate, public part only, as a dated fact (``Credential``: in force from ``valid_from``
to ``valid_until``, unless revoked from ``revoked_on``). The private key lives only in its owner's keystore: a
folder of PKCS#8 PEM files encrypted with the owner's passphrase, named by owner and key id, never in the database.

A proof (bằng chứng) is a signature over a statement: the canonical JSON of the step, the document, the
decision, the comment or reason, the digest of the document's text and the time. vanban verifies it against the
certificate in force that day before it records an answer. An answer typed in the Prefect UI is proved by a
one-time code (TOTP, RFC 6238) from the official's authenticator instead; the shared secret it needs is kept
encrypted under the agency's secret key (``VANBAN_SECRET_KEY``), since a hash could not check a code.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import or_
from sqlmodel import Field, Session, SQLModel, select

from models.audit import Action, record
from models.config import get_settings
from models.directory import Agency, Dated, Official, agency_at, entry_kind, in_force, position_of
from models.errors import RuleViolation
from models.legal_text import short_date

ROLES = ("ca", "person", "agency")
YEARS = {"ca": 10, "agency": 5, "person": 2}  # how long a certificate is issued for
FRESH_SECONDS = 600  # a proof older than this is refused: it cannot outlive a revocation by more
SAMPLE_PASSPHRASE = "vanban-sample"  # the demo's and the tests' keystores only


class Credential(Dated, table=True):
    """A certificate in the directory: a CA's, an official's ('person') or an agency's own; public part only."""

    id: int | None = Field(default=None, primary_key=True)
    role: str = Field(description="'ca', 'person' or 'agency'")
    agency_id: int = Field(foreign_key="agency.id", index=True, description="The CA's agency; whose CA issued it")
    official_id: int | None = Field(default=None, foreign_key="official.id", index=True)
    fingerprint: str = Field(unique=True, index=True, description="SHA-256 of the certificate (DER), hex")
    key_id: str = Field(description="SHA-256 of the public key (SubjectPublicKeyInfo DER), hex: names the key file")
    certificate: str = Field(description="The X.509 certificate, PEM")
    revoked_on: date | None = Field(default=None, description="Not in force from this day on (thu hồi)")
    revocation_reason: str | None = None

    def in_force_on(self, on: date) -> bool:
        return self.holds_on(on) and (self.revoked_on is None or on < self.revoked_on)


class OtpSecret(SQLModel, table=True):
    """An official's TOTP secret (RFC 6238), encrypted under the agency's secret key; a code is accepted once."""

    official_id: int = Field(foreign_key="official.id", primary_key=True)
    secret: str = Field(description="Fernet token of the base32 secret")
    enrolled_on: date
    last_step: int = Field(default=0, description="The time step of the last code accepted: none at or before it again")


# --- days and names ---------------------------------------------------------------------------------------------

def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def day_of(moment: datetime) -> date:
    """The day a moment falls on where the agency is (a credential is in force by days, like every dated fact).
    Real time, never VANBAN_TODAY: a revocation holds now, whatever day a rehearsal simulates."""
    return moment.astimezone(ZoneInfo(get_settings().timezone)).date()


def owner_name(session: Session, credential: Credential) -> str:
    """'official-cvp', 'agency-ubnd-tinh', 'ca-ubnd-tinh': how the key file of a credential is named."""
    if credential.role == "person":
        return f"official-{session.get(Official, credential.official_id).code}"
    return f"{credential.role}-{session.get(Agency, credential.agency_id).code}"


def key_file(keystore: Path, owner: str, key_id: str) -> Path:
    return keystore / f"{owner}.{key_id[:16]}.key.pem"


def _fingerprint(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def _key_id(public_key: ec.EllipticCurvePublicKey) -> str:
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def certificate_of(credential: Credential | str) -> x509.Certificate:
    """The certificate of a credential, or of PEM text."""
    pem = credential if isinstance(credential, str) else credential.certificate
    return x509.load_pem_x509_certificate(pem.encode("ascii"))


# --- the keystore -------------------------------------------------------------------------------------------------

def _passphrase(passphrase: str) -> bytes:
    if not passphrase:
        raise RuleViolation("passphrase", "keys.passphrase-empty", "a key is never kept without a passphrase")
    return passphrase.encode("utf-8")


def write_key(keystore: Path, owner: str, key: ec.EllipticCurvePrivateKey, passphrase: str) -> Path:
    """Write a new private key, encrypted, readable by its owner only; an existing file is never overwritten."""
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.BestAvailableEncryption(_passphrase(passphrase)))
    path = key_file(keystore, owner, _key_id(key.public_key()))
    try:
        keystore.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise RuleViolation("keystore", "keys.keystore", f"cannot write {path}: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return path


def read_key(session: Session, keystore: Path, credential: Credential, passphrase: str) -> ec.EllipticCurvePrivateKey:
    """The private key of ``credential`` from ``keystore``, decrypted; it must be the certificate's key."""
    owner = owner_name(session, credential)
    path = key_file(keystore, owner, credential.key_id)
    try:
        data = path.read_bytes()
    except OSError:
        raise RuleViolation("keystore", "keys.missing",
                            f"no private key of {owner}'s certificate {credential.fingerprint[:16]} in {keystore}: "
                            "only its holder can act with it") from None
    try:
        key = serialization.load_pem_private_key(data, _passphrase(passphrase))
    except (ValueError, TypeError):
        raise RuleViolation("passphrase", "keys.passphrase", f"the passphrase does not open {owner}'s key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or _key_id(key.public_key()) != credential.key_id:
        raise RuleViolation("keystore", "keys.mismatch", f"{path.name} is not the key of {owner}'s certificate")
    return key


# --- certificates ---------------------------------------------------------------------------------------------------

def _bounds(valid_from: date, valid_until: date) -> tuple[datetime, datetime]:
    zone = ZoneInfo(get_settings().timezone)
    return (datetime.combine(valid_from, time.min, zone).astimezone(timezone.utc),
            datetime.combine(valid_until, time(23, 59, 59), zone).astimezone(timezone.utc))


def _subject(role: str, agency: Agency, official: Official | None, title: str | None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, agency.name)]
    if role == "ca":
        attributes += [x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "vanban test CA"),
                       x509.NameAttribute(NameOID.COMMON_NAME, f"CA {agency.name}"),
                       x509.NameAttribute(NameOID.USER_ID, agency.code)]
    elif role == "agency":
        attributes += [x509.NameAttribute(NameOID.COMMON_NAME, agency.name), x509.NameAttribute(NameOID.USER_ID, agency.code)]
    else:
        attributes += [x509.NameAttribute(NameOID.TITLE, title or official.title),
                       x509.NameAttribute(NameOID.COMMON_NAME, official.full_name),
                       x509.NameAttribute(NameOID.USER_ID, official.code)]
    return x509.Name(attributes)


def _certificate(role: str, subject: x509.Name, public_key: ec.EllipticCurvePublicKey, issuer_key: ec.EllipticCurvePrivateKey,
                 issuer: x509.Certificate | None, valid_from: date, valid_until: date) -> x509.Certificate:
    """A certificate of ``role`` signed by ``issuer_key`` (self-signed for a CA: ``issuer`` None)."""
    not_before, not_after = _bounds(valid_from, valid_until)
    is_ca = role == "ca"
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer.subject if issuer else subject)
               .public_key(public_key).serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=is_ca, path_length=0 if is_ca else None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=not is_ca, content_commitment=not is_ca,
                                            key_encipherment=False, data_encipherment=False, key_agreement=False,
                                            key_cert_sign=is_ca, crl_sign=is_ca, encipher_only=False,
                                            decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False))
    if issuer is not None:
        builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.public_key()),
                                        critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _valid_until(role: str, valid_from: date, years: int | None) -> date:
    """The day before the same date ``years`` later (28/02 for a 29/02)."""
    later = valid_from.year + (years or YEARS[role])
    end = valid_from.replace(year=later, day=28) if (valid_from.month, valid_from.day) == (2, 29) else valid_from.replace(year=later)
    return end - timedelta(days=1)


def _owner(session: Session, code: str) -> tuple[Agency, Official | None]:
    """An agency (and None), or an official and the agency his credential belongs to: the one whose CA enrolled
    him (his latest), else that of his main position today."""
    kind = entry_kind(session, code)
    if kind == "agency":
        return session.exec(select(Agency).where(Agency.code == code)).one(), None
    if kind != "official":
        raise RuleViolation("code", "keys.owner", f"'{code}' is a {kind}: keys are enrolled for officials and agencies")
    official = session.exec(select(Official).where(Official.code == code)).one()
    latest = session.exec(select(Credential).where(Credential.official_id == official.id)
                          .order_by(Credential.id.desc())).first()
    if latest is not None:
        return session.get(Agency, latest.agency_id), official
    return _enrolling_agency(session, official), official


def _enrolling_agency(session: Session, official: Official) -> Agency:
    """The agency whose CA enrols an official: that of his main position today."""
    position = position_of(session, official, day_of(utc_now()))
    if position is None:
        raise RuleViolation("code", "directory.no-position", f"official '{official.code}' holds no position today: "
                                                             "no agency enrols him")
    return session.get(Agency, position.agency_id)


def credentials_of(session: Session, code: str) -> list[Credential]:
    """Every credential of an official or agency (an agency's: its own and its CA's), oldest first."""
    agency, official = _owner(session, code)
    query = select(Credential)
    if official is not None:
        query = query.where(Credential.official_id == official.id)
    else:
        query = query.where(Credential.agency_id == agency.id, Credential.role.in_(("ca", "agency")))
    return list(session.exec(query.order_by(Credential.id)))


def in_force_credential(session: Session, role: str, owner_id: int, on: date, field: str = "as") -> Credential:
    """The credential of an official ('person': ``owner_id`` an official id) or an agency ('agency') in force on
    ``on``; when there is none, the error says why: never enrolled, revoked, expired or not yet valid."""
    column = Credential.official_id if role == "person" else Credential.agency_id
    rows = list(session.exec(select(Credential).where(Credential.role == role, column == owner_id).order_by(Credential.id)))
    for credential in reversed(rows):
        if credential.in_force_on(on):
            return credential
    who = (session.get(Official, owner_id).code if role == "person" else session.get(Agency, owner_id).code)
    if not rows:
        owner = who if role == "person" else f"agency {who}"
        raise RuleViolation(field, "keys.not-enrolled", f"{owner} has no key enrolled (vanban keys init {who})")
    last = rows[-1]
    if last.revoked_on is not None and last.revoked_on <= on:
        raise RuleViolation(field, "keys.revoked", f"{who}'s certificate {last.fingerprint[:16]} was revoked on "
                                                   f"{short_date(last.revoked_on)} ({last.revocation_reason})")
    if last.valid_until is not None and last.valid_until < on:
        raise RuleViolation(field, "keys.expired", f"{who}'s certificate {last.fingerprint[:16]} expired after "
                                                   f"{short_date(last.valid_until)}")
    raise RuleViolation(field, "keys.not-yet", f"{who}'s certificate {last.fingerprint[:16]} is in force only from "
                                               f"{short_date(last.valid_from)}")


def _ca(session: Session, agency: Agency, keystore: Path, passphrase: str, on: date,
        made: dict[int, ec.EllipticCurvePrivateKey]) -> tuple[Credential, ec.EllipticCurvePrivateKey, bool]:
    """The agency's CA and its key (from this keystore, or ``made`` in this transaction and not written yet), made
    when the agency has none: (CA, key, made now)."""
    existing = session.exec(select(Credential).where(Credential.role == "ca", Credential.agency_id == agency.id,
                                                     Credential.revoked_on.is_(None), in_force(Credential, on))).first()
    if existing is not None and existing.id in made:
        return existing, made[existing.id], False
    if existing is not None:
        try:
            return existing, read_key(session, keystore, existing, passphrase), False
        except RuleViolation as exc:
            raise RuleViolation(exc.field, exc.rule, f"{agency.code}'s CA signs new certificates: {exc.message}") from None
    key = ec.generate_private_key(ec.SECP256R1())
    until = _valid_until("ca", on, None)
    cert = _certificate("ca", _subject("ca", agency_at(session, agency, on), None, None), key.public_key(), key, None, on, until)
    ca = _store(session, "ca", agency, None, cert, on, until)
    made[ca.id] = key
    return ca, key, True


def _store(session: Session, role: str, agency: Agency, official: Official | None, cert: x509.Certificate,
           valid_from: date, valid_until: date) -> Credential:
    credential = Credential(role=role, agency_id=agency.id, official_id=official.id if official else None,
                            fingerprint=_fingerprint(cert), key_id=_key_id(cert.public_key()),
                            certificate=cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
                            valid_from=valid_from, valid_until=valid_until)
    session.add(credential)
    session.flush()
    return credential


@dataclass
class Enrolled:
    """What an enrolment made: the credential, the key files to write (after the database accepted it)."""

    credential: Credential
    keys: list[tuple[str, ec.EllipticCurvePrivateKey]]


def _enrol(session: Session, code: str, keystore: Path, passphrase: str, on: date, years: int | None,
           made: dict[int, ec.EllipticCurvePrivateKey] | None = None) -> Enrolled:
    agency, official = _owner(session, code)
    if official is not None:  # a move to another agency: its CA enrols him from now on
        agency = _enrolling_agency(session, official)
    role = "person" if official else "agency"
    _passphrase(passphrase)
    current = [c for c in credentials_of(session, code) if c.role == role and c.in_force_on(on)]
    if current:
        raise RuleViolation("code", "keys.enrolled", f"{code} holds certificate {current[0].fingerprint[:16]} "
                                                     f"({_period(current[0])}): rotate it (vanban keys rotate {code})")
    ca, ca_key, new_ca = _ca(session, agency, keystore, passphrase, on, {} if made is None else made)
    key = ec.generate_private_key(ec.SECP256R1())
    until = _valid_until(role, on, years)
    title = None
    if official is not None:
        position = position_of(session, official, on)
        title = position.title if position else None
    cert = _certificate(role, _subject(role, agency_at(session, agency, on), official, title), key.public_key(), ca_key,
                        certificate_of(ca), on, until)
    credential = _store(session, role, agency, official, cert, on, until)
    keys = [(f"ca-{agency.code}", ca_key)] if new_ca else []
    return Enrolled(credential, [*keys, (f"{'official' if official else 'agency'}-{code}", key)])


def _period(credential: Credential) -> str:
    return f"{short_date(credential.valid_from)}–{short_date(credential.valid_until)}"


def _write(keystore: Path, enrolled: Enrolled, passphrase: str) -> None:
    for owner, key in enrolled.keys:
        write_key(keystore, owner, key, passphrase)


def describe(session: Session, credential: Credential, on: date | None = None) -> dict[str, Any]:
    """A credential as `vanban keys show` prints it."""
    on = on or day_of(utc_now())
    cert = certificate_of(credential)
    owner = owner_name(session, credential).split("-", 1)[1]
    state = "in force" if credential.in_force_on(on) else (
        f"revoked from {short_date(credential.revoked_on)}: {credential.revocation_reason}" if credential.revoked_on
        else "expired" if credential.valid_until and credential.valid_until < on else "not yet in force")
    return {"owner": owner, "role": credential.role, "fingerprint": credential.fingerprint, "key_id": credential.key_id[:16],
            "subject": cert.subject.rfc4514_string(), "issuer": cert.issuer.rfc4514_string(),
            "valid_from": credential.valid_from.isoformat(), "valid_until": credential.valid_until.isoformat(),
            "state": state}


def enrol(session: Session, codes: list[str], *, keystore: Path, passphrase: str, actor: str = "system",
          years: int | None = None, valid_from: date | None = None, sample: bool = False) -> list[Credential]:
    """Enrol officials or agencies (vanban keys init), all or none: a new key pair each in ``keystore``, its
    certificate issued by the CA of the agency (the agency's CA is made first when it has none, its key in the same
    keystore). The key files are written once the database took every certificate. ``sample``: one audit entry for
    all (the demo's and the tests' enrolment), not one each."""
    on = valid_from or day_of(utc_now())
    made: dict[int, ec.EllipticCurvePrivateKey] = {}
    enrolled = [_enrol(session, code, keystore, passphrase, on, years, made) for code in codes]
    if sample:
        record(session, Action.KEY_ENROLLED, actor=actor, details={"sample": True, "owners": codes})
    else:
        for code, item in zip(codes, enrolled, strict=True):
            credential = item.credential
            record(session, Action.KEY_ENROLLED, actor=actor, details={
                "owner": code, "role": credential.role, "fingerprint": credential.fingerprint,
                "valid": _period(credential), "ca_made": len(item.keys) > 1})
    for item in enrolled:
        _write(keystore, item, passphrase)
    return [item.credential for item in enrolled]


def rotate(session: Session, code: str, *, keystore: Path, passphrase: str, actor: str) -> tuple[Credential, Credential]:
    """A new key and certificate from today; the one in force is revoked today ('rotated'). (old, new)"""
    today_ = day_of(utc_now())
    agency, official = _owner(session, code)
    role = "person" if official else "agency"
    old = in_force_credential(session, role, official.id if official else agency.id, today_, "code")
    old.revoked_on, old.revocation_reason = today_, "rotated"
    session.add(old)
    session.flush()
    enrolled = _enrol(session, code, keystore, passphrase, today_, None)
    new = enrolled.credential
    record(session, Action.KEY_ROTATED, actor=actor, details={"owner": code, "role": role, "revoked": old.fingerprint,
                                                              "fingerprint": new.fingerprint, "valid": _period(new)})
    _write(keystore, enrolled, passphrase)
    return old, new


def revoke(session: Session, code: str, *, reason: str, actor: str, on: date | None = None,
           fingerprint: str | None = None) -> Credential:
    """Revoke (thu hồi) the certificate in force of ``code`` (or the one whose fingerprint starts with
    ``fingerprint``, a CA's too) from ``on`` (default today): no proof made with its key holds from that day."""
    from models.legal_text import clean_text

    reason = clean_text(reason, "reason")
    if not reason:
        raise RuleViolation("reason", "keys.revoke-reason", "a revocation needs its reason")
    on = on or day_of(utc_now())
    found = credentials_of(session, code)
    if fingerprint:
        found = [c for c in found if c.fingerprint.startswith(fingerprint.lower())]
    else:
        found = [c for c in found if c.role != "ca" and c.revoked_on is None]
    if len(found) != 1:
        raise RuleViolation("fingerprint", "keys.which", f"{code} has {len(found)} certificates that fit: give --fingerprint "
                                                         "(vanban keys show lists them)")
    credential = found[0]
    if credential.revoked_on is not None:
        raise RuleViolation("fingerprint", "keys.revoked", f"certificate {credential.fingerprint[:16]} was revoked on "
                                                           f"{short_date(credential.revoked_on)} already")
    credential.revoked_on, credential.revocation_reason = on, reason
    session.add(credential)
    session.flush()
    record(session, Action.KEY_REVOKED, actor=actor, details={"owner": code, "role": credential.role,
                                                              "fingerprint": credential.fingerprint,
                                                              "from": on.isoformat(), "reason": reason})
    return credential


def enrol_sample(session: Session, keystore: Path, passphrase: str = SAMPLE_PASSPHRASE) -> int:
    """Enrol every sample official in force today and every sample agency keeping a register (the demo's and the
    tests' keystore): one audit entry. How many certificates were issued."""
    from models.register import OutgoingRegister

    on = day_of(utc_now())
    officials = [o.code for o in session.exec(select(Official).where(Official.is_sample).order_by(Official.id))
                 if position_of(session, o, on) is not None]
    issuers = session.exec(select(Agency.code).join(OutgoingRegister, OutgoingRegister.agency_id == Agency.id)
                           .where(Agency.is_sample, in_force(Agency, on)).distinct().order_by(Agency.code))
    return len(enrol(session, [*officials, *issuers], keystore=keystore, passphrase=passphrase, sample=True))


# --- proofs ---------------------------------------------------------------------------------------------------------

def canonical_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def timestamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_timestamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def sign_bytes(key: ec.EllipticCurvePrivateKey, payload: bytes) -> str:
    return base64.b64encode(key.sign(payload, ec.ECDSA(hashes.SHA256()))).decode("ascii")


def signature_holds(cert: x509.Certificate, payload: bytes, signature: str) -> bool:
    try:
        cert.public_key().verify(base64.b64decode(signature, validate=True), payload, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def issued_by_its_ca(session: Session, credential: Credential) -> bool:
    """The certificate was signed by its agency's CA (any of its CAs not revoked): not a row someone added."""
    cert = certificate_of(credential)
    cas = session.exec(select(Credential).where(Credential.role == "ca", Credential.agency_id == credential.agency_id,
                                                or_(Credential.revoked_on.is_(None), Credential.revoked_on > credential.valid_from)))
    for ca in cas:
        try:
            cert.verify_directly_issued_by(certificate_of(ca))
            return True
        except (InvalidSignature, ValueError, TypeError):
            continue
    return False


@dataclass(frozen=True)
class KeyProof:
    """A statement's signature by an official's key: the statement's time and document digest, the signature
    (base64 DER ECDSA-SHA256) and the fingerprint of the certificate it is checked against."""

    at: str
    digest: str
    signature: str
    fingerprint: str

    def as_dict(self) -> dict[str, str]:
        return {"proof": "key", "at": self.at, "digest": self.digest, "signature": self.signature,
                "fingerprint": self.fingerprint}


@dataclass(frozen=True)
class OtpProof:
    """A one-time code from the official's authenticator (TOTP): for answers typed in the Prefect UI."""

    code: str

    def as_dict(self) -> dict[str, str]:
        return {"proof": "totp"}


def statement(*, step: int | None, document: int, decision: str, text: str | None, digest: str, at: str) -> bytes:
    """What an official signs: the step (none when signing outside a chain), the document, the decision
    (approve, return, reject, sign), the comment or reason, the digest of the document's text, the time."""
    return canonical_json({"step": step, "document": document, "decision": decision, "text": text or "",
                           "digest": digest, "at": at})


def make_proof(session: Session, keystore: Path, official: Official, passphrase: str, *, step: int | None,
               document: int, decision: str, text: str | None, digest: str) -> KeyProof:
    """Sign a statement with the key of the official's certificate in force now (from ``keystore``)."""
    now = utc_now()
    credential = in_force_credential(session, "person", official.id, day_of(now))
    key = read_key(session, keystore, credential, passphrase)
    at = timestamp(now)
    payload = statement(step=step, document=document, decision=decision, text=text, digest=digest, at=at)
    return KeyProof(at=at, digest=digest, signature=sign_bytes(key, payload), fingerprint=credential.fingerprint)


def check_proof(session: Session, official: Official, proof: KeyProof, *, step: int | None, document: int,
                decision: str, text: str | None, digest: str) -> Credential:
    """The proof holds: signed by the official's certificate in force on its day (issued by the agency's CA, not
    revoked), over this statement, about the document as it stands now, and fresh."""
    try:
        at = parse_timestamp(proof.at)
    except ValueError:
        raise RuleViolation("proof", "proof.malformed", f"'{proof.at}' is not a proof's time") from None
    age = (utc_now() - at).total_seconds()
    if not -60 <= age <= FRESH_SECONDS:
        raise RuleViolation("proof", "proof.stale", f"the proof was made at {proof.at}: sign the answer again")
    credential = in_force_credential(session, "person", official.id, day_of(at))
    if credential.fingerprint != proof.fingerprint:
        raise RuleViolation("proof", "proof.certificate", f"the proof names certificate {proof.fingerprint[:16]}, not "
                                                          f"{official.code}'s in force ({credential.fingerprint[:16]})")
    if proof.digest != digest:
        raise RuleViolation("proof", "proof.document-changed", f"document #{document} changed since the answer was signed: "
                                                               "read it again and sign again")
    payload = statement(step=step, document=document, decision=decision, text=text, digest=digest, at=proof.at)
    if not signature_holds(certificate_of(credential), payload, proof.signature):
        raise RuleViolation("proof", "proof.signature", f"the signature is not {official.code}'s over this answer")
    if not issued_by_its_ca(session, credential):
        raise RuleViolation("proof", "proof.untrusted", f"{official.code}'s certificate was not issued by its agency's CA")
    return credential


# --- one-time codes (TOTP) ---------------------------------------------------------------------------------------

def _fernet():  # noqa: ANN202
    """The cipher of TOTP secrets, keyed by the agency's secret (VANBAN_SECRET_KEY, or what its reference names)."""
    from cryptography.fernet import Fernet

    from models.channels import REFERENCE, resolve

    raw = get_settings().secret_key
    if not raw:
        raise RuleViolation("VANBAN_SECRET_KEY", "totp.no-secret-key",
                            "TOTP secrets are kept encrypted under the agency's secret key: set VANBAN_SECRET_KEY "
                            "(or {secret:NAME}, a Prefect Secret block)")
    if REFERENCE.fullmatch(raw):
        try:
            raw = resolve(raw, None)[0]
        except Exception as exc:  # noqa: BLE001 - ChannelError names what is missing
            raise RuleViolation("VANBAN_SECRET_KEY", "totp.no-secret-key", str(exc)) from None
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(raw.encode("utf-8")).digest()))


def totp_enrol(session: Session, code: str, *, actor: str) -> str:
    """A new TOTP secret for an official (replacing any earlier one); the otpauth URI, shown once."""
    import pyotp

    _, official = _owner(session, code)
    if official is None:
        raise RuleViolation("code", "keys.owner", f"'{code}' is an agency: one-time codes are an official's")
    secret = pyotp.random_base32()
    stored = session.get(OtpSecret, official.id) or OtpSecret(official_id=official.id, secret="", enrolled_on=date.min)
    stored.secret = _fernet().encrypt(secret.encode("ascii")).decode("ascii")
    stored.enrolled_on, stored.last_step = day_of(utc_now()), 0
    session.add(stored)
    session.flush()
    record(session, Action.TOTP_ENROLLED, actor=actor, details={"owner": code})
    return pyotp.TOTP(secret).provisioning_uri(name=code, issuer_name="vanban")


def check_otp(session: Session, official: Official, proof: OtpProof) -> None:
    """The code is the official's for now (or the step before or after, for clocks a little apart), and was not
    used before: the step it matched is kept, so no code at or before it is accepted again."""
    import pyotp
    from cryptography.fernet import InvalidToken

    stored = session.get(OtpSecret, official.id)
    if stored is None:
        raise RuleViolation("otp", "totp.not-enrolled", f"{official.code} has no authenticator enrolled "
                                                        f"(vanban keys totp-enrol {official.code})")
    try:
        secret = _fernet().decrypt(stored.secret.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise RuleViolation("VANBAN_SECRET_KEY", "totp.secret-key", "VANBAN_SECRET_KEY does not open the stored "
                                                                    "TOTP secrets: it is not the key they were kept under") from None
    totp = pyotp.TOTP(secret)
    now = utc_now()
    current = totp.timecode(now)
    code = (proof.code or "").strip()
    for step in (current - 1, current, current + 1):
        if code and code == totp.generate_otp(step):
            if step <= stored.last_step:
                raise RuleViolation("otp", "totp.reused", "this one-time code was used already: wait for the next one")
            stored.last_step = step
            session.add(stored)
            return
    raise RuleViolation("otp", "totp.invalid", f"the one-time code is not {official.code}'s for now")
