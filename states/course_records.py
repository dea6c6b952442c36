"""Language course groups, the cases assigned to them and the exams taken (states/records.py
imports this module the first time one of its tables is named).
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Field, SQLModel

from lotse.states.records import when


class CourseRecord(SQLModel, table=True):
    """A language course group: a school's course to a target level at a pace, with its dates,
    place and capacity. Holds no personal data."""

    __tablename__ = "courses"

    id: str = Field(primary_key=True, max_length=64)
    school_id: str = Field(foreign_key="actors.id", max_length=64, index=True)
    level: str = Field(max_length=2)  # the target level, A1..C2
    pace: str = Field(max_length=16)  # fast, standard, slow
    start: dt.date
    end: dt.date
    capacity: int | None = None
    place: str | None = Field(default=None, max_length=200)
    created_at: dt.datetime = when(nullable=False)
    created_by: str = Field(max_length=64)  # the coordinator who added it
    proof: str | None = Field(default=None, max_length=100)  # how it proved who it is (`os:<user>`)


class CourseMemberRecord(SQLModel, table=True):
    """A case assigned to a course group."""

    __tablename__ = "course_members"

    course_id: str = Field(foreign_key="courses.id", primary_key=True, max_length=64)
    case_id: int = Field(foreign_key="cases.id", primary_key=True, index=True)
    assigned_at: dt.datetime = when(nullable=False)
    assigned_by: str = Field(max_length=64)


class ExamRecord(SQLModel, table=True):
    """A language exam a case's person took: level, exam, date, passed or not, as the language
    school recorded it. A passed exam raises the case's `language_level` (never lowers it)."""

    __tablename__ = "exam_results"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    level: str = Field(max_length=2)
    exam: str = Field(max_length=200)
    taken_on: dt.date
    passed: bool
    recorded_at: dt.datetime = when(nullable=False)
    recorded_by: str = Field(max_length=64)
