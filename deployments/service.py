"""vanban as a service: its deployments on a Prefect server, pulled by `vanban worker` from a process work pool,
and the checks of that set-up (`vanban doctor`). Where vanban's data lives is the worker's configuration
(VANBAN_HOME, VANBAN_DATABASE_URL), never a deployment's parameter default."""

from __future__ import annotations

import io
import os
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import flows.runtime  # noqa: F401  (Prefect settings before Prefect loads)
from deployments.tracking import CRON, TIMEZONE
from models.errors import RuleViolation

ROOT = Path(__file__).resolve().parent.parent  # the checkout every worker runs the flows from
DEPLOYMENT = "vanban"  # each flow's deployment: decide/vanban, distribute/vanban …
POOL = "vanban"
# flow name: entrypoint (relative to ROOT), description shown on the deployment's page
FLOWS = {
    "draft-plan": "flows/draft_plan.py:draft_plan",
    "submit-proposal": "flows/submit_proposal.py:submit_proposal",
    "decide": "flows/decide.py:decide",
    "distribute": "flows/distribute.py:distribute",
    "report-implementation": "flows/report_implementation.py:report_implementation",
    "document-lifecycle": "flows/lifecycle.py:document_lifecycle",
    "track-implementation": "flows/track_implementation.py:track_implementation",
}
DAILY = "track-implementation"  # the one deployment on a schedule: 07:00, Vietnam time


def pool_name() -> str:
    return os.environ.get("VANBAN_WORK_POOL", POOL)


def server_url() -> str:
    """The Prefect server's API: a service needs one (the embedded default has a temporary server per process)."""
    url = os.environ.get("PREFECT_API_URL", "")
    if not url:
        raise RuleViolation("PREFECT_API_URL", "service.server", "set it to the Prefect server's API, e.g. "
                                                                  "http://127.0.0.1:4200/api (prefect server start)")
    return url


def deploy(pool: str) -> list[str]:
    """Create the process work pool if missing and register every flow's deployment in it; their names."""
    from prefect import flow as prefect_flow
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists
    from prefect.schedules import Cron

    from prefect import get_client

    server_url()
    with get_client(sync_client=True) as client:
        try:
            client.create_work_pool(WorkPoolCreate(name=pool, type="process"))
        except ObjectAlreadyExists:
            pass
    names = []
    for name, entrypoint in FLOWS.items():
        loaded = prefect_flow.from_source(source=str(ROOT), entrypoint=entrypoint)
        schedule = [Cron(CRON, timezone=TIMEZONE)] if name == DAILY else None
        with redirect_stdout(io.StringIO()):  # Prefect prints a table per deployment; the command says it once
            loaded.deploy(name=DEPLOYMENT, work_pool_name=pool, schedules=schedule, tags=["vanban"],
                          description=loaded.description, print_next_steps=False, build=False, push=False)
        names.append(f"{name}/{DEPLOYMENT}")
    return names


def worker_command(pool: str, name: str | None, limit: int | None) -> list[str]:
    """`prefect worker start` on vanban's pool, in this interpreter (the one vanban is installed in)."""
    import sys

    command = [sys.executable, "-m", "prefect", "worker", "start", "--pool", pool, "--type", "process"]
    if name:
        command += ["--name", name]
    if limit:
        command += ["--limit", str(limit)]
    return command


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def doctor(pool: str) -> list[Check]:
    """Server reachable, vanban's database reachable and at the current migration, the pool and every deployment
    present: one result each, in that order."""
    from prefect import get_client

    from models.db import check_schema, get_engine
    from models.secret_refs import redact
    from models.config import get_settings

    checks = []
    try:
        url = server_url()
        with get_client(sync_client=True) as client:
            failure = client.api_healthcheck()
            checks.append(Check("server", failure is None, url if failure is None else f"{url}: {failure}"))
            if failure is None:
                checks.extend(_pool_and_deployments(client, pool))
    except RuleViolation as exc:
        checks.append(Check("server", False, f"{exc.field}: {exc.message}"))
    database = redact(get_settings().database)
    try:
        engine = get_engine()
        with engine.connect():
            pass
        checks.append(Check("database", True, database))
        try:
            check_schema(engine)
            checks.append(Check("migrations", True, "at head"))
        except Exception as exc:  # noqa: BLE001 - reported as the check's line
            checks.append(Check("migrations", False, str(exc)))
    except Exception as exc:  # noqa: BLE001 - reported as the check's line
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        checks.append(Check("database", False, f"{database}: {reason}"))
    return checks


def _pool_and_deployments(client, pool: str) -> list[Check]:  # noqa: ANN001 - prefect's SyncPrefectClient
    from prefect.exceptions import ObjectNotFound

    try:
        client.read_work_pool(pool)
        checks = [Check("pool", True, pool)]
    except ObjectNotFound:
        return [Check("pool", False, f"no work pool '{pool}': vanban deploy creates it")]
    missing = []
    for name in FLOWS:
        try:
            client.read_deployment_by_name(f"{name}/{DEPLOYMENT}")
        except ObjectNotFound:
            missing.append(f"{name}/{DEPLOYMENT}")
    checks.append(Check("deployments", not missing, f"{len(FLOWS)} present" if not missing
                        else f"missing {', '.join(missing)}: vanban deploy registers them"))
    return checks
