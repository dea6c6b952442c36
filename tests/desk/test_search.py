"""Coordinators find cases by family name, given name or reference: prefix, case and accents
folded ("Muller" finds "Müller", "hadzic" finds "Hadžić"); signed in only; names with markup are
text on the page, in Chromium too."""

from __future__ import annotations

import logging

import pytest

from lotse.desk.security import RateLimit
from lotse.tasks import casework
from lotse.tasks.case_search import search
from lotse.tasks.context import Context
from tests.desk.conftest import Served
from tests.desk.coordinator import signed_in

SCRIPT = "<script>alert(1)</script>"
MARKDOWN = "**fett** [klick](http://evil.example)"


def open_case(ctx: Context, given: str, family: str) -> str:
    return casework.open_case(ctx, given_name=given, family_name=family, nationality="PHL",
                              employer="klinik-nord")


@pytest.fixture
def people(alliance: Context) -> dict[str, str]:
    names = [("Jana", "Müller"), ("Amra", "Hadžić"), ("Maria Luisa", "Dela Cruz"), ("Jan", "Muth"),
             ("Lena", "Großmann"), ("Pia", "100%_Sicher")]
    return {family: open_case(alliance, given, family) for given, family in names}


def found(ctx: Context, query: str) -> list[str]:
    return [c.family_name for c in search(ctx, query).cases]


def test_a_name_is_found_by_its_beginning_whatever_its_case_and_accents(
    alliance: Context, people: dict[str, str],
) -> None:
    assert found(alliance, "Muller") == found(alliance, "müller") == found(alliance, "MÜLLER") == ["Müller"]
    assert found(alliance, "hadzic") == found(alliance, "Hadž") == ["Hadžić"]
    assert found(alliance, "mu") == ["Müller", "Muth"]  # family, given, reference
    assert found(alliance, "grossm") == ["Großmann"]  # ß folds to ss
    assert found(alliance, "jana") == ["Müller"]
    assert found(alliance, "cruz") == found(alliance, "luisa") == ["Dela Cruz"]  # any part of a name
    assert found(alliance, "jan mül") == ["Müller"]  # each word begins one of the names
    assert found(alliance, "jan muth") == ["Muth"]
    assert found(alliance, "üller") == found(alliance, "") == found(alliance, "   ") == []


def test_a_case_is_found_by_its_reference(alliance: Context, people: dict[str, str]) -> None:
    ref = people["Hadžić"]
    assert found(alliance, ref.lower()) == ["Hadžić"]
    assert found(alliance, f" {ref} ") == ["Hadžić"]
    assert len(found(alliance, ref[:4])) == len(people)


def test_wildcards_in_a_search_are_plain_characters(alliance: Context, people: dict[str, str]) -> None:
    assert found(alliance, "%") == found(alliance, "_") == found(alliance, "m%r") == []
    assert found(alliance, "100%_") == ["100%_Sicher"]


def test_a_search_shows_at_most_50_cases_and_says_there_are_more(alliance: Context) -> None:
    for number in range(52):
        open_case(alliance, f"Kim {number:02d}", "Schmidt")
    result = search(alliance, "schmidt")
    assert len(result.cases) == 50 and result.more
    assert [c.given_name for c in result.cases][:2] == ["Kim 00", "Kim 01"]
    assert not search(alliance, "kim 5").more and len(search(alliance, "kim 5").cases) == 2


def test_a_result_names_the_stage_employer_and_region(alliance: Context, people: dict[str, str]) -> None:
    (case,) = search(alliance, "muller").cases
    assert (case.ref, case.given_name, case.family_name, case.stage_title, case.employer, case.region) == (
        people["Müller"], "Jana", "Müller", "Angeworben", "Klinik Nord", "SE-Nord")


def test_only_a_signed_in_coordinator_searches(desk: Served, people: dict[str, str]) -> None:
    anonymous = desk.client().get(f"{desk.url}/cases?q=muller")
    assert (anonymous.status_code, anonymous.headers["location"]) == (303, "/sign-in")
    assert "Müller" not in anonymous.text
    client = signed_in(desk)
    page = client.get(f"{desk.url}/cases", params={"q": "Muller"})
    assert page.status_code == 200 and "Müller" in page.text and people["Müller"] in page.text
    assert client.get(f"{desk.url}/").status_code == 200  # signed in: / is the search


def test_searching_is_rate_limited(desk: Served, people: dict[str, str]) -> None:
    desk.desk.limits["search"] = RateLimit(2, 60)
    client = signed_in(desk)
    statuses = [client.get(f"{desk.url}/cases", params={"q": "mu"}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_names_with_markup_are_text_on_the_search_page(
    desk: Served, page,  # type: ignore[no-untyped-def]
) -> None:
    ref = open_case(desk.ctx, SCRIPT, MARKDOWN)
    client = signed_in(desk)
    html = client.get(f"{desk.url}/cases", params={"q": "**fett"}).text
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="http://evil.example"' not in html
    page.context.add_cookies([{"name": "lotse_session", "value": client.cookies["lotse_session"],
                               "url": desk.url}])
    page.goto(f"{desk.url}/cases?q=**fett")
    row = page.locator("main tbody tr").first.inner_text()
    assert SCRIPT in row and MARKDOWN in row and ref in row
    assert page.locator("a[href='http://evil.example']").count() == 0
    assert page.locator("main strong").count() == 0


def test_a_search_and_the_names_it_finds_reach_no_log(
    desk: Served, people: dict[str, str], caplog: pytest.LogCaptureFixture,
) -> None:
    client = signed_in(desk)
    with caplog.at_level(logging.DEBUG):
        page = client.get(f"{desk.url}/cases", params={"q": "Hadž"})
        client.get(f"{desk.url}/cases/{people['Hadžić']}")
    assert "Hadžić" in page.text
    server = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(("lotse", "uvicorn")))
    assert "/cases" in server  # the access log wrote its lines (the client's own log is not the server's)
    for secret in ("Had", "had", "Amra", "q="):
        assert secret not in server
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
