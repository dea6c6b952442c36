"""The desk's own tables: the uses of answer and sign-in links, sign-ins and sessions
(states/records.py imports this module the first time one of its tables is named).
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Field, SQLModel

from lotse.states.records import when


class LinkUseRecord(SQLModel, table=True):
    """Append-only: every opening, use and refused use of an answer link or a sign-in link. It
    names the link by its random id, never by its token, and holds no name and no fact value."""

    __tablename__ = "link_uses"

    id: int | None = Field(default=None, primary_key=True)
    link_id: str | None = Field(default=None, max_length=32, index=True)  # None: unreadable token
    kind: str = Field(max_length=16)  # answer, sign-in
    case_id: int | None = Field(default=None, foreign_key="cases.id")
    actor_id: str | None = Field(default=None, max_length=64)
    at: dt.datetime = when(nullable=False)
    outcome: str = Field(max_length=32)  # opened, used, repeated, refused:<why>
    history_id: int | None = None  # the change a use made


class SignInRecord(SQLModel, table=True):
    """A one-time sign-in link sent to a coordinator's address: single use, short-lived."""

    __tablename__ = "desk_sign_ins"

    id: str = Field(primary_key=True, max_length=32)  # random; the link carries it, signed
    actor_id: str = Field(foreign_key="actors.id", max_length=64, index=True)
    created_at: dt.datetime = when(nullable=False)
    expires_at: dt.datetime = when(nullable=False)
    used_at: dt.datetime | None = when(nullable=True)


class DeskSessionRecord(SQLModel, table=True):
    """A signed-in coordinator's session at the desk. Only the digest of the cookie's value is
    stored: a copy of the database opens no session."""

    __tablename__ = "desk_sessions"

    id: str = Field(primary_key=True, max_length=64)  # sha256 hex of the cookie value
    actor_id: str = Field(foreign_key="actors.id", max_length=64, index=True)
    sign_in_id: str = Field(max_length=32)
    created_at: dt.datetime = when(nullable=False)
    last_seen_at: dt.datetime = when(nullable=False)
    ended_at: dt.datetime | None = when(nullable=True)
