"""Answer links: a signed, single-use link in a message that lets its recipient report one
checklist item done, or enter one fact, on one case, as one organisation.

A link binds the case (by reference), the item or fact, the actor, the moment the case entered
its stage, an expiry and a random id. It carries no name and no fact value. The desk checks
everything else when the link is used: the signature, the expiry, whether the link was used
before, whether the item is still open and the case still in that stage entry, whether the actor
still exists and may act on the case.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from lotse.notifications.signing import BadToken, random_id, signer

PURPOSE = "answer"
VERSION = 1
Kind = Literal["item", "fact"]


@dataclass(frozen=True)
class AnswerLink:
    ref: str  # the case's reference
    kind: Kind
    name: str  # the checklist item's or the fact's id
    actor: str  # the organisation the link was sent to
    stage_entry: int  # when the case entered its stage: microseconds since 1970 (UTC)
    expires: int  # seconds since 1970 (UTC)
    id: str  # random; the request id of the change it makes is `link:<id>`

    @property
    def request_id(self) -> str:
        return f"link:{self.id}"

    def expired(self, now: dt.datetime) -> bool:
        return now.timestamp() >= self.expires

    @property
    def expires_at(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.expires, dt.UTC)


def stage_entry(entered_at: dt.datetime) -> int:
    """A stage entry as a link binds it: the moment, to the microsecond."""
    moment = entered_at if entered_at.tzinfo else entered_at.replace(tzinfo=dt.UTC)
    delta = moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def new(ref: str, kind: Kind, name: str, actor: str, entered_at: dt.datetime, now: dt.datetime,
        days: int) -> AnswerLink:
    expires = int((now + dt.timedelta(days=days)).timestamp())
    return AnswerLink(ref, kind, name, actor, stage_entry(entered_at), expires, random_id())


def token(link: AnswerLink, key: bytes) -> str:
    return signer(key, PURPOSE).sign([VERSION, link.ref, link.kind, link.name, link.actor,
                                      link.stage_entry, link.expires, link.id])


def read(text: str, key: bytes) -> AnswerLink:
    """The link a token stands for; `BadToken` if it was not made with this key, or altered."""
    payload = signer(key, PURPOSE).read(text)
    try:
        version, ref, kind, name, actor, entry, expires, link_id = payload
    except ValueError:
        raise BadToken("not a Lotse answer link") from None
    if (version != VERSION or kind not in ("item", "fact")
            or not all(isinstance(v, str) for v in (ref, name, actor, link_id))
            or not all(isinstance(v, int) for v in (entry, expires))):
        raise BadToken("not a Lotse answer link")
    return AnswerLink(ref, kind, name, actor, entry, expires, link_id)


def url(base: str, link_token: str) -> str:
    return f"{base.rstrip('/')}/a/{link_token}"
