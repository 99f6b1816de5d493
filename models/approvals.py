"""Human steps (trình duyệt): the approval chain a draft goes through before it is signed.

A chain is a list of steps, each answered by one of its approvers: "review" steps (the Office's leadership
checks content and format) and the final "sign" step (the competent leader signs, in the authority form
the directory grants). Answers: approve (optional comment), return for rework (reason required: the
drafter revises and resubmits, and the chain starts again at the step that returned it), reject (reason
required: the document ends rejected). vanban's database is the record of every step and answer; a
workflow that waits on a step reads its answer from here, so an answer is never lost with a process.

Every answer is proved by the official who gives it (models/credentials.py): his key's signature over the
step, the decision, the text and the document's digest, or, for a review typed in the Prefect UI, a one-time
code from his authenticator. The proof is verified before the answer is recorded and kept with it; an answer
without one that holds is refused, and the refusal recorded under the code it claimed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, select

from models.audit import Action, record
from models.config import today
from models.credentials import KeyProof, OtpProof, check_otp, check_proof, make_proof
from models.db import session_scope
from models.directory import Official, SigningAuthority, agency_by_code, in_force, leaders_of, office_of, official_by_code
from models.document import Document, DocumentStatus, content_digest, directory_date, enum_type, find_document, utcnow
from models.errors import RuleViolation
from models.kinds import type_name
from models.legal_text import AuthorityForm, clean_text
from models.signing import sign_document


class StepStatus(str, Enum):
    WAITING = "waiting"  # a later step of the chain, not open yet
    PENDING = "pending"  # open: waiting for an answer
    APPROVED = "approved"
    RETURNED = "returned"
    REJECTED = "rejected"
    CLOSED = "closed"  # never answered: the chain ended before it (a rejection, or a return that reopens it)


class Decision(str, Enum):
    APPROVE = "approve"
    RETURN = "return"
    REJECT = "reject"


class ApprovalStep(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("document_id", "round", "position"),)
    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    round: int = Field(default=1, description="1, then one more each time a return reopens the chain")
    position: int = Field(description="Order in the chain, from 1")
    name: str = Field(description="What the step is, as clerks see it")
    kind: str = Field(description="'review' or 'sign'")
    approvers: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: StepStatus = Field(default=StepStatus.WAITING, sa_type=enum_type(StepStatus))
    opened_at: datetime | None = None
    answered_at: datetime | None = None
    answered_by: str | None = None
    comment: str | None = Field(default=None, description="The approval's comment, or the reason of a return or rejection")
    flow_run_id: str | None = Field(default=None, description="The Prefect run waiting on this step, if any")
    proof: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True),
                                         description="How the answer was proved: the key's signature (with the time, "
                                                     "the document digest and the certificate) or a one-time code")


@dataclass(frozen=True)
class StepSpec:
    """One step of a chain's configuration: ``approvers`` as targets ('leaders:vp-ubnd', 'official:cvp',
    'signer' = the draft's planned signer, or everyone the directory lets sign it)."""

    name: str
    kind: str
    approvers: tuple[str, ...]


def default_chain(session: Session, document: Document) -> list[StepSpec]:
    """A decision of a People's Committee is checked by its Office's leadership first; every document is
    then signed by the competent leader."""
    steps = []
    office = office_of(session, document.issuer_id, directory_date(document))
    if document.kind.value == "decision" and office is not None:
        steps.append(StepSpec("Kiểm tra nội dung, thể thức", "review", (f"leaders:{office.code}",)))
    steps.append(StepSpec("Ký ban hành", "sign", ("signer",)))
    return steps


