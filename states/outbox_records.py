"""The outbox: messages written with the change that causes them, delivered afterwards
(states/records.py imports this module the first time its table is named).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from lotse.states.records import when


class OutboxRecord(SQLModel, table=True):
    """A message to one recipient, written in the transaction of the change that causes it and
    delivered afterwards. `dedup_key` makes sure one cause never queues the same message twice
    (a key longer than the column is stored shortened, with its digest: `outbox.stored_key`)."""

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    dedup_key: str = Field(unique=True, max_length=200)
    recipient: str = Field(max_length=200)  # an actor id, or role@region where no actor is known
    tags: str  # the address the route is looked up by: actor, every role it has, region
    channel: str | None = Field(default=None, max_length=32)  # email, chat, ... once known
    route: str | None = Field(default=None, max_length=32)  # the route's id (no secrets), once known
    subject: str = Field(max_length=300)
    body: str
    status: str = Field(default="pending", max_length=16, index=True)
    attempts: int = 0
    next_attempt_at: dt.datetime = when(nullable=False, index=True)
    claimed_until: dt.datetime | None = when(nullable=True)
    claim_token: str | None = Field(default=None, max_length=64)
    last_error: str | None = None
    created_at: dt.datetime = when(nullable=False)
    sent_at: dt.datetime | None = when(nullable=True)
    # taken again after a claim expired mid-send: the server may have had it already
    resent: int = 0
    # each `lotse outbox retry` of a dead row: {at, by, via, proof, error}
    revivals: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
