"""The tables: every table of Lotse is named from here (`from lotse.states.records import
CaseRecord`). Portable SQL only (SQLite and PostgreSQL). Personal data lives only in `cases` and
`family_members`; the history refers to cases by id and to actors by id.

Each table is a SQLModel class defined in a module of its own (`ELSEWHERE`), imported the first
time one of its tables is named: a class costs some 2-3 ms to build, and a command started cold
builds only those it names (issue 15). Statements on columns use the Core tables instead
(states/tables.py), which need no class. `register_all` builds every table, for the migrations
and whatever compares them with the schema.
"""
from __future__ import annotations

import datetime as dt
import importlib
from typing import Any

from sqlalchemy import Column
from sqlmodel import Field

from lotse.states.column_types import UtcDateTime
from lotse.states.names import fold


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def named(given_name: str, family_name: str) -> dict[str, str]:
    """A case's name columns: the names as given, and folded for search."""
    return {"given_name": given_name, "family_name": family_name,
            "given_key": fold(given_name), "family_key": fold(family_name)}


def when(**kw: Any) -> Any:
    """A moment column (`UtcDateTime`)."""
    return Field(sa_column=Column(UtcDateTime(), **kw))


# The tables defined elsewhere, by the module that holds them (all under lotse.states).
ELSEWHERE = {
    "CaseRecord": "case_records",
    "DefinitionRecord": "definition_records",
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
