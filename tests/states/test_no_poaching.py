"""The no-poaching period's pure rules (states/no_poaching.py): where it starts and ends (calendar
months from the arrival, the end day already outside), what holds before the arrival, and who may
move a case when."""

from __future__ import annotations

import datetime as dt

import pytest

from lotse.states.actor import Actor
from lotse.states.errors import BadInput, Refused
from lotse.states.no_poaching import Period, check_author, check_target, period

KOORD = Actor("koord", "Koordination", frozenset({"coordinator"}))
NORD = Actor("klinik-nord", "Klinik Nord", frozenset({"employer"}))
SUED = Actor("klinik-sued", "Klinik Süd", frozenset({"employer"}))
HOUSING = Actor("wohnbau", "Wohnbau", frozenset({"housing"}))


@pytest.mark.parametrize(("arrival", "today", "inside", "ends"), [
    (dt.date(2026, 3, 3), dt.date(2028, 3, 2), True, dt.date(2028, 3, 3)),  # the last day inside
    (dt.date(2026, 3, 3), dt.date(2028, 3, 3), False, dt.date(2028, 3, 3)),  # the end day is outside
    (dt.date(2026, 8, 31), dt.date(2028, 8, 30), True, dt.date(2028, 8, 31)),
    (dt.date(2027, 12, 31), dt.date(2029, 12, 31), False, dt.date(2029, 12, 31)),
    (dt.date(2026, 2, 28), dt.date(2026, 2, 28), True, dt.date(2028, 2, 28)),  # the day of arrival
])
def test_the_period_runs_calendar_months_from_the_arrival(
    arrival: dt.date, today: dt.date, inside: bool, ends: dt.date,
) -> None:
    assert period(arrival, today, 24) == Period(arrival, ends, inside)


def test_before_the_arrival_the_period_has_not_started_and_counts_as_inside() -> None:
    for arrival in (None, dt.date(2026, 5, 1)):
        stand = period(arrival, dt.date(2026, 4, 30), 24)
        assert (stand.started, stand.inside, stand.ends) == (False, True, None)


def test_no_period_at_zero_months() -> None:
    assert period(dt.date(2026, 3, 3), dt.date(2026, 3, 3), 0).inside is False


def test_inside_only_the_coordinator_with_a_note_outside_also_the_new_employer() -> None:
    inside, outside = period(dt.date(2026, 3, 3), dt.date(2026, 4, 1), 24), period(
        dt.date(2020, 3, 3), dt.date(2026, 4, 1), 24)
    with pytest.raises(Refused, match=r"inside the no-poaching period \(until 2028-03-03\)"):
        check_author(SUED, SUED, "SE-2026-0001", inside, "agreed")
    with pytest.raises(Refused, match="with --note"):
        check_author(KOORD, SUED, "SE-2026-0001", inside, " ")
    check_author(KOORD, SUED, "SE-2026-0001", inside, "agreed")
    check_author(SUED, SUED, "SE-2026-0001", outside, None)
    check_author(KOORD, SUED, "SE-2026-0001", outside, None)
    for other in (NORD, HOUSING):
        with pytest.raises(Refused, match="the new employer itself or the coordinator"):
            check_author(other, SUED, "SE-2026-0001", outside, "x")


def test_the_target_is_another_employer() -> None:
    check_target("klinik-nord", SUED)
    with pytest.raises(BadInput, match="is not an employer"):
        check_target("klinik-nord", HOUSING)
    with pytest.raises(BadInput, match="is klinik-nord already"):
        check_target("klinik-nord", NORD)
