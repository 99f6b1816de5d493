"""`vanban` commands of human steps (trình duyệt): submit, resubmit, what waits, approve, return, reject."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from flows.cli.common import (
    Actor, AnswerAs, DocRef, StepId, add_row, console, passphrase, ready_engine, user_errors, vietnam_time,
)
from models.db import session_scope
from models.document import find_document

app = typer.Typer()


@app.command("submit")
@user_errors
def submit_cmd(document: DocRef, actor: Actor = "system") -> None:
    """Submit a draft for approval: its chain of human steps starts (review by the Office, then signing)."""
    from models.approvals import describe, submit

    with session_scope(ready_engine()) as session:
        first = submit(session, find_document(session, document), actor=actor)
        shown = describe(session, first)
    console.print(f"step #{shown['id']} ({shown['step']}) waits for {', '.join(shown['approvers'])}")


@app.command("resubmit")
@user_errors
def resubmit_cmd(
    document: DocRef, actor: Actor = "system",
    spec: Annotated[Path | None, typer.Option(help="YAML with the revised draft (same form as 'vanban draft')")] = None,
) -> None:
    """After a return for rework: revise the draft and reopen the chain at the step that returned it."""
    from models.approvals import describe, resubmit, returned_step
    from models.yaml_files import read_yaml

    data = read_yaml(spec) if spec else None
    with session_scope(ready_engine()) as session:
        doc = find_document(session, document)
        back = returned_step(session, doc)
        waiting_run = back.flow_run_id if back else None
        step = resubmit(session, doc, actor=actor, spec=data)
        shown = describe(session, step)
    console.print(f"step #{shown['id']} ({shown['step']}, round {shown['round']}) waits for "
                  f"{', '.join(shown['approvers'])}")
    if waiting_run:  # the run that saw it returned waits for the drafter: it goes on (the resubmission is recorded)
        from flows.human_step import wake

        console.print(wake(waiting_run, {"resubmitted_by": actor}, document_id=shown["document"]))


@app.command("approvals")
@user_errors
def approvals(as_json: Annotated[bool, typer.Option("--json", help="As JSON for other programs")] = False) -> None:
    """The human steps waiting for an answer, and who may give it."""
    import json

    from models.approvals import describe, pending

    with session_scope(ready_engine()) as session:
        steps = [describe(session, step) for step in pending(session)]
    if as_json:
        print(json.dumps(steps, ensure_ascii=False, indent=2))
        return
    table = Table("id", "document", "step", "round", "may answer", "since (Vietnam)")
    for step in steps:
        add_row(table, str(step["id"]), f"#{step['document']} {step['kind']}: {step['subject'][:50]}", step["step"],
                      str(step["round"]), ", ".join(step["approvers"]), vietnam_time(step["since"]))
    console.print(table)
    console.print(f"{len(steps)} steps waiting")


def _answer(step: int, actor: str, decision: str, text: str | None) -> None:
    """The official's key (in VANBAN_KEYSTORE) signs the answer; vanban verifies it, then records it."""
    from models.approvals import answer_with_key
    from models.config import get_settings

    keystore = get_settings().keystore_dir
    answered = answer_with_key(ready_engine(), step, actor=actor, decision=decision, text=text, keystore=keystore,
                               passphrase=passphrase(f"{actor}'s key in {keystore}"))
    console.print(f"step #{answered.id} ({answered.name}) {answered.status.value} by {actor}")
    if answered.flow_run_id:  # a flow waits on this step: wake it (the answer is already recorded)
        from flows.human_step import wake

        console.print(wake(answered.flow_run_id, {"decision": decision, "answered_by": actor, "text": text},
                           document_id=answered.document_id))
    else:
        console.print(f"no flow run waits on this step; to let the flows carry the document on: "
                      f"vanban resume {answered.document_id} --as CLERK")



@app.command("approve")
@user_errors
def approve(step: StepId, actor: AnswerAs, comment: Annotated[str | None, typer.Option(help="Optional comment")] = None) -> None:
    """Approve a pending step (at the signing step, this signs the document), signed with your key."""
    _answer(step, actor, "approve", comment)


@app.command("return")
@user_errors
def return_(step: StepId, actor: AnswerAs, reason: Annotated[str, typer.Option(help="What to rework")]) -> None:
    """Return a draft for rework: the drafter revises and resubmits it."""
    _answer(step, actor, "return", reason)


@app.command("reject")
@user_errors
def reject(step: StepId, actor: AnswerAs, reason: Annotated[str, typer.Option(help="Why it is rejected")]) -> None:
    """Reject the draft: the document ends rejected."""
    _answer(step, actor, "reject", reason)

