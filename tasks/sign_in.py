"""Coordinators sign in to the desk without passwords: a one-time link to their own address,
then a session that ends after a while without use.

- `request`: an address comes in; every actor with the coordinator role and that address (case
  does not matter) gets a sign-in (`desk_sign_ins`: random id, valid `LOTSE_SIGN_IN_MINUTES`) and
  a message with the link `<desk>/sign-in/<token>`. The token is the sign-in's id signed with the
  secret key (purpose `sign-in`): the id alone opens nothing. An unknown address gets nothing,
  and the caller answers it exactly as a known one.
- `look` (the link opened: changes nothing but the record of the opening) and `use` (the form
  posted): the signature, the sign-in, whether it was used before, its expiry, whether the actor
  still is a coordinator. `use` marks the sign-in used and opens a session in one transaction.
- `session_of`: the session a cookie stands for, touched; ended after `LOTSE_DESK_IDLE_MINUTES`
  without a request. Only the sha256 of the cookie's value is stored.

Every opening, use and refusal of a link is a row of `link_uses` (kind `sign-in`): the sign-in's
id, never its token, and never the address.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlmodel import Session

from lotse.notifications import sign_in as message
from lotse.notifications.signing import BadToken, random_id, signer
from lotse.states.errors import Refused
from lotse.states.process import COORDINATOR
from lotse.states.records import (
    ActorRecord,
    ActorRoleRecord,
    DeskSessionRecord,
    LinkUseRecord,
    SignInRecord,
)
from lotse.tasks import delivery
from lotse.tasks.context import Context

log = logging.getLogger("lotse.desk")

PURPOSE = "sign-in"
VERSION = 1
KIND = "sign-in"  # link_uses.kind
REASONS = {
    "bad": "This sign-in link is not valid: it was altered or cut short. Ask for a new one.",
    "unknown": "This sign-in link is not valid. Ask for a new one.",
    "used": "This sign-in link was used before; each link signs in once. Ask for a new one.",
    "expired": "This sign-in link has expired. Ask for a new one.",
    "not-coordinator": "This sign-in link belongs to an organisation that is no longer a coordinator.",
}


class SignInRefused(Refused):
    """A sign-in link that does not sign in; `reason` is one of `REASONS`, and nothing changed
    but the record of the refusal."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(REASONS[reason])


@dataclass(frozen=True)
class Requested:
    """A sign-in link queued to a coordinator: the rows of its message."""

    sign_in_id: str
    actor_id: str
    link: str
    rows: tuple[int, ...]


@dataclass(frozen=True)
class Pending:
    """What an opened sign-in link shows before it is used."""

    sign_in_id: str
    actor_id: str
    actor_name: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class DeskSession:
    """A signed-in coordinator."""

    id: str  # the sha256 hex of the cookie's value
    actor_id: str
    actor_name: str
    sign_in_id: str

    @property
    def proof(self) -> str:
        """How this coordinator's changes are proved: `HistoryRecord.proof`."""
        return f"sign-in:{self.sign_in_id}"


@dataclass(frozen=True)
class SignedIn:
    cookie: str  # the cookie's value: given to the browser, never stored
    session: DeskSession


def token(key: bytes, sign_in_id: str) -> str:
    return signer(key, PURPOSE).sign([VERSION, sign_in_id])


def url(base: str, link_token: str) -> str:
    return f"{base.rstrip('/')}/sign-in/{link_token}"


def request(ctx: Context, key: bytes, address: str) -> list[Requested]:
    """Queue a sign-in link to every coordinator with this e-mail address (none for any other)."""
    wanted = address.strip().casefold()
    if not wanted or "@" not in wanted or len(wanted) > 320:
        return []
    now = ctx.clock()
    expires = now + dt.timedelta(minutes=ctx.settings.sign_in_minutes)
    made = []
    with ctx.db.writing() as session:
        coordinators = session.execute(
            select(ActorRecord.id, ActorRecord.email)
            .join(ActorRoleRecord, ActorRoleRecord.actor_id == ActorRecord.id)
            .where(ActorRoleRecord.role == COORDINATOR).order_by(ActorRecord.id)
        ).all()
        for actor_id, email in coordinators:
            if not email or email.strip().casefold() != wanted:
                continue
            sign_in = SignInRecord(id=random_id(), actor_id=actor_id, created_at=now, expires_at=expires)
            session.add(sign_in)
            session.flush()
            link = url(ctx.settings.desk_url, token(key, sign_in.id))
            rows = message.queue(session, ctx.settings, actor_id=actor_id, sign_in_id=sign_in.id,
                                 link=link, expires_at=expires, now=now)
            made.append(Requested(sign_in.id, actor_id, link, tuple(rows)))
    return made


