"""Language course groups and exam results, as rules: what a group's id, level and pace may be,
when a participant has reached a level, and how long it took. Pure: no database, no Prefect.

A group is a language school's course to a target level (A1..C2) at a pace (`fast`,
`standard`, `slow`: the Vogtland alliance's separate groups for fast and slow learners), with a
start and an end date, optionally a capacity and a place. A case is in one group at a time: it may
join several groups one after the other (a B1 group, then a B2 group), but never two whose dates
overlap.

A level is reached by a passed exam at that level or above (a passed B2 proves B1 as well). The
weeks "to B1" and "to B2" of a participant count from the group's start to the first such exam
taken on or after that start; a participant who had passed the level before the start is not
counted for it: a level the person brought along is not the group's doing.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from lotse.states.errors import BadInput
from lotse.states.facts import CEFR_LEVELS

LANGUAGE_SCHOOL = "language_school"  # the role a group belongs to, and its messages go to
PACES = ("fast", "standard", "slow")
PACE_TITLES = {
    "de": {"fast": "schnell", "standard": "normal", "slow": "langsam"},
    "en": {"fast": "fast", "standard": "standard", "slow": "slow"},
}
# Like an actor's id: it appears in messages, reports and Prefect artifacts.
_ID = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
ID_RULE = "use lower case letters, digits, '-', '_' or '.', at most 64 characters (e.g. b2-fast-2027-1)"
PLACE = 200  # the width of `courses.place`
EXAM = 200  # the width of `exam_results.exam`


def check_id(course_id: str) -> str:
    if not _ID.fullmatch(course_id):
        raise BadInput(f"course id '{course_id[:64]}': {ID_RULE}")
    return course_id


def check_line(option: str, text: str) -> str:
    """One line of text: a line break or another control character is refused (it would break
    a table, a message's subject, a log line), naming the option, never the value."""
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in text):
        raise BadInput(f"{option} holds a line break or another control character; give one line of text")
    return text


def check_level(text: str, option: str = "--level") -> str:
    level = text.strip().upper()
    if level not in CEFR_LEVELS:
        raise BadInput(f"{option} must be a CEFR level: {', '.join(CEFR_LEVELS)}")
    return level


def check_pace(text: str) -> str:
    pace = text.strip().lower()
    if pace not in PACES:
        raise BadInput(f"--pace must be one of {', '.join(PACES)}")
    return pace


def rank(level: str) -> int:
    """A level's place in the order A1 < A2 < ... < C2."""
    return CEFR_LEVELS.index(level)


def at_least(level: str, target: str) -> bool:
    return rank(level) >= rank(target)


def overlaps(start: dt.date, end: dt.date, other_start: dt.date, other_end: dt.date) -> bool:
    """Do two groups' dates share a day? (Both ends count: a group ends on its last day.)"""
    return start <= other_end and other_start <= end


@dataclass(frozen=True)
class Exam:
    """An exam result as the report reads it."""

    level: str
    taken_on: dt.date
    passed: bool


def first_pass(exams: Iterable[Exam], level: str, *, since: dt.date, until: dt.date) -> dt.date | None:
    """The day of the first passed exam at `level` or above taken between `since` and `until`."""
    days = [e.taken_on for e in exams
            if e.passed and at_least(e.level, level) and since <= e.taken_on <= until]
    return min(days, default=None)


def reached(exams: Iterable[Exam], level: str, *, until: dt.date) -> bool:
    """Has the person passed an exam at `level` or above by `until` (whenever it was taken)?"""
    return any(e.passed and at_least(e.level, level) and e.taken_on <= until for e in exams)


def median_weeks(days: list[int]) -> float | None:
    """The median of spans given in days, in weeks to one decimal; None when there is none."""
    return round(float(statistics.median(days)) / 7, 1) if days else None
