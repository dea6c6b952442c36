"""Deadline rows and the daily check on a real SQLite file: explicit check dates, changes placed on
chosen days with the `clock` fixture, reminders read back from the outbox."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from lotse.states.records import DeadlineRecord, OutboxRecord
from lotse.tasks import case_file, casework
from lotse.tasks.context import Context
from lotse.tasks.deadlines import Finding, check_deadlines, today
from tests.conftest import Clock

D = dt.date


def on(clock: Clock, day: dt.date) -> None:
    """Place the next change at 10:00 Berlin time on `day`."""
    clock.now = dt.datetime(day.year, day.month, day.day, 8, 0, tzinfo=dt.UTC)


def open_case(ctx: Context, **facts: str) -> str:
    return casework.open_case(ctx, given_name="Maria", family_name="Santos", nationality="PHL",
                              employer="klinik-nord", facts=facts)


def to_visa(ctx: Context, ref: str) -> None:
    casework.tick(ctx, ref, ["employment_contract", "recognition_documents"], by="koord")
    casework.advance(ctx, ref, "apply_visa", by="klinik-nord")


def to_arrival(ctx: Context, ref: str, arrival: dt.date, visa_until: dt.date) -> None:
    casework.tick(ctx, ref, ["visa_granted", "housing_confirmed"], by="koord")
    casework.advance(ctx, ref, "arrive", by="klinik-nord", facts={
        "arrival_date": arrival.isoformat(), "visa_valid_until": visa_until.isoformat()})


def arrived(ctx: Context, clock: Clock, arrival: dt.date, visa_until: dt.date) -> str:
    on(clock, arrival - dt.timedelta(days=40))
    ref = open_case(ctx)
    to_visa(ctx, ref)
    on(clock, arrival)
    to_arrival(ctx, ref, arrival, visa_until)
    return ref


def of(findings: list[Finding], deadline: str) -> list[Finding]:
    return [f for f in findings if f.deadline == deadline]


def reminders(ctx: Context) -> list[tuple[str, str]]:
    """(recipient, dedup key) of every reminder queued, in order."""
    with ctx.db.reading() as session:
        rows = session.execute(
            select(OutboxRecord.recipient, OutboxRecord.dedup_key)
            .where(OutboxRecord.dedup_key.contains("deadline:"))  # type: ignore[attr-defined]
            .order_by(OutboxRecord.id)
        ).all()
    return [(r, k) for r, k in rows]


def rows_of(ctx: Context, deadline: str) -> list[DeadlineRecord]:
    with ctx.db.reading() as session:
        return list(session.scalars(select(DeadlineRecord).where(DeadlineRecord.deadline == deadline)))


# -- the scenarios of the issue ------------------------------------------------------------------


def test_a_visa_stage_that_overruns_reminds_the_employer(alliance: Context, clock: Clock) -> None:
    on(clock, D(2026, 3, 2))
    ref = open_case(alliance)
    to_visa(alliance, ref)  # entered visa on 2026-03-02: 10 weeks run out on 2026-05-11

    assert of(check_deadlines(alliance, as_of=D(2026, 5, 10)), "visa_limit") == []
    [found] = of(check_deadlines(alliance, as_of=D(2026, 5, 12)), "visa_limit")

    assert (found.ref, found.due, found.level, found.role, found.overdue_days) == (
        ref, D(2026, 5, 11), 1, "employer", 1)
    assert "Botschaften" in found.basis and found.reminded
    assert reminders(alliance) == [("klinik-nord", f"deadline:{ref}:visa_limit:2026-05-11:L1:klinik-nord")]


def test_an_address_registration_missing_on_day_15_after_arrival_is_overdue(
    alliance: Context, clock: Clock,
) -> None:
    ref = arrived(alliance, clock, D(2026, 4, 1), D(2026, 9, 30))

    assert of(check_deadlines(alliance, as_of=D(2026, 4, 14)), "address_registration") == []
    [found] = of(check_deadlines(alliance, as_of=D(2026, 4, 16)), "address_registration")

    assert (found.ref, found.due, found.overdue_days, found.role, found.level) == (
        ref, D(2026, 4, 15), 1, "employer", 1)
    assert "§ 17" in found.basis
    assert [k for _, k in reminders(alliance) if "address_registration" in k] == [
        f"deadline:{ref}:address_registration:2026-04-15:L1:klinik-nord"]


def test_a_visa_expiring_in_29_days_without_a_residence_permit_application_is_reminded(
    alliance: Context, clock: Clock,
) -> None:
    day = D(2026, 5, 20)
    ref = arrived(alliance, clock, D(2026, 4, 1), day + dt.timedelta(days=29))
    other = arrived(alliance, clock, D(2026, 4, 1), day + dt.timedelta(days=29))
    casework.tick(alliance, other, ["residence_permit_applied"], by="abh-nord")

    found = of(check_deadlines(alliance, as_of=day), "residence_permit_application")

    assert [(f.ref, f.due, f.overdue_days, f.role) for f in found] == [(ref, D(2026, 5, 19), 1, "employer")]


def test_the_ladder_climbs_from_the_role_to_the_coordinator(alliance: Context, clock: Clock) -> None:
    ref = arrived(alliance, clock, D(2026, 4, 1), D(2026, 9, 30))  # address registration due 04-15

    levels = []
    for day in (D(2026, 4, 15), D(2026, 4, 21), D(2026, 4, 22), D(2026, 5, 30)):
        [found] = of(check_deadlines(alliance, as_of=day), "address_registration")
        levels.append((found.level, found.role, found.reminded))

    assert levels == [(1, "employer", True), (1, "employer", False), (2, "coordinator", True),
                      (2, "coordinator", False)]
    assert [r for r, k in reminders(alliance) if "address_registration" in k] == ["klinik-nord", "koord"]
    [row] = rows_of(alliance, "address_registration")
    assert (row.level, row.next_at) == (2, None)  # the top of the ladder: nothing more to climb
    shown = {d["deadline"]: d for d in case_file.case_file(alliance, ref)["deadlines"]}
    address = shown["address_registration"]
    assert (address["level"], address["next_reminder"]) == (2, None)


def test_a_check_long_after_the_due_date_reminds_only_the_current_level(
    alliance: Context, clock: Clock,
) -> None:
    arrived(alliance, clock, D(2026, 4, 1), D(2026, 9, 30))

    [found] = of(check_deadlines(alliance, as_of=D(2026, 5, 1)), "address_registration")

    assert (found.level, found.role) == (2, "coordinator")
    assert [r for r, k in reminders(alliance) if "address_registration" in k] == ["koord"]


def test_an_item_ticked_the_day_before_the_check_is_not_reminded(alliance: Context, clock: Clock) -> None:
    ref = arrived(alliance, clock, D(2026, 4, 1), D(2026, 9, 30))
    on(clock, D(2026, 4, 15))
    casework.tick(alliance, ref, ["address_registered"], by="klinik-nord")

    found = check_deadlines(alliance, as_of=D(2026, 4, 16))

    assert of(found, "address_registration") == []
    assert of(found, "landlord_confirmation")  # the other item of the day is still missing
    assert not any("address_registration" in k for _, k in reminders(alliance))
    [row] = rows_of(alliance, "address_registration")
    assert row.closed_why == "done" and row.alert_on is None and row.next_at is None


def test_a_withdrawn_case_has_no_deadlines_and_gets_no_reminders(alliance: Context, clock: Clock) -> None:
    ref = arrived(alliance, clock, D(2026, 4, 1), D(2026, 4, 20))
    casework.advance(alliance, ref, "withdraw", by="klinik-nord", facts={"withdraw_category": "moved_away",
                                                                         "withdraw_reason": "moved away"})

    assert check_deadlines(alliance, as_of=D(2027, 1, 1)) == []
    assert reminders(alliance) == []
    assert case_file.case_file(alliance, ref)["deadlines"] == []
    with alliance.db.reading() as session:
        rows = list(session.scalars(select(DeadlineRecord)))
    assert rows and all(r.closed_at is not None for r in rows)
    assert {r.deadline for r in rows if r.closed_why == "closed"} >= {"arrival_limit", "address_registration"}


def test_running_the_check_twice_on_the_same_day_queues_nothing_new(alliance: Context, clock: Clock) -> None:
    arrived(alliance, clock, D(2026, 4, 1), D(2026, 5, 1))
    first = check_deadlines(alliance, as_of=D(2026, 4, 20))
    queued = reminders(alliance)

    second = check_deadlines(alliance, as_of=D(2026, 4, 20))

    assert len(queued) == sum(f.reminded for f in first) >= 3
    assert reminders(alliance) == queued
    assert [(f.deadline, f.level) for f in second] == [(f.deadline, f.level) for f in first]
    assert not any(f.reminded for f in second)


# -- more of the behaviour ---------------------------------------------------------------------------


def test_a_dry_run_lists_what_is_due_and_queues_nothing(alliance: Context, clock: Clock) -> None:
    arrived(alliance, clock, D(2026, 4, 1), D(2026, 9, 30))

    dry = check_deadlines(alliance, as_of=D(2026, 4, 16), dry_run=True)

    assert of(dry, "address_registration")[0].reminded
    assert reminders(alliance) == []
    assert rows_of(alliance, "address_registration")[0].level == 0
    assert check_deadlines(alliance, as_of=D(2026, 4, 16)) == dry  # the real run does what it said


def test_opening_a_case_opens_the_deadline_of_its_first_stage(alliance: Context, clock: Clock) -> None:
    on(clock, D(2026, 3, 2))
    ref = open_case(alliance)

    deadlines = case_file.case_file(alliance, ref)["deadlines"]

    assert [(d["deadline"], d["due"], d["level"], d["role"]) for d in deadlines] == [
        ("recruited_limit", "2026-09-02", 0, "employer")]
    assert deadlines[0]["next_reminder"] == "2026-09-02" and deadlines[0]["basis"]


def test_moving_on_closes_the_deadlines_of_the_stage_left(alliance: Context, clock: Clock) -> None:
    ref = arrived(alliance, clock, D(2026, 4, 1), D(2026, 9, 30))
    casework.tick(alliance, ref, ["address_registered", "residence_permit_applied"], by="koord")
    on(clock, D(2026, 4, 10))
    casework.advance(alliance, ref, "start_language_course", by="klinik-nord")

    open_now = [d["deadline"] for d in case_file.case_file(alliance, ref)["deadlines"]]

    assert open_now == ["language_course_limit"]
    assert [r.closed_why for r in rows_of(alliance, "landlord_confirmation")] == ["left"]
    assert [r.closed_why for r in rows_of(alliance, "visa_limit")] == ["left"]
    assert check_deadlines(alliance, as_of=D(2026, 5, 1)) == []


def test_a_changed_date_fact_moves_the_deadline(alliance: Context, clock: Clock) -> None:
    ref = arrived(alliance, clock, D(2026, 4, 1), D(2026, 6, 30))
    casework.set_facts(alliance, ref, {"visa_valid_until": "2026-08-31"}, by="abh-nord")

    rows = sorted(rows_of(alliance, "residence_permit_application"), key=lambda r: r.due)

    assert [(r.due, r.closed_why) for r in rows] == [(D(2026, 5, 31), "changed"), (D(2026, 8, 1), None)]
    assert of(check_deadlines(alliance, as_of=D(2026, 6, 1)), "residence_permit_application") == []


def test_an_item_unticked_again_is_not_reminded_twice_at_the_same_level(
    alliance: Context, clock: Clock,
) -> None:
    ref = arrived(alliance, clock, D(2026, 4, 1), D(2026, 9, 30))
    check_deadlines(alliance, as_of=D(2026, 4, 16))
    casework.tick(alliance, ref, ["address_registered"], by="klinik-nord")
    casework.tick(alliance, ref, ["address_registered"], by="klinik-nord", done=False)

    [found] = of(check_deadlines(alliance, as_of=D(2026, 4, 17)), "address_registration")

    assert (found.level, found.reminded) == (1, False)
    assert len(rows_of(alliance, "address_registration")) == 1
    [found] = of(check_deadlines(alliance, as_of=D(2026, 4, 22)), "address_registration")
    assert (found.level, found.reminded) == (2, True)


def test_a_title_ending_is_reminded_90_30_and_7_days_before(alliance: Context, clock: Clock) -> None:
    ref = arrived(alliance, clock, D(2026, 4, 1), D(2026, 9, 30))
    casework.set_facts(alliance, ref, {"residence_permit_valid_until": "2027-03-31"}, by="abh-nord")

    seen: list[Any] = []
    for day in (D(2026, 12, 30), D(2026, 12, 31), D(2027, 3, 1), D(2027, 3, 24)):
        found = of(check_deadlines(alliance, as_of=day), "residence_permit_ending")
        seen.append([(f.level, f.role, f.overdue_days, f.reminded) for f in found])

    assert seen == [[], [(1, "employer", -90, True)], [(2, "employer", -30, True)],
                    [(3, "coordinator", -7, True)]]


def test_today_is_the_calendar_date_in_berlin(ctx: Context, clock: Clock) -> None:
    clock.now = dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC)  # 00:30 on 2 March in Berlin
    assert today(ctx) == D(2026, 3, 2)
    clock.now = dt.datetime(2026, 7, 1, 21, 59, tzinfo=dt.UTC)  # 23:59 in summer time
    assert today(ctx) == D(2026, 7, 1)


def test_the_check_defaults_to_today_in_berlin(alliance: Context, clock: Clock) -> None:
    arrived(alliance, clock, D(2026, 4, 1), D(2026, 9, 30))
    clock.now = dt.datetime(2026, 4, 14, 22, 30, tzinfo=dt.UTC)  # 00:30 on 15 April in Berlin

    assert of(check_deadlines(alliance, dry_run=True), "address_registration")[0].overdue_days == 0


def test_findings_are_plain_json_without_names(alliance: Context, clock: Clock) -> None:
    arrived(alliance, clock, D(2026, 4, 1), D(2026, 9, 30))
    [found] = of(check_deadlines(alliance, as_of=D(2026, 4, 16)), "address_registration")

    data = found.as_json()

    assert data["due"] == "2026-04-15" and data["ref"].startswith("SE-")
    assert "Santos" not in str(data) and "Maria" not in str(data)
