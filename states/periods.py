"""Cohorts and spreads for the reports people look at: which period a day belongs to, and the
median and 90th percentile of spans in days (docs/reports.md).

- A **period** is a calendar month (`2026-03`) or quarter (`2026-Q1`) of the alliance's calendar;
  a case belongs to the cohort of the period it was opened in.
- The **median** is the middle value, or the mean of the two middle values (`statistics.median`).
- The **90th percentile** is by nearest rank: the smallest value with at least 90 % of the values
  at or below it (the ceil(0.9 n)-th smallest). It is always a span that happened, never an
  interpolation, so a coordinator can point at the case behind it; with fewer than ten values it
  is the largest.

Pure: standard library only.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics

MONTH, QUARTER = "month", "quarter"
PERIODS = (MONTH, QUARTER)


def check_period(text: str) -> str:
    """A `--period`: month or quarter; anything else is a ValueError naming both."""
    if text not in PERIODS:
        raise ValueError(f"unknown period '{text}': use {' or '.join(PERIODS)}")
    return text


def period_of(day: dt.date, period: str) -> str:
    """The month (`2026-03`) or quarter (`2026-Q1`) a day belongs to."""
    if check_period(period) == MONTH:
        return f"{day.year:04d}-{day.month:02d}"
    return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"


def median(values: list[int]) -> float | int | None:
    """The median; None for no values. A whole number stays whole (12.0 -> 12)."""
    if not values:
        return None
    return _plain(float(statistics.median(values)))


def percentile(values: list[int], share: int = 90) -> int | None:
    """The `share`-th percentile by nearest rank; None for no values."""
    if not values:
        return None
    if not 0 < share <= 100:
        raise ValueError(f"a percentile is between 1 and 100, not {share}")
    ordered = sorted(values)
    rank = math.ceil(share / 100 * len(ordered))
    return ordered[rank - 1]


def _plain(value: float) -> float | int:
    return int(value) if value.is_integer() else value
