"""Benchmark: the seed lifecycle (10/TTr-STTTT, 11/KH-STTTT, 374/QĐ-UBND) with automatic answers, the Tờ trình
and the QĐ distributed to a loopback mail server (up to there: the report is measured by the tests, not here),
through Prefect, cold (fresh data and Prefect homes, in a new process) and warm (Prefect's server already up),
against (a) the same document work as plain function calls without Prefect and (b) a skeleton with the
same flows and tasks doing nothing (Prefect's own floor). Target: warm at most 1.3× the skeleton.

    .venv/bin/python bench/lifecycle.py [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
if "--child" not in sys.argv:  # Prefect state of this benchmark, away from the user's
    os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="vanban-bench-prefect-"))
    os.environ.setdefault("VANBAN_HOME", tempfile.mkdtemp(prefix="vanban-bench-home-"))
    os.environ.setdefault("VANBAN_KEY_PASSPHRASE", "vanban-sample")  # the sample keys' (models.credentials)

import flows.runtime  # noqa: E402,F401  (Prefect configured as vanban runs it, before Prefect loads)
from bench.timing import median_seconds  # noqa: E402
from models.db import make_engine, session_scope  # noqa: E402


def fresh_database() -> tuple[str, str, str]:
    """A sample database, its files folder and the keystore of its sample keys."""
    from bench.timing import fresh_database as fresh

    url, files = fresh()
    return url, str(files), str(files.parent / "keys")


def through_prefect() -> None:
    from flows.lifecycle import document_lifecycle, seed_lifecycle
    from flows.outbox import Outbox
    from flows.runtime import prefect_settings

    fresh_database()
    with prefect_settings(), Outbox() as outbox:
        outcome = document_lifecycle(seed_lifecycle(relay=outbox.url, with_report=False))
    assert outcome["status"] == "decision issued" and len(outbox.messages) == 37


def plain_calls() -> None:
    """The lifecycle's document work in the same order, each task's function called directly."""
    from flows import steps
    from flows.distribute import Distribution, send_deliveries
    from flows.lifecycle import seed_lifecycle
    from flows.outbox import Outbox
    from models.config import get_settings
    from models.deliveries import finish, record_plan
    from models.document import Document
    from models.lease import TTL, hold
    from models.schemas import LinkIn

    url, files, keys = fresh_database()
    request = seed_lifecycle(with_report=False)
    auto = request.auto_approvers

    def chain(document_id: int) -> None:
        while (step := steps.current_step.fn(document_id)) is not None:
            assert steps.auto_answer.fn(keys, step, auto)
        steps.status.fn(document_id)

    plan = steps.draft.fn(request.plan.spec, request.plan.drafted_by)
    steps.render_draft.fn(files, plan)
    proposal = request.proposal
    spec = proposal.submission.model_copy(update={"links": [LinkIn(relation="proposes", document=plan)]})
    submission = steps.draft.fn(spec, proposal.drafted_by, links=[("attached_to", plan)])
    steps.render_draft.fn(files, submission)
    steps.submit_for_approval.fn(submission, proposal.drafted_by)
    chain(submission)
    steps.sign_like.fn(plan, like=submission)
    for document_id in (submission, plan):
        steps.issue.fn(files, keys, document_id, proposal.issued_on, proposal.issued_by)
    for document_id in (submission, plan):
        steps.receive.fn(document_id, proposal.to_agency, proposal.received_on, proposal.received_by, proposal.assigned_to)
    decision = request.decision
    decision_id = steps.draft.fn(decision.decision.model_copy(update={"responds_to": submission, "approves": plan}),
                                 decision.drafted_by)
    steps.render_draft.fn(files, decision_id)
    steps.submit_for_approval.fn(decision_id, decision.drafted_by)
    chain(decision_id)
    assert steps.issue.fn(files, keys, decision_id, decision.issued_on, decision.issued_by)["number"] == 374

    with Outbox() as outbox:
        for document_id in (submission, decision_id):
            with hold(make_engine(url), f"distribution:{document_id}", TTL) as lease:
                with session_scope(make_engine(url)) as session:
                    record_plan(session, session.get(Document, document_id), domain=get_settings().mail_domain)
                send_deliveries.fn(files, Distribution(document=document_id, relay=outbox.url), 0, lease)
                with session_scope(make_engine(url)) as session:
                    finish(session, session.get(Document, document_id))
    assert len(outbox.messages) == 37


def skeleton():  # noqa: ANN201
    """Six flows and 35 tasks doing nothing, shaped like the lifecycle (2, 12, 9 tasks in its subflows, and
    6 in each of its two distributions: plan, four workers, finish)."""
    from prefect import flow, task

    @task
    def nothing() -> None:
        return None

    def subflow(name: str, tasks: int):  # noqa: ANN202
        @flow(name=name)
        def run() -> None:
            for _ in range(tasks):
                nothing()
        return run

    parts = [subflow("draft-plan", 2), subflow("submit-proposal", 12), subflow("distribute", 6), subflow("decide", 9),
             subflow("distribute", 6)]

    @flow(name="document-lifecycle")
    def lifecycle() -> None:
        for part in parts:
            part()

    def run() -> None:
        from flows.runtime import prefect_settings

        with prefect_settings():
            lifecycle()
    return run


def cold() -> float:
    """A new process with fresh data and Prefect homes: imports, Prefect's first start, the lifecycle."""
    env = {**os.environ, "PREFECT_HOME": tempfile.mkdtemp(), "VANBAN_HOME": tempfile.mkdtemp()}
    start = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--child"], env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    if "--child" in sys.argv:
        through_prefect()
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    cold_s = cold()
    run_skeleton = skeleton()
    through_prefect()  # starts Prefect's server in this process: what follows is warm
    run_skeleton()
    # Prefect's own cost drifts with its background services: alternate the two, take medians
    warm, floor = [], []
    for _ in range(args.rounds):
        warm.append(median_seconds(through_prefect, rounds=1, warmup=0))
        floor.append(median_seconds(run_skeleton, rounds=1, warmup=0))
    warm_s, skeleton_s = statistics.median(warm), statistics.median(floor)
    plain_s = median_seconds(plain_calls, rounds=args.rounds)
    print(f"cold (new process, fresh homes):  {cold_s:7.2f} s")
    print(f"warm (Prefect server up):         {warm_s:7.2f} s")
    print(f"(a) plain function calls:         {plain_s:7.2f} s   warm/plain    = {warm_s / plain_s:.2f}x")
    print(f"(b) Prefect skeleton, same shape: {skeleton_s:7.2f} s   warm/skeleton = {warm_s / skeleton_s:.2f}x "
          f"(target <= 1.30x: {'met' if warm_s / skeleton_s <= 1.3 else 'NOT met'})")


if __name__ == "__main__":
    main()
