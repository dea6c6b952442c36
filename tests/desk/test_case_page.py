"""The case page of the desk: everything about a case for a signed-in coordinator (names and
personal facts included), and one form that ticks, sets and fires in one change by that
coordinator (`via=desk`, proof `sign-in:<id>`). A stale page, a missing requirement, a bad value,
a post without CSRF: refused with one line, nothing changed. Names with markup stay text."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from lotse.config.settings import Settings
from lotse.desk.app import create_app
from lotse.desk.cases import prefect_link
from lotse.states.records import HistoryRecord
from lotse.tasks import case_file, casework
from lotse.tasks.case_page import case_page
from lotse.tasks.context import Context
from tests.desk.conftest import Served, csrf_of, in_arrival, serve_in_thread
from tests.desk.coordinator import last_history, sign_ins, signed_in
from tests.notifications.conftest import visa_case


def form_of(html: str) -> dict[str, str]:
    """The hidden fields of the case page's form."""
    fields = dict(re.findall(r'<input type="hidden" name="(version|seen|request_id)" value="([^"]*)"', html))
    return {"csrf": csrf_of(html), **fields}


def post(served: Served, client: httpx.Client, ref: str, data: dict[str, Any],
         form: dict[str, str] | None = None) -> httpx.Response:
    form = form or form_of(client.get(f"{served.url}/cases/{ref}").text)
    return client.post(f"{served.url}/cases/{ref}", data={**form, **data})


def unchanged(served: Served) -> dict[str, list[tuple[Any, ...]]]:
    """Every row but the records of link uses and sessions (a request touches its session)."""
    rows = served.tables()
    rows.pop("desk_sessions", None)
    return rows


def one_line(html: str) -> str:
    found = re.search(r'<p class="problem">(.*?)</p>', html, re.S)
    assert found, "the page names no problem"
    return found.group(1)


def test_the_page_shows_names_personal_facts_ticks_deadlines_history_and_messages(
    desk: Served, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "http://prefect.internal:4200/api/")
    ref = in_arrival(desk.ctx)
    html = signed_in(desk).get(f"{desk.url}/cases/{ref}").text
    assert f"{ref}: Maricel Dalisay" in html
    assert re.search(r"Staatsangehörigkeit</th><td>PHL <span class=\"muted\">\(personenbezogen\)", html)
    assert "Einreisedatum</th><td>03.03.2026" in html
    assert "Wohnungsgeberbestätigung" in html  # open in this stage, with its deadline
    assert re.search(r"Wohnungsgeberbestätigung</td><td>fällig am 17.03.2026</td><td><span class=\"muted\">"
                     r"noch nicht erinnert</span></td><td>Wohnungsunternehmen<", html)
    history = html[html.index('id="history"'):]
    history = history[:history.index("</table>")]
    assert history.count("<tr>") == 1 + len(case_file.case_file(desk.ctx, ref)["history"])
    assert "<td>arrive</td><td>Visumverfahren → Ankunft</td><td>Klinik Nord</td>" in history
    assert "<td>done</td><td>Visumverfahren</td><td>Koordinierungsstelle</td>" in history
    assert re.search(r"<td>cli</td><td>os:[^<]+</td>", history)
    assert "Wohnbau Nord" in html[html.index("Nachrichten"):]  # the arrival's messages, pending
    assert 'href="http://prefect.internal:4200/artifacts/key/case-' + ref.lower() + '"' in html


def test_the_prefect_link_follows_the_ui_the_api_or_lotse_up() -> None:
    settings = Settings(prefect_port=4300, _env_file=None)  # type: ignore[call-arg]
    assert prefect_link(settings, "SE-2026-0042", {"PREFECT_UI_URL": "https://ui.example/"}) == \
        "https://ui.example/artifacts/key/case-se-2026-0042"
    assert prefect_link(settings, "SE-2026-0042", {"PREFECT_API_URL": "https://p.example/api"}) == \
        "https://p.example/artifacts/key/case-se-2026-0042"
    assert prefect_link(settings, "SE-2026-0042", {}) == "http://127.0.0.1:4300/artifacts/key/case-se-2026-0042"