def issue(ctx: Context, key: bytes, actor_id: str) -> str:
    """A one-time sign-in link for a coordinator, handed to the operator at the shell instead of
    mailed (the first sign-in of a new alliance, a coordinator without a route, the demo). The
    operator's account is the proof: the issue is recorded as `issued:<os user>`."""
    now = ctx.clock()
    with ctx.db.writing() as session:
        if session.get(ActorRecord, actor_id) is None:
            raise Refused(f"unknown actor '{actor_id}'; see `lotse actor list`")
        if not _is_coordinator(session, actor_id):
            raise Refused(f"actor '{actor_id}' is not a coordinator: only coordinators sign in to the desk")
        sign_in = SignInRecord(id=random_id(), actor_id=actor_id, created_at=now,
                               expires_at=now + dt.timedelta(minutes=ctx.settings.sign_in_minutes))
        session.add(sign_in)
        session.add(LinkUseRecord(link_id=sign_in.id, kind=KIND, actor_id=actor_id, at=now,
                                  outcome=f"issued:{ctx.proof}"[:32]))
    return url(ctx.settings.desk_url, token(key, sign_in.id))


def send(ctx: Context, requested: list[Requested]) -> None:
    """Deliver the sign-in messages right away, then take the link out of the rows that were sent.
    Never raises: what was not sent waits in the outbox (and expires with its link)."""
    if not requested:
        return
    rows = [row for r in requested for row in r.rows]
    if ctx.settings.notify_config is None:
        log.warning("a sign-in link waits in the outbox: LOTSE_NOTIFY_CONFIG is not set")
        return
    try:
        report = delivery.deliver(ctx, row_ids=rows, budget_seconds=ctx.settings.notify_timeout_seconds)
    except Exception as exc:  # the outbox keeps the message; a later delivery may still send it
        log.warning("a sign-in link was not sent (%s); it waits in the outbox", type(exc).__name__)
        return
    if report.failed or report.dead or report.left:
        log.warning("a sign-in link was not sent: %s; see `lotse outbox`", report.summary())
    with ctx.db.writing() as session:
        for r in requested:
            message.forget_link(session, list(r.rows), r.link)


def look(ctx: Context, key: bytes, link_token: str) -> Pending:
    """What an opened sign-in link would do, or `SignInRefused`; records the opening."""
    now = ctx.clock()
    with ctx.db.writing() as session:
        sign_in_id = _read(key, link_token)
        record = session.get(SignInRecord, sign_in_id) if sign_in_id else None
        refusal = _refusal(session, sign_in_id, record, now)
        _record_use(session, sign_in_id, record, now, f"refused:{refusal}" if refusal else "opened")
        if refusal is None:
            assert record is not None
            actor = session.get(ActorRecord, record.actor_id)
            pending = Pending(record.id, record.actor_id, actor.name if actor else "", record.expires_at)
    if refusal is not None:
        raise SignInRefused(refusal)
    return pending


