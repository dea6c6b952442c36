"""Helpers for the coordinators' tests of the desk: mailboxes on a real SMTP server, the sign-in
link out of an e-mail, and an HTTP client signed in through the real link pages."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
from sqlalchemy import select

from lotse.states.records import HistoryRecord, LinkUseRecord, SignInRecord
from lotse.tasks import sign_in
from lotse.tasks.context import Context
from tests.desk.conftest import Served, csrf_of
from tests.notifications.conftest import ALLIANCE_ROLES, Inbox, Mail

COORDINATOR = "koord@example.org"


def mailboxes(ctx: Context, inbox: Inbox, folder: Path) -> Path:
    """Every actor of the alliance gets its own mailbox <actor>@example.org on the inbox."""
    path = folder / "routes.yaml"
    lines = ["version: 1", "urls:"]
    for actor in ALLIANCE_ROLES:
        lines += [f'  - "{inbox.url(f"{actor}@example.org")}":', f"      tag: {actor}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ctx.settings.notify_config = path
    return path


def mails_to(inbox: Inbox, address: str, count: int = 1, timeout: float = 15) -> list[Mail]:
    deadline = time.monotonic() + timeout
    while len(inbox.to(address)) < count:
        assert time.monotonic() < deadline, f"{len(inbox.to(address))} mails to {address} after {timeout} s"
        time.sleep(0.05)
    return inbox.to(address)


def link_in(mail: Mail) -> str:
    found = re.search(r"https?://\S+/sign-in/[A-Za-z0-9_.-]+", mail.text)
    assert found, f"no sign-in link in {mail.text!r}"
    return found.group(0)


def new_link(served: Served, address: str = COORDINATOR) -> str:
    """A sign-in link as a request for it makes one (the message waits: no routes needed)."""
    (made,) = sign_in.request(served.ctx, served.key, address)
    return made.link.replace(served.ctx.settings.desk_url, served.url)


def signed_in(served: Served, address: str = COORDINATOR) -> httpx.Client:
    """A client with a session, signed in by the link pages (GET, then the form's POST)."""
    client = served.client()
    link = new_link(served, address)
    page = client.get(link)
    assert page.status_code == 200, page.text
    done = client.post(link, data={"csrf": csrf_of(page.text)})
    assert done.status_code == 303 and "lotse_session" in client.cookies, done.text
    return client


def sign_ins(ctx: Context) -> list[SignInRecord]:
    with ctx.db.reading() as session:
        return list(session.scalars(select(SignInRecord).order_by(SignInRecord.created_at)))


def uses(ctx: Context) -> list[tuple[str | None, str | None, str]]:
    """The link uses of sign-ins: (sign-in id, actor, outcome)."""
    with ctx.db.reading() as session:
        rows = session.scalars(select(LinkUseRecord).where(LinkUseRecord.kind == "sign-in")
                               .order_by(LinkUseRecord.id))
        return [(r.link_id, r.actor_id, r.outcome) for r in rows]


def last_history(ctx: Context) -> HistoryRecord:
    with ctx.db.reading() as session:
        row = session.scalars(select(HistoryRecord).order_by(HistoryRecord.id.desc())).first()  # type: ignore[union-attr]
    assert row is not None
    return row
