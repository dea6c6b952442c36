"""The language course report: per group and per pace, how many took part, how many reached the
target level, and the median weeks from the group's start to a passed B1 and to a passed B2
(states/courses.py says how each is counted). A group that has ended with open cases below its
target lists them, and the daily check reports it to the coordinator, once per group.

Cases are named by reference only: the report goes to the command line and, without the
references, to the Prefect UI (the `language-courses` table of the pipeline report).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from lotse.notifications import courses as course_messages
from lotse.states import courses as rules
from lotse.states.courses import Exam
from lotse.states.records import CaseRecord, CourseMemberRecord, CourseRecord, ExamRecord
from lotse.tasks import deadlines
from lotse.tasks.context import Context

B1, B2 = "B1", "B2"


@dataclass
class _Group:
    course: CourseRecord
    members: list[tuple[str, bool, list[Exam]]] = field(default_factory=list)  # ref, closed, exams


def report(ctx: Context, as_of: dt.date | None = None) -> dict[str, Any]:
    """The figures per group and per pace on `as_of` (default: today); exams after it do not count."""
    day = as_of or deadlines.today(ctx)
    with ctx.db.reading() as session:
        groups = _groups(ctx, session)
    rows = [_figures(g.course, g.members, day) for g in groups]
    paces = []
    for pace in rules.PACES:
        of_pace = [g for g in groups if g.course.pace == pace]
        if not of_pace:
            continue
        members = [(g.course, m) for g in of_pace for m in g.members]
        paces.append({
            "pace": pace, "groups": len(of_pace), "participants": len(members),
            "reached": sum(rules.reached(m[2], c.level, until=day) for c, m in members),
            **_medians([(c.start, m[2]) for c, m in members], day),
        })
    return {"as_of": day.isoformat(), "groups": rows, "paces": paces}


def ended_below_target(
    ctx: Context, as_of: dt.date | None = None, *, dry_run: bool = False,
) -> list[dict[str, Any]]:
    """Every group ended by `as_of` (its end date or later) with open cases below its target,
    not reported before; queue one message to the coordinator each, unless `dry_run`."""
    day = as_of or deadlines.today(ctx)
    now = ctx.clock()
    session_of = ctx.db.reading if dry_run else ctx.db.writing
    found = []
    with session_of() as session:
        for g in _groups(ctx, session, ended_by=day):
            below = _below(g.course, g.members, day)
            if not below or course_messages.reported(session, g.course.id):
                continue
            queued = 0 if dry_run else course_messages.on_ended_below_target(
                session, ctx.settings, g.course, below, now)
            found.append({"course": g.course.id, "level": g.course.level, "end": g.course.end.isoformat(),
                          "below": below, "queued": queued})
    return found


def table(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The report as one table without case references (the Prefect artifact): a row per group,
    then a row per pace."""
    keep = ("participants", "reached", "passed_b1", "median_weeks_to_b1", "passed_b2", "median_weeks_to_b2")
    rows = [{"group": g["id"], "pace": g["pace"], "level": g["level"], "school": g["school"],
             "start": g["start"], "end": g["end"], "below_target": len(g["below_target"]),
             **{k: g[k] for k in keep}} for g in data["groups"]]
    rows += [{"group": f"(all {p['groups']} {p['pace']})", "pace": p["pace"], "level": "", "school": "",
              "start": "", "end": "", "below_target": "", **{k: p[k] for k in keep}} for p in data["paces"]]
    return rows


def _groups(ctx: Context, session: Session, ended_by: dt.date | None = None) -> list[_Group]:
    """The groups with their members' references, whether each case is closed, and its exams."""
    query = select(CourseRecord).order_by(CourseRecord.start, CourseRecord.id)
    if ended_by is not None:
        query = query.where(CourseRecord.end <= ended_by)
    groups = {c.id: _Group(c) for c in session.scalars(query)}
    if not groups:
        return []
    members = session.execute(
        select(CourseMemberRecord.course_id, CaseRecord.id, CaseRecord.ref, CaseRecord.process,
               CaseRecord.process_version, CaseRecord.stage)
        .join(CaseRecord, CaseRecord.id == CourseMemberRecord.case_id)
        .where(CourseMemberRecord.course_id.in_(list(groups)))  # type: ignore[attr-defined]
        .order_by(CaseRecord.ref)
    ).all()
    exams: dict[int, list[Exam]] = defaultdict(list)
    case_ids = sorted({m[1] for m in members})
    for start in range(0, len(case_ids), 500):
        for row in session.scalars(select(ExamRecord).where(
                ExamRecord.case_id.in_(case_ids[start:start + 500]))):  # type: ignore[attr-defined]
            exams[row.case_id].append(Exam(row.level, row.taken_on, row.passed))
    for course_id, case_id, ref, process, version, stage in members:
        closed = ctx.catalog.get(process, version).is_final(stage)
        groups[course_id].members.append((ref, closed, exams[case_id]))
    return list(groups.values())


Members = list[tuple[str, bool, list[Exam]]]  # reference, closed, exams


def _figures(course: CourseRecord, members: Members, day: dt.date) -> dict[str, Any]:
    return {
        "id": course.id, "school": course.school_id, "level": course.level, "pace": course.pace,
        "start": course.start.isoformat(), "end": course.end.isoformat(), "ended": course.end <= day,
        "participants": len(members),
        "reached": sum(rules.reached(exams, course.level, until=day) for _, _, exams in members),
        "below_target": _below(course, members, day),
        **_medians([(course.start, exams) for _, _, exams in members], day),
    }


def _below(course: CourseRecord, members: Members, day: dt.date) -> list[str]:
    """The open cases of an ended group that have not passed its target level by `day`."""
    if course.end > day:
        return []
    return [ref for ref, closed, exams in members
            if not closed and not rules.reached(exams, course.level, until=day)]


def _medians(started: list[tuple[dt.date, list[Exam]]], day: dt.date) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for level in (B1, B2):
        days = []
        for start, exams in started:
            if rules.reached(exams, level, until=start - dt.timedelta(days=1)):
                continue  # brought along: not the group's doing
            passed = rules.first_pass(exams, level, since=start, until=day)
            if passed is not None:
                days.append((passed - start).days)
        found[f"passed_{level.lower()}"] = len(days)
        found[f"median_weeks_to_{level.lower()}"] = rules.median_weeks(days)
    return found
