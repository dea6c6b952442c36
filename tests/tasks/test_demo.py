"""The demo alliance leaves cases to work on: after `lotse up --demo` has fired its ready events,
at least three open cases still have an event that nothing is missing for (the forms need them)."""

from __future__ import annotations

from lotse.tasks import case_file, casework, demo
from lotse.tasks.context import Context


def ready_now(ctx: Context) -> set[tuple[str, str]]:
    """(case, event) for every open case and every event but withdraw that lacks nothing now."""
    return {
        (row["ref"], option["event"])
        for row in case_file.list_cases(ctx)
        for option in case_file.case_file(ctx, row["ref"])["allowed_events"]
        if option["event"] != "withdraw" and not option["missing"]
    }


def test_at_least_three_cases_have_an_event_allowed_after_the_demos_ready_events_are_fired(
    ctx: Context,
) -> None:
    demo.create(ctx)
    fired = demo.ready_events(ctx)
    assert fired, "lotse up --demo fires some advance-case runs"
    assert {(r["case_ref"], r["event"]) for r in fired} < ready_now(ctx)

    for run in fired:  # as the advance-case flow runs of `lotse up --demo` do
        casework.advance(ctx, run["case_ref"], run["event"], by=run["actor"], via="flow")

    left = ready_now(ctx)
    assert len({ref for ref, _ in left}) >= 3
    assert {ref for ref, _ in left}.isdisjoint(r["case_ref"] for r in fired)
    assert demo.ready_events(ctx) == []  # a second `lotse up --demo` leaves them for the forms


def test_the_cases_left_ready_span_both_processes(ctx: Context) -> None:
    demo.create(ctx)
    processes = {row["ref"]: row["process"] for row in case_file.list_cases(ctx)}
    fired = {r["case_ref"] for r in demo.ready_events(ctx)}
    left = {ref for ref, _ in ready_now(ctx)} - fired
    assert {processes[ref] for ref in left} == {"pflege", "chancen"}
