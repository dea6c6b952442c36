"""Casework: command-line assignments parsed by the fact's type, one transaction per change, and
request ids that make a retried change harmless."""

from __future__ import annotations

import datetime as dt

import pytest

from lotse.config.settings import PACKAGED_PROCESS_DIR
from lotse.states import store
from lotse.states.errors import BadFactValue, BadInput, RequirementsMissing
from lotse.states.process import Catalog
from lotse.tasks import casework
from lotse.tasks.context import Context
from tests.conftest import Clock
from tests.regions import TWO_COUNTIES

PFLEGE = Catalog.load([PACKAGED_PROCESS_DIR]).get("pflege")


def test_assignments_split_at_the_first_equals_sign_and_trim_the_key() -> None:
    assert casework.parse_assignments(["withdraw_reason=left: pay=too low", " language_level =b2"]) == {
        "withdraw_reason": "left: pay=too low", "language_level": "b2"}
    assert casework.parse_assignments([]) == {}


@pytest.mark.parametrize("word", ["language_level", "=B2", " =B2", ""])
def test_a_word_without_a_key_and_an_equals_sign_is_bad_input(word: str) -> None:
    with pytest.raises(BadInput, match="is not KEY=VALUE"):
        casework.parse_assignments([word])


def test_a_fact_given_twice_is_bad_input() -> None:
    with pytest.raises(BadInput, match="'language_level' is given twice"):
        casework.parse_assignments(["language_level=B1", "language_level=B2"])


def test_values_are_parsed_by_their_facts_type() -> None:
    parsed = casework.parse_facts(PFLEGE, {
        "arrival_date": " 2027-03-01", "language_level": "b2", "accelerated_procedure": "ja",
        "recognition_path": "knowledge_exam", "nationality": "tun", "withdraw_reason": "moved",
    })
    assert parsed == {
        "arrival_date": dt.date(2027, 3, 1), "language_level": "B2", "accelerated_procedure": True,
        "recognition_path": "knowledge_exam", "nationality": "TUN", "withdraw_reason": "moved",
    }
    with pytest.raises(BadFactValue, match="has no fact 'Arrival_Date'"):
        casework.parse_facts(PFLEGE, {"Arrival_Date": "2027-03-01"})


def test_an_event_with_facts_is_one_transaction_at_one_moment(alliance: Context, clock: Clock) -> None:
    ref = casework.open_case(alliance, given_name="Lina", family_name="Gharbi", nationality="TUN",
                             employer="klinik-nord")
    clock.advance(days=3)
    result = casework.advance(alliance, ref, "withdraw", by="klinik-nord",
                              facts={"withdraw_category": "moved_away", "withdraw_reason": "went home"},
                              note="called the coordinator")
    assert (result["action"], result["from"], result["to"], result["version"]) == (
        "withdraw", "recruited", "withdrawn", 1)
    with alliance.db.reading() as session:
        rows = store.history(session, store.find_case(session, ref).id or 0)
    assert [(r.action, r.at) for r in rows[-2:]] == [("set", clock.now), ("withdraw", clock.now)]
    assert rows[-1].note == "called the coordinator" and rows[-2].detail == {
        "withdraw_category": "moved_away", "withdraw_reason": "went home"}


def test_a_refused_request_leaves_its_id_free_for_the_retry(alliance: Context) -> None:
    ref = casework.open_case(alliance, given_name="Lina", family_name="Gharbi", nationality="TUN",
                             employer="klinik-nord")
    with pytest.raises(RequirementsMissing):
        casework.advance(alliance, ref, "withdraw", by="klinik-nord", request_id="flow-run:7")
    retried = casework.advance(alliance, ref, "withdraw", by="klinik-nord", request_id="flow-run:7",
                               facts={"withdraw_category": "moved_away", "withdraw_reason": "went home"})
    assert retried["repeated"] is False and retried["stage"] == "withdrawn"


def test_a_case_takes_the_employers_region_unless_told_otherwise(alliance: Context) -> None:
    alliance.settings.regions_file = TWO_COUNTIES
    ref = casework.open_case(alliance, given_name="A", family_name="B", nationality="PHL",
                             employer="klinik-nord")
    other = casework.open_case(alliance, given_name="A", family_name="B", nationality="PHL",
                               employer="klinik-nord", region=" HL-Süd ")
    blank = casework.open_case(alliance, given_name="A", family_name="B", nationality="PHL",
                               employer="klinik-nord", region="  ")
    with alliance.db.reading() as session:
        assert store.find_case(session, ref).region == "SE-Nord"
        assert store.find_case(session, other).region == "HL-Süd"
        assert store.find_case(session, blank).region == "SE-Nord"
    assert other.startswith("HL-")
