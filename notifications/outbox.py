"""The outbox: messages written in the same transaction as the change that causes them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlmodel import Session

from states.records import OutboxRecord


def enqueue(
    session: Session,
    *,
    case_id: int | None,
    recipient: str,
    tags: str,
    subject: str,
    body: str,
    dedup_key: str,
    now: dt.datetime,
) -> bool:
    """Queue one message in the open transaction; False if this cause queued it already."""
    exists = session.scalars(select(OutboxRecord.id).where(OutboxRecord.dedup_key == dedup_key)).first()
    if exists is not None:
        return False
    session.add(OutboxRecord(
        case_id=case_id, dedup_key=dedup_key, recipient=recipient, tags=tags, subject=subject,
        body=body, status="pending", attempts=0, next_attempt_at=now, created_at=now,
    ))
    return True
