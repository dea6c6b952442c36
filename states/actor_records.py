"""The directory's tables: actors, their roles and the regions they serve besides their own (states/records.py
imports this module the first time one of its tables is named).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from lotse.states.records import when


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
