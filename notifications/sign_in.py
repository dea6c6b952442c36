"""The message that carries a coordinator's one-time sign-in link to the desk.

It goes only to the routes tagged with the coordinator's own actor id, never to a route of the
role or the region: a shared mailbox of the coordination office would hand the link, and with it
the coordinator's sign-in, to everyone who reads that mailbox. A coordinator without a route of
its own gets a row that waits for one (`lotse outbox` shows it), as every message does.

Queued like every message (one outbox row per route, in the caller's transaction), under the
key `sign-in:<sign-in id>`, so one sign-in is never sent twice.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlmodel import Session

from lotse.config.settings import Settings
from lotse.notifications import outbox
from lotse.notifications.dispatch import Batch
from lotse.notifications.messages import Verbatim
from lotse.notifications.routes import Address
from lotse.states.records import OutboxRecord

KIND = "sign_in"


def key(sign_in_id: str) -> str:
    return f"sign-in:{sign_in_id}"


def queue(
    session: Session, settings: Settings, *, actor_id: str, sign_in_id: str, link: str,
    expires_at: dt.datetime, now: dt.datetime,
) -> list[int]:
    """Queue the sign-in link to the coordinator's own routes; returns the ids of the rows."""
    batch = Batch(session, settings, now)
    until = expires_at.astimezone(ZoneInfo(settings.timezone)).strftime("%H:%M")
    minutes = max(1, round((expires_at - now).total_seconds() / 60))
    batch.queue(None, Address((), None, actor_id), key(sign_in_id), kind=KIND, topic=None,
                context={"link": Verbatim(link), "minutes": minutes, "until": until, "at": batch.today})
    batch.write()
    first = outbox.stored_key(key(sign_in_id))
    found = session.scalars(select(OutboxRecord.id).where(or_(
        OutboxRecord.dedup_key == first,
        OutboxRecord.dedup_key.startswith(first + "|", autoescape=True),  # type: ignore[attr-defined]
    )).order_by(OutboxRecord.id))
    return [row_id for row_id in found if row_id is not None]


def forget_link(session: Session, row_ids: list[int], link: str) -> int:
    """Take the link out of rows that were sent: the outbox keeps the message, not a key that
    opens the desk. Rows not sent yet keep it (a later delivery sends them until it expires)."""
    rows = session.scalars(select(OutboxRecord).where(
        OutboxRecord.id.in_(row_ids), OutboxRecord.status == "sent",  # type: ignore[union-attr]
    )).all()
    for row in rows:
        row.body = row.body.replace(link, "[link removed after sending]")
        session.add(row)
    return len(rows)

