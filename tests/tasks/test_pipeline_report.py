"""The pipeline report: open cases counted per stage, employer and region; cases past their stage's
limit; the last transitions. References only, never a name or a note (a case's own overview:
test_case_overview.py)."""

from __future__ import annotations

import datetime as dt

from lotse.tasks import casework, deadlines, pipeline_report
from lotse.tasks.context import Context
from tests.conftest import Clock


def opened(ctx: Context, given: str, employer: str = "klinik-nord") -> str:
    return casework.open_case(ctx, given_name=given, family_name="Muster", nationality="PHL",
                              employer=employer)


def to_visa(ctx: Context, ref: str) -> None:
    casework.tick(ctx, ref, ["employment_contract", "recognition_documents"], by="koord")
    casework.advance(ctx, ref, "apply_visa", by="klinik-nord", note="spoke with Ana Muster")


def test_open_cases_are_counted_per_stage_employer_and_region_and_closed_ones_are_not(
    alliance: Context,
) -> None:
    first, second, third = opened(alliance, "Ana"), opened(alliance, "Ben"), opened(alliance, "Cem")
    to_visa(alliance, second)
    casework.advance(alliance, third, "withdraw", by="klinik-nord", facts={"withdraw_category": "moved_away",
                                                                           "withdraw_reason": "moved"})

    report = pipeline_report.pipeline(alliance)

    assert report["open_cases"] == 2
    assert report["by_stage"] == [{"process": "pflege", "version": 2, "stage": "recruited", "open": 1},
                                  {"process": "pflege", "version": 2, "stage": "visa", "open": 1}]
    assert report["by_employer"] == [{"employer": "klinik-nord", "open": 2}]
    assert report["by_region"] == [{"region": "SE-Nord", "open": 2}]
    table = pipeline_report.pipeline_table(report)
    assert {"by": "region", "process": "", "where": "SE-Nord", "open": 2} in table
    assert first  # still recruited, counted above


def test_a_case_is_stuck_only_once_its_stage_has_lasted_longer_than_the_limit(
    alliance: Context, clock: Clock
) -> None:
    ref = opened(alliance, "Ana")  # recruited: limit 6 months, from 2026-03-02
    to_visa(alliance, moved := opened(alliance, "Ben"))  # visa: limit 10 weeks

    on_the_day = pipeline_report.pipeline(alliance, as_of=dt.date(2026, 9, 2))
    after = pipeline_report.pipeline(alliance, as_of=dt.date(2026, 9, 3))

    assert [s["ref"] for s in on_the_day["stuck"]] == [moved]
    assert [(s["ref"], s["overdue_days"], s["limit"]) for s in after["stuck"]] == [
        (moved, 115, "10 weeks"),  # due 2026-05-11
        (ref, 1, "6 months"),  # due 2026-09-02
    ]


def test_the_last_transitions_are_events_only_newest_first_and_at_most_fifty(
    alliance: Context, clock: Clock
) -> None:
    refs = []
    for n in range(52):
        refs.append(opened(alliance, f"P{n}"))
        clock.advance(minutes=1)
        to_visa(alliance, refs[-1])

    moves = pipeline_report.pipeline(alliance)["transitions"]

    assert len(moves) == 50 and {m["event"] for m in moves} == {"apply_visa"}
    assert moves[0]["ref"] == refs[-1] and moves[-1]["ref"] == refs[2]
    assert f"| {refs[-1]} | apply_visa | recruited | visa |" in pipeline_report.transitions_markdown(
        pipeline_report.pipeline(alliance))


def test_days_are_the_alliances_days_and_stuck_cases_are_the_overdue_stage_limits_check_finds(
    alliance: Context, clock: Clock
) -> None:
    clock.now = dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC)  # 2 March, 00:30 in Berlin
    ref = opened(alliance, "Ana")  # recruited: limit 6 months, so due 2 September

    on_the_day = pipeline_report.pipeline(alliance, as_of=dt.date(2026, 9, 2))
    clock.now = dt.datetime(2026, 9, 2, 22, 30, tzinfo=dt.UTC)  # 3 September, 00:30 in Berlin
    after = pipeline_report.pipeline(alliance)
    checked = deadlines.check_deadlines(alliance, dry_run=True)

    assert on_the_day["stuck"] == []
    assert after["as_of"] == "2026-09-03"
    assert [(s["ref"], s["since"], s["due"], s["overdue_days"]) for s in after["stuck"]] == [
        (ref, "2026-03-02", "2026-09-02", 1)]
    assert [(f.ref, f.due, f.overdue_days) for f in checked if f.deadline == "recruited_limit"] == [
        (ref, dt.date(2026, 9, 2), 1)]
