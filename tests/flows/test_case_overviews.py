"""The overview `case-<ref>` on a real Prefect server: published after a change on the command line
(PREFECT_API_URL set) and after every flow that changes cases (advance-case, enrol-cohort,
check-deadlines), linked to its run; `pipeline-report` publishes exactly the missing and stale ones."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from lotse.flows.advance_case import advance_case
from lotse.flows.check_deadlines import check_deadlines
from lotse.flows.enrol_cohort import enrol_cohort
from lotse.flows.pipeline_report import pipeline_report
from lotse.tasks import casework, inbox, overviews
from lotse.tasks.context import Context
from tests.conftest import run_lotse
from tests.flows.server_reads import api_url, artifacts, post

pytestmark = pytest.mark.prefect

GIVEN, FAMILY = "Maricel", "Dalisay"


def overview(ref: str) -> str:
    found = artifacts(f"case-{ref.lower()}")
    assert found, f"no overview of {ref}"
    return str(found[0]["data"])


def overviews_of_run(state: Any) -> list[str]:
    """The keys of the case overviews published by one flow run."""
    found = post("/artifacts/filter", {
        "artifacts": {"flow_run_id": {"any_": [str(state.state_details.flow_run_id)]}},
        "sort": "KEY_ASC", "limit": 200, "offset": 0,
    })
    return [a["key"] for a in found if a["key"].startswith("case-")]


def opened(ctx: Context, given: str = GIVEN) -> str:
    return casework.open_case(ctx, given_name=given, family_name=FAMILY, nationality="PHL",
                              employer="klinik-nord")


def test_a_change_on_the_command_line_publishes_the_overview_when_prefect_api_url_is_set(
    prefect_harness: None, alliance: Context, home: Path,
) -> None:
    ref = opened(alliance)

    done = run_lotse(home, "case", "done", ref, "employment_contract", "--by", "klinik-nord",
                     env={"PREFECT_API_URL": api_url()})

    assert done.returncode == 0 and done.stderr == "", done.stderr
    markdown = overview(ref)
    assert re.search(r"\| Arbeitsvertrag unterschrieben \| Klinik Nord \(Arbeitgeber\) \| – \| "
                     r"\d\d\.\d\d\.\d{4} \d\d:\d\d, Klinik Nord \|", markdown)
    assert GIVEN not in markdown and FAMILY not in markdown


def test_an_advance_case_run_publishes_the_overview_linked_to_the_run(
    prefect_harness: None, alliance: Context, lotse_env: None,
) -> None:
    ref = opened(alliance)
    casework.tick(alliance, ref, ["employment_contract", "recognition_documents"], by="koord")

    state = advance_case(case_ref=ref, event="apply_visa", actor="vermittlung", return_state=True)

    assert state.is_completed()
    assert overviews_of_run(state) == [f"case-{ref.lower()}"]
    assert "- **Stufe:** Visumverfahren" in overview(ref)
    assert overviews.stale(alliance) == []


def test_pipeline_report_publishes_exactly_the_missing_and_the_stale_overviews(
    prefect_harness: None, alliance: Context, lotse_env: None,
) -> None:
    refs = [opened(alliance, f"P{n}") for n in range(3)]

    first = pipeline_report(return_state=True)
    casework.tick(alliance, refs[1], ["employment_contract"], by="klinik-nord")
    second = pipeline_report(return_state=True)
    third = pipeline_report(return_state=True)

    assert overviews_of_run(first) == [f"case-{ref.lower()}" for ref in refs]
    assert overviews_of_run(second) == [f"case-{refs[1].lower()}"]
    assert overviews_of_run(third) == []
    assert "Erledigt: Arbeitsvertrag unterschrieben" in overview(refs[1])


def test_an_enrolment_publishes_the_overview_of_every_new_case_in_one_batch(
    prefect_harness: None, alliance: Context, lotse_env: None, tmp_path: Path,
) -> None:
    cohort = tmp_path / "cohort-overviews.csv"
    cohort.write_text("given_name,family_name,nationality,employer\nLina,Gharbi,TUN,klinik-nord\n"
                      "Amira,Ben Salah,TUN,klinik-nord\nJoy,Santos,PHL,klinik-nord\n", encoding="utf-8")

    state = enrol_cohort(file=inbox.receive(alliance.settings.home, cohort).name, return_state=True)

    refs = state.result()["refs"]
    assert len(refs) == 3 and overviews_of_run(state) == sorted(f"case-{ref.lower()}" for ref in refs)
    assert all("Gharbi" not in overview(ref) for ref in refs)
    assert overviews.stale(alliance) == []


def test_a_deadline_check_publishes_the_overviews_of_the_cases_it_reminded(
    prefect_harness: None, alliance: Context, lotse_env: None,
) -> None:
    due, quiet = opened(alliance, "Due"), opened(alliance, "Quiet")
    casework.tick(alliance, due, ["employment_contract", "recognition_documents"], by="koord")
    casework.advance(alliance, due, "apply_visa", by="klinik-nord")
    casework.set_facts(alliance, due, {"approval_requested_date": "2026-03-02"}, by="klinik-nord")

    state = check_deadlines(as_of=dt.date(2026, 3, 16), return_state=True)

    assert overviews_of_run(state) == [f"case-{due.lower()}"]
    assert "| Zustimmung der Bundesagentur für Arbeit | 16.03.2026 | 1 von 2 |" in overview(due)
    assert quiet not in str(overviews_of_run(state))
