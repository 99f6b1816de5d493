"""The scheduled deployment of `track-implementation`: every day at 07:00, Vietnam time, so reminders and
escalations go out at the start of the working day. `vanban serve` serves it (a long-running process); a
Prefect server or Prefect Cloud then shows the deployment, its schedule and its runs."""

from __future__ import annotations

import flows.runtime  # noqa: F401  (Prefect settings before Prefect loads)
from prefect.schedules import Cron

NAME = "daily"
CRON = "0 7 * * *"
TIMEZONE = "Asia/Ho_Chi_Minh"


def tracking_deployment():  # noqa: ANN201 - prefect's RunnerDeployment
    """track-implementation/daily, on its schedule, with the default parameters (today, reminders 5 and 1)."""
    from flows.track_implementation import track_implementation

    return track_implementation.to_deployment(
        name=NAME, schedule=Cron(CRON, timezone=TIMEZONE), tags=["vanban"],
        description="Remind lead agencies of reports coming due (5 and 1 working days before) and escalate "
                    "overdue ones to the Office's leadership and the signer.")


def serve() -> None:
    """Run the deployment's schedule in this process until interrupted."""
    from prefect import serve as prefect_serve

    prefect_serve(tracking_deployment())
