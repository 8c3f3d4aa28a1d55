"""@schedule: a recurring run spec beside the pipeline package.

KFP schedules runs of an uploaded pipeline version (a "recurring run"); the
file is the request body of KFP's v2beta1 API (``V2beta1RecurringRun``:
``POST /apis/v2beta1/recurringruns``, or ``kfp.Client().create_recurring_run``
with the same values), with the pipeline version left for you to fill in
once the package is uploaded. KFP's cron has six fields (seconds first) and
runs in the API server's time zone (UTC): a @schedule with a time zone is
refused, as flowc cannot shift a cron line across daylight saving time.
"""

from __future__ import annotations

from typing import Any

from flowc.compiler import ir
from ..base import Target  # the target, as its lowering sees it


PIPELINE_VERSION = {"pipeline_id": "<pipeline id>", "pipeline_version_id": "<pipeline version id>"}


def check(target: Target, flow: ir.Flow) -> None:
    schedule = flow.decorators.schedule
    if schedule is not None and schedule.timezone and schedule.timezone.upper() not in ("UTC", "ETC/UTC"):
        target.unsupported(f"@schedule(timezone={schedule.timezone!r}): KFP runs cron schedules in its API "
                           "server's time zone (UTC)", schedule.span, "write the cron line in UTC")


def recurring_run(target: Target, flow: ir.Flow, name: str, params: dict[str, Any]) -> dict[str, Any]:
    schedule = flow.decorators.schedule
    return {
        "display_name": name,
        "description": f"{flow.name} on @schedule({schedule.kind}): {schedule.cron} (UTC)",
        "pipeline_version_reference": dict(PIPELINE_VERSION),
        "runtime_config": {"parameters": params},
        "trigger": {"cron_schedule": {"cron": f"0 {schedule.cron}"}},
        "max_concurrency": str(target.option("max_concurrency")),
        "mode": "ENABLE",
        "no_catchup": True,
    }
