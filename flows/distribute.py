"""`distribute`: send an issued document to every recipient of its Nơi nhận, exactly once, and keep the ledger.

The run holds the document's distribution lease (models/lease.py) from the plan to the end. A few worker
tasks (bounded concurrency) each claim small batches of due rows from the ledger, hand each over in a
committed transaction that renews the lease, send it, and record its outcome; a transient refusal comes back
later with a backoff, so one failing recipient never holds up the others. Prefect's per-task cost (~5 ms) is
paid per worker, not per recipient.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from flows.steps import document_card, files_folder
from models.channels import no_clear_relay, redact, relay_url
from models.config import get_settings
from models.db import get_engine, session_scope
from models.deliveries import claim, finish, hand_over, ledger, next_due, record_plan, settle, summary
from models.document import Document, utcnow
from models.lease import TTL, Held, LeaseLost, hold, renew
from models.messages import document_message
from models.receipts import receipt_key, receipt_token
from models.schemas import Id
from models.transport import Sender
from flows.presentation import run_namer
from prefect import flow, get_run_logger, task
from prefect.task_runners import ThreadPoolTaskRunner

MAX_CONCURRENCY = 16
CLAIM_BATCH = 10  # rows a worker takes at once: small, so the work spreads evenly


class Distribution(BaseModel):
    """An issued document to send to its Nơi nhận."""

    model_config = ConfigDict(extra="forbid")  # a mistyped field is an error, not a silent default

    document: Id = Field(description="Id of the issued document")
    distributed_by: str = Field(default="system", description="Official code of the văn thư who sends it")
    relay: str | None = Field(default=None, description="Outgoing mail relay (apprise mailto URL, credentials as "
                                                        "{env:NAME} or {secret:NAME}); default VANBAN_SMTP_URL")
    concurrency: int = Field(default=4, ge=1, le=MAX_CONCURRENCY, description="Messages in flight at once")
    retries: int = Field(default=3, ge=0, le=10, description="Further tries after a passing (4xx, unreachable) error")
    retry_delay_seconds: float = Field(default=2.0, ge=0, le=3600, description="First backoff; it doubles each try")
    max_attachment_bytes: int | None = Field(default=None, ge=1, description="Default VANBAN_MAX_ATTACHMENT_BYTES")
    lease_seconds: float = Field(default=TTL, ge=0.5, le=600,
                                 description="How long this run may go unheard (stopped, cut off from the database) "
                                             "before another run takes the distribution over")

    _no_clear_relay = field_validator("relay")(no_clear_relay)


@task(name="plan-deliveries")
def plan_deliveries(document_id: int, actor: str, lease: Held) -> dict[str, int]:
    """Write the plan (Nơi nhận → recipients → channels) into the ledger; reconcile what a stopped run left."""
    with session_scope(get_engine()) as session:
        renew(session, lease)
        return record_plan(session, session.get(Document, document_id), domain=get_settings().mail_domain, actor=actor,
                           taken_over_from=lease.taken_over_from)


@task(name="send-deliveries", retries=2, retry_delay_seconds=1)
def send_deliveries(files: str, request: Distribution, worker: int, lease: Held) -> int:
    """One worker: claim due rows; for each, record the hand-over, send, record the outcome; until the ledger
    has nothing due, or another run has taken the distribution over (then it stops, sending nothing more)."""
    engine = get_engine()
    settings = get_settings()
    token = f"{uuid.uuid4().hex[:12]}-{worker}"
    key = receipt_key()
    with session_scope(engine) as session:
        shared = document_message(session, session.get(Document, request.document), Path(files))
    sender = Sender(relay_url(request.relay), request.max_attachment_bytes or settings.max_attachment_bytes)
    handled = 0
    try:
        while True:
            with session_scope(engine) as session:
                rows = claim(session, request.document, CLAIM_BATCH, token, utcnow(), lease)
                due = next_due(session, request.document) if not rows else None
            if not rows:
                if due is False:
                    return handled
                wait = (due - utcnow()).total_seconds() if due else 0.05
                time.sleep(min(max(wait, 0.05), 5.0))
                continue
            for row in rows:
                with session_scope(engine) as session:
                    if not hand_over(session, row.id, token, lease):
                        continue
                outcome = sender.send(row.channel_url, shared.to(row.label, row.message_id,
                                                                 receipt_token(row.message_id, key)))
                with session_scope(engine) as session:
                    settle(session, row.id, token, outcome, retries=request.retries,
                           retry_delay=request.retry_delay_seconds, now=utcnow(), actor=request.distributed_by)
                handled += 1
    except LeaseLost:  # the rows it claimed and did not hand over go back to 'planned' for the new holder
        return handled
    finally:
        sender.close()


@task(name="finish-distribution")
def finish_distribution(document_id: int, lease: Held) -> dict[str, Any]:
    """The document's distribution status, and a table artifact of recipients and outcomes."""
    from prefect.artifacts import create_table_artifact

    with session_scope(get_engine()) as session:
        renew(session, lease)  # LeaseLost: another run has taken over; its own end will say how it went
        doc = session.get(Document, document_id)
        status = finish(session, doc)
        rows = ledger(session, document_id)
    get_run_logger().info("đã gửi văn bản #%s đến %s nơi nhận (%s)", document_id, len(rows),
                          ", ".join(f"{k} {v}" for k, v in summary(rows).items()))
    create_table_artifact(
        key=f"distribution-{document_id}",
        table=[{"Nơi nhận": r.line_text, "recipient": r.label, "code": r.recipient_code or "",
                "channel": redact(r.channel_url), "state": r.state.value, "attempts": r.attempts,
                "message id": r.message_id, "error": r.error or ""} for r in rows],
        description=f"Distribution of document #{document_id}: {status.value}",
    )
    return {"document": document_id, "status": status.value, "deliveries": summary(rows)}


@flow(name="distribute", flow_run_name=run_namer("distribute"),
      task_runner=ThreadPoolTaskRunner(max_workers=MAX_CONCURRENCY))
def distribute(request: Distribution) -> dict[str, Any]:
    """Send an issued document to every recipient of its Nơi nhận, exactly once, and keep the ledger (phát hành)."""
    files = files_folder()
    relay_url(request.relay)  # a relay with a password in clear stops the run before anything is sent
    with hold(get_engine(), f"distribution:{request.document}", request.lease_seconds) as lease:
        plan_deliveries(request.document, request.distributed_by, lease)
        workers = [send_deliveries.submit(files, request, i, lease) for i in range(request.concurrency)]
        for w in workers:
            w.result(raise_on_failure=False)  # a worker that failed leaves its rows for the next run
        finished = finish_distribution(request.document, lease)
    document_card(files, request.document)
    return finished
