"""The counters that case references are numbered by (states/records.py imports this module the
first time its table is named).
"""

from __future__ import annotations

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel


class RefCounterRecord(SQLModel, table=True):
    """The last number given out per region prefix and year (SE-2026-0042)."""

    __tablename__ = "ref_counters"
    __table_args__ = (UniqueConstraint("prefix", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    prefix: str = Field(max_length=16)
    year: int
    last: int = 0
