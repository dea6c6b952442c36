"""The outbox: messages written in the same transaction as the change that causes them.

A row is `pending` until a delivery sends it (`sent`); a failed attempt makes it `failed` with
the error and the time of its next attempt; after `LOTSE_NOTIFY_MAX_ATTEMPTS` it is `dead` and the
coordinator is told; `lotse outbox retry` (or a successful `lotse notify test` of its route) makes
a dead row pending again. A row whose text needed a fallback keeps a `warning: ...` in
`last_error` even when it was sent. A row of the demo alliance (`lotse init --demo`) is `demo`: backdated
history, shown by `lotse outbox`, never sent, even once routes are configured. A row to an actor
taken out of the directory (`lotse actor remove`) and not sent yet is `cancelled` in that
transaction: an organisation that left the alliance is sent nothing more about its people.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Collection
from functools import cache
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlmodel import Session

from lotse.notifications import masked
from lotse.states import records, tables
from lotse.states.errors import BadInput
from lotse.states.moments import iso

STATUSES = ("pending", "sent", "failed", "dead", "demo", "cancelled")
DEMO = "demo"
DEMO_NOTE = "demo, not sent: a backdated message of the demo alliance"
CANCELLED = "cancelled"
UNSENT = ("pending", "failed", "dead")
WARNING = "warning: "
_CHUNK = 500  # keys per IN (...) query, well under every database's limit of bound parameters
KEY_LENGTH = 200  # the width of `outbox.dedup_key`
_DIGEST = 64  # a sha256 in hex


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
    channel: str | None = None,
    route: str | None = None,
    warning: str | None = None,
) -> bool:
    """Queue one message in the open transaction; False if this cause queued it already."""
    if queued(session, dedup_key):
        return False
    write(session, [row(
        case_id=case_id, recipient=recipient, tags=tags, subject=subject, body=body, dedup_key=dedup_key,
        now=now, channel=channel, route=route, warning=warning,
    )])
    return True


def row(
    *, case_id: int | None, recipient: str, tags: str, subject: str, body: str, dedup_key: str,
    now: dt.datetime, channel: str | None, route: str | None, warning: str | None,
) -> dict[str, Any]:
    """The outbox row of one message, pending from `now`."""
    return {
        "case_id": case_id, "dedup_key": stored_key(dedup_key), "recipient": recipient, "tags": tags,
        "channel": channel, "route": route, "subject": subject[:300], "body": body, "status": "pending",
        "attempts": 0, "next_attempt_at": now, "created_at": now, "last_error": warning, "resent": 0,
    }


def write(session: Session, rows: list[dict[str, Any]]) -> None:
    """Queue messages in the open transaction, in one insert; the caller has left out those
    queued already (`queued_keys`)."""
    if rows:
        # Plain SQL, after whatever the session holds (the case a message is about): every row
        # has every column, so the rows with a route and those without go in one statement.
        session.flush()
        session.connection().execute(_insert(), rows)


def queued(session: Session, dedup_key: str) -> bool:
    return bool(queued_keys(session, [dedup_key]))


def queued_keys(session: Session, keys: Collection[str]) -> set[str]:
    """Which of these dedup keys are queued already: one query per chunk of keys."""
    by_stored = {stored_key(key): key for key in keys}
    unique = list(by_stored)
    found: set[str] = set()
    session.flush()
    connection = session.connection()
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start:start + _CHUNK]
        found.update(connection.execute(_queued(), {"keys": chunk}).scalars())
    return {by_stored[key] for key in found}


@cache
def _insert() -> Any:
    """Plain SQL, which every change that queues a message runs, built once, on first use, from
    the Core table (states/tables.py)."""
    return insert(tables.outbox)


@cache
def _queued() -> Any:
    """The keys of these that are queued already (plain SQL, as `_insert`)."""
    o = tables.outbox.c
    return select(o.dedup_key).where(o.dedup_key.in_(bindparam("keys", expanding=True)))


def last_id(session: Session) -> int:
    """The id of the newest row (0 if none): where a batch of rows to come starts."""
    o = tables.outbox.c
    return int(session.scalar(select(o.id).order_by(o.id.desc()).limit(1)) or 0)  # type: ignore[union-attr]


def keep_as_demo(session: Session, after_id: int) -> int:
    """Make the rows queued after `after_id` the demo's history: never claimed by a delivery,
    which takes pending and failed rows only. Returns how many."""
    result = session.execute(
        update(records.OutboxRecord).where(records.OutboxRecord.id > after_id)  # type: ignore[operator]
        .values(status=DEMO, last_error=DEMO_NOTE, claimed_until=None, claim_token=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def cancel(
    session: Session, why: str, now: dt.datetime, *, recipient: str | None = None, case_id: int | None = None,
) -> int:
    """Cancel every row not sent (pending, failed or dead) to this recipient, or of this case, in
    the caller's open transaction, saying why. A claim on a row is dropped with it: a delivery
    sending it at this moment writes no outcome, and nobody takes it again. Returns how many."""
    o = records.OutboxRecord
    which = [o.recipient == recipient] if recipient is not None else [o.case_id == case_id]
    result = session.execute(
        update(o).where(*which, o.status.in_(UNSENT))  # type: ignore[attr-defined]
        .values(status=CANCELLED, claimed_until=None, claim_token=None,
                last_error=f"cancelled {iso(now)}: {why}")
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def stored_key(key: str) -> str:
    """A dedup key as the column holds it: as it is, or, if longer than the column (a reminder to
    `role@region` of a long deadline id), its start and the sha256 of the whole key. The start
    keeps it readable and keeps its prefix (`dead:`); the digest keeps it unique."""
    if len(key) <= KEY_LENGTH:
        return key
    return f"{key[:KEY_LENGTH - _DIGEST - 1]}#{hashlib.sha256(key.encode()).hexdigest()}"


def listing(
    session: Session, *, status: str | None = None, case_id: int | None = None,
) -> list[dict[str, Any]]:
    """Rows for `lotse outbox`, oldest first."""
    if status is not None and status not in STATUSES:
        raise BadInput(f"unknown status '{status}'; one of {', '.join(STATUSES)}")
    query = (
        select(records.OutboxRecord, records.CaseRecord.ref)
        .join(records.CaseRecord, records.CaseRecord.id == records.OutboxRecord.case_id, isouter=True)
        .order_by(records.OutboxRecord.id)
    )
    if status is not None:
        query = query.where(records.OutboxRecord.status == status)
    if case_id is not None:
        query = query.where(records.OutboxRecord.case_id == case_id)
    return [
        {"id": row.id, "case": ref, "to": row.recipient, "channel": row.channel,
         "status": row.status, "attempts": row.attempts, "resent": row.resent,
         "revived": len(row.revivals or []), "last_error": _shown(row.last_error),
         "created_at": iso(row.created_at), "sent_at": iso(row.sent_at)}
        for row, ref in session.execute(query).all()
    ]


def dead_rows(
    session: Session, *, case_id: int | None = None, ids: Collection[int] | None = None,
    route: str | None = None, unrouted: bool = False,
) -> list[records.OutboxRecord]:
    """The dead rows (of one case, of these ids, of one route, without a route), oldest first,
    locked for a revival."""
    outbox = records.OutboxRecord
    query = select(outbox).where(outbox.status == "dead").order_by(outbox.id)
    if case_id is not None:
        query = query.where(outbox.case_id == case_id)
    if ids is not None:
        query = query.where(outbox.id.in_(list(ids)))  # type: ignore[union-attr]
    if route is not None:
        query = query.where(outbox.route == route)
    if unrouted:
        query = query.where(outbox.route.is_(None))  # type: ignore[union-attr]
    return list(session.scalars(query.with_for_update()))


def revive(
    session: Session, row: records.OutboxRecord, *, now: dt.datetime, by: str, via: str, proof: str,
) -> None:
    """Make a dead row pending again, due now, with fresh attempts. Its last error stays, and the
    revival (who, when, the error it had died of) is appended to `revivals`."""
    revival = {"at": iso(now), "by": by, "via": via, "proof": proof, "error": row.last_error}
    row.revivals = [*(row.revivals or []), revival]
    row.status, row.attempts, row.next_attempt_at = "pending", 0, now
    row.claim_token = row.claimed_until = None
    session.add(row)


def _shown(error: str | None) -> str | None:
    # A row failed before routes were masked this way may hold Apprise's partial mask (`T...1`).
    return masked.hide(error) if error else error


def messages_of(session: Session, case_id: int) -> list[dict[str, Any]]:
    """The messages of one case for `lotse case show`: to whom, how, where they stand."""
    o = tables.outbox.c  # Core columns, not the ORM: the case file builds no class (states/tables.py)
    query = (select(o.recipient, o.channel, o.status, o.sent_at, o.created_at)
             .where(o.case_id == case_id).order_by(o.id))
    return [
        {"to": row.recipient, "channel": row.channel, "status": row.status,
         "at": iso(row.sent_at or row.created_at)}
        for row in session.execute(query)
    ]
