"""What a deadline's reminders said before: the levels of one (case, deadline, due date) that
were queued earlier, to whom, on which day, and whether they went out.

An escalation reads it to say what was sent, instead of assuming that every lower level was:
when both levels fall due on the same day (a deadline recorded late), level 1 was never sent.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlmodel import Session

from lotse.states.records import OutboxRecord

_CHUNK = 200  # series per query: each is one LIKE of the OR
_LEVEL = re.compile(r"^(\d+):")


@dataclass(frozen=True)
class Earlier:
    """One lower level of a reminder, as the outbox holds it (one per recipient)."""

    level: int
    recipient: str  # an actor id, or role@region
    queued_at: dt.datetime
    sent: bool  # went out (at least through one of its routes)


def series(key: str) -> str | None:
    """The start of a reminder's key that all its levels share (`deadline:<ref>:<id>:<due>:L`),
    or None for a key of another shape."""
    head, sep, level = key.rpartition(":L")
    return f"{head}{sep}" if sep and level.isdigit() else None


def earlier(session: Session, wanted: Iterable[tuple[int, str]]) -> dict[tuple[int, str], list[Earlier]]:
    """For each (case id, series): the levels queued so far, lowest first; one query per chunk."""
    pairs = sorted(set(wanted))
    found: dict[tuple[int, str], dict[tuple[int, str], Earlier]] = {}
    for start in range(0, len(pairs), _CHUNK):
        chunk = pairs[start:start + _CHUNK]
        query = select(
            OutboxRecord.case_id, OutboxRecord.dedup_key, OutboxRecord.recipient, OutboxRecord.status,
            OutboxRecord.created_at,
        ).where(
            OutboxRecord.case_id.in_({case_id for case_id, _ in chunk}),  # type: ignore[union-attr]
            or_(*(OutboxRecord.dedup_key.startswith(prefix, autoescape=True)  # type: ignore[attr-defined]
                  for prefix in {prefix for _, prefix in chunk})),
        )
        for case_id, key, recipient, status, created_at in session.execute(query):
            prefix = next((p for c, p in chunk if c == case_id and key.startswith(p)), None)
            level = _LEVEL.match(key[len(prefix):]) if prefix else None
            if prefix is None or level is None:
                continue
            rows = found.setdefault((case_id, prefix), {})
            one = (int(level.group(1)), recipient)
            before = rows.get(one)
            first = min(created_at, before.queued_at) if before else created_at
            rows[one] = Earlier(one[0], recipient, first, status == "sent" or bool(before and before.sent))
    return {key: sorted(rows.values(), key=lambda e: (e.level, e.queued_at, e.recipient))
            for key, rows in found.items()}
