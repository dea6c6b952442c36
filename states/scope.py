"""Scope: on which cases an actor may act at all. Roles say what it may do there.

- The coordinator acts on every case.
- An employer acts on its own cases (the case's employer).
- Every other role (agency, foreigners_office, recognition_office, language_school, housing,
  counsellor, ...) acts on the cases of its region (an actor without a region serves the whole
  alliance) and on the cases it is named on: the ones it opened, e.g. the agency that placed the
  person.

An actor that is only an employer is never admitted by region: a care home sees no other home's
cases. Pure: the caller says who opened the case, and is asked only when region and employer do
not admit the actor already, so the usual change costs no extra query.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from lotse.states.actor import Actor
from lotse.states.errors import NotYours

EMPLOYER = "employer"
AGENCY = "agency"


def covers(actor_region: str | None, case_region: str) -> bool:
    """Does an actor of `actor_region` serve a case of `case_region`? No region: every case.
    (The region hierarchy extends this to the regions below the actor's.)"""
    return actor_region is None or actor_region == case_region


def by_standing(actor: Actor, *, employer: str, region: str) -> bool:
    """Admitted without looking at the case's history: the coordinator, the case's employer, or
    an actor in a role besides employer whose region covers the case's."""
    if actor.is_coordinator or actor.id == employer:
        return True
    return _serves_by_region(actor) and covers(actor.region, region)


def belongs(actor: Actor, *, employer: str, region: str, opener: Callable[[], str | None]) -> bool:
    """May the actor act on this case at all? `opener` tells who opened the case (its `open`
    history row); it is called only when standing alone does not admit the actor."""
    if by_standing(actor, employer=employer, region=region):
        return True
    return _serves_by_region(actor) and opener() == actor.id


def check(actor: Actor, *, ref: str, employer: str, region: str, opener: Callable[[], str | None]) -> None:
    """Refuse (`NotYours`) an actor the case does not belong to."""
    if not belongs(actor, employer=employer, region=region, opener=opener):
        raise NotYours(actor.id, ref, employer=employer, region=region,
                       employer_only=not _serves_by_region(actor))


def as_on_case(actor: Actor, *, employer: str) -> Actor:
    """The actor with the roles it holds on this case: on another employer's case an actor that
    is also an employer acts in its other roles only (a care home that also lets flats ticks no
    other home's employer items)."""
    if actor.is_coordinator or actor.id == employer or EMPLOYER not in actor.roles:
        return actor
    return replace(actor, roles=actor.roles - {EMPLOYER})


def may_open(actor: Actor, *, employer: str, region: str) -> bool:
    """May the actor open a case of this employer in this region? The coordinator any; an
    employer its own; an agency any employer's case of its region (all, without a region)."""
    if actor.is_coordinator or actor.id == employer:
        return True
    return AGENCY in actor.roles and covers(actor.region, region)


def _serves_by_region(actor: Actor) -> bool:
    return bool(actor.roles - {EMPLOYER})
