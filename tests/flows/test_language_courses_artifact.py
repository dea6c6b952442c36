"""The `pipeline-report` flow on a real Prefect server publishes the language course report as the
table artifact `language-courses`: the figures per group and per pace, without a case reference
or a name."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from lotse.flows.pipeline_report import pipeline_report
from lotse.tasks import casework, courses, exams
from lotse.tasks.context import Context
from tests.flows.server_reads import artifacts
from tests.flows.test_pipeline_report import table

pytestmark = pytest.mark.prefect


def test_the_pipeline_report_publishes_the_course_figures_without_references(
    prefect_harness: None, alliance: Context, lotse_env: None,
) -> None:
    courses.add_course(alliance, "b1-langsam", school="sprachschule", level="B1", pace="slow",
                       start="2026-01-05", end="2026-02-27", capacity=10, by="koord")
    people = [("Lina", "Gharbi"), ("Fernanda", "Alves")]
    refs = [casework.open_case(alliance, given_name=g, family_name=f, nationality="TUN",
                               employer="klinik-nord") for g, f in people]
    courses.assign(alliance, "b1-langsam", refs, by="sprachschule")
    exams.record_exam(alliance, refs[0], level="B1", exam="telc Deutsch B1", taken_on="2026-02-16",
                      passed=True, by="sprachschule")  # 42 days after the start: 6 weeks

    state = pipeline_report(as_of=dt.date(2026, 3, 1), return_state=True)

    rows = table("language-courses", state.state_details.flow_run_id)
    group, pace = rows
    assert {k: group[k] for k in ("group", "pace", "level", "participants", "reached", "below_target",
                                  "median_weeks_to_b1")} == {
        "group": "b1-langsam", "pace": "slow", "level": "B1", "participants": 2, "reached": 1,
        "below_target": 1, "median_weeks_to_b1": 6.0}
    assert (pace["group"], pace["participants"], pace["reached"]) == ("(all 1 slow)", 2, 1)
    published = json.dumps([a for a in artifacts("language-courses")])
    assert not any(word in published for word in [*refs, "Lina", "Gharbi", "Fernanda", "Alves"])
