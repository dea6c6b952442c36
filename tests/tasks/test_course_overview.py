"""A case's language course and exams in the overview Prefect shows (tasks/case_overview.py):
the group it was assigned to and each exam's level and outcome are timeline entries; the exam's
free-text name, which a school may fill with anything, never reaches Prefect."""

from __future__ import annotations

from lotse.tasks import case_views, casework, courses, exams
from lotse.tasks.case_overview import render
from lotse.tasks.context import Context

NAMED_EXAM = "telc B2 für Maricel Dalisay"


def overview(ctx: Context, ref: str, locale: str) -> str:
    [view] = case_views.views(ctx, refs=[ref])
    return render(view, locale=locale, timezone="Europe/Berlin")


def test_the_overview_shows_the_group_and_each_exam_without_the_exam_s_name(alliance: Context) -> None:
    ref = casework.open_case(alliance, given_name="Maricel", family_name="Dalisay", nationality="PHL",
                             employer="klinik-nord")
    courses.add_course(alliance, "b2_schnell", school="sprachschule", level="B2", pace="fast",
                       start="2026-01-05", end="2026-05-31", by="koord")
    courses.assign(alliance, "b2_schnell", [ref], by="koord")
    exams.record_exam(alliance, ref, level="B1", exam=NAMED_EXAM, taken_on="2026-02-02", passed=False,
                      by="sprachschule")
    exams.record_exam(alliance, ref, level="B1", exam=NAMED_EXAM, taken_on="2026-03-02", passed=True,
                      by="sprachschule")
    courses.unassign(alliance, "b2_schnell", [ref], by="koord")

    german, english = overview(alliance, ref, "de"), overview(alliance, ref, "en")

    assert "Sprachkursgruppe zugeordnet: b2\\_schnell" in german  # markdown: `_` is no emphasis
    assert "aus Sprachkursgruppe genommen: b2\\_schnell" in german
    assert "taken out of language course group: b2\\_schnell" in english
    assert "Sprachprüfung B1: nicht bestanden" in german and "Sprachprüfung B1: bestanden" in german
    assert "Sprachniveau (GER) = B1" in german  # the fact the pass raised
    assert "assigned to language course group: b2\\_schnell" in english
    assert "language exam B1: failed" in english and "language exam B1: passed" in english
    for text in (german, english):
        assert "Maricel" not in text and "Dalisay" not in text and "telc B2 für" not in text
