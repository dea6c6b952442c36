"""Scope: on which cases an actor may act at all. Roles say what it may do there.

- The coordinator acts on every case.
- An employer acts on its own cases (the case's employer).
- Every other role (agency, foreigners_office, recognition_office, language_school, housing,
  counsellor, ...) acts on the cases of its region and of the regions it serves (`actor_regions`),
  each with the regions below it in the hierarchy (states/regions.py: a county's counsellor serves
  every town of the county, a town's counsellor no other town); an actor without a region and
  without regions served serves the whole alliance. It also acts on the cases it is named on: the
  ones it opened, e.g. the agency that placed the person.

An actor that is only an employer is never admitted by region: a care home sees no other home's
cases. Pure: the caller says who opened the case, and is asked only when region and employer do
not admit the actor already, so the usual change costs no extra query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from lotse.states.actor import Actor
from lotse.states.errors import NotYours
from lotse.states.regions import FLAT, Regions

EMPLOYER = "employer"
AGENCY = "agency"


def covers(actor_region: str | None, case_region: str, regions: Regions = FLAT,
           serves: Iterable[str] = ()) -> bool:
    """Does an actor of `actor_region`, serving `serves` besides, serve a case of `case_region`?
    Each region it serves includes the regions below it; no region and none served: every case."""
    area = set(serves) | ({actor_region} if actor_region else set())
    return not area or bool(area.intersection(regions.chain(case_region)))


def by_standing(actor: Actor, *, employer: str, region: str, regions: Regions = FLAT) -> bool:
    """Admitted without looking at the case's history: the coordinator, the case's employer, or
    an actor in a role besides employer whose regions cover the case's."""
    if actor.is_coordinator or actor.id == employer:
        return True
    return _serves_by_region(actor) and covers(actor.region, region, regions, actor.serves)


def belongs(actor: Actor, *, employer: str, region: str, opener: Callable[[], str | None],
            regions: Regions = FLAT) -> bool:
    """May the actor act on this case at all? `opener` tells who opened the case (its `open`
    history row); it is called only when standing alone does not admit the actor."""
    if by_standing(actor, employer=employer, region=region, regions=regions):
        return True
    return _serves_by_region(actor) and opener() == actor.id


def check(actor: Actor, *, ref: str, employer: str, region: str, opener: Callable[[], str | None],
          regions: Regions = FLAT) -> None:
    """Refuse (`NotYours`) an actor the case does not belong to."""
    if not belongs(actor, employer=employer, region=region, opener=opener, regions=regions):
        raise NotYours(actor.id, ref, employer=employer, region=region,
                       employer_only=not _serves_by_region(actor))


def as_on_case(actor: Actor, *, employer: str) -> Actor:
    """The actor with the roles it holds on this case: on another employer's case an actor that
    is also an employer acts in its other roles only (a care home that also lets flats ticks no
    other home's employer items)."""
    if actor.is_coordinator or actor.id == employer or EMPLOYER not in actor.roles:
        return actor
    return replace(actor, roles=actor.roles - {EMPLOYER})


def may_open(actor: Actor, *, employer: str, region: str, regions: Regions = FLAT) -> bool:
    """May the actor open a case of this employer in this region? The coordinator any; an
    employer its own; an agency any employer's case of the regions it serves (all, without)."""
    if actor.is_coordinator or actor.id == employer:
        return True
    return AGENCY in actor.roles and covers(actor.region, region, regions, actor.serves)


def _serves_by_region(actor: Actor) -> bool:
    return bool(actor.roles - {EMPLOYER})
