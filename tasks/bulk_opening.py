"""Opening many cases in one transaction, as an import does: one INSERT per table for the lot.

The rows written are the ones `casework.open_case` writes for each case (the case, its facts, its
history rows `open` and `set` with the request id on the last, and the deadlines the new case has
at once), but without an ORM object and a flush per case: a new case has nothing to look up, so
every row is known before anything is written. The rules (who may open, who may set which fact)
are checked by the caller and by `Case.set_facts` here, as for a single case.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlmodel import Session

from lotse.states.actor import Actor
from lotse.states.case import Case
from lotse.states.deadlines import openings
from lotse.states.events import CaseOpened
from lotse.states.moments import local_date
from lotse.states.process import Process
from lotse.states.records import CaseRecord, DeadlineRecord, FactRecord, HistoryRecord, named

_CHUNK = 500  # references per IN (...) query, well under every database's limit of bound parameters


@dataclass(frozen=True)
class NewCase:
    """One case to open: who it is for, on which process, and the facts it starts with (parsed)."""

    ref: str
    process: Process
    employer: str
    region: str
    given_name: str
    family_name: str
    actor: Actor
    values: dict[str, Any]
    request_id: str | None = None


def open_all(
    session: Session, new: list[NewCase], *, now: dt.datetime, via: str, proof: str | None, timezone: str,
) -> list[int]:
    """Write the cases and everything their opening causes into the open transaction; returns
    their ids, in order."""
    if not new:
        return []
    cases = CaseRecord.__table__  # Core tables: the ORM's bulk insert splits a batch at each None
    # Inserted without RETURNING, the ids then read by reference: on SQLite, RETURNING in the order
    # of the rows makes SQLAlchemy insert them one statement each.
    session.execute(insert(cases), [_case(n, now) for n in new])
    by_ref: dict[str, int] = {}
    for start in range(0, len(new), _CHUNK):
        refs = [n.ref for n in new[start:start + _CHUNK]]
        found = session.execute(select(cases.c.ref, cases.c.id).where(cases.c.ref.in_(refs)))
        by_ref.update((ref, case_id) for ref, case_id in found)
    ids = [by_ref[n.ref] for n in new]
    entered = local_date(now, timezone)
    facts: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    due: list[dict[str, Any]] = []
    for case_id, n in zip(ids, new, strict=True):
        case = Case(ref=n.ref, process=n.process.name, process_version=n.process.version,
                    stage=n.process.initial, employer=n.employer, region=n.region)
        opened = CaseOpened(n.ref, n.process.name, n.process.version, n.process.initial, n.actor.id)
        values = case.set_facts(n.process, n.actor, n.values)
        facts += [{"case_id": case_id, "name": name, "value": value, "set_at": now, "set_by": n.actor.id}
                  for name, value in values.values.items()]
        common = {"case_id": case_id, "at": now, "from_stage": case.stage, "to_stage": case.stage,
                  "actor_id": n.actor.id, "via": via, "note": None, "proof": proof}
        history += [{**common, "action": opened.action, "detail": None, "request_id": None},
                    {**common, "action": values.action, "detail": values.values, "request_id": n.request_id}]
        due += [{"case_id": case_id, "deadline": o.rule.id, "due": o.due, "alert_on": o.alert_on,
                 "next_at": o.rule.level_date(o.due, 1), "level": 0, "opened_at": now,
                 "closed_at": None, "closed_why": None}
                for o in openings(n.process, case, entered)]
    for table, rows in ((FactRecord, facts), (HistoryRecord, history), (DeadlineRecord, due)):
        if rows:
            session.execute(insert(table.__table__), rows)
    return ids


def _case(n: NewCase, now: dt.datetime) -> dict[str, Any]:
    return {
        "ref": n.ref, "process": n.process.name, "process_version": n.process.version,
        "stage": n.process.initial, "version": 0, "employer_id": n.employer, "region": n.region,
        **named(n.given_name, n.family_name), "created_at": now, "stage_entered_at": now,
    }
