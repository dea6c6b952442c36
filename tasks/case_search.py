"""Finding cases by a person's name or by reference, for coordinators at the desk.

A search is folded like the names are (`states.names.fold`: "Müller", "MULLER" and "muller" are
one; "hadzic" finds "Hadžić"). Each of its words must begin the given name, the family name, or
one of their parts ("cruz" finds "Dela Cruz"); or the whole search begins the reference
("se-2026-00" finds SE-2026-0042). The query never reaches a log.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, or_, select

from lotse.states.errors import NotFound
from lotse.states.names import fold
from lotse.states.records import ActorRecord, CaseRecord
from lotse.tasks.context import Context

LIMIT = 50
LONGEST = 200  # characters of a search; more is not a name


@dataclass(frozen=True)
class Found:
    ref: str
    given_name: str
    family_name: str
    stage: str
    stage_title: str
    employer: str  # the employer's name
    region: str


@dataclass(frozen=True)
class Result:
    cases: list[Found]
    more: bool  # more cases match than are shown: the search should be narrower


def search(ctx: Context, query: str, limit: int = LIMIT) -> Result:
    """The cases whose names or reference the query begins, by family name, given name, reference."""
    text = query.strip()[:LONGEST]
    words = fold(text).split()
    if not words:
        return Result([], False)
    c = CaseRecord
    by_name = and_(*(or_(*(column.like(pattern, escape="\\")
                           for column in (c.given_key, c.family_key)
                           for pattern in (f"{_escaped(word)}%", f"% {_escaped(word)}%")))
                     for word in words))
    by_ref = c.ref.like(f"{_escaped(text.upper())}%", escape="\\")  # references are stored upper case
    found = (
        select(c.ref, c.given_name, c.family_name, c.process, c.process_version, c.stage, c.region,
               ActorRecord.name)
        .join(ActorRecord, ActorRecord.id == c.employer_id, isouter=True)
        .where(or_(by_name, by_ref))
        .order_by(c.family_key, c.given_key, c.ref)
        .limit(limit + 1)
    )
    with ctx.db.reading() as session:
        rows = session.execute(found).all()
    locale = ctx.settings.locale
    cases = []
    for row in rows[:limit]:
        try:
            title = ctx.catalog.get(row.process, row.process_version).stages[row.stage].title.in_(locale)
        except (NotFound, KeyError):
            title = ""
        cases.append(Found(row.ref, row.given_name, row.family_name, row.stage, title or row.stage,
                           row.name or "", row.region))
    return Result(cases, len(rows) > limit)


def _escaped(text: str) -> str:
    """Text matched literally by LIKE: `%` and `_` are no wildcards in a name."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
