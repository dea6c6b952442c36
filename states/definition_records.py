"""The process definitions as stored when their first case used them (states/records.py
imports this module the first time one of its tables is named).
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Field, SQLModel

from lotse.states.records import when


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
