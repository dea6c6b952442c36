"""The cases: one row per recruited person, with the names (personal data) and where the case
stands (states/records.py imports this module the first time one of its tables is named).
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Field, SQLModel

from lotse.states.records import when


class CaseRecord(SQLModel, table=True):
    __tablename__ = "cases"

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(unique=True, max_length=32)
    process: str = Field(max_length=64, index=True)
    process_version: int
    stage: str = Field(max_length=64, index=True)
    version: int = 0
    employer_id: str = Field(foreign_key="actors.id", max_length=64, index=True)
    region: str = Field(max_length=64, index=True)
    given_name: str = Field(max_length=200)
    family_name: str = Field(max_length=200)
    # The names folded for search (`names.fold`: "Müller" -> "muller"); set with the names.
    given_key: str = Field(default="", max_length=200, index=True)
    family_key: str = Field(default="", max_length=200, index=True)
    created_at: dt.datetime = when(nullable=False)
    stage_entered_at: dt.datetime = when(nullable=False)
