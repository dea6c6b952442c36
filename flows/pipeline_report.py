"""The `pipeline-report` flow: where the open cases stand, which have stalled, what moved lately."""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow

from lotse.tasks.prefect_tasks import report_pipeline


@flow(name="pipeline-report")
def pipeline_report(as_of: dt.date | None = None) -> dict[str, Any]:
    """Publish the artifacts `pipeline` (open cases per stage and process, per employer, per
    region), `stuck-cases` (in their stage longer than its limit) and `last-transitions`.
    `as_of`: the day to judge "stuck" by (default: today).
    """
    return report_pipeline(as_of)
