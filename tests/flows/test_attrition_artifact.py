"""The `pipeline-report` flow publishes the `attrition` table: withdrawals per stage, category,
employer and region with their shares, and the changes of employer inside and outside the
no-poaching period; no case reference, no name, no note, no free withdraw_reason."""

from __future__ import annotations

import json

import pytest

from lotse.flows.pipeline_report import pipeline_report
from lotse.tasks import casework, directory, employer_change
from lotse.tasks.context import Context
from tests.flows.server_reads import artifacts

pytestmark = pytest.mark.prefect

REASON, NOTE = "Heimweh nach Tunis", "Frau Gharbi hat angerufen"


def test_the_flow_publishes_the_attrition_table_without_references_names_or_notes(
    prefect_harness: None, alliance: Context, lotse_env: None,
) -> None:
    directory.add_actor(alliance, "klinik-sued", name="Klinik Süd", roles=["employer"], region="SE-Sued",
                        email="klinik-sued@example.org")
    refs = [casework.open_case(alliance, given_name="Lina", family_name="Gharbi", nationality="TUN",
                               employer="klinik-nord") for _ in range(4)]
    casework.advance(alliance, refs[0], "withdraw", by="klinik-nord", note=NOTE,
                     facts={"withdraw_category": "health", "withdraw_reason": REASON})
    employer_change.change_employer(alliance, refs[1], to="klinik-sued", by="koord", note=NOTE)

    state = pipeline_report(as_of=alliance.clock().date(), return_state=True)

    run = str(state.state_details.flow_run_id)
    [artifact] = [a for a in artifacts("attrition") if a["flow_run_id"] == run]
    data = artifact["data"]
    rows = json.loads(data) if isinstance(data, str) else data
    common = {"process": "pflege v2", "stage": "recruited", "entered": 4, "withdrawn": 1, "share": "25.0 %"}
    assert {"by": "stage", **common, "what": ""} in rows
    assert {"by": "category", **common, "what": "health"} in rows
    assert {"by": "employer", **common, "what": "klinik-nord", "entered": 3, "share": "33.3 %"} in rows
    assert {"by": "region", **common, "what": "SE-Nord"} in rows
    assert {"by": "employer change", "process": "", "stage": "", "what": "inside the no-poaching period",
            "entered": "", "withdrawn": 1, "share": ""} in rows
    everything = json.dumps(artifact)
    assert not any(word in everything for word in [*refs, "Lina", "Gharbi", REASON, NOTE])
