"""The `pipeline-report` flow: where the open cases stand, which have stalled, what moved lately."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from prefect import flow

from lotse.tasks.prefect_tasks import publish_network, publish_stale_overviews, report_pipeline


@flow(name="pipeline-report")
def pipeline_report(as_of: dt.date | None = None, region_level: int | None = None,
                    period: Literal["month", "quarter"] = "month") -> dict[str, Any]:
    """Publish the artifacts `pipeline` (open cases per stage and process, per employer, per
    region), `stuck-cases` (in their stage longer than its limit), `last-transitions` and
    `network` (the map of the alliance's organisations, tasks/network.py), and the overview
    `case-<ref>` of every case whose overview is missing or older than its last change.
    `as_of`: the day to judge "stuck" by (default: today); `region_level`: count per region at
    this depth of the region hierarchy (0: the county; default: each case's own region).
    Also the tables `funnel` (cases opened per `period`, month or quarter, by stage reached) and
    `time-in-stage` (median and 90th percentile of days per stage, employer and region;
    docs/reports.md).
    """
    report = report_pipeline(as_of, region_level, period)
    publish_network()
    publish_stale_overviews()
    return report
