"""What recruiting cost, and the shares borne per case or employer (states/records.py imports
this module the first time one of its tables is named).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from lotse.states.column_types import Cents
from lotse.states.records import when


class CostRecord(SQLModel, table=True):
    """What recruiting cost: one entry for a case, or for a cohort (a joint recruiting trip) split
    among the cases or employers it covers (`cost_shares`). Amounts are exact decimals in euros;
    no personal data (a case is named by its reference where shown)."""

    __tablename__ = "costs"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    cohort: str | None = Field(default=None, max_length=64)
    incurred_on: dt.date
    category: str = Field(max_length=32)
    amount: Decimal = Field(sa_column=Column("amount_cents", Cents(), nullable=False))
    payer_id: str = Field(max_length=64)  # an employer, the alliance, a funding programme
    programme: str | None = Field(default=None, max_length=64)
    split: str | None = Field(default=None, max_length=16)  # per_case, per_employer (cohort costs)
    recorded_at: dt.datetime = when(nullable=False)
    recorded_by: str = Field(max_length=64)
    # A cost recorded by mistake is voided, never deleted: it stays listed, and counts nowhere.
    voided_at: dt.datetime | None = when(nullable=True)
    voided_by: str | None = Field(default=None, max_length=64)


class CostShareRecord(SQLModel, table=True):
    """A cost's share borne for one case (or one employer) by the cost's split key."""

    __tablename__ = "cost_shares"

    id: int | None = Field(default=None, primary_key=True)
    cost_id: int = Field(foreign_key="costs.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    employer_id: str = Field(max_length=64)
    amount: Decimal = Field(sa_column=Column("amount_cents", Cents(), nullable=False))