def _approvers(session: Session, document: Document, targets: tuple[str, ...], field: str) -> list[str]:
    codes: list[str] = []
    for target in targets:
        kind, _, code = target.partition(":")
        if kind == "leaders":  # the leadership as it stands today: who can answer now
            agency = agency_by_code(session, code, field)
            found = [o.code for o in leaders_of(session, agency.id, today())]
        elif kind == "official":
            found = [code] if session.exec(select(Official).where(Official.code == code)).first() else []
        elif kind == "signer":
            if document.signer_id is not None:
                found = [session.get(Official, document.signer_id).code]
            else:
                grants = session.exec(select(SigningAuthority).where(SigningAuthority.agency_id == document.issuer_id,
                                                                     in_force(SigningAuthority, today())))
                found = sorted({session.get(Official, g.official_id).code for g in grants if g.covers(document.kind.value)})
        else:
            raise RuleViolation(field, "approval.target", f"'{target}' is not leaders:…, official:… or signer")
        if not found:
            raise RuleViolation(field, "approval.no-approver", f"'{target}' names nobody who could answer")
        codes.extend(c for c in found if c not in codes)
    return codes


def submit(session: Session, document: Document, *, actor: str, chain: list[StepSpec] | None = None) -> ApprovalStep:
    """Submit a draft for approval (trình): the chain's steps are created and the first opens."""
    if document.status is not DocumentStatus.DRAFT:
        raise RuleViolation("document", "approval.submit-draft",
                            f"only a draft can be submitted; document #{document.id} is {document.status.value}")
    if _open_steps(session, document):
        raise RuleViolation("document", "approval.already-submitted", f"document #{document.id} is already waiting for approval")
    returned = returned_step(session, document)
    if returned is not None:
        raise RuleViolation("document", "approval.returned",
                            f"document #{document.id} was returned for rework at '{returned.name}': resubmit it, "
                            "and the chain starts again at that step")
    chain = chain or default_chain(session, document)
    last_round = max((s.round for s in _steps(session, document)), default=0)
    steps = [ApprovalStep(document_id=document.id, round=last_round + 1, position=i, name=spec.name, kind=spec.kind,
                          approvers=_approvers(session, document, spec.approvers, f"chain[{i - 1}].approvers"))
             for i, spec in enumerate(chain, start=1)]
    if steps[-1].kind != "sign":
        raise RuleViolation("chain", "approval.ends-with-sign", "a chain ends with the signing step")
    for step in steps:
        session.add(step)
    first = _open(steps[0])
    session.flush()
    record(session, Action.SUBMITTED, actor=actor, document_id=document.id,
           details={"round": first.round, "steps": [s.name for s in steps], "first_approvers": first.approvers})
    return first


def resubmit(session: Session, document: Document, *, actor: str, spec: dict[str, Any] | None = None) -> ApprovalStep:
    """After a return: revise the draft (when a new text is given) and reopen the chain at the step that returned it."""
    from models.drafting import revise_document

    back = returned_step(session, document)
    if back is None:
        raise RuleViolation("document", "approval.not-returned", f"document #{document.id} was not returned for rework")
    if spec is not None:
        revise_document(session, document, spec, actor=actor)
    # The steps before the one that returned it stand approved in their round; the rest run again.
    again = [ApprovalStep(document_id=document.id, round=back.round + 1, position=s.position, name=s.name, kind=s.kind,
                          approvers=list(s.approvers))
             for s in _steps(session, document) if s.round == back.round and s.position >= back.position]
    for step in again:
        session.add(step)
    reopened = _open(again[0])
    session.flush()
    record(session, Action.SUBMITTED, actor=actor, document_id=document.id,
           details={"round": reopened.round, "reopened_step": reopened.name, "revised": spec is not None})
    return reopened


