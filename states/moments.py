"""Moments and days: a stored moment as ISO 8601 UTC, and as the calendar date of the alliance.

Deadlines and messages speak of calendar dates in the alliance's time zone (Europe/Berlin by
default): a stage entered at 23:30 UTC in winter was entered on the next day there.
"""

from __future__ import annotations

import datetime as dt
from typing import overload
from zoneinfo import ZoneInfo


@overload
def iso(moment: dt.datetime) -> str: ...
@overload
def iso(moment: None) -> None: ...
def iso(moment: dt.datetime | None) -> str | None:
    """A stored moment as ISO 8601 UTC; a naive moment is taken as UTC (SQLite keeps no zone)."""
    if moment is None:
        return None
    return _utc(moment).astimezone(dt.UTC).isoformat(timespec="seconds")


def local_date(moment: dt.datetime, timezone: str) -> dt.date:
    """The calendar date of a moment in `timezone`; a naive moment is taken as UTC."""
    return _utc(moment).astimezone(ZoneInfo(timezone)).date()


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment
