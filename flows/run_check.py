"""Checks the Prefect runs an audit trail names against what Prefect knows of them.

An entry written inside a run names that run (and task run). Prefect's history is not the legal record,
but it must not contradict it: a run Prefect does not know, a run that never started, or an entry dated
outside the run's time is reported.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

import flows.runtime  # noqa: F401  (the Prefect state the flows wrote, under VANBAN_HOME, before Prefect loads)
from models.audit import AuditEntry

SLACK = timedelta(seconds=5)  # clocks of the database writer and of the Prefect server
TASK_RECORD_WAITS = (0.2, 0.5, 1, 2, 4)  # seconds; about 8 s in all before a task run counts as unknown


@dataclass
class RunRow:
    id: str
    name: str = ""
    flow: str = ""
    state: str = "UNKNOWN"
    started: str = ""
    duration: str = ""
    actions: list[str] = field(default_factory=list)


def _at(entry: AuditEntry) -> datetime:
    return datetime.fromisoformat(entry.at.replace("Z", "+00:00"))


def _read_task_run(client, task_run_id: str):  # noqa: ANN001, ANN202
    """A task run, waiting a little for one that just ended: Prefect 3 records task runs from their events, after
    the run itself, so a check right after a run may come before the record does."""
    from prefect.exceptions import ObjectNotFound

    for delay in TASK_RECORD_WAITS:
        try:
            return client.read_task_run(UUID(task_run_id))
        except ObjectNotFound:
            time.sleep(delay)
    return client.read_task_run(UUID(task_run_id))


def check_runs(entries: list[AuditEntry]) -> tuple[list[RunRow], list[str]]:
    """The runs behind ``entries`` as Prefect reports them, and every contradiction found."""
    from prefect import get_client
    from prefect.exceptions import ObjectNotFound

    by_run: dict[str, list[AuditEntry]] = defaultdict(list)
    for e in entries:
        if e.flow_run_id:
            by_run[e.flow_run_id].append(e)
    rows, problems = [], []
    with get_client(sync_client=True) as client:
        for run_id, run_entries in by_run.items():
            row = RunRow(run_id, actions=[f"{e.seq}:{e.action}" for e in run_entries])
            rows.append(row)
            try:
                run = client.read_flow_run(UUID(run_id))
            except (ObjectNotFound, ValueError):
                problems.extend(f"entry {e.seq} ({e.action}) names flow run {run_id}, which Prefect does not know"
                                for e in run_entries)
                continue
            row.name, row.flow = run.name, client.read_flow(run.flow_id).name
            row.state = run.state.type.value if run.state else "UNKNOWN"
            row.started = run.start_time.isoformat(timespec="seconds") if run.start_time else ""
            if run.start_time and run.end_time:
                row.duration = f"{(run.end_time - run.start_time).total_seconds():.1f} s"
            for e in run_entries:
                if run.start_time is None:
                    problems.append(f"entry {e.seq} ({e.action}) was recorded inside flow run {run_id}, "
                                    f"which Prefect says never started ({row.state})")
                elif _at(e) < run.start_time - SLACK or (run.end_time and _at(e) > run.end_time + SLACK):
                    problems.append(f"entry {e.seq} ({e.action}) at {e.at} lies outside flow run {run_id} "
                                    f"({row.started} to {run.end_time.isoformat(timespec='seconds') if run.end_time else 'now'})")
                if e.task_run_id:
                    try:
                        task = _read_task_run(client, e.task_run_id)
                    except (ObjectNotFound, ValueError):
                        problems.append(f"entry {e.seq} ({e.action}) names task run {e.task_run_id}, which Prefect does not know")
                        continue
                    if str(task.flow_run_id) != run_id:
                        problems.append(f"entry {e.seq} ({e.action}): task run {e.task_run_id} belongs to another flow run")
    return rows, problems
