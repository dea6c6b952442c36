"""Language course groups: a coordinator adds a school's group, the coordinator or that school
assigns cases to it, and everyone lists the groups with their free places.

Assigning is all or nothing, in one transaction: the member rows, one history row per case
(`course_assign`, the group's id in its detail, no names) and the message to the school naming
the group and each case (notifications/courses.py). A group never takes more cases than its
capacity; a case is in one group at a time (states/courses.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from lotse.notifications import courses as course_messages
from lotse.states import courses as rules
from lotse.states import facts as fact_kinds
from lotse.states import limits, scope, store
from lotse.states.actor import Actor
from lotse.states.courses import LANGUAGE_SCHOOL
from lotse.states.errors import BadInput, NotFound, Refused, RoleMissing
from lotse.states.process import COORDINATOR
from lotse.states.records import ActorRecord, CaseRecord, CourseMemberRecord, CourseRecord, HistoryRecord
from lotse.tasks.context import VIA, Context

ASSIGN = "course_assign"  # the history action of a case assigned to a group
UNASSIGN = "course_unassign"  # ... and of one taken out of it


def parse_day(text: str, option: str) -> dt.date:
    try:
        return fact_kinds.parse_date(text)
    except ValueError:
        raise BadInput(f"{option} is not {fact_kinds.expected('date')}") from None


def add_course(
    ctx: Context, course_id: str, *, school: str, level: str, pace: str, start: str, end: str,
    capacity: int | None = None, place: str | None = None, by: str,
) -> dict[str, Any]:
    """Add a course group; only the coordinator. Every value is checked before anything is written."""
    rules.check_id(course_id)
    target = rules.check_level(level)
    speed = rules.check_pace(pace)
    first, last = parse_day(start, "--start"), parse_day(end, "--end")
    if last <= first:
        raise BadInput(f"--end ({last.isoformat()}) must be after --start ({first.isoformat()})")
    if capacity is not None:
        limits.check_number("--capacity", capacity, low=1)
    where = None
    if place is not None:
        where = place.strip()
        if not where:
            raise BadInput("--place is empty; leave it out or name the place")
        limits.check_length("--place", where, rules.PLACE)
        rules.check_line("--place", where)
    with ctx.db.writing() as session:
        author = store.get_actor(session, by)
        if not author.is_coordinator:
            raise RoleMissing(author.id, "add a course group", [COORDINATOR])
        provider = store.get_actor(session, school, bind=True)
        if LANGUAGE_SCHOOL not in provider.roles:
            raise Refused(f"actor '{provider.id}' is not a language school (roles: "
                          f"{', '.join(sorted(provider.roles))}); give --school an actor with the role "
                          f"{LANGUAGE_SCHOOL}")
        if session.get(CourseRecord, course_id) is not None:
            raise Refused(f"course group '{course_id}' exists already; see `lotse course list`")
        record = CourseRecord(
            id=course_id, school_id=provider.id, level=target, pace=speed, start=first, end=last,
            capacity=capacity, place=where, created_at=ctx.clock(), created_by=author.id, proof=ctx.proof,
        )
        session.add(record)
        session.flush()
        return _shown(record, 0)


def list_courses(ctx: Context) -> list[dict[str, Any]]:
    """Every group, soonest start first: school, level, pace, dates, place, participants, free places."""
    with ctx.db.reading() as session:
        counts = dict(session.execute(
            select(CourseMemberRecord.course_id, func.count()).group_by(CourseMemberRecord.course_id)
        ).all())
        records = session.scalars(select(CourseRecord).order_by(CourseRecord.start, CourseRecord.id)).all()
        return [_shown(r, counts.get(r.id, 0)) for r in records]


def _shown(record: CourseRecord, participants: int) -> dict[str, Any]:
    free = None if record.capacity is None else record.capacity - participants
    return {
        "id": record.id, "school": record.school_id, "level": record.level, "pace": record.pace,
        "start": record.start.isoformat(), "end": record.end.isoformat(), "place": record.place,
        "capacity": record.capacity, "participants": participants, "free": free,
    }


def assign(ctx: Context, course_id: str, refs: list[str], *, by: str, via: str = "cli") -> dict[str, Any]:
    """Assign cases to a group, all or nothing: by the coordinator, or by the group's own school
    for the cases it may act on."""
    wanted = _named(refs, via)
    now = ctx.clock()
    with ctx.db.writing() as session:
        course, author = _group_and_author(session, course_id, by, "assign cases to")
        school = session.get(ActorRecord, course.school_id)
        if school is None or school.removed_at is not None:  # it would be told of the cases assigned
            raise Refused(f"course group '{course.id}' belongs to {course.school_id}, which was taken out of "
                          "the directory; nothing was assigned. Add a group of another school "
                          "(`lotse course add`)")
        records = [store.find_case(session, ref, lock=True) for ref in sorted(wanted)]
        for record in records:
            _check_case(ctx, session, author, record, course)
        members = session.scalar(select(func.count()).select_from(CourseMemberRecord).where(
            CourseMemberRecord.course_id == course.id)) or 0
        if course.capacity is not None and members + len(records) > course.capacity:
            free = course.capacity - members
            raise Refused(f"course group '{course.id}' has {free} free place(s) of {course.capacity}, "
                          f"and {len(records)} case(s) were named; nothing was assigned")
        rows = []
        for record in records:
            session.add(CourseMemberRecord(course_id=course.id, case_id=record.id or 0, assigned_at=now,
                                           assigned_by=author.id))
            rows.append(HistoryRecord(
                case_id=record.id or 0, at=now, action=ASSIGN, from_stage=record.stage, to_stage=record.stage,
                actor_id=author.id, via=via, detail={"course": course.id}, proof=ctx.proof,
            ))
            session.add(rows[-1])
        session.flush()
        queued = course_messages.on_assigned(
            session, ctx.settings, course, [(r, h.id or 0) for r, h in zip(records, rows, strict=True)],
            author.id, now,
        )
        total = members + len(records)
        return {"course": course.id, "assigned": [r.ref for r in records], "participants": total,
                "free": None if course.capacity is None else course.capacity - total, "messages": queued}


def unassign(ctx: Context, course_id: str, refs: list[str], *, by: str, via: str = "cli") -> dict[str, Any]:
    """Take cases out of a group (a mistake, or a person who left the course), all or nothing: by
    the coordinator or the group's school. A closed case may leave too: its place is free again.
    One history row per case (`course_unassign`); the school is told unless it did it itself."""
    wanted = _named(refs, via)
    now = ctx.clock()
    with ctx.db.writing() as session:
        course, author = _group_and_author(session, course_id, by, "take cases out of")
        records = [store.find_case(session, ref, lock=True) for ref in sorted(wanted)]
        members = []
        for record in records:
            member = session.get(CourseMemberRecord, (course.id, record.id))
            if member is None:
                raise Refused(f"{record.ref} is not in course group '{course.id}'; nothing was changed")
            members.append(member)
        rows = []
        for record, member in zip(records, members, strict=True):
            session.delete(member)
            rows.append(HistoryRecord(
                case_id=record.id or 0, at=now, action=UNASSIGN, from_stage=record.stage,
                to_stage=record.stage, actor_id=author.id, via=via, detail={"course": course.id},
                proof=ctx.proof,
            ))
            session.add(rows[-1])
        session.flush()
        queued = 0 if author.id == course.school_id else course_messages.on_left(
            session, ctx.settings, course, [(r, h.id or 0) for r, h in zip(records, rows, strict=True)],
            author.id, now,
        )
        left = session.scalar(select(func.count()).select_from(CourseMemberRecord).where(
            CourseMemberRecord.course_id == course.id)) or 0
        return {"course": course.id, "unassigned": [r.ref for r in records], "participants": left,
                "free": None if course.capacity is None else course.capacity - left, "messages": queued}


def _named(refs: list[str], via: str) -> list[str]:
    """The references of a command, each once."""
    if via not in VIA:
        raise BadInput(f"unknown entry point '{via}'; one of {', '.join(VIA)}")
    if not refs:
        raise BadInput("name at least one case")
    wanted = [ref.strip().upper() for ref in refs]
    if twice := sorted({ref for ref in wanted if wanted.count(ref) > 1}):
        raise BadInput(f"{', '.join(twice)} is named twice; name each case once")
    return wanted


def _group_and_author(session: Session, course_id: str, by: str, doing: str) -> tuple[CourseRecord, Actor]:
    """The group, locked (its places are counted under the lock), and an author who may change it."""
    query = select(CourseRecord).where(CourseRecord.id == course_id).with_for_update()
    course = session.scalars(query).first()
    if course is None:
        raise NotFound(f"unknown course group '{course_id}'; see `lotse course list`")
    author = store.get_actor(session, by)
    if not (author.is_coordinator or author.id == course.school_id):
        raise Refused(f"actor '{author.id}' may not {doing} course group '{course.id}': "
                      f"only the coordinator or the group's school ({course.school_id}) may")
    return course, author


def _check_case(
    ctx: Context, session: Session, author: Actor, record: CaseRecord, course: CourseRecord,
) -> None:
    """May this case join this group: one of the author's, open, in no group at the same time?"""
    check_scope(ctx, session, author, record)
    if ctx.catalog.get(record.process, record.process_version).is_final(record.stage):
        raise Refused(f"{record.ref} is closed (stage '{record.stage}'); nothing was assigned")
    query = (
        select(CourseRecord)
        .join(CourseMemberRecord, CourseMemberRecord.course_id == CourseRecord.id)
        .where(CourseMemberRecord.case_id == record.id)
    )
    for other in session.scalars(query):
        if other.id == course.id:
            raise Refused(f"{record.ref} is in course group '{course.id}' already; nothing was assigned")
        if rules.overlaps(course.start, course.end, other.start, other.end):
            raise Refused(
                f"{record.ref} is in course group '{other.id}' ({other.start.isoformat()} to "
                f"{other.end.isoformat()}), whose dates overlap; a case is in one group at a time. "
                "Nothing was assigned"
            )


def check_scope(ctx: Context, session: Session, actor: Actor, record: CaseRecord) -> None:
    """Refuse an actor the case does not belong to (states/scope.py), as every change does."""
    scope.check(actor, ref=record.ref, employer=record.employer_id, region=record.region,
                opener=lambda: store.opener(session, record), regions=ctx.regions)


def in_group_of(session: Session, school: str, case_id: int) -> bool:
    """Is the case in a group of this school? (The school is named on the case.)"""
    query = (
        select(CourseRecord.id)
        .join(CourseMemberRecord, CourseMemberRecord.course_id == CourseRecord.id)
        .where(CourseMemberRecord.case_id == case_id, CourseRecord.school_id == school)
        .limit(1)
    )
    return session.scalars(query).first() is not None

