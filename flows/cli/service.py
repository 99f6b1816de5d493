"""`vanban deploy`, `vanban worker`, `vanban doctor`: vanban as a service on a Prefect server (README, "Running as a
service"); a thin face over deployments/service.py."""

from __future__ import annotations

from typing import Annotated

import typer

from flows.cli.common import console, err, user_errors

app = typer.Typer()
Pool = Annotated[str | None, typer.Option(help="The process work pool; default VANBAN_WORK_POOL or 'vanban'")]


@app.command("deploy")
@user_errors
def deploy_cmd(pool: Pool = None) -> None:
    """Register every flow's deployment (and the process work pool) on the Prefect server of PREFECT_API_URL."""
    from deployments.service import deploy, pool_name

    names = deploy(pool or pool_name())
    console.print(f"{len(names)} deployments in pool '{pool or pool_name()}': {', '.join(names)}")


@app.command("worker")
@user_errors
def worker_cmd(pool: Pool = None,
               name: Annotated[str | None, typer.Option(help="The worker's name (default: Prefect's)")] = None,
               limit: Annotated[int | None, typer.Option(min=1, help="Flow runs at once")] = None) -> None:
    """Pull vanban's flow runs from the pool with vanban's settings (this VANBAN_HOME, VANBAN_DATABASE_URL) until
    interrupted: `prefect worker start --pool … --type process`."""
    import os

    from deployments.service import pool_name, server_url, worker_command

    server_url()
    command = worker_command(pool or pool_name(), name, limit)
    os.execv(command[0], command)  # the worker replaces this process: a signal stops it, nothing left behind


@app.command("doctor")
@user_errors
def doctor_cmd(pool: Pool = None) -> None:
    """Check the service: server reachable, database reachable and migrated, pool and deployments present.
    One line per check; exit 1 naming what fails."""
    from deployments.service import doctor, pool_name

    checks = doctor(pool or pool_name())
    for check in checks:
        (console if check.ok else err).print(f"{'ok  ' if check.ok else 'FAIL'} {check.name}: {check.detail}",
                                             markup=False, highlight=False)
    failed = [c.name for c in checks if not c.ok]
    if failed:
        err.print(f"doctor: {', '.join(failed)} failed", markup=False, highlight=False)
        raise typer.Exit(1)
