"""The flows of language course groups on a real Prefect server: `pipeline-report` publishes the
course report as the table artifact `language-courses` (the figures per group and per pace,
without a case reference or a name), and the daily `check-deadlines` reports a group that ended
below its target to the coordinator, once."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from lotse.flows.check_deadlines import check_deadlines
from lotse.flows.pipeline_report import pipeline_report
from lotse.states.records import OutboxRecord
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


def test_the_check_deadlines_flow_reports_a_group_that_ended_below_its_target_once(
    prefect_harness: None, alliance: Context, lotse_env: None,
) -> None:
    courses.add_course(alliance, "b1-schnell", school="sprachschule", level="B1", pace="fast",
                       start="2026-01-05", end="2026-02-27", by="koord")
    ref = casework.open_case(alliance, given_name="Lina", family_name="Gharbi", nationality="TUN",
                             employer="klinik-nord")
    courses.assign(alliance, "b1-schnell", [ref], by="koord")

    for day in (dt.date(2026, 2, 26), dt.date(2026, 2, 27), dt.date(2026, 2, 28)):
        check_deadlines(as_of=day)

    with alliance.db.reading() as session:
        rows = session.scalars(select(OutboxRecord).where(
            OutboxRecord.dedup_key.like("course-ended:%"))).all()  # type: ignore[attr-defined]
    assert [(r.recipient, r.case_id) for r in rows] == [("koord", None)]
    assert f"- {ref}" in rows[0].body and "Lina" not in rows[0].body
