"""Answer links over real HTTP: the desk under uvicorn, on the test's SQLite file.

Opening a link changes nothing in the case; the confirmation changes it once, audited as the
link's organisation with the link as proof; every dead link gets its status, a plain page, the
coordinator to contact, and leaves every table as it was but the record of its use."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import time

import httpx
import pytest
from sqlalchemy import select

from lotse.desk.app import create_app
from lotse.desk.security import HEADERS, RateLimit
from lotse.notifications import answer_links
from lotse.states import store
from lotse.states.records import DeadlineRecord, HistoryRecord
from lotse.tasks import casework, directory
from lotse.tasks.context import Context
from tests.desk.conftest import Served, csrf_of, in_arrival, serve_in_thread
from tests.notifications.conftest import visa_case
from tests.tasks.test_overviews import FakePrefect

ITEM = "landlord_confirmation"
HOUSING = "wohnbau-nord"


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def logged(caplog: pytest.LogCaptureFixture, count: int, timeout: float = 10) -> list[str]:
    """The access log's lines, once it has `count` of them: a line is written as the response
    ends, a moment after the client has it."""
    deadline_at = time.monotonic() + timeout
    while len(lines := [r.getMessage() for r in caplog.records if r.name == "lotse.desk.access"]) < count:
        assert time.monotonic() < deadline_at, lines
        time.sleep(0.02)
    return lines


def link_id(served: Served, url: str) -> str:
    return answer_links.read(token_of(url), served.key).id


def assert_headers(response: httpx.Response) -> None:
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, (response.url, name)


def history(served: Served, request_id: str) -> HistoryRecord:
    with served.ctx.db.reading() as session:
        row = session.scalars(select(HistoryRecord).where(HistoryRecord.request_id == request_id)).one()
    return row


def deadline(served: Served, name: str) -> DeadlineRecord:
    with served.ctx.db.reading() as session:
        return session.scalars(select(DeadlineRecord).where(DeadlineRecord.deadline == name)).one()


# -- the way it is meant ---------------------------------------------------------------------------


def test_opening_a_link_shows_the_case_and_the_item_and_changes_nothing(desk: Served) -> None:
    ref = in_arrival(desk.ctx)
    url = desk.link(ref, ITEM, HOUSING)
    before, count = desk.tables(), desk.history_count()

    with desk.client() as client:
        page = client.get(url)
        again = client.get(url)  # a mail scanner, then the reader

    assert page.status_code == again.status_code == 200
    assert_headers(page)
    for shown in (ref, "Maricel", "Wohnbau Nord", "Wohnungsgeberbestätigung (§ 19 BMG)", "17.03.2026",
                  "erledigt melden", "Koordinierungsstelle"):
        assert shown in page.text
    assert "Dalisay" not in page.text  # the family name is not the link's business
    assert desk.tables() == before and desk.history_count() == count
    uses = desk.uses()
    assert [(u.link_id, u.kind, u.actor_id, u.outcome, u.history_id) for u in uses] == [
        (link_id(desk, url), "answer", HOUSING, "opened", None)] * 2
    with desk.ctx.db.reading() as session:
        assert {u.case_id for u in uses} == {store.find_case(session, ref).id}


def test_the_confirmation_ticks_the_item_closes_its_deadline_and_names_the_link_as_proof(
    desk: Served,
) -> None:
    ref = in_arrival(desk.ctx)
    url = desk.link(ref, ITEM, HOUSING)
    ident = link_id(desk, url)
    with desk.client() as client:
        form = client.get(url)
        done = client.post(url, data={"csrf": csrf_of(form.text)})

    assert done.status_code == 200
    assert_headers(done)
    assert "als erledigt gemeldet, am 02.03.2026" in done.text
    row = history(desk, f"link:{ident}")
    assert (row.action, row.actor_id, row.via, row.proof, row.detail) == (
        "done", HOUSING, "link", f"link:{ident}", [ITEM])
    shown = casework_file(desk, ref)
    assert {i["id"] for i in shown["checklist"] if i["done"]} >= {ITEM}
    closed = deadline(desk, ITEM)
    assert closed.closed_at is not None and closed.closed_why == "done"
    assert [(u.outcome, u.history_id) for u in desk.uses()] == [("opened", None), ("used", row.id)]


def casework_file(served: Served, ref: str) -> dict:  # type: ignore[type-arg]
    from lotse.tasks import case_file

    return case_file.case_file(served.ctx, ref)


def test_a_second_post_says_already_reported_and_changes_nothing(desk: Served) -> None:
    ref = in_arrival(desk.ctx)
    url = desk.link(ref, ITEM, HOUSING)
    with desk.client() as client:
        field = csrf_of(client.get(url).text)
        assert client.post(url, data={"csrf": field}).status_code == 200
        before, count = desk.tables(), desk.history_count()
        second = client.post(url, data={"csrf": field})
        opened_again = client.get(url)

    assert second.status_code == 409 and "Bereits gemeldet am 02.03.2026" in second.text
    assert opened_again.status_code == 409 and "bereits gemeldet am 02.03.2026" in opened_again.text
    assert desk.tables() == before and desk.history_count() == count
    assert [u.outcome for u in desk.uses()] == ["opened", "used", "repeated", "refused:used"]


def test_a_change_by_link_publishes_the_cases_overview_after_the_answer(
    desk: Served, monkeypatch: pytest.MonkeyPatch,
) -> None:
    prefect = FakePrefect()
    monkeypatch.setenv("PREFECT_API_URL", prefect.api.url)
    try:
        ref = in_arrival(desk.ctx)
        url = desk.link(ref, ITEM, HOUSING)
        with desk.client() as client:
            client.post(url, data={"csrf": csrf_of(client.get(url).text)})
        deadline_at = time.monotonic() + 10
        while f"case-{ref.lower()}" not in (published := prefect.keys()):
            assert time.monotonic() < deadline_at, published
            time.sleep(0.05)
    finally:
        prefect.stop()


def test_with_prefect_down_the_answer_stands_and_the_log_has_one_warning(
    desk: Served, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    from tests.tasks.test_overviews import closed_port

    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{closed_port()}/api")
    ref = in_arrival(desk.ctx)
    url = desk.link(ref, ITEM, HOUSING)
    with caplog.at_level(logging.INFO, logger="lotse"), desk.client() as client:
        answered = client.post(url, data={"csrf": csrf_of(client.get(url).text)})
        deadline_at = time.monotonic() + 10
        while not [r for r in caplog.records if r.levelno == logging.WARNING]:
            assert time.monotonic() < deadline_at, caplog.text
            time.sleep(0.05)
    assert answered.status_code == 200
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "not published" in warnings[0] and "Maricel" not in warnings[0]


# -- a fact ------------------------------------------------------------------------------------------


def test_a_fact_link_offers_a_date_field_and_sets_the_fact(desk: Served) -> None:
    ref = visa_case(desk.ctx)  # `arrive` needs the arrival date, which the employer gives
    url = desk.link(ref, "arrival_date", "klinik-nord", kind="fact")
    with desk.client() as client:
        form = client.get(url)
        assert form.status_code == 200 and 'type="date"' in form.text and "Einreisedatum" in form.text
        done = client.post(url, data={"csrf": csrf_of(form.text), "value": "2026-04-01"})

    assert done.status_code == 200 and "Einreisedatum ist für den Fall" in done.text
    assert casework_file(desk, ref)["facts"]["arrival_date"] == "2026-04-01"
    row = history(desk, f"link:{link_id(desk, url)}")
    assert (row.action, row.actor_id, row.via, row.detail) == (
        "set", "klinik-nord", "link", {"arrival_date": "2026-04-01"})


@pytest.mark.parametrize("value", ["31.04.2026", "morgen", "", "2026-02-30"])
def test_a_value_that_does_not_parse_shows_the_form_again_with_one_line_and_changes_nothing(
    desk: Served, value: str,
) -> None:
    ref = visa_case(desk.ctx)
    url = desk.link(ref, "arrival_date", "klinik-nord", kind="fact")
    with desk.client() as client:
        field = csrf_of(client.get(url).text)
        before = desk.tables()
        refused = client.post(url, data={"csrf": field, "value": value})

    assert refused.status_code == 400
    assert refused.text.count('class="problem"') == 1
    assert "Bitte geben Sie ein Datum an (z. B. 01.03.2027)." in refused.text
    assert 'type="date"' in refused.text and "Traceback" not in refused.text
    assert desk.tables() == before
    assert desk.uses()[-1].outcome == "refused:bad-value"


@pytest.mark.parametrize(("fact", "actor", "shown"), [
    ("language_level", "sprachschule", ['<select id="value"', '<option value="A1"', '<option value="C2"']),
    ("recognition_path", "anerkennung", ['<select id="value"', '<option value="knowledge_exam"']),
    ("accelerated_procedure", "klinik-nord", ['type="radio" name="value" value="true"', "nein"]),
])
def test_each_kind_of_fact_gets_its_own_field(desk: Served, fact: str, actor: str, shown: list[str]) -> None:
    ref = visa_case(desk.ctx)
    with desk.client() as client:
        page = client.get(desk.link(ref, fact, actor, kind="fact"))
    assert page.status_code == 200
    for html in shown:
        assert html in page.text


def test_a_level_chosen_from_the_list_is_set(desk: Served) -> None:
    ref = visa_case(desk.ctx)
    url = desk.link(ref, "language_level", "sprachschule", kind="fact")
    with desk.client() as client:
        answered = client.post(url, data={"csrf": csrf_of(client.get(url).text), "value": "B2"})
    assert answered.status_code == 200
    assert casework_file(desk, ref)["facts"]["language_level"] == "B2"


# -- dead links ----------------------------------------------------------------------------------------


def tampered_signature(url: str) -> str:
    body, _, signature = token_of(url).partition(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    return f"{url.rsplit('/', 1)[0]}/{body}.{flipped}"


def tampered_payload(url: str, **change: object) -> str:
    """The same signature over another payload: another actor or item, a later expiry."""
    body, _, signature = token_of(url).partition(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    fields = ["version", "ref", "kind", "name", "actor", "stage_entry", "expires", "id"]
    for key, value in change.items():
        payload[fields.index(key)] = value
    new = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).rstrip(b"=")
    return f"{url.rsplit('/', 1)[0]}/{new.decode()}.{signature}"


def dead_link(desk: Served, ref: str, how: str) -> str:
    """A link to `ref` (in arrival) that is dead in one way."""
    ctx = desk.ctx
    if how == "tampered signature":
        return tampered_signature(desk.link(ref, ITEM, HOUSING))
    if how == "another actor in the payload":
        return tampered_payload(desk.link(ref, ITEM, HOUSING), actor="klinik-nord")
    if how == "another item in the payload":
        return tampered_payload(desk.link(ref, ITEM, HOUSING), name="address_registered")
    if how == "a later expiry in the payload":
        return tampered_payload(desk.link(ref, ITEM, HOUSING, days=1), expires=2_000_000_000)
    if how == "not a token":
        return f"{desk.url}/a/hallo"
    if how == "expired":
        return desk.link(ref, ITEM, HOUSING, now=ctx.clock() - dt.timedelta(days=31))
    if how == "of another actor":
        return desk.link(ref, ITEM, "klinik-nord")
    if how == "of another item":
        return desk.link(ref, "address_registered", HOUSING)
    if how == "of an item of another stage":
        return desk.link(ref, "housing_confirmed", HOUSING)
    if how == "of a housing company of another region":
        directory.add_actor(ctx, "wohnbau-sued", name="Wohnbau Süd", roles=["housing"], region="SE-Sued")
        return desk.link(ref, ITEM, "wohnbau-sued")
    if how == "of another employer":
        directory.add_actor(ctx, "klinik-sued", name="Klinik Süd", roles=["employer"], region="SE-Nord")
        return desk.link(ref, "address_registered", "klinik-sued")
    if how == "of an actor no longer in the directory":
        return desk.link(ref, ITEM, "wohnbau-alt")
    if how == "done by someone else":
        url = desk.link(ref, ITEM, HOUSING)
        casework.tick(ctx, ref, [ITEM], by="koord")
        return url
    if how == "a fact entered already":  # with `arrive`, by the employer
        return desk.link(ref, "arrival_date", "klinik-nord", kind="fact")
    if how == "after the case moved on":
        url = desk.link(ref, ITEM, HOUSING)
        ctx.clock.advance(days=1)  # type: ignore[attr-defined]
        casework.tick(ctx, ref, ["address_registered", "residence_permit_applied"], by="koord")
        casework.advance(ctx, ref, "start_language_course", by="klinik-nord")
        return url
    if how == "after the case was closed":
        url = desk.link(ref, ITEM, HOUSING)
        casework.advance(ctx, ref, "withdraw", by="klinik-nord", facts={"withdraw_category": "moved_away",
                                                                        "withdraw_reason": "Rückkehr"})
        return url
    raise AssertionError(how)


DEAD = [
    ("tampered signature", 400, "unreadable", "Dieser Link ist ungültig"),
    ("another actor in the payload", 400, "unreadable", "Dieser Link ist ungültig"),
    ("another item in the payload", 400, "unreadable", "Dieser Link ist ungültig"),
    ("a later expiry in the payload", 400, "unreadable", "Dieser Link ist ungültig"),
    ("not a token", 400, "unreadable", "Dieser Link ist ungültig"),
    ("expired", 410, "expired", "Dieser Link ist abgelaufen."),
    ("of another actor", 403, "not-allowed", "darf dies bei diesem Fall nicht melden"),
    ("of another item", 403, "not-allowed", "darf dies bei diesem Fall nicht melden"),
    ("of a housing company of another region", 403, "not-allowed", "darf dies bei diesem Fall nicht melden"),
    ("of another employer", 403, "not-allowed", "darf dies bei diesem Fall nicht melden"),
    ("of an item of another stage", 410, "not-asked", "braucht diese Meldung jetzt nicht"),
    ("of an actor no longer in the directory", 410, "actor-gone", "nicht mehr im Verzeichnis"),
    ("done by someone else", 409, "done", "bereits erledigt am 02.03.2026 von Koordinierungsstelle"),
    ("a fact entered already", 409, "entered", "bereits eingetragen: am 02.03.2026 von Klinik Nord"),
    ("after the case moved on", 410, "moved-on", "einen Schritt weiter"),
    ("after the case was closed", 410, "closed", "Der Fall ist abgeschlossen."),
]


@pytest.mark.parametrize(("how", "status", "why", "says"), DEAD, ids=[d[0] for d in DEAD])
def test_a_dead_link_is_refused_on_opening_and_on_posting_and_changes_nothing(
    desk: Served, how: str, status: int, why: str, says: str,
) -> None:
    ref = in_arrival(desk.ctx)
    good = desk.link(ref, ITEM, HOUSING)
    with desk.client() as client:
        field = csrf_of(client.get(good).text)  # a form of the desk: the refusal is not about CSRF
        url = dead_link(desk, ref, how)
        before, count, uses = desk.tables(), desk.history_count(), len(desk.uses())
        opened = client.get(url)
        posted = client.post(url, data={"csrf": field})

    for response in (opened, posted):
        assert response.status_code == status, (how, response.text)
        assert says in response.text and "Am Fall wurde nichts geändert." in response.text
        assert "Koordinierungsstelle" in response.text  # whom to contact
        assert_headers(response)
    assert 'method="post"' not in opened.text
    assert desk.tables() == before and desk.history_count() == count
    recorded = desk.uses()[uses:]
    assert [u.outcome for u in recorded] == [f"refused:{why}"] * 2
    assert all(u.kind == "answer" for u in recorded)
    if why != "unreadable":
        assert {u.link_id for u in recorded} == {link_id(desk, url)}


def test_a_post_without_the_csrf_field_is_refused_and_changes_nothing(desk: Served) -> None:
    ref = in_arrival(desk.ctx)
    url = desk.link(ref, ITEM, HOUSING)
    with desk.client() as client:
        field = csrf_of(client.get(url).text)
        before = desk.tables()
        without = client.post(url, data={})
        wrong = client.post(url, data={"csrf": "0" * 64})
    with desk.client() as stranger:  # the right field, but no cookie: another site's form
        no_cookie = stranger.post(url, data={"csrf": field})

    for response in (without, wrong, no_cookie):
        assert response.status_code == 403 and "Das Formular ist abgelaufen" in response.text
        assert_headers(response)
    assert desk.tables() == before
    assert [u.outcome for u in desk.uses()] == ["opened"] + ["refused:csrf"] * 3


# -- what every page does -----------------------------------------------------------------------


def test_names_with_markup_are_shown_as_text(desk: Served) -> None:
    directory.add_actor(desk.ctx, "wohnbau-x", name="<img src=x onerror=alert(1)>", roles=["housing"],
                        region="SE-Nord", email="x@example.org")
    names = {"<script>alert(1)</script>": "&lt;script&gt;alert(1)&lt;/script&gt;",
             "**fett** [klick](http://evil.example)": "**fett** [klick](http://evil.example)"}
    for name, escaped in names.items():
        ref = in_arrival(desk.ctx, given_name=name)
        url = desk.link(ref, ITEM, "wohnbau-x")
        with desk.client() as client:
            form = client.get(url)
            done = client.post(url, data={"csrf": csrf_of(form.text)})
        for page in (form, done):
            assert page.status_code == 200
            assert escaped in page.text and "&lt;img src=x onerror=alert(1)&gt;" in page.text
            assert "<script>" not in page.text and "<img" not in page.text
            assert 'href="http://evil.example"' not in page.text and "<strong>" not in page.text


def test_every_page_carries_the_security_headers(desk: Served) -> None:
    with desk.client() as client:
        for path in ("/", "/health", "/nowhere", "/a/kaputt", "/static/desk.css"):
            assert_headers(client.get(desk.url + path))


def test_the_health_page_says_ok(desk: Served) -> None:
    with desk.client() as client:
        health = client.get(desk.url + "/health")
    assert (health.status_code, health.text) == (200, "ok")


def test_too_many_requests_from_one_address_get_a_plain_429(desk: Served) -> None:
    desk.desk.limits["token"] = RateLimit(3, 60)
    ref = in_arrival(desk.ctx)
    url = desk.link(ref, ITEM, HOUSING)
    with desk.client() as client:
        statuses = [client.get(url).status_code for _ in range(4)]
        limited = client.post(url, data={})
    assert statuses == [200, 200, 200, 429]
    assert limited.status_code == 429 and "Zu viele Anfragen" in limited.text
    assert_headers(limited)


def test_behind_the_proxy_each_forwarded_client_has_a_limit_of_its_own(desk: Served) -> None:
    desk.desk.limits["token"] = RateLimit(1, 60)
    url = desk.link(in_arrival(desk.ctx), ITEM, HOUSING)
    with desk.client() as client:
        first = client.get(url, headers={"X-Forwarded-For": "203.0.113.7"})
        again = client.get(url, headers={"X-Forwarded-For": "203.0.113.7"})
        other = client.get(url, headers={"X-Forwarded-For": "198.51.100.23"})
    assert (first.status_code, again.status_code, other.status_code) == (200, 429, 200)


def test_the_access_log_names_no_token_no_name_and_no_query(
    desk: Served, caplog: pytest.LogCaptureFixture,
) -> None:
    ref = in_arrival(desk.ctx)
    url = desk.link(ref, ITEM, HOUSING)
    with caplog.at_level(logging.INFO, logger="lotse.desk"), desk.client() as client:
        form = client.get(url + "?utm=Maricel")
        client.post(url, data={"csrf": csrf_of(form.text)})
        client.get(tampered_signature(url))
        lines = logged(caplog, 3)
    assert [line.rsplit(" ", 2)[0] for line in lines] == [
        "GET /a/<token> 200", "POST /a/<token> 200", "GET /a/<token> 400"]
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(("lotse", "uvicorn")))
    assert token_of(url) not in text and token_of(url).split(".")[0] not in text
    assert "Maricel" not in text and "utm" not in text and "Dalisay" not in text


def test_an_unexpected_error_is_a_plain_page_and_one_log_line_without_its_message(
    desk: Served, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    from lotse.tasks import answers

    def broken(*_args: object) -> None:
        raise RuntimeError("Maricel Dalisay")

    monkeypatch.setattr(answers, "look", broken)
    with caplog.at_level(logging.INFO, logger="lotse.desk"), desk.client() as client:
        page = client.get(desk.link(in_arrival(desk.ctx), ITEM, HOUSING))
        assert logged(caplog, 1)[0].startswith("GET /a/<token> 500 ")
    assert page.status_code == 500 and "unerwarteter Fehler" in page.text
    assert "Traceback" not in page.text and "Maricel" not in page.text
    assert "Maricel" not in caplog.text and "RuntimeError" in caplog.text


def test_a_database_that_cannot_be_read_shows_the_busy_page(desk: Served) -> None:
    ref = in_arrival(desk.ctx)
    url = desk.link(ref, ITEM, HOUSING)
    path = desk.ctx.db.sqlite_file
    assert path is not None
    desk.ctx.db.dispose()
    path.rename(path.with_suffix(".away"))
    with desk.client() as client:
        page = client.get(url)
    assert page.status_code == 503 and "nicht erreichbar" in page.text
    assert "Traceback" not in page.text


def test_the_pages_speak_english_with_lotse_locale_en(alliance: Context) -> None:
    alliance.settings.locale = "en"
    app = create_app(alliance.settings, ctx=alliance)
    ref = in_arrival(alliance)
    with serve_in_thread(app) as address, httpx.Client(timeout=10) as client:
        url = Served(address, alliance, app.state.desk).link(ref, ITEM, HOUSING)
        form = client.get(url)
        done = client.post(url, data={"csrf": csrf_of(form.text)})
        again = client.get(url)
    assert "Report done" in form.text and "Landlord&#39;s confirmation (§ 19 BMG)" in form.text
    assert "2026-03-17" in form.text and "report done" in form.text
    assert "is reported done for case" in done.text
    assert "already reported on 2026-03-02" in again.text
    assert "Nothing about the case was changed." in again.text
