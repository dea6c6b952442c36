"""Moments and days: one conversion for the case file, the outbox, the deadlines and the messages."""

from __future__ import annotations

import datetime as dt

from lotse.states.moments import iso, local_date


def test_a_late_evening_in_utc_is_the_next_day_in_berlin_and_a_naive_moment_is_utc() -> None:
    late = dt.datetime(2026, 1, 31, 23, 30, tzinfo=dt.UTC)
    assert local_date(late, "Europe/Berlin") == dt.date(2026, 2, 1)
    assert local_date(late.replace(tzinfo=None), "Europe/Berlin") == dt.date(2026, 2, 1)
    assert local_date(late, "America/New_York") == dt.date(2026, 1, 31)


def test_a_stored_moment_reads_as_iso_utc_to_the_second() -> None:
    berlin = dt.datetime(2026, 3, 2, 10, 0, 5, 999, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert iso(berlin) == "2026-03-02T09:00:05+00:00"
    assert iso(berlin.astimezone(dt.UTC).replace(tzinfo=None)) == "2026-03-02T09:00:05+00:00"
    assert iso(None) is None
