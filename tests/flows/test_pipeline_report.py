"""The `pipeline-report` flow on a real Prefect server: the `pipeline` table artifact, the table of
stalled cases and the markdown of the last transitions, by reference only."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from lotse.flows.pipeline_report import pipeline_report
from lotse.tasks import casework
from lotse.tasks.context import Context
from tests.conftest import Clock
from tests.flows.server_reads import artifacts

pytestmark = pytest.mark.prefect


def table(key: str, flow_run_id: Any) -> list[dict[str, Any]]:
    [artifact] = [a for a in artifacts(key) if a["flow_run_id"] == str(flow_run_id)]
    assert artifact["type"] == "table"
    data = artifact["data"]
    return json.loads(data) if isinstance(data, str) else data


def test_the_flow_publishes_counts_stalled_cases_and_recent_transitions(
    prefect_harness: None, alliance: Context, clock: Clock, lotse_env: None
) -> None:
    stalled = casework.open_case(alliance, given_name="Lina", family_name="Gharbi", nationality="TUN",
                                 employer="klinik-nord")
    clock.advance(days=200)  # past the 6 months of `recruited`
    moving = casework.open_case(alliance, given_name="Fernanda", family_name="Alves", nationality="BRA",
                                employer="klinik-nord")
    casework.tick(alliance, moving, ["employment_contract", "recognition_documents"], by="koord")
    casework.advance(alliance, moving, "apply_visa", by="klinik-nord")
    as_of = (clock.now + dt.timedelta(days=1)).date()

    state = pipeline_report(as_of=as_of, return_state=True)

    run_id = state.state_details.flow_run_id
    counts = table("pipeline", run_id)
    assert {"by": "stage", "process": "pflege v2", "where": "recruited", "open": 1} in counts
    assert {"by": "stage", "process": "pflege v2", "where": "visa", "open": 1} in counts
    assert {"by": "employer", "process": "", "where": "klinik-nord", "open": 2} in counts
    assert {"by": "region", "process": "", "where": "SE-Nord", "open": 2} in counts
    assert [row["ref"] for row in table("stuck-cases", run_id)] == [stalled]
    [moves] = [a for a in artifacts("last-transitions") if a["flow_run_id"] == str(run_id)]
    assert f"| {moving} | apply_visa | recruited | visa |" in moves["data"]
    everything = json.dumps([counts, table("stuck-cases", run_id), moves["data"]])
    assert not any(name in everything for name in ("Lina", "Gharbi", "Fernanda", "Alves"))