def use(ctx: Context, key: bytes, link_token: str) -> SignedIn:
    """Sign in with a link: once, before it expires, as a coordinator; opens a session."""
    now = ctx.clock()
    with ctx.db.writing() as session:
        sign_in_id = _read(key, link_token)
        record = session.get(SignInRecord, sign_in_id, with_for_update=True) if sign_in_id else None
        refusal = _refusal(session, sign_in_id, record, now)
        if refusal is None:
            assert record is not None
            # Conditional: of two posts of one link at once, one finds it unused.
            taken = session.execute(
                update(SignInRecord).where(SignInRecord.id == record.id, SignInRecord.used_at.is_(None))  # type: ignore[union-attr]
                .values(used_at=now).execution_options(synchronize_session=False)
            ).rowcount
            refusal = None if taken == 1 else "used"
        _record_use(session, sign_in_id, record, now, f"refused:{refusal}" if refusal else "used")
        if refusal is None:
            assert record is not None
            cookie = secrets.token_urlsafe(32)
            row = DeskSessionRecord(id=_digest(cookie), actor_id=record.actor_id, sign_in_id=record.id,
                                    created_at=now, last_seen_at=now)
            session.add(row)
            actor = session.get(ActorRecord, record.actor_id)
            signed = SignedIn(cookie, DeskSession(row.id, record.actor_id, actor.name if actor else "",
                                                  record.id))
    if refusal is not None:
        raise SignInRefused(refusal)
    return signed


def refuse(ctx: Context, key: bytes, link_token: str, reason: str) -> None:
    """Record a use the desk refused before looking at the link (`csrf`: the form was not its own)."""
    with ctx.db.writing() as session:
        sign_in_id = _read(key, link_token)
        record = session.get(SignInRecord, sign_in_id) if sign_in_id else None
        _record_use(session, sign_in_id, record, ctx.clock(), f"refused:{reason}")


def session_of(ctx: Context, cookie: str | None) -> DeskSession | None:
    """The open session of a cookie, touched now; None if there is none, or it ended: idle for
    `LOTSE_DESK_IDLE_MINUTES`, signed out, or its actor is no longer a coordinator."""
    if not cookie or len(cookie) > 200:
        return None
    now = ctx.clock()
    idle = dt.timedelta(minutes=ctx.settings.desk_idle_minutes)
    with ctx.db.writing() as session:
        row = session.get(DeskSessionRecord, _digest(cookie), with_for_update=True)
        if row is None or row.ended_at is not None:
            return None
        actor = session.get(ActorRecord, row.actor_id)
        if now - row.last_seen_at >= idle or actor is None or not _is_coordinator(session, row.actor_id):
            row.ended_at = now
            session.add(row)
            return None
        row.last_seen_at = now
        session.add(row)
        return DeskSession(row.id, row.actor_id, actor.name, row.sign_in_id)


def sign_out(ctx: Context, cookie: str | None) -> None:
    """End the session of a cookie (nothing if there is none)."""
    if not cookie or len(cookie) > 200:
        return
    with ctx.db.writing() as session:
        row = session.get(DeskSessionRecord, _digest(cookie), with_for_update=True)
        if row is not None and row.ended_at is None:
            row.ended_at = ctx.clock()
            session.add(row)


def _read(key: bytes, link_token: str) -> str | None:
    """The sign-in id a token carries; None if it is not a sign-in token made with this key."""
    try:
        payload = signer(key, PURPOSE).read(link_token)
    except BadToken:
        return None
    if len(payload) != 2 or payload[0] != VERSION or not isinstance(payload[1], str) or len(payload[1]) > 32:
        return None
    return payload[1]


def _refusal(session: Session, sign_in_id: str | None, record: SignInRecord | None,
             now: dt.datetime) -> str | None:
    if sign_in_id is None:
        return "bad"
    if record is None:
        return "unknown"
    if record.used_at is not None:
        return "used"
    if now >= record.expires_at:
        return "expired"
    if session.get(ActorRecord, record.actor_id) is None or not _is_coordinator(session, record.actor_id):
        return "not-coordinator"
    return None


def _record_use(session: Session, sign_in_id: str | None, record: SignInRecord | None, now: dt.datetime,
                outcome: str) -> None:
    session.add(LinkUseRecord(link_id=sign_in_id if record else None, kind=KIND,
                              actor_id=record.actor_id if record else None, at=now, outcome=outcome))


def _is_coordinator(session: Session, actor_id: str) -> bool:
    return session.get(ActorRoleRecord, (actor_id, COORDINATOR)) is not None


def _digest(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()
