"""The `pipeline-report` flow publishes the network map (tasks/network.py) as the markdown artifact
`network` on a real Prefect server: a mermaid flowchart of the organisations, without a person's
name or a case."""

from __future__ import annotations

import pytest

from lotse.flows.pipeline_report import pipeline_report
from lotse.tasks import casework
from lotse.tasks.context import Context
from tests.cli.test_network import check_mermaid, unescaped
from tests.flows.server_reads import artifacts

pytestmark = pytest.mark.prefect


def test_the_flow_publishes_the_network_map_as_mermaid_without_a_persons_name(
    prefect_harness: None, alliance: Context, lotse_env: None,
) -> None:
    ref = casework.open_case(alliance, given_name="Lina", family_name="Gharbi", nationality="TUN",
                             employer="klinik-nord")

    state = pipeline_report(return_state=True)

    run_id = str(state.state_details.flow_run_id)
    [artifact] = [a for a in artifacts("network") if a["flow_run_id"] == run_id]
    assert artifact["type"] == "markdown"
    text = artifact["data"]
    assert text.startswith("# Netzwerk der Allianz\n\n```mermaid\nflowchart LR\n") and text.endswith("```\n")
    drawn = text.split("```mermaid\n", 1)[1].removesuffix("```\n")
    labels = [unescaped(label) for label in check_mermaid(drawn).values()]
    assert "Wohnbau Nord\nWohnungsunternehmen\n1 offene Fälle" in labels
    assert "Klinik Nord\nArbeitgeber\n1 offene Fälle" in labels
    assert not any(word in text for word in ("Lina", "Gharbi", ref, "@example.org"))
