"""The directory's change log (states/records.py imports this module the first time its table is
named).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from lotse.states.records import when


class DirectoryChangeRecord(SQLModel, table=True):
    """Append-only: every change of the directory (`lotse actor add/edit/remove`): who changed
    which actor, when, how they proved it, and each field as it was and as it became. Holds the
    directory's own data only (organisations, their function mailboxes), never a case's."""

    __tablename__ = "directory_changes"

    id: int | None = Field(default=None, primary_key=True)
    actor_id: str = Field(max_length=64, index=True)  # the actor changed
    at: dt.datetime = when(nullable=False)
    action: str = Field(max_length=16)  # add, edit, remove, hand-over
    by: str | None = Field(default=None, max_length=64)  # the coordinator; None: the first actors
    via: str = Field(max_length=16)
    proof: str | None = Field(default=None, max_length=100)
    detail: Any = Field(default=None, sa_column=Column(JSON, nullable=True))  # field: [before, after]
