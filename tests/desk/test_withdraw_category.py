"""The desk's case page offers the withdrawal's category as a choice (pflege v2, docs/attrition.md):
a withdrawal without one is refused with what it lacks and changes nothing; with one the case is
withdrawn by the signed-in coordinator, the category recorded and the free note optional."""

from __future__ import annotations

import re

from lotse.tasks import case_file, casework
from tests.desk.conftest import Served
from tests.desk.coordinator import signed_in
from tests.desk.test_case_page import one_line, post, unchanged

CATEGORIES = ["homesickness", "family", "housing", "recognition_failed", "health", "moved_away",
              "changed_employer", "other"]


def opened(desk: Served) -> str:
    return casework.open_case(desk.ctx, given_name="Jana", family_name="Müller", nationality="PHL",
                              employer="klinik-nord")


def test_the_case_page_offers_every_category_as_a_choice(desk: Served) -> None:
    ref = opened(desk)
    html = signed_in(desk).get(f"{desk.url}/cases/{ref}").text
    found = re.search(r'<select id="[^"]*" name="fact:withdraw_category">(.*?)</select>', html, re.S)
    assert found, "no choice for the category"
    assert re.findall(r'<option value="([^"]+)"', found.group(1)) == CATEGORIES
    assert "Abbruch: Kategorie" in html


def test_a_withdrawal_without_a_category_is_refused_and_with_one_it_is_done(desk: Served) -> None:
    ref = opened(desk)
    client = signed_in(desk)
    before = unchanged(desk)

    refused = post(desk, client, ref, {"event": "withdraw", "fact:withdraw_reason": "Heimweh"})

    assert refused.status_code == 409
    assert "Abbruch: Kategorie" in one_line(refused.text)
    assert unchanged(desk) == before
    done = post(desk, client, ref, {"event": "withdraw", "fact:withdraw_category": "housing"})
    assert done.status_code == 303
    shown = case_file.case_file(desk.ctx, ref)
    assert shown["stage"] == "withdrawn" and shown["facts"]["withdraw_category"] == "housing"
    assert "withdraw_reason" not in shown["facts"]
    assert (shown["history"][-1]["action"], shown["history"][-1]["via"]) == ("withdraw", "desk")
