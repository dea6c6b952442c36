"""The `pipeline-report` flow publishes the funnel and time in stage (docs/reports.md) as table
artifacts on a real Prefect server: the hand-computed figures of tests/known_cohort.py, by month
or by quarter, and no name and no case reference anywhere in them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lotse.flows.pipeline_report import pipeline_report
from lotse.tasks.context import Context
from tests import known_cohort
from tests.conftest import Clock
from tests.flows.server_reads import artifacts

pytestmark = pytest.mark.prefect


def table(key: str, flow_run_id: Any) -> list[dict[str, Any]]:
    [artifact] = [a for a in artifacts(key) if a["flow_run_id"] == str(flow_run_id)]
    assert artifact["type"] == "table"
    data = artifact["data"]
    return json.loads(data) if isinstance(data, str) else data


def test_the_flow_publishes_the_funnel_and_time_in_stage_without_names_or_references(
    prefect_harness: None, alliance: Context, clock: Clock, lotse_env: None,
) -> None:
    refs = known_cohort.build(alliance, clock)

    by_month = pipeline_report(as_of=known_cohort.AS_OF, return_state=True).state_details.flow_run_id
    by_quarter = pipeline_report(as_of=known_cohort.AS_OF, period="quarter",
                                 return_state=True).state_details.flow_run_id

    funnel = table("funnel", by_month)
    assert {"process": "pflege", "cohort": "2026-03", "cases": 3, "stage": "visa", "reached": 2,
            "share": 0.6667, "median_days": 15, "p90_days": 20} in funnel
    assert {"process": "pflege", "cohort": "2026-04", "cases": 1, "stage": "visa", "reached": 1,
            "share": 1.0, "median_days": 4, "p90_days": 4} in funnel
    assert {row["cohort"] for row in table("funnel", by_quarter)} == {"2026-Q1", "2026-Q2"}
    stays = table("time-in-stage", by_month)
    assert {"by": "stage", "process": "pflege v2", "stage": "recruited", "where": "", "left": 3,
            "median_days": 10, "p90_days": 20, "withdrawn": 1, "open": 0, "open_longest_days": None} in stays
    assert {"by": "employer", "process": "pflege v2", "stage": "visa", "where": "klinik-nord", "left": 1,
            "median_days": 30, "p90_days": 30, "withdrawn": 0, "open": 1, "open_longest_days": 100} in stays
    published = json.dumps([funnel, stays])
    assert not any(word in published for word in ("Muster", "Ana", "Dana", "HYPERLINK", *refs.values()))