def test_one_form_sets_facts_and_fires_the_event_as_the_signed_in_coordinator(desk: Served) -> None:
    ref = visa_case(desk.ctx)
    client = signed_in(desk)
    form = form_of(client.get(f"{desk.url}/cases/{ref}").text)
    done = post(desk, client, ref, {"fact:arrival_date": "2026-03-03", "fact:visa_valid_until": "2026-09-30",
                                    "event": "arrive", "note": "per   Telefon"}, form)
    assert (done.status_code, done.headers["location"]) == (303, f"/cases/{ref}?saved=1")
    shown = case_file.case_file(desk.ctx, ref)
    assert shown["stage"] == "arrival" and shown["facts"]["arrival_date"] == "2026-03-03"
    (record,) = sign_ins(desk.ctx)
    rows = shown["history"][-2:]
    assert [(h["action"], h["actor"], h["via"], h["proof"]) for h in rows] == [
        ("set", "koord", "desk", f"sign-in:{record.id}"), ("arrive", "koord", "desk", f"sign-in:{record.id}")]
    assert rows[-1]["note"] == "per Telefon"
    assert last_history(desk.ctx).request_id == f"desk:{form['request_id']}"
    page = client.get(f"{desk.url}/cases/{ref}?saved=1").text
    assert '<p class="done">Übernommen.</p>' in page and "Ankunft" in page

    before = unchanged(desk)
    again = post(desk, client, ref, {"fact:arrival_date": "2026-03-03", "fact:visa_valid_until": "2026-09-30",
                                     "event": "arrive", "note": "per Telefon"}, form)
    assert again.status_code == 303 and unchanged(desk) == before  # a double submit is a no-op


def test_a_tick_names_who_ticked_and_when(desk: Served) -> None:
    ref = casework.open_case(desk.ctx, given_name="Jana", family_name="Müller", nationality="PHL",
                             employer="klinik-nord")
    client = signed_in(desk)
    ticks = {"item": ["employment_contract", "recognition_documents"]}
    assert post(desk, client, ref, ticks).status_code == 303
    page = case_page(desk.ctx, ref)
    ticked = {i["id"]: (i["done"], i["by"]) for i in page.checklist}
    assert ticked == {"employment_contract": (True, "Koordinierungsstelle"),
                      "recognition_documents": (True, "Koordinierungsstelle")}
    assert page.items == []  # nothing left to tick in the stage


def test_a_stale_page_is_refused_as_a_conflict_and_nothing_changes(desk: Served) -> None:
    ref = casework.open_case(desk.ctx, given_name="Jana", family_name="Müller", nationality="PHL",
                             employer="klinik-nord")
    client = signed_in(desk)
    form = form_of(client.get(f"{desk.url}/cases/{ref}").text)
    casework.tick(desk.ctx, ref, ["employment_contract"], by="klinik-nord")  # meanwhile, elsewhere
    before = unchanged(desk)
    refused = post(desk, client, ref, {"item": "recognition_documents"}, form)
    assert refused.status_code == 409
    assert one_line(refused.text) == ("Der Fall wurde inzwischen geändert; nichts wurde übernommen. Die "
                                      "Seite zeigt ihn jetzt, wie er ist.")
    assert unchanged(desk) == before
    assert 'value="employment_contract"' not in refused.text  # the page as it is now, ready to retry

    casework.tick(desk.ctx, ref, ["recognition_documents"], by="koord")
    form = form_of(client.get(f"{desk.url}/cases/{ref}").text)
    casework.advance(desk.ctx, ref, "apply_visa", by="klinik-nord")  # and a stage further
    assert post(desk, client, ref, {"fact:arrival_date": "2026-03-03"}, form).status_code == 409


def test_an_event_that_lacks_something_is_refused_with_what_it_lacks(desk: Served) -> None:
    ref = casework.open_case(desk.ctx, given_name="Jana", family_name="Müller", nationality="PHL",
                             employer="klinik-nord")
    client = signed_in(desk)
    before = unchanged(desk)
    refused = post(desk, client, ref, {"item": "employment_contract", "event": "apply_visa"})
    assert refused.status_code == 409
    line = one_line(refused.text)
    assert line.startswith("Nicht übernommen: „Visum beantragt“ braucht noch ")
    assert "Anerkennungsunterlagen gesammelt und übersetzt" in line
    assert "Arbeitsvertrag" not in line  # ticked in the same form: not what it lacks
    assert unchanged(desk) == before


