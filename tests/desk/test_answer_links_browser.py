"""Answer links in headless Debian `chromium`: the housing company opens its link, sees what it is
asked, confirms, and sees the result; the case has changed, audited as the housing company with
the link as proof. A second tab of the same link says already reported. Names with markup are
shown as the text they are, and no script runs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from lotse.notifications import answer_links
from lotse.states.records import DeadlineRecord, HistoryRecord
from lotse.tasks import case_file, delivery
from tests.desk.conftest import Served, in_arrival
from tests.notifications.conftest import Inbox, arrive, mail_routes, visa_case

pytestmark = pytest.mark.browser

ITEM = "landlord_confirmation"
LINK = re.compile(r"erledigt melden: (http://\S+/a/\S+)")


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    server = Inbox().start()
    yield server
    server.stop()


def link_id(served: Served, url: str) -> str:
    return answer_links.read(url.rsplit("/", 1)[1], served.key).id


def test_the_link_out_of_the_arrival_mail_reports_the_landlords_confirmation_once(
    desk: Served, inbox: Inbox, page, tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    ctx = desk.ctx
    routes = tmp_path / "routes.yaml"
    routes.write_text("version: 1\nurls:\n" + "".join(
        f'  - "{url}":\n      tag: {tags}\n' for url, tags in mail_routes(inbox)), encoding="utf-8")
    ctx.settings.notify_config = routes
    ctx.settings.public_url = desk.url  # LOTSE_PUBLIC_URL: where the links in messages point
    ref = visa_case(ctx)
    ctx.clock.advance(days=1)  # type: ignore[attr-defined]
    arrive(ctx, ref)
    assert delivery.deliver(ctx).failed == 0
    [mail] = [m for m in inbox.to("wohnbau-nord@example.org") if m.subject == f"{ref} (Maricel): Eingereist"]
    [url] = LINK.findall(mail.text)
    assert url.startswith(desk.url + "/a/")

    count = desk.history_count()
    page.goto(url)
    second = page.context.new_page()  # the same mail opened twice (or a mail scanner before)
    second.goto(url)
    summary = page.locator("table.summary").inner_text()
    for shown in (ref, "Maricel", "Wohnbau Nord", "Wohnungsgeberbestätigung (§ 19 BMG)", "17.03.2026"):
        assert shown in summary
    assert desk.history_count() == count  # opening it twice changed nothing

    page.get_by_role("button", name="erledigt melden").click()
    assert "als erledigt gemeldet" in page.locator(".done").inner_text()
    ident = answer_links.read(url.rsplit("/", 1)[1], desk.key).id
    with ctx.db.reading() as session:
        rows = list(session.scalars(select(HistoryRecord).order_by(HistoryRecord.id)))[count:]
        due = session.scalars(select(DeadlineRecord).where(DeadlineRecord.deadline == ITEM)).one()
    assert [(r.action, r.actor_id, r.via, r.proof, r.request_id) for r in rows] == [
        ("done", "wohnbau-nord", "link", f"link:{ident}", f"link:{ident}")]
    assert due.closed_why == "done"

    before = desk.tables()
    second.get_by_role("button", name="erledigt melden").click()  # the form sent a second time
    assert "Bereits gemeldet am 03.03.2026" in second.locator(".done").inner_text()
    page.go_back()  # back to the form: the page is fetched again, and the link is used
    assert "bereits gemeldet am 03.03.2026" in page.locator(".problem").inner_text()
    assert desk.tables() == before and desk.history_count() == count + 1


def test_the_housing_company_reports_the_landlords_confirmation_with_one_click(
    desk: Served, page,  # type: ignore[no-untyped-def]
) -> None:
    ref = in_arrival(desk.ctx)
    url = desk.link(ref, ITEM, "wohnbau-nord")
    count = desk.history_count()

    page.goto(url)
    assert page.title() == "Erledigt melden – Lotse"
    summary = page.locator("table.summary").inner_text()
    for shown in (ref, "Maricel", "Wohnbau Nord", "Wohnungsgeberbestätigung (§ 19 BMG)", "17.03.2026"):
        assert shown in summary
    assert desk.history_count() == count  # opening changed nothing

    page.get_by_role("button", name="erledigt melden").click()
    page.wait_for_url(url)
    assert page.locator("h1").inner_text() == "Danke"
    assert "als erledigt gemeldet, am 02.03.2026" in page.locator(".done").inner_text()

    shown = case_file.case_file(desk.ctx, ref)
    assert ITEM in {i["id"] for i in shown["checklist"] if i["done"]}
    ident = link_id(desk, url)
    with desk.ctx.db.reading() as session:
        row = session.scalars(select(HistoryRecord).where(HistoryRecord.request_id == f"link:{ident}")).one()
        due = session.scalars(select(DeadlineRecord).where(DeadlineRecord.deadline == ITEM)).one()
    assert (row.action, row.actor_id, row.via, row.proof) == ("done", "wohnbau-nord", "link", f"link:{ident}")
    assert due.closed_at is not None and due.closed_why == "done"


def test_the_same_link_confirmed_in_a_second_tab_says_already_reported_and_changes_nothing(
    desk: Served, page,  # type: ignore[no-untyped-def]
) -> None:
    ref = in_arrival(desk.ctx)
    url = desk.link(ref, ITEM, "wohnbau-nord")
    second = page.context.new_page()
    page.goto(url)
    second.goto(url)

    page.get_by_role("button", name="erledigt melden").click()
    page.locator(".done").wait_for()
    count, before = desk.history_count(), desk.tables()
    second.get_by_role("button", name="erledigt melden").click()
    second.locator(".done").wait_for()

    assert "Bereits gemeldet am 02.03.2026" in second.locator(".done").inner_text()
    assert desk.history_count() == count and desk.tables() == before
    second.goto(url)  # and opened again: the link is used
    assert "bereits gemeldet am 02.03.2026" in second.locator(".problem").inner_text()
    assert second.get_by_role("button").count() == 0


def test_the_employer_enters_the_arrival_date_in_a_date_field(
    desk: Served, page,  # type: ignore[no-untyped-def]
) -> None:
    ref = visa_case(desk.ctx)
    url = desk.link(ref, "arrival_date", "klinik-nord", kind="fact")

    page.goto(url)
    field = page.get_by_label("Einreisedatum")
    assert field.get_attribute("type") == "date"
    field.fill("2026-04-01")
    page.get_by_role("button", name="eintragen").click()
    page.locator(".done").wait_for()

    assert "Einreisedatum ist für den Fall" in page.locator(".done").inner_text()
    assert case_file.case_file(desk.ctx, ref)["facts"]["arrival_date"] == "2026-04-01"


@pytest.mark.parametrize("name", ["<script>alert(1)</script>", "**fett** [klick](http://evil.example)"])
def test_a_given_name_with_markup_is_shown_as_its_text_and_runs_nothing(
    desk: Served, page, name: str,  # type: ignore[no-untyped-def]
) -> None:
    ref = in_arrival(desk.ctx, given_name=name)
    url = desk.link(ref, ITEM, "wohnbau-nord")

    page.goto(url)
    assert page.locator(".given-name").inner_text() == name
    page.get_by_role("button", name="erledigt melden").click()
    page.locator(".done").wait_for()
    assert page.locator(".given-name").inner_text() == name
    assert page.locator("a[href*='evil.example']").count() == 0
    assert page.locator("main script, main strong").count() == 0
    assert re.search(r"<script>alert", page.content()) is None
    # the page fixture fails the test if any dialog opened