def open_acceptance(session: Session, document: Document, *, name: str, approvers: tuple[str, ...],
                    actor: str) -> ApprovalStep:
    """A human step on an issued document: the receiving office accepts a report (approve), or returns it
    for more information (return: its assignment reopens). Opened once; asking again gives the same step."""
    if document.status is not DocumentStatus.ISSUED:
        raise RuleViolation("document", "approval.accept-issued", f"only an issued document is received; #{document.id} is {document.status.value}")
    steps = _steps(session, document)
    existing = next((s for s in steps if s.kind == "accept"), None)
    if existing is not None:
        return existing
    step = _open(ApprovalStep(document_id=document.id, round=max((s.round for s in steps), default=0) + 1, position=1,
                              name=name, kind="accept", approvers=_approvers(session, document, approvers, "approvers")))
    session.add(step)
    session.flush()
    record(session, Action.SUBMITTED, actor=actor, document_id=document.id,
           details={"round": step.round, "steps": [name], "first_approvers": step.approvers})
    return step


def returned_step(session: Session, document: Document) -> ApprovalStep | None:
    """The step that returned the draft, when its latest round ended in a return."""
    steps = _steps(session, document)
    last_round = max((s.round for s in steps), default=0)
    return next((s for s in steps if s.round == last_round and s.status is StepStatus.RETURNED), None)


def _open(step: ApprovalStep) -> ApprovalStep:
    step.status, step.opened_at = StepStatus.PENDING, utcnow()
    return step


def _steps(session: Session, document: Document) -> list[ApprovalStep]:
    return list(session.exec(select(ApprovalStep).where(ApprovalStep.document_id == document.id)
                             .order_by(ApprovalStep.round, ApprovalStep.position)))


def _open_steps(session: Session, document: Document) -> list[ApprovalStep]:
    return [s for s in _steps(session, document) if s.status in (StepStatus.PENDING, StepStatus.WAITING)]


def refuse_outside_chain(session: Session, document: Document) -> None:
    """Signing outside a chain is for a draft that has none: one in its approval chain is signed at its signing
    step (ký theo trình tự), one returned for rework is revised and resubmitted first."""
    waiting = next(iter(_open_steps(session, document)), None)
    if waiting is not None:
        raise RuleViolation("document", "sign.in-chain",
                            f"document #{document.id} is in its approval chain: answer step #{waiting.id} "
                            "('vanban approvals' lists what waits)")
    returned = returned_step(session, document)
    if returned is not None:
        raise RuleViolation("document", "sign.returned",
                            f"document #{document.id} was returned for rework at '{returned.name}' ({returned.comment}): "
                            "revise and resubmit it (vanban resubmit)")


def pending(session: Session) -> list[ApprovalStep]:
    return list(session.exec(select(ApprovalStep).where(ApprovalStep.status == StepStatus.PENDING).order_by(ApprovalStep.id)))


def _checked_text(decision: Decision, text: str | None) -> str | None:
    text = clean_text(text, "reason" if decision is not Decision.APPROVE else "comment") if text else None
    if decision is not Decision.APPROVE and not text:
        raise RuleViolation("reason", "approval.reason-required", f"a {decision.value} needs its reason")
    return text


def _pending_step(session: Session, step_id: int) -> ApprovalStep:
    step = session.exec(select(ApprovalStep).where(ApprovalStep.id == step_id).with_for_update()
                        .execution_options(populate_existing=True)).first()
    if step is None:
        raise RuleViolation("step", "approval.unknown", f"no approval step #{step_id}")
    if step.status is not StepStatus.PENDING:
        by = f" by {step.answered_by}" if step.answered_by else ""
        raise RuleViolation("step", "approval.not-pending", f"step #{step_id} ({step.name}) is {step.status.value}{by}, not pending")
    return step


def said(step: ApprovalStep, decision: Decision) -> str:
    """The decision as the official signs it: approving the signing step is signing."""
    return "sign" if step.kind == "sign" and decision is Decision.APPROVE else decision.value


def _refusal(engine: Engine, actor: str, document_id: int, details: dict[str, Any], refused: RuleViolation) -> None:
    """Record a refused answer or signature in a transaction of its own, under the code it claimed (an unknown
    code as 'system'): an impersonation attempt is an entry, never an answer."""
    with session_scope(engine) as session:
        known = session.exec(select(Official.id).where(Official.code == actor)).first() is not None
        record(session, Action.ANSWER_REFUSED, actor=actor if known else "system", document_id=document_id,
               details={**details, "claimed_by": actor, "rule": refused.rule, "reason": refused.message})


