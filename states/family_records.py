"""The family members of cases (states/records.py
imports this module the first time one of its tables is named).
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Field, SQLModel

from lotse.states.records import when


class FamilyMemberRecord(SQLModel, table=True):
    """A family member of a case's person: spouse or partner, or a child. Personal data, like the
    case's names: shown in the desk and `case show` only, never in Prefect, a chat message or a
    report. The needs a member brings (Kita place, school place, ...) are checklist items of the
    case (states/family.py), with their deadlines and reminders."""

    __tablename__ = "family_members"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    relation: str = Field(max_length=16)  # spouse, child
    given_name: str = Field(max_length=200)
    birth_year: int | None = None
    arrives: dt.date | None = None  # comes later (family reunification) on this day
    added_at: dt.datetime = when(nullable=False)
    added_by: str = Field(max_length=64)
