"""The tables: every table of Lotse is named from here (`from lotse.states.records import
CaseRecord`). Portable SQL only (SQLite and PostgreSQL). Personal data lives only in `cases` and
`family_members`; the history refers to cases by id and to actors by id.

This module defines the cases and the stored process definitions, which every command reads. The
other tables (actors, facts and checklist, history, family, deadlines, the outbox, the desk,
courses, costs, the directory's change log, the reference counters) are defined in modules of
their own, imported the first time one of them is named: each table costs some 2-3 ms to build,
and a read-only command started cold has no use for most of them (issue 15). `register_all`
builds every table, for the migrations and whatever compares them with the schema.
"""
from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from lotse.states.names import fold


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A moment, stored and read back as UTC on every database.

    SQLite keeps no time zone: it would store an aware moment's wall time as it is and hand back
    a naive one. So a moment is turned into UTC before it is written and marked UTC when read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Cents(TypeDecorator[Decimal]):
    """An amount in euros, a `Decimal` with two places, stored as whole cents (an integer).

    SQLite has no exact decimal type: SQLAlchemy's `Numeric` goes through a float there (and
    warns so), and sums in SQL would be sums of floats. Integer cents are exact on every
    database, and so are their sums. An amount with more than two places is refused, never
    rounded."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Any) -> int | None:
        if value is None:
            return None
        cents = Decimal(value) * 100
        if cents != cents.to_integral_value():
            raise ValueError(f"an amount has at most two decimal places, not {value}")
        return int(cents)

    def process_result_value(self, value: int | None, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        return Decimal(int(value)).scaleb(-2)


def named(given_name: str, family_name: str) -> dict[str, str]:
    """A case's name columns: the names as given, and folded for search."""
    return {"given_name": given_name, "family_name": family_name,
            "given_key": fold(given_name), "family_key": fold(family_name)}


def when(**kw: Any) -> Any:
    """A moment column (`UtcDateTime`)."""
    return Field(sa_column=Column(UtcDateTime(), **kw))


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


class DefinitionRecord(SQLModel, table=True):
    """A process version as it was when its first case opened on it (or moved to it): the YAML
    text and a digest of its meaning (`process.digest`). Cases run on this copy when the file is
    gone or was edited in place (states/definitions.py). Never changed once written."""

    __tablename__ = "process_definitions"

    name: str = Field(primary_key=True, max_length=64)
    version: int = Field(primary_key=True)
    digest: str = Field(max_length=64)
    content: str
    source: str = Field(max_length=500)  # the file it was read from, for the operator
    stored_at: dt.datetime = when(nullable=False)


# The tables defined elsewhere, by the module that holds them (all under lotse.states).
ELSEWHERE = {
    "ActorRecord": "actor_records",
    "ActorRoleRecord": "actor_records",
    "ActorRegionRecord": "actor_records",
    "FactRecord": "case_content_records",
    "ItemRecord": "case_content_records",
    "HistoryRecord": "history_records",
    "FamilyMemberRecord": "family_records",
    "DirectoryChangeRecord": "directory_records",
    "RefCounterRecord": "reference_records",
    "DeadlineRecord": "deadline_records",
    "OverviewRecord": "deadline_records",
    "OutboxRecord": "outbox_records",
    "LinkUseRecord": "desk_records",
    "SignInRecord": "desk_records",
    "DeskSessionRecord": "desk_records",
    "CourseRecord": "course_records",
    "CourseMemberRecord": "course_records",
    "ExamRecord": "course_records",
    "CostRecord": "cost_records",
    "CostShareRecord": "cost_records",
}


def __getattr__(name: str) -> Any:
    if name not in ELSEWHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"lotse.states.{ELSEWHERE[name]}"), name)


def register_all() -> None:
    """Put every table on `SQLModel.metadata`, those defined elsewhere too."""
    for module in sorted(set(ELSEWHERE.values())):
        importlib.import_module(f"lotse.states.{module}")