def _prove(session: Session, step: ApprovalStep, official: Official, decision: Decision, text: str | None,
           proof: KeyProof | OtpProof | None, automatic: bool) -> dict[str, Any]:
    """The evidence kept with the answer, once its proof holds."""
    what = said(step, decision)
    if automatic and not official.is_sample:
        raise RuleViolation("as", "approval.automatic-sample", f"{official.code} is no sample official: only the demo's "
                                                               "and the tests' sample officials answer automatically")
    if isinstance(proof, KeyProof):
        check_proof(session, official, proof, step=step.id, document=step.document_id, decision=what, text=text,
                    digest=content_digest(session, session.get(Document, step.document_id)))
        return {**proof.as_dict(), **({"automatic": True} if automatic else {})}
    if isinstance(proof, OtpProof):
        if what == "sign":
            raise RuleViolation("otp", "proof.sign-needs-key",
                                f"signing needs the signer's key, not a one-time code: vanban approve {step.id} --as {official.code}")
        check_otp(session, official, proof)
        return proof.as_dict()
    raise RuleViolation("proof", "proof.required", f"an answer is proved by {official.code}'s key (vanban approve, return, "
                                                   "reject) or, in the Prefect UI, by a one-time code")


def answer(engine: Engine, step_id: int, *, actor: str, decision: Decision | str, text: str | None = None,
           proof: KeyProof | OtpProof | None = None, automatic: bool = False) -> ApprovalStep:
    """Answer a pending step. Only one of its approvers may, with a proof that holds: his key's signature over
    the answer (``KeyProof``), or a one-time code (``OtpProof``: the Prefect UI form; never to sign). Anyone
    else, and an answer whose proof does not hold, is refused with a clear message and the refusal is recorded
    (in a transaction of its own, since the answer itself is not applied). ``automatic``: answered by the demo or
    the tests for a sample official, marked so in the audit log."""
    decision = Decision(decision)
    text = _checked_text(decision, text)
    with session_scope(engine) as session:
        step = _pending_step(session, step_id)
        if step.kind == "accept" and decision is Decision.REJECT:
            raise RuleViolation("decision", "approval.accept-no-reject",
                                "a received report is accepted (approve) or returned for more information (return)")
        official = session.exec(select(Official).where(Official.code == actor)).first()
        document_id, details = step.document_id, {"step": step_id, "name": step.name, "decision": decision.value}
        try:
            if official is None:
                raise RuleViolation("as", "directory.unknown-official", f"no official with code '{actor}' in the directory")
            if actor not in step.approvers:
                raise RuleViolation("as", "approval.not-authorized",
                                    f"{actor} may not answer step #{step_id} ({step.name}); it waits for {', '.join(step.approvers)}")
            evidence = _prove(session, step, official, decision, text, proof, automatic)
        except RuleViolation as exc:
            refused = exc
            session.rollback()
        else:
            _apply(session, step, actor, decision, text, evidence)
            return step
    _refusal(engine, actor, document_id, details, refused)
    raise refused


