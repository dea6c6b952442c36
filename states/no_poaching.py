"""The alliance's no-poaching promise (Abwerbeverzicht): who may move a case to another employer
of the alliance, and when.

The period runs `months` (LOTSE_NO_POACHING_MONTHS, default 24) from the case's `arrival_date`:
the employer that recruited the person and paid for it keeps the worker that long, unless the
coordinator decides otherwise and says why (a note). Before the person has arrived (no
`arrival_date`, or one still ahead) the period has not started, yet the recruiting employer's
investment is at its highest: the same rules hold as inside it (coordinator and note). Outside
the period the new employer may move the case to itself, and the coordinator may move it without
a note. Pure: the caller passes the facts, the day and the actors.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from lotse.states.actor import Actor
from lotse.states.durations import add_months
from lotse.states.errors import BadInput, Refused

ARRIVAL_FACT = "arrival_date"
EMPLOYER = "employer"


@dataclass(frozen=True)
class Period:
    """Where a case stands in the period on one day."""

    arrived: dt.date | None  # None: not arrived yet (no arrival_date, or one after `today`)
    ends: dt.date | None  # the first day outside the period; None before the arrival
    inside: bool  # True inside the period and before the arrival

    @property
    def started(self) -> bool:
        return self.arrived is not None


def period(arrival: dt.date | None, today: dt.date, months: int) -> Period:
    """The period of a case that arrived on `arrival` (or has not), as it stands on `today`."""
    if arrival is None or arrival > today:
        return Period(None, None, True)
    ends = add_months(arrival, months)
    return Period(arrival, ends, today < ends)


def check_target(current: str, target: Actor) -> None:
    """The new employer is an employer of the alliance, and another one than the case has."""
    if EMPLOYER not in target.roles:
        roles = ", ".join(sorted(target.roles)) or "none"
        raise BadInput(f"--to {target.id}: it is not an employer (roles: {roles}); name an actor with "
                       "the employer role (`lotse actor list`)")
    if target.id == current:
        raise BadInput(f"--to {target.id}: the case's employer is {current} already; name another employer")


def check_author(author: Actor, target: Actor, ref: str, stand: Period, note: str | None) -> None:
    """Inside the period (or before the arrival) the coordinator, with a note; outside it the
    coordinator or the new employer itself. Refused (`Refused`) otherwise."""
    if stand.inside:
        when = (f"inside the no-poaching period (until {stand.ends.isoformat()})" if stand.ends
                else "before the arrival (the no-poaching period has not started)")
        if not author.is_coordinator:
            raise Refused(f"{ref} is {when}: only the coordinator moves it to another employer, with "
                          "--note saying why; nothing was written")
        if not (note or "").strip():
            raise Refused(f"{ref} is {when}: the coordinator moves it with --note saying why "
                          "(e.g. the employers agreed); nothing was written")
        return
    if not (author.is_coordinator or author.id == target.id):
        raise Refused(f"actor '{author.id}' may not move {ref} to {target.id}: outside the no-poaching "
                      "period the new employer itself or the coordinator does; nothing was written")
