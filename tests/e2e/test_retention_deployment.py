"""The `apply-retention` deployment served by `lotse up`: a run from the server lists the closed
demo cases past their retention on a later day (a dry run: the demo stays for the other tests)
and its run carries references and counts only."""

from __future__ import annotations

import json

from prefect import get_client
from prefect.deployments import run_deployment

from tests.e2e.conftest import Up, prefect_at
from tests.flows.server_reads import artifacts


def test_a_served_dry_run_lists_the_closed_cases_past_retention_and_no_name(served: Up) -> None:
    cases = json.loads(served.lotse("case", "list", "--json").stdout)
    closed = sorted(c["ref"] for c in cases if c["stage"] in ("integrated", "withdrawn"))
    assert closed

    with prefect_at(served.api):
        run = run_deployment("apply-retention/apply-retention", timeout=120,
                             parameters={"as_of": "2199-01-01", "dry_run": True})
        assert run.state is not None and run.state.is_completed(), run.state
        with get_client(sync_client=True) as client:
            logs = client.request("POST", "/logs/filter", json={
                "logs": {"flow_run_id": {"any_": [str(run.id)]}}, "limit": 200, "offset": 0}).json()
    [table] = [a for a in artifacts("retention", served.api) if a["flow_run_id"] == str(run.id)]
    rows = json.loads(table["data"]) if isinstance(table["data"], str) else table["data"]

    assert sorted(r["ref"] for r in rows) == closed and not any(r["erased"] for r in rows)
    names = {f"{c['given_name']}" for c in (json.loads(served.lotse("case", "show", ref, "--json").stdout)
                                            for ref in closed)}
    seen = json.dumps([run.parameters, run.name, table, [entry["message"] for entry in logs]])
    assert not [n for n in names if n in seen]
    assert json.loads(served.lotse("case", "show", closed[0], "--json").stdout)["given_name"] != "[gelöscht]"