def answer_with_key(engine: Engine, step_id: int, *, actor: str, decision: Decision | str, text: str | None = None,
                    keystore: Path, passphrase: str, automatic: bool = False) -> ApprovalStep:
    """`vanban approve|return|reject` (and the demo's automatic answers): the official's key, from ``keystore``,
    signs the answer, which ``answer`` then verifies and records. Without the key (no key file, a wrong
    passphrase, no certificate in force: revoked, expired, never enrolled) it is refused and the refusal recorded."""
    decision = Decision(decision)
    text = _checked_text(decision, text)
    with session_scope(engine) as session:
        step = _pending_step(session, step_id)
        official = session.exec(select(Official).where(Official.code == actor)).first()
        proof, refused = None, None
        if official is not None and actor in step.approvers:  # otherwise answer() says who may answer
            try:
                proof = make_proof(session, keystore, official, passphrase, step=step.id, document=step.document_id,
                                   decision=said(step, decision), text=text,
                                   digest=content_digest(session, session.get(Document, step.document_id)))
            except RuleViolation as exc:
                refused = exc
        document_id, details = step.document_id, {"step": step_id, "name": step.name, "decision": decision.value}
    if refused is not None:
        _refusal(engine, actor, document_id, details, refused)
        raise refused
    return answer(engine, step_id, actor=actor, decision=decision, text=text, proof=proof, automatic=automatic)


def sign_with_key(engine: Engine, ref: str, *, signer: str | None, form: AuthorityForm | None, keystore: Path,
                  passphrase: str) -> Document:
    """`vanban sign`: a draft outside any chain, signed by ``signer`` (default the planned one) with his key; the
    proof is verified before the signature is recorded. Without the key it is refused and the refusal recorded."""
    with session_scope(engine) as session:
        document = find_document(session, ref)
        refuse_outside_chain(session, document)
        if signer is None and document.signer_id is None:
            raise RuleViolation("signer", "signer.required", "no signer given and none planned in the draft")
        official = (official_by_code(session, signer, "signer") if signer else session.get(Official, document.signer_id))
        digest, document_id, code = content_digest(session, document), document.id, official.code
        try:
            proof = make_proof(session, keystore, official, passphrase, step=None, document=document.id, decision="sign",
                               text=None, digest=digest)
            check_proof(session, official, proof, step=None, document=document.id, decision="sign", text=None, digest=digest)
        except RuleViolation as exc:
            refused = exc
            session.rollback()
        else:
            return sign_document(session, document, code, form, evidence=proof.as_dict())
    _refusal(engine, code, document_id, {"step": None, "decision": "sign"}, refused)
    raise refused


def _apply(session: Session, step: ApprovalStep, actor: str, decision: Decision, text: str | None,
           evidence: dict[str, Any]) -> None:
    document = session.get(Document, step.document_id)
    step.answered_at, step.answered_by, step.comment, step.proof = utcnow(), actor, text, evidence
    later = [s for s in _steps(session, document) if s.round == step.round and s.position > step.position]
    if decision is Decision.APPROVE:
        step.status = StepStatus.APPROVED
        if step.kind == "sign":
            sign_document(session, document, actor, document.authority_form, evidence=evidence)
        record(session, Action.APPROVED, actor=actor, document_id=document.id,
               details={"step": step.id, "name": step.name, "comment": text, **evidence})
        if later:
            _open(later[0])
    else:
        step.status = StepStatus.RETURNED if decision is Decision.RETURN else StepStatus.REJECTED
        for s in later:
            s.status = StepStatus.CLOSED
        if decision is Decision.REJECT:
            document.status = DocumentStatus.REJECTED
            document.updated_at = utcnow()
            session.add(document)
        record(session, Action.RETURNED if decision is Decision.RETURN else Action.REJECTED, actor=actor,
               document_id=document.id, details={"step": step.id, "name": step.name, "reason": text, **evidence})
        if step.kind == "accept":  # a report returned for more information: its assignment is open again
            from models.assignments import reopen

            reopen(session, document, text or "", actor=actor)
    session.add(step)
    session.flush()


def describe(session: Session, step: ApprovalStep) -> dict[str, Any]:
    """A step as the CLI and other programs show it."""
    document = session.get(Document, step.document_id)
    return {"id": step.id, "document": document.id, "kind": type_name(document.kind), "subject": document.subject,
            "step": step.name, "round": step.round, "approvers": step.approvers, "status": step.status.value,
            "since": step.opened_at.isoformat() if step.opened_at else None}
