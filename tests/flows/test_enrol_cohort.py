"""The `enrol-cohort` flow on a real Prefect server: it enrols a file with a progress artifact and
a summary, refuses a file with a bad row as a failed run, and never puts a name into Prefect."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lotse.flows.enrol_cohort import enrol_cohort
from lotse.states.errors import BadInput
from lotse.tasks import case_file, inbox
from lotse.tasks.context import Context
from tests.flows.server_reads import artifacts, get

pytestmark = pytest.mark.prefect

HEADER = "given_name,family_name,nationality,employer,arrival_date\n"
PEOPLE = [("Joanna", "Villareal", "PHL"), ("Anjali", "Menon", "IND"), ("Youssef", "Trabelsi", "TUN")]


def cohort(tmp_path: Path, *extra: str) -> str:
    """A cohort file under a family name, as it reaches the flow: its neutral name in the inbox."""
    path = tmp_path / "Kohorte_Villareal_2026.csv"
    rows = [f"{g},{f},{n},klinik-nord,2026-05-01\n" for g, f, n in PEOPLE]
    path.write_text(HEADER + "".join(rows) + "".join(extra), encoding="utf-8")
    return inbox.receive(tmp_path / "lotse-home", path).name  # the `home` the flows read


def test_the_flow_enrols_the_file_and_reports_progress_and_outcome(
    prefect_harness: None, alliance: Context, lotse_env: None, tmp_path: Path
) -> None:
    name = cohort(tmp_path)
    state = enrol_cohort(file=name, return_state=True)

    result = state.result()
    assert result["enrolled"] == 3 and not result["problems"]
    assert [c["stage"] for c in case_file.list_cases(alliance)] == ["recruited"] * 3
    run = get(f"/flow_runs/{state.state_details.flow_run_id}")
    assert run["name"] == f"enrol {name}" and "Villareal" not in json.dumps(run)
    progress = artifacts("enrol-progress")[0]
    assert progress["flow_run_id"] == str(state.state_details.flow_run_id)
    assert float(progress["data"]) == 100.0
    summary = artifacts("enrolment")[0]["data"]
    assert "3 case(s) enrolled" in summary
    assert not any(name in json.dumps(summary) for person in PEOPLE for name in person[:2])


def test_a_file_with_a_bad_row_fails_the_run_and_enrols_no_one(
    prefect_harness: None, alliance: Context, lotse_env: None, tmp_path: Path
) -> None:
    bad = cohort(tmp_path, "Priya,Nair,IND,klinik-nord,2026-02-30\n")

    with pytest.raises(BadInput, match=r"line 5: arrival_date: not a date between"):
        enrol_cohort(file=bad)

    assert case_file.list_cases(alliance) == []
    assert "Nair" not in artifacts("enrolment")[0]["data"]


def test_skipping_bad_rows_enrols_the_good_ones_and_a_second_run_enrols_no_one_twice(
    prefect_harness: None, alliance: Context, lotse_env: None, tmp_path: Path
) -> None:
    bad = cohort(tmp_path, "Priya,Nair,IND,no-such-employer,2026-05-01\n")

    first = enrol_cohort(file=bad, skip_invalid=True)
    again = enrol_cohort(file=bad, skip_invalid=True)

    assert (first["enrolled"], first["skipped"]) == (3, 1)
    assert (again["enrolled"], again["already_enrolled"]) == (0, 3)
    assert len(case_file.list_cases(alliance)) == 3


def test_the_inbox_keeps_a_copy_named_by_its_content_readable_by_its_owner_only(
    home: Path, tmp_path: Path
) -> None:
    import hashlib

    name = cohort(tmp_path)
    again = cohort(tmp_path)

    copy = inbox.folder(home) / name
    assert name == again == hashlib.sha256(copy.read_bytes()).hexdigest() + ".csv"
    assert copy.stat().st_mode & 0o777 == 0o600 and inbox.folder(home).stat().st_mode & 0o777 == 0o700
    assert inbox.names(home) == [name]
    with pytest.raises(BadInput, match="no such file in the inbox") as refused:
        inbox.find(home, str(tmp_path / "Kohorte_Villareal_2026.csv"))
    assert "Villareal" not in str(refused.value)


def test_the_enrol_cohort_form_offers_the_inbox_and_the_server_refuses_any_other_file(
    prefect_harness: None, alliance: Context, lotse_env: None, home: Path, tmp_path: Path
) -> None:
    from prefect import get_client
    from prefect.exceptions import PrefectHTTPStatusError

    from lotse.flows import deployments
    from tests.flows.server_reads import post

    name = cohort(tmp_path)
    [deployment] = [d for d in deployments.build(alliance).built if d.name == "enrol-cohort"]
    assert deployment._parameter_openapi_schema.properties["file"]["enum"] == [name]
    with get_client(sync_client=True) as client:
        deployment_id = deployment.apply()
        before = post("/flow_runs/count", {})
        for wrong in (str(tmp_path / "Kohorte_Quraishi_Maerz.csv"), "Kohorte_Quraishi_Maerz.csv",
                      "0" * 64 + ".csv"):
            with pytest.raises(PrefectHTTPStatusError, match="409"):
                client.create_flow_run_from_deployment(deployment_id, parameters={"file": wrong})
        assert post("/flow_runs/count", {}) == before
        allowed = client.create_flow_run_from_deployment(deployment_id, parameters={"file": name})
        client.delete_flow_run(allowed.id)
