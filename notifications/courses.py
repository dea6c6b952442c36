"""What language course groups tell whom: the school the cases assigned to its group or taken out
of it (one message per case, naming the group), and the coordinator a group that ended with
participants below its target level (once per group, naming the cases by reference only).

Called inside the transaction of the change, like notifications/dispatch.py, whose batch queues
the rows: a message about a case carries the case's id, so `lotse outbox --case`, the person's
export and an erasure find it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from lotse.config.settings import Settings
from lotse.notifications.dispatch import Batch
from lotse.notifications.routes import Address
from lotse.states.courses import LANGUAGE_SCHOOL, PACE_TITLES
from lotse.states.process import COORDINATOR
from lotse.states.records import ActorRecord, ActorRoleRecord, CaseRecord, CourseRecord, OutboxRecord

ASSIGNED = "course_assigned"
ENDED = "course_ended"
LEFT = "course_left"
ENDED_PREFIX = "course-ended:"  # the dedup key of a group's report: once per group and recipient


def group(course: CourseRecord, settings: Settings, school: str | None) -> dict[str, Any]:
    """A group as a message shows it."""
    paces = PACE_TITLES.get(settings.locale, PACE_TITLES["en"])
    return {"id": course.id, "level": course.level, "pace": course.pace, "pace_title": paces[course.pace],
            "start": course.start, "end": course.end, "place": course.place, "capacity": course.capacity,
            "school": school or course.school_id}


def on_assigned(
    session: Session, settings: Settings, course: CourseRecord, assigned: list[tuple[CaseRecord, int]],
    by: str, now: dt.datetime,
) -> int:
    """Queue to the group's school one message per case assigned (with its history row's id)."""
    return _to_school(session, settings, course, assigned, by, now, kind=ASSIGNED)


def on_left(
    session: Session, settings: Settings, course: CourseRecord, left: list[tuple[CaseRecord, int]],
    by: str, now: dt.datetime,
) -> int:
    """Queue to the group's school one message per case taken out of its group."""
    return _to_school(session, settings, course, left, by, now, kind=LEFT)


def _to_school(
    session: Session, settings: Settings, course: CourseRecord, cases: list[tuple[CaseRecord, int]],
    by: str, now: dt.datetime, *, kind: str,
) -> int:
    batch = Batch(session, settings, now)
    shown = group(course, settings, batch.actor_name(course.school_id))
    for record, history_id in cases:
        address = Address((LANGUAGE_SCHOOL,), record.region, course.school_id)
        batch.queue(record, address, f"h{history_id}:{address.recipient}", kind=kind, topic=None,
                    context={"course": shown, "by": batch.actor_name(by), "at": batch.today})
    return batch.write()


def reported(session: Session, course_id: str) -> bool:
    """Was the group's end reported before (to anyone)?"""
    prefix = f"{ENDED_PREFIX}{course_id}:"
    # `_` in an id is a LIKE wildcard: the prefix is compared exactly below.
    keys = session.scalars(select(OutboxRecord.dedup_key).where(
        OutboxRecord.dedup_key.like(f"{ENDED_PREFIX}%")))  # type: ignore[attr-defined]
    return any(key.startswith(prefix) for key in keys)


def on_ended_below_target(
    session: Session, settings: Settings, course: CourseRecord, below: list[str], now: dt.datetime,
) -> int:
    """Queue to the coordinators (of the school's region, or of the whole alliance) the report of
    a group that ended with `below` (case references) under its target level; once per group."""
    if reported(session, course.id):  # once per group: a coordinator added since gets none
        return 0
    batch = Batch(session, settings, now)
    school = session.get(ActorRecord, course.school_id)
    region = school.region if school is not None else None
    query = (
        select(ActorRecord.id)
        .join(ActorRoleRecord, ActorRoleRecord.actor_id == ActorRecord.id)
        .where(ActorRoleRecord.role == COORDINATOR)
        .order_by(ActorRecord.id)
    )
    if region is not None:
        query = query.where((ActorRecord.region == region) | (ActorRecord.region.is_(None)))  # type: ignore[union-attr]
    else:
        query = query.where(ActorRecord.region.is_(None))  # type: ignore[union-attr]
    coordinators = list(session.scalars(query))
    addresses = [Address((COORDINATOR,), region, a) for a in coordinators]
    addresses = addresses or [Address((COORDINATOR,), region)]
    shown = group(course, settings, batch.actor_name(course.school_id))
    for address in addresses:
        batch.queue(None, address, f"{ENDED_PREFIX}{course.id}:{address.recipient}", kind=ENDED, topic=None,
                    context={"course": shown, "below": below, "at": batch.today})
    return batch.write()
