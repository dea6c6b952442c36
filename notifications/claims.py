"""Claims: a delivery takes rows for a while, so two deliveries never send one row twice.

A claim stamps rows with the delivery's token and a time until which they are its own. Taking is
one conditional UPDATE: a row already claimed by someone else (and not expired) is not taken, on
SQLite (one writer at a time) as on PostgreSQL (the condition is checked again on the locked row).
The outcome of a send is written only while the row still carries the sender's token. A delivery
killed mid-way leaves its rows claimed until the claim expires; the next delivery then takes them,
and counts each in `resent`: the server may have taken it before the sender died, so it may
arrive twice. That is the one way a message can repeat.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection

from sqlalchemy import case, func, or_, select, update
from sqlmodel import Session

from lotse.notifications.outbox import WARNING
from lotse.states.records import OutboxRecord

OPEN = ("pending", "failed")
LONGEST_WAIT_S = 6 * 3600


def due(
    *, now: dt.datetime, retry_now: bool = False, after_id: int = 0, case_id: int | None = None,
    row_ids: Collection[int] | None = None,
) -> list:
    """The conditions of a row a delivery may take now (of one case, or of these rows, if given)."""
    conditions = [
        OutboxRecord.status.in_(OPEN),  # type: ignore[attr-defined]
        or_(OutboxRecord.claimed_until.is_(None), OutboxRecord.claimed_until <= now),  # type: ignore[union-attr,operator]
        OutboxRecord.id > after_id,  # type: ignore[operator]
    ]
    if retry_now:
        # A failed row may be tried at once; a pending one waits for its time (a split sibling).
        conditions.append(or_(OutboxRecord.status == "failed", OutboxRecord.next_attempt_at <= now))  # type: ignore[operator]
    else:
        conditions.append(OutboxRecord.next_attempt_at <= now)  # type: ignore[operator]
    if case_id is not None:
        conditions.append(OutboxRecord.case_id == case_id)
    if row_ids is not None:
        conditions.append(OutboxRecord.id.in_(list(row_ids)))  # type: ignore[union-attr]
    return conditions


def claim(
    session: Session, *, now: dt.datetime, lease_seconds: int, limit: int, retry_now: bool = False,
    after_id: int = 0, case_id: int | None = None, row_ids: Collection[int] | None = None,
) -> tuple[str, list[OutboxRecord]]:
    """Take up to `limit` due rows, oldest first; returns the claim token and the rows taken."""
    token = uuid.uuid4().hex
    conditions = due(now=now, retry_now=retry_now, after_id=after_id, case_id=case_id, row_ids=row_ids)
    candidates = select(OutboxRecord.id).where(*conditions).order_by(OutboxRecord.id).limit(limit)  # type: ignore[arg-type]
    session.execute(
        update(OutboxRecord)
        .where(OutboxRecord.id.in_(candidates.scalar_subquery()), *conditions)  # type: ignore[union-attr]
        .values(
            claim_token=token, claimed_until=now + dt.timedelta(seconds=lease_seconds),
            # A claim still on the row expired before its outcome was written: the sender may have
            # died after the server took the message. Sent again, it may arrive twice: counted.
            resent=case((OutboxRecord.claim_token.is_not(None), OutboxRecord.resent + 1),  # type: ignore[union-attr]
                        else_=OutboxRecord.resent),
        )
        .execution_options(synchronize_session=False)
    )
    rows = session.scalars(
        select(OutboxRecord).where(OutboxRecord.claim_token == token).order_by(OutboxRecord.id)
    ).all()
    return token, list(rows)


def held(session: Session, row_id: int, token: str) -> OutboxRecord | None:
    """The row, if it is still ours (its claim was not taken over after it expired)."""
    return session.scalars(
        select(OutboxRecord).where(OutboxRecord.id == row_id, OutboxRecord.claim_token == token)
        .with_for_update()
    ).first()


def held_many(session: Session, row_ids: list[int], token: str) -> dict[int, OutboxRecord]:
    """The rows among these still ours, by id, locked for their outcome."""
    rows = session.scalars(
        select(OutboxRecord).where(OutboxRecord.id.in_(row_ids), OutboxRecord.claim_token == token)  # type: ignore[union-attr]
        .order_by(OutboxRecord.id).with_for_update()
    ).all()
    return {row.id: row for row in rows if row.id is not None}


def release(session: Session, token: str, row_ids: list[int]) -> None:
    """Give rows back untried (a delivery ran out of time): the next delivery takes them."""
    if row_ids:
        session.execute(
            update(OutboxRecord)
            .where(OutboxRecord.id.in_(row_ids), OutboxRecord.claim_token == token)  # type: ignore[union-attr]
            .values(claim_token=None, claimed_until=None)
            .execution_options(synchronize_session=False)
        )


def held_ids(session: Session, row_ids: list[int], token: str) -> set[int]:
    """Which of these rows are still ours, locked for their outcome."""
    return set(session.scalars(
        select(OutboxRecord.id).where(OutboxRecord.id.in_(row_ids), OutboxRecord.claim_token == token)  # type: ignore[union-attr]
        .order_by(OutboxRecord.id).with_for_update()  # type: ignore[arg-type]
    ))


def mark_sent(session: Session, row_ids: list[int], token: str, now: dt.datetime) -> None:
    """Record these rows, still ours, as sent: one statement. A warning stays in `last_error`, the
    error of an earlier attempt goes."""
    if not row_ids:
        return
    last_error = OutboxRecord.last_error
    session.execute(
        update(OutboxRecord)
        .where(OutboxRecord.id.in_(row_ids), OutboxRecord.claim_token == token)  # type: ignore[union-attr]
        .values(
            status="sent", sent_at=now, attempts=OutboxRecord.attempts + 1, claim_token=None,
            claimed_until=None,
            # substr, not LIKE: SQLite's LIKE ignores case, and the prefix is written in lower case.
            last_error=case((func.substr(last_error, 1, len(WARNING)) == WARNING, last_error), else_=None),
        )
        .execution_options(synchronize_session=False)
    )


def mark_failed(
    session: Session, row: OutboxRecord, now: dt.datetime, error: str, *, max_attempts: int,
    backoff_seconds: int,
) -> str:
    """Record a failed attempt: `failed` with the next attempt after a growing pause, or `dead`
    when the attempts are used up. Returns the new status."""
    row.attempts += 1
    row.last_error = error
    row.claim_token = row.claimed_until = None
    if row.attempts >= max_attempts:
        row.status = "dead"
    else:
        row.status = "failed"
        wait = min(backoff_seconds * 2 ** (row.attempts - 1), LONGEST_WAIT_S)
        row.next_attempt_at = now + dt.timedelta(seconds=wait)
    session.add(row)
    return row.status
