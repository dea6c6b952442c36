"""The history of cases: one row per change, append-only (states/records.py
imports this module the first time one of its tables is named).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from lotse.states.records import when


class HistoryRecord(SQLModel, table=True):
    """Append-only: one row per change, never deleted, and updated only by an erasure (Art. 17
    GDPR, tasks/erasure.py), which replaces its note and personal values with a marker."""

    __tablename__ = "history"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    at: dt.datetime = when(nullable=False)
    action: str = Field(max_length=64)
    from_stage: str | None = Field(default=None, max_length=64)
    to_stage: str | None = Field(default=None, max_length=64)
    actor_id: str = Field(max_length=64)
    via: str = Field(max_length=16)
    note: str | None = None
    detail: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    request_id: str | None = Field(default=None, max_length=100, unique=True)
    # How the author proved who they are: `os:<user>` (command line, flows, imports, schedules),
    # `link:<link id>` (an answer link), `sign-in:<sign-in id>` (a coordinator at the desk).
    proof: str | None = Field(default=None, max_length=100)
