"""A case's language course groups and exam results, as its case file shows them (`lotse case show`,
the person's export; docs/courses.md).

Read only: assigning, taking out and their messages are tasks/courses.py, which a case file need not
import.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from lotse.states import tables
from lotse.states.moments import iso


def of_case(session: Session, case_id: int) -> dict[str, list[dict[str, Any]]]:
    """The groups the case is in, soonest start first, and its exam results, oldest first."""
    # Core tables, as `case list` reads: no class built, no objects built to be thrown away.
    courses, members = tables.courses, tables.course_members
    c, m, e = courses.c, members.c, tables.exam_results.c
    assigned = session.execute(
        select(c.id, c.school_id, c.level, c.pace, c.start, c.end, c.place, m.assigned_at)
        .select_from(courses.join(members, m.course_id == c.id))
        .where(m.case_id == case_id)
        .order_by(c.start, c.id)
    ).all()
    results = session.execute(
        select(e.level, e.exam, e.taken_on, e.passed, e.recorded_by)
        .where(e.case_id == case_id)
        .order_by(e.taken_on, e.id)
    ).all()
    return {
        "courses": [{"id": g.id, "school": g.school_id, "level": g.level, "pace": g.pace,
                     "start": g.start.isoformat(), "end": g.end.isoformat(), "place": g.place,
                     "assigned_at": iso(g.assigned_at)} for g in assigned],
        "exams": [{"level": r.level, "exam": r.exam, "date": r.taken_on.isoformat(), "passed": r.passed,
                   "recorded_by": r.recorded_by} for r in results],
    }
