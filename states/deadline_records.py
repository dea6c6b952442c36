"""The deadlines of cases and what their overviews in Prefect last showed (states/records.py
imports this module the first time one of its tables is named).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from lotse.states.records import when


class DeadlineRecord(SQLModel, table=True):
    """A deadline a case has: opened when the case enters a stage or a fact is set, closed when the
    item is done, the fact changes or the case leaves the stage. One row per (case, deadline, due
    date): a deadline closed and opened again on the same due date keeps the levels it reminded.
    Only open rows carry `alert_on`, so the daily check reads the index range `alert_on <= day`:
    every open deadline whose first level is due, reminded already or not, since `lotse check`
    lists them all. `next_at` is only shown (the next reminder in the case file); a check does
    not select by it, because the ladder it was computed from may have changed since."""

    __tablename__ = "deadlines"
    __table_args__ = (UniqueConstraint("case_id", "deadline", "due"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    deadline: str = Field(max_length=64)  # the deadline's id in the process definition
    due: dt.date
    alert_on: dt.date | None = Field(default=None, index=True)  # level 1 is due (open rows only)
    next_at: dt.date | None = None  # the next level is due (open rows only; shown, not queried)
    level: int = 0  # the highest level reminded so far
    opened_at: dt.datetime = when(nullable=False)
    closed_at: dt.datetime | None = when(nullable=True)
    closed_why: str | None = Field(default=None, max_length=16)  # done, left, changed, closed


class OverviewRecord(SQLModel, table=True):
    """What the case's overview artifact in Prefect last showed: up to which history row, with
    which reminder levels of its open deadlines, in which language. A case whose newest history
    row, levels or locale differ (or that has no row here) has a stale overview, which the next
    `pipeline-report` publishes again."""

    __tablename__ = "case_overviews"

    case_id: int = Field(foreign_key="cases.id", primary_key=True)
    history_id: int  # the newest history row the published overview shows
    deadline_levels: int = 0  # the sum of the levels reminded of the case's open deadlines
    locale: str = Field(max_length=8)
    published_at: dt.datetime = when(nullable=False)