def test_a_bad_value_nothing_to_do_and_an_unknown_case_are_refused(desk: Served) -> None:
    ref = visa_case(desk.ctx)
    client = signed_in(desk)
    before = unchanged(desk)
    bad = post(desk, client, ref, {"fact:arrival_date": "bald", "item": []})
    assert bad.status_code == 400
    assert one_line(bad.text) == "Nicht übernommen: Einreisedatum: bitte ein Datum angeben."
    level = post(desk, client, ref, {"fact:language_level": "C3"})
    assert one_line(level.text) == ("Nicht übernommen: Sprachniveau (GER): bitte eine Stufe von A1 bis C2 "
                                    "wählen.")
    nothing = post(desk, client, ref, {})
    assert nothing.status_code == 400 and one_line(nothing.text).startswith("Nichts zu tun")
    unknown = client.get(f"{desk.url}/cases/SE-2026-9999")
    assert unknown.status_code == 404
    assert unchanged(desk) == before


def test_a_post_without_csrf_or_without_a_session_changes_nothing(desk: Served) -> None:
    ref = casework.open_case(desk.ctx, given_name="Jana", family_name="Müller", nationality="PHL",
                             employer="klinik-nord")
    client = signed_in(desk)
    form = form_of(client.get(f"{desk.url}/cases/{ref}").text)
    before = unchanged(desk)
    no_csrf = client.post(f"{desk.url}/cases/{ref}", data={**form, "csrf": "", "item": "employment_contract"})
    assert no_csrf.status_code == 403
    stranger = desk.client().post(f"{desk.url}/cases/{ref}", data={**form, "item": "employment_contract"})
    assert (stranger.status_code, stranger.headers["location"]) == (303, "/sign-in")
    assert unchanged(desk) == before
    with desk.ctx.db.reading() as session:
        assert session.scalars(select(HistoryRecord).where(HistoryRecord.via == "desk")).all() == []


def test_a_closed_case_shows_no_form(alliance: Context, desk: Served) -> None:
    ref = casework.open_case(alliance, given_name="Jana", family_name="Müller", nationality="PHL",
                             employer="klinik-nord")
    casework.advance(alliance, ref, "withdraw", by="koord", facts={"withdraw_category": "moved_away",
                                                                   "withdraw_reason": "zurückgezogen"})
    html = signed_in(desk).get(f"{desk.url}/cases/{ref}").text
    assert "Der Fall ist abgeschlossen" in html and f'action="/cases/{ref}"' not in html
    assert "Grund des Abbruchs</th><td>zurückgezogen" in html


def test_names_and_notes_with_markup_are_text_on_the_case_page(
    desk: Served, page,  # type: ignore[no-untyped-def]
) -> None:
    script, markdown = "<script>alert(1)</script>", "**fett** [klick](http://evil.example)"
    ref = casework.open_case(desk.ctx, given_name=script, family_name=markdown, nationality="PHL",
                             employer="klinik-nord")
    client = signed_in(desk)
    saved = post(desk, client, ref, {"fact:withdraw_reason": '<img src=x onerror="alert(2)">'})
    assert saved.status_code == 303  # a personal fact, set here and nowhere in Prefect
    html = client.get(f"{desk.url}/cases/{ref}").text
    assert "<script>alert" not in html and "<img src=x" not in html
    page.context.add_cookies([{"name": "lotse_session", "value": client.cookies["lotse_session"],
                               "url": desk.url}])
    page.goto(f"{desk.url}/cases/{ref}")
    assert page.inner_text("h1") == f"{ref}: {script} {markdown}"
    assert page.locator("a[href='http://evil.example']").count() == 0
    assert page.locator("main strong, main img, main script").count() == 0


def test_the_pages_speak_english_with_lotse_locale_en(alliance: Context) -> None:
    alliance.settings.locale = "en"
    ref = visa_case(alliance)
    app = create_app(alliance.settings, ctx=alliance)
    served = Served("", alliance, app.state.desk)
    with serve_in_thread(app) as url:
        served.url = url
        client = signed_in(served)
        search = client.get(f"{url}/cases", params={"q": "dalisay"}).text
        page = client.get(f"{url}/cases/{ref}").text
        refused = post(served, client, ref, {"event": "arrive"})
        assert "Signed in as Koordinierungsstelle" in search and "Family name" in search
        assert "Checklist of the stage" in page and "Date of arrival" in page and "Arrived (lacks:" in page
        assert unescape(one_line(refused.text)) == (
            'Not applied: "Arrived" still needs Date of arrival, Visa valid until.')
        assert "Sign in" in client.get(f"{url}/sign-in").text
