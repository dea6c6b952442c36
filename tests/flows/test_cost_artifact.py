"""The `pipeline-report` flow publishes the `costs` table: per employer and category, what
programmes funded and what sharing saved; amounts as text with two places, no case reference and
no name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lotse.flows.pipeline_report import pipeline_report
from lotse.tasks import casework, cost_book
from lotse.tasks.context import Context
from tests.flows.server_reads import artifacts

pytestmark = pytest.mark.prefect


def test_the_flow_publishes_the_costs_per_employer_without_references(
    prefect_harness: None, alliance: Context, lotse_env: None, tmp_path: Path,
) -> None:
    refs = [casework.open_case(alliance, given_name="Lina", family_name="Gharbi", nationality="TUN",
                               employer="klinik-nord") for _ in range(3)]
    cohort = tmp_path / "refs.txt"
    cohort.write_text("\n".join(refs), encoding="utf-8")
    cost_book.add(alliance, cohort=str(cohort), category="travel", amount="100", payer="koord",
                  date="2026-03-01", by="koord")
    cost_book.add(alliance, ref=refs[0], category="visa_fees", amount="75.50", payer="klinik-nord",
                  date="2026-03-01", by="klinik-nord")

    state = pipeline_report(as_of=alliance.clock().date(), return_state=True)

    [artifact] = [a for a in artifacts("costs") if a["flow_run_id"] == str(state.state_details.flow_run_id)]
    data = artifact["data"]
    rows = json.loads(data) if isinstance(data, str) else data
    assert rows == [
        {"employer": "klinik-nord", "travel": "100.00", "visa_fees": "75.50", "total": "175.50",
         "funded": "0.00", "saving": "0.00"},
        {"employer": "(all)", "travel": "100.00", "visa_fees": "75.50", "total": "175.50",
         "funded": "0.00", "saving": "0.00"},
    ]
    everything = json.dumps(artifact)
    assert not any(word in everything for word in [*refs, "Lina", "Gharbi"])


def test_a_broken_programmes_file_leaves_out_the_costs_table_only(
    prefect_harness: None, alliance: Context, lotse_env: None, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broken = tmp_path / "programmes.yaml"
    broken.write_text("programmes: [1, 2]\n", encoding="utf-8")
    monkeypatch.setenv("LOTSE_PROGRAMMES_FILE", str(broken))

    state = pipeline_report(as_of=alliance.clock().date(), return_state=True)

    run = str(state.state_details.flow_run_id)
    assert state.is_completed()
    assert not [a for a in artifacts("costs") if a["flow_run_id"] == run]
    assert [a for a in artifacts("pipeline") if a["flow_run_id"] == run]
