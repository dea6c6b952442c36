"""The `enrol-cohort` flow on a real Prefect server: it enrols a file with a progress artifact and
a summary, refuses a file with a bad row as a failed run, and never puts a name into Prefect."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lotse.flows.enrol_cohort import enrol_cohort
from lotse.states.errors import BadInput
from lotse.tasks import case_file
from lotse.tasks.context import Context
from tests.flows.server_reads import artifacts, get

pytestmark = pytest.mark.prefect

HEADER = "given_name,family_name,nationality,employer,arrival_date\n"
PEOPLE = [("Joanna", "Villareal", "PHL"), ("Anjali", "Menon", "IND"), ("Youssef", "Trabelsi", "TUN")]


def cohort(tmp_path: Path, *extra: str) -> Path:
    path = tmp_path / "cohort-2026-spring.csv"
    rows = [f"{g},{f},{n},klinik-nord,2026-05-01\n" for g, f, n in PEOPLE]
    path.write_text(HEADER + "".join(rows) + "".join(extra), encoding="utf-8")
    return path


def test_the_flow_enrols_the_file_and_reports_progress_and_outcome(
    prefect_harness: None, alliance: Context, lotse_env: None, tmp_path: Path
) -> None:
    state = enrol_cohort(file=str(cohort(tmp_path)), return_state=True)

    result = state.result()
    assert result["enrolled"] == 3 and not result["problems"]
    assert [c["stage"] for c in case_file.list_cases(alliance)] == ["recruited"] * 3
    run = get(f"/flow_runs/{state.state_details.flow_run_id}")
    assert run["name"] == "enrol cohort-2026-spring.csv"
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
        enrol_cohort(file=str(bad))

    assert case_file.list_cases(alliance) == []
    assert "Nair" not in artifacts("enrolment")[0]["data"]


def test_skipping_bad_rows_enrols_the_good_ones_and_a_second_run_enrols_no_one_twice(
    prefect_harness: None, alliance: Context, lotse_env: None, tmp_path: Path
) -> None:
    bad = cohort(tmp_path, "Priya,Nair,IND,no-such-employer,2026-05-01\n")

    first = enrol_cohort(file=str(bad), skip_invalid=True)
    again = enrol_cohort(file=str(bad), skip_invalid=True)

    assert (first["enrolled"], first["skipped"]) == (3, 1)
    assert (again["enrolled"], again["already_enrolled"]) == (0, 3)
    assert len(case_file.list_cases(alliance)) == 3
