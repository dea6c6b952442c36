"""Scope, the pure rule: which cases an actor may act on at all, and for whom it may open one."""

from __future__ import annotations

import pytest

from lotse.states import scope
from lotse.states.actor import Actor
from lotse.states.errors import NotYours

CASE = {"employer": "klinik-nord", "region": "SE-Nord"}


def actor(actor_id: str, *roles: str, region: str | None = None) -> Actor:
    return Actor(actor_id, actor_id, frozenset(roles), region)


def never() -> str | None:
    raise AssertionError("the opener was looked up, though standing alone decided")


def test_no_region_serves_the_whole_alliance_and_a_region_its_own() -> None:
    assert scope.covers(None, "SE-Nord") and scope.covers("SE-Nord", "SE-Nord")
    assert not scope.covers("SE-Sued", "SE-Nord")


@pytest.mark.parametrize("who", [
    actor("koord", "coordinator"),
    actor("koord-sued", "coordinator", region="SE-Sued"),
    actor("klinik-nord", "employer", region="HL-Süd"),  # its own case, wherever the case is
    actor("wohnbau-nord", "housing", region="SE-Nord"),
    actor("anerkennung", "recognition_office"),  # no region: the whole alliance
])
def test_the_coordinator_the_cases_employer_and_the_regions_organisations_stand_without_a_lookup(
    who: Actor,
) -> None:
    assert scope.belongs(who, **CASE, opener=never)


def test_another_employer_is_never_admitted_by_region_nor_asked_who_opened_the_case() -> None:
    klinik = actor("klinik-sued", "employer", region="SE-Nord")
    assert not scope.belongs(klinik, **CASE, opener=never)
    with pytest.raises(NotYours) as refused:
        scope.check(klinik, ref="SE-2026-0003", **CASE, opener=never)
    assert str(refused.value) == ("actor 'klinik-sued' may not act on SE-2026-0003: the case is of employer "
                                  "klinik-nord, and an employer acts on its own cases only")


def test_an_organisation_of_another_region_acts_only_where_it_is_named_on_the_case() -> None:
    agency = actor("vermittlung-sued", "agency", region="SE-Sued")
    assert scope.belongs(agency, **CASE, opener=lambda: "vermittlung-sued")
    assert not scope.belongs(agency, **CASE, opener=lambda: "vermittlung")
    assert not scope.belongs(agency, **CASE, opener=lambda: None)


def test_the_refusal_names_the_region_the_employer_and_that_the_actor_is_not_named_on_it() -> None:
    housing = actor("wohnbau-sued", "housing", region="SE-Sued")
    with pytest.raises(NotYours) as refused:
        scope.check(housing, ref="SE-2026-0003", employer="klinik-seeblick", region="SE-Nord",
                    opener=lambda: "vermittlung")
    assert str(refused.value) == ("actor 'wohnbau-sued' may not act on SE-2026-0003: the case is of region "
                                  "SE-Nord and employer klinik-seeblick, and wohnbau-sued is not named on it")
    assert refused.value.exit_code == 1


def test_on_another_employers_case_an_actor_acts_without_its_employer_role() -> None:
    both = actor("klinik-wohnen", "employer", "housing", region="SE-Nord")
    assert scope.belongs(both, **CASE, opener=never)  # by region, as a housing company
    assert scope.as_on_case(both, employer="klinik-nord").roles == {"housing"}
    assert scope.as_on_case(both, employer="klinik-wohnen") is both
    koord = actor("koord", "coordinator", "employer")
    assert scope.as_on_case(koord, employer="klinik-nord") is koord


@pytest.mark.parametrize(("who", "employer", "region", "allowed"), [
    (actor("koord", "coordinator"), "klinik-nord", "HL-Süd", True),
    (actor("klinik-nord", "employer", region="SE-Nord"), "klinik-nord", "HL-Süd", True),
    (actor("klinik-sued", "employer", region="SE-Nord"), "klinik-nord", "SE-Nord", False),
    (actor("vermittlung", "agency", region="SE-Nord"), "klinik-nord", "SE-Nord", True),
    (actor("vermittlung", "agency", region="SE-Nord"), "klinik-sued", "SE-Sued", False),
    (actor("vermittlung", "agency"), "klinik-sued", "SE-Sued", True),
    (actor("klinik-vermittlung", "employer", "agency", region="SE-Nord"), "klinik-nord", "SE-Nord", True),
    (actor("wohnbau-nord", "housing", region="SE-Nord"), "klinik-nord", "SE-Nord", False),
])
def test_who_may_open_a_case_for_which_employer_and_region(
    who: Actor, employer: str, region: str, allowed: bool,
) -> None:
    assert scope.may_open(who, employer=employer, region=region) is allowed
