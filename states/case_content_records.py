"""What a case holds besides its row: its facts and its ticked checklist items (states/records.py
imports this module the first time one of its tables is named).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from lotse.states.records import when


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
