"""The tables: actors, cases with their facts and checklist, and the append-only history.

Portable SQL only (SQLite and PostgreSQL). Personal data (names) lives only in `cases`; the
history refers to cases by id and to actors by id.

Every table is named from here (`from lotse.states.records import OutboxRecord`), but the tables of
deadlines, the outbox, the desk, courses, costs, the directory's change log and the reference
counters are defined in modules of their own, imported the first time one of them is named: each
table costs some 3 ms to build, and a read-only command started cold has no use for most of them
(issue 15). `register_all` builds every table, for the migrations and whatever compares them with
the schema.
"""

from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime
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


class ActorRecord(SQLModel, table=True):
    __tablename__ = "actors"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    region: str | None = Field(default=None, max_length=64, index=True)
    email: str | None = Field(default=None, max_length=320)
    created_at: dt.datetime = when(nullable=False)
    # The directory's profile (no private person's data): services offered per role as free text,
    # languages spoken, a contact point (a function mailbox or phone), a website.
    services: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    languages: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    contact: str | None = Field(default=None, max_length=320)
    website: str | None = Field(default=None, max_length=300)
    # `lotse actor remove`: the row stays (closed cases and the history name it), its roles and
    # regions go, so it is told nothing, acts on nothing and is no longer listed.
    removed_at: dt.datetime | None = when(nullable=True)


class ActorRoleRecord(SQLModel, table=True):
    __tablename__ = "actor_roles"

    actor_id: str = Field(foreign_key="actors.id", primary_key=True, max_length=64)
    role: str = Field(primary_key=True, max_length=64, index=True)


class ActorRegionRecord(SQLModel, table=True):
    """A region an actor serves besides its own (`actors.region`): any level of the hierarchy."""

    __tablename__ = "actor_regions"

    actor_id: str = Field(foreign_key="actors.id", primary_key=True, max_length=64)
    region: str = Field(primary_key=True, max_length=64, index=True)


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


class FactRecord(SQLModel, table=True):
    __tablename__ = "case_facts"

    case_id: int = Field(foreign_key="cases.id", primary_key=True)
    name: str = Field(primary_key=True, max_length=64)
    value: Any = Field(sa_column=Column(JSON, nullable=False))
    set_at: dt.datetime = when(nullable=False)
    set_by: str = Field(max_length=64)


class ItemRecord(SQLModel, table=True):
    __tablename__ = "case_items"

    case_id: int = Field(foreign_key="cases.id", primary_key=True)
    item: str = Field(primary_key=True, max_length=64)
    done: bool = True
    at: dt.datetime = when(nullable=False)
    by: str = Field(max_length=64)


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


# The tables defined elsewhere, by the module that holds them (all under lotse.states).
ELSEWHERE = {
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
