"""Coordinators sign in to the desk without passwords: a real SMTP server receives the one-time
link, headless Chromium opens it, signs in, finds a case by name with and without umlauts and
ticks an item; the history names the coordinator, `via=desk` and the sign-in. Around it: the same
answer for every address, links that are used, expired or not a coordinator's, idle sessions,
CSRF, rate limits and the cookie's flags."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from lotse.desk.app import create_app
from lotse.desk.security import RateLimit
from lotse.states.records import ActorRoleRecord, DeskSessionRecord, OutboxRecord
from lotse.tasks import casework, directory, sign_in
from lotse.tasks.context import Context
from tests.conftest import Clock
from tests.desk.conftest import Served, csrf_of, serve_in_thread
from tests.desk.coordinator import (
    COORDINATOR,
    last_history,
    link_in,
    mailboxes,
    mails_to,
    new_link,
    sign_ins,
    signed_in,
    uses,
)
from tests.notifications.conftest import Inbox

NEUTRAL = "Wenn diese Adresse einer Koordinierungsstelle der Allianz gehört, ist ein Anmeldelink unterwegs"


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    server = Inbox().start()
    yield server
    server.release()
    server.stop()


@pytest.fixture
def mailed(desk: Served, inbox: Inbox, tmp_path: Path) -> Served:
    """The desk whose links point to itself, with a mailbox per actor on a real SMTP server."""
    desk.ctx.settings.public_url = desk.url
    mailboxes(desk.ctx, inbox, tmp_path)
    return desk


def ask(served: Served, client: httpx.Client, address: str) -> httpx.Response:
    form = client.get(f"{served.url}/sign-in")
    return client.post(f"{served.url}/sign-in", data={"csrf": csrf_of(form.text), "email": address})


def test_a_coordinator_signs_in_by_mail_finds_a_case_by_name_and_ticks_an_item(
    mailed: Served, inbox: Inbox, page,  # type: ignore[no-untyped-def]
) -> None:
    ctx = mailed.ctx
    ref = casework.open_case(ctx, given_name="Jana", family_name="Müller", nationality="PHL",
                             employer="klinik-nord")
    casework.open_case(ctx, given_name="Ana", family_name="Santos", nationality="PHL", employer="klinik-nord")

    page.goto(f"{mailed.url}/")
    assert page.url == f"{mailed.url}/sign-in"
    page.fill("input[name=email]", "  KOORD@Example.org ")
    page.click("button[type=submit]")
    assert NEUTRAL in page.inner_text("main")

    (mail,) = mails_to(inbox, COORDINATOR)
    assert "15 Minuten" in mail.text
    link = link_in(mail)
    assert link.startswith(f"{mailed.url}/sign-in/")
    page.goto(link)
    assert "Anmelden als Koordinierungsstelle" in page.inner_text("main")
    page.click("main button[type=submit]")
    assert page.url == f"{mailed.url}/"
    assert "Angemeldet als Koordinierungsstelle" in page.inner_text("header")

    for query in ("Muller", "müller", "MÜL", ref.lower()):
        page.fill("input[name=q]", query)
        page.click("main button[type=submit]")
        rows = page.locator("main tbody tr")
        assert rows.count() == 1, query
        assert "Müller" in rows.first.inner_text() and "Jana" in rows.first.inner_text()
    page.fill("input[name=q]", "Santos Jana")
    page.click("main button[type=submit]")
    assert "Kein Fall gefunden." in page.inner_text("main")

    page.fill("input[name=q]", "muller")
    page.click("main button[type=submit]")
    page.click(f"text={ref}")
    assert page.url == f"{mailed.url}/cases/{ref}"
    assert "Jana Müller" in page.inner_text("h1")
    page.check("input[name=item][value=employment_contract]")
    page.click("form[action^='/cases'] button[type=submit]")
    assert page.url == f"{mailed.url}/cases/{ref}?saved=1"
    row = page.locator("#checklist tr[data-item=employment_contract]").inner_text()
    assert "✓ Koordinierungsstelle" in row

    (record,) = sign_ins(ctx)
    change = last_history(ctx)
    assert (change.action, change.via, change.actor_id, change.proof) == (
        "done", "desk", "koord", f"sign-in:{record.id}")
    history = page.locator("#history tbody tr").last.inner_text()
    assert "desk" in history and f"sign-in:{record.id}" in history and "Koordinierungsstelle" in history
    assert uses(ctx) == [(record.id, "koord", "opened"), (record.id, "koord", "used")]


def test_every_address_gets_the_same_answer_and_only_a_coordinator_a_link(
    mailed: Served, inbox: Inbox,
) -> None:
    with mailed.client() as client:
        answers = [ask(mailed, client, address) for address in (
            "nobody@example.org", "klinik-nord@example.org", "koord@example.org", "not an address")]
    assert [a.status_code for a in answers] == [200] * 4
    texts = {re.sub(r"\s+", " ", a.text) for a in answers}
    assert len(texts) == 1 and NEUTRAL in texts.pop()  # no page tells a known address apart
    mails_to(inbox, COORDINATOR)
    assert [m.recipients for m in inbox.mails] == [[COORDINATOR]]  # the employer got nothing
    assert [s.actor_id for s in sign_ins(mailed.ctx)] == ["koord"]


def test_a_sent_link_leaves_the_outbox_and_a_coordinator_without_own_route_gets_none(
    mailed: Served, inbox: Inbox,
) -> None:
    directory.add_actor(mailed.ctx, "koord-sued", name="Koordination Süd", roles=["coordinator"],
                        region=None, email="Sued@Example.org")
    with mailed.client() as client:
        ask(mailed, client, COORDINATOR)
        ask(mailed, client, "sued@example.org")
    (mail,) = mails_to(inbox, COORDINATOR)
    # The mail arrives before the sending request's background task settles the row and takes the
    # link out, each in a transaction of its own: the test waits for that, as a reader would.
    deadline = time.monotonic() + 15
    while "[link removed after sending]" not in (rows := outbox_rows(mailed))["koord"].body:
        assert time.monotonic() < deadline, f"the sent link is still in the outbox: {rows['koord'].status}"
        time.sleep(0.05)
    assert link_in(mail) not in rows["koord"].body
    # No route tagged with its own id: the link waits, and never goes to a route of the role.
    assert rows["koord-sued"].status in ("pending", "failed") and rows["koord-sued"].route is None
    assert len(inbox.mails) == 1


def test_a_link_signs_in_once(desk: Served) -> None:
    link = new_link(desk)
    first = desk.client()
    form = first.get(link)
    assert first.post(link, data={"csrf": csrf_of(form.text)}).status_code == 303
    second = desk.client()
    form = second.get(link)
    assert form.status_code == 410 and "bereits verwendet" in form.text
    third = desk.client()
    again = third.post(link, data={"csrf": csrf_of(third.get(f"{desk.url}/sign-in").text)})
    assert again.status_code == 410 and "lotse_session" not in third.cookies
    (record,) = sign_ins(desk.ctx)
    assert record.used_at is not None
    assert [u[2] for u in uses(desk.ctx)] == ["opened", "used", "refused:used", "refused:used"]
    with desk.ctx.db.reading() as session:
        assert len(session.scalars(select(DeskSessionRecord)).all()) == 1


def test_an_expired_or_altered_link_signs_in_no_one(desk: Served, clock: Clock) -> None:
    link = new_link(desk)
    client = desk.client()
    csrf = csrf_of(client.get(f"{desk.url}/sign-in").text)
    body, _, signature = link.rpartition(".")
    altered = client.post(f"{body}.{signature[::-1]}", data={"csrf": csrf})
    assert altered.status_code == 400 and "verändert" in altered.text
    clock.advance(minutes=15)
    expired = client.post(link, data={"csrf": csrf})
    assert expired.status_code == 410 and "abgelaufen" in expired.text
    assert "lotse_session" not in client.cookies
    assert [u[2] for u in uses(desk.ctx)] == ["refused:bad", "refused:expired"]
    assert uses(desk.ctx)[0][:2] == (None, None)  # an altered token names no sign-in
    (record,) = sign_ins(desk.ctx)
    assert record.used_at is None


def test_a_link_of_an_organisation_that_is_no_longer_a_coordinator_is_refused(desk: Served) -> None:
    link = new_link(desk)
    client = signed_in(desk)  # with a second link, before the role goes
    with desk.ctx.db.writing() as session:
        session.delete(session.get(ActorRoleRecord, ("koord", "coordinator")))
        session.add(ActorRoleRecord(actor_id="koord", role="counsellor"))
    shown = desk.client().get(link)
    assert shown.status_code == 403 and "keine Koordinierungsstelle mehr" in shown.text
    assert client.get(f"{desk.url}/cases").status_code == 303  # and its session ends with it


def test_a_session_ends_after_30_idle_minutes_and_on_sign_out(desk: Served, clock: Clock) -> None:
    client = signed_in(desk)
    clock.advance(minutes=29)
    assert client.get(f"{desk.url}/cases").status_code == 200  # a request keeps it alive
    clock.advance(minutes=29)
    assert client.get(f"{desk.url}/cases").status_code == 200
    clock.advance(minutes=30)
    gone = client.get(f"{desk.url}/cases?q=muller")
    assert (gone.status_code, gone.headers["location"]) == (303, "/sign-in?ended=1")
    assert "30 Minuten ohne Nutzung" in client.get(f"{desk.url}/sign-in?ended=1").text
    with desk.ctx.db.reading() as session:
        (row,) = session.scalars(select(DeskSessionRecord)).all()
    assert row.ended_at is not None

    other = signed_in(desk)
    page = other.get(f"{desk.url}/")
    assert page.status_code == 200
    out = other.post(f"{desk.url}/sign-out", data={"csrf": csrf_of(page.text)})
    assert (out.status_code, out.headers["location"]) == (303, "/sign-in")
    assert other.get(f"{desk.url}/").status_code == 303


def test_only_the_digest_of_the_session_cookie_is_stored(desk: Served) -> None:
    client = signed_in(desk)
    cookie = client.cookies["lotse_session"]
    with desk.ctx.db.reading() as session:
        (row,) = session.scalars(select(DeskSessionRecord)).all()
    assert len(cookie) >= 43 and row.id != cookie and cookie not in str(row.model_dump())
    (record,) = sign_ins(desk.ctx)
    assert (row.actor_id, row.sign_in_id) == ("koord", record.id)


def test_a_post_without_its_csrf_field_is_refused_and_signs_in_no_one(desk: Served) -> None:
    link = new_link(desk)
    client = desk.client()
    client.get(link)
    refused = client.post(link, data={})
    assert refused.status_code == 403 and "lotse_session" not in client.cookies
    asked = client.post(f"{desk.url}/sign-in", data={"email": COORDINATOR})
    assert asked.status_code == 403
    (record,) = sign_ins(desk.ctx)  # the link's own; the request without CSRF made none
    assert record.used_at is None
    assert [u[2] for u in uses(desk.ctx)] == ["opened", "refused:csrf"]


def test_asking_for_links_is_rate_limited(desk: Served) -> None:
    desk.desk.limits["sign-in"] = RateLimit(3, 60)
    with desk.client() as client:
        statuses = [ask(desk, client, "nobody@example.org").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


@pytest.mark.parametrize("public_url, secure", [(None, False), ("https://lotse.allianz.example", True)])
def test_the_session_cookie_is_http_only_strict_and_secure_behind_https(
    alliance: Context, public_url: str | None, secure: bool,
) -> None:
    alliance.settings.public_url = public_url
    app = create_app(alliance.settings, ctx=alliance)
    (made,) = sign_in.request(alliance, app.state.desk.key, COORDINATOR)
    path = made.link.removeprefix(alliance.settings.desk_url)
    with serve_in_thread(app) as url, httpx.Client(timeout=10) as client:
        shown = client.get(f"{url}{path}")
        csrf = csrf_of(shown.text)
        cookie = shown.headers["set-cookie"].split(";")[0]
        done = client.post(f"{url}{path}", data={"csrf": csrf}, headers={"Cookie": cookie})
    assert done.status_code == 303
    session = next(v for k, v in done.headers.multi_items() if k == "set-cookie" and "lotse_session=" in v)
    flags = {part.strip().lower() for part in session.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/"} <= flags
    assert ("secure" in flags) is secure
    assert not any(f.startswith(("max-age", "expires")) for f in flags)  # ends with the browser


def test_a_case_link_without_the_cookie_leads_on_to_the_case_after_the_sign_in_page(desk: Served) -> None:
    ref = casework.open_case(desk.ctx, given_name="Jana", family_name="Müller", nationality="PHL",
                             employer="klinik-nord")
    # From a webmail, SameSite=Strict keeps the cookie back: the desk sees a stranger.
    stranger = desk.client().get(f"{desk.url}/cases/{ref}")
    assert (stranger.status_code, stranger.headers["location"]) == (303, f"/sign-in?next=/cases/{ref}")
    assert "Müller" not in stranger.text
    client = signed_in(desk)
    page = client.get(f"{desk.url}/sign-in?next=/cases/{ref}").text
    assert f'<a href="/cases/{ref}">Schon angemeldet? Weiter zu {ref}</a>' in page
    assert client.get(f"{desk.url}/cases/{ref}").status_code == 200  # the click within the desk
    for elsewhere in ("//evil.example/x", "https://evil.example", "/cases/a/../../x", "/sign-out"):
        assert "Schon angemeldet" not in client.get(f"{desk.url}/sign-in", params={"next": elsewhere}).text


def outbox_rows(served: Served) -> dict[str, OutboxRecord]:
    with served.ctx.db.reading() as session:
        return {r.recipient: r for r in session.scalars(select(OutboxRecord))}
