"""Reading cases for their overviews in Prefect (`views`): what each overview shows, read in a few
queries per 500 cases. The overview itself is written by tasks/case_overview.py; what `lotse case
show` shows is tasks/case_file.py.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from lotse.states import facts as fact_kinds
from lotse.states.case import Case
from lotse.states.errors import NotFound
from lotse.states.records import (
    ActorRecord,
    ActorRegionRecord,
    ActorRoleRecord,
    CaseRecord,
    DeadlineRecord,
    FactRecord,
    HistoryRecord,
    ItemRecord,
)
from lotse.tasks.case_overview import CaseView, Entry, OpenDeadline, Organisation, Tick, proof_kind
from lotse.tasks.context import Context


def views(ctx: Context, *, refs: list[str] | None = None, ids: list[int] | None = None) -> list[CaseView]:
    """What the overviews of these cases (by reference or id) show, read in one transaction with a
    few queries per 500 cases, so an import of thousands reads quickly. Names, birth dates and notes
    are not read at all. Unknown cases, and cases on a definition no longer loaded (`lotse doctor`
    names them), are left out."""
    with ctx.db.reading() as session:
        directory = _directory(session)
        c = CaseRecord
        columns = (c.id, c.ref, c.process, c.process_version, c.stage, c.version, c.employer_id, c.region,
                   c.stage_entered_at)
        wanted: list[Any] = sorted({r.strip().upper() for r in refs}) if refs is not None else list(ids or [])
        key = c.ref if refs is not None else c.id
        cases = [row for chunk in _chunks(wanted) for row in session.execute(
            select(*columns).where(key.in_(chunk)).order_by(c.id))]  # type: ignore[attr-defined]
        found = [row.id for row in cases]
        facts, ticks, history, open_deadlines = _by_case(session, found)
    result = []
    for row in cases:
        try:
            process = ctx.catalog.get(row.process, row.process_version)
        except NotFound:
            continue
        values = {
            name: fact_kinds.from_json(process.facts[name].type if name in process.facts else "str", value)
            for name, value in facts.get(row.id, [])
        }
        case_ticks = {item: tick for item, tick in ticks.get(row.id, [])}
        case = Case(ref=row.ref, process=row.process, process_version=row.process_version, stage=row.stage,
                    employer=row.employer_id, region=row.region, version=row.version, facts=values,
                    done={item for item, tick in case_ticks.items() if tick.done})
        result.append(CaseView(
            case_id=row.id, process=process, case=case, stage_entered_at=row.stage_entered_at,
            ticks=case_ticks, deadlines=open_deadlines.get(row.id, []), history=history.get(row.id, []),
            directory=directory, above=tuple(ctx.regions.chain(row.region)[1:]),
        ))
    return result


_CHUNK = 500  # ids per IN (...) query, well under every database's limit of bound parameters


def _directory(session: Any) -> dict[str, Organisation]:
    """Every actor with its roles, in two queries."""
    roles: dict[str, set[str]] = {}
    for actor_id, role in session.execute(select(ActorRoleRecord.actor_id, ActorRoleRecord.role)):
        roles.setdefault(actor_id, set()).add(role)
    serves: dict[str, set[str]] = {}
    for actor_id, region in session.execute(select(ActorRegionRecord.actor_id, ActorRegionRecord.region)):
        serves.setdefault(actor_id, set()).add(region)
    actors = session.execute(select(ActorRecord.id, ActorRecord.name, ActorRecord.region))
    return {
        actor_id: Organisation(actor_id, name, frozenset(roles.get(actor_id, ())), region,
                               frozenset(serves.get(actor_id, ())))
        for actor_id, name, region in actors
    }


def _chunks(values: list[Any]) -> list[list[Any]]:
    return [values[start:start + _CHUNK] for start in range(0, len(values), _CHUNK)]


def _by_case(session: Any, case_ids: list[int]) -> tuple[dict[int, list[Any]], ...]:
    """Facts, ticks, history (oldest first) and open deadlines (soonest first) of the cases."""
    facts: dict[int, list[Any]] = {}
    ticks: dict[int, list[Any]] = {}
    history: dict[int, list[Any]] = {}
    open_deadlines: dict[int, list[Any]] = {}
    h, d = HistoryRecord, DeadlineRecord
    for chunk in _chunks(case_ids):
        for case_id, name, value in session.execute(
            select(FactRecord.case_id, FactRecord.name, FactRecord.value).where(FactRecord.case_id.in_(chunk))  # type: ignore[attr-defined]
        ):
            facts.setdefault(case_id, []).append((name, value))
        for case_id, item, done, at, by in session.execute(
            select(ItemRecord.case_id, ItemRecord.item, ItemRecord.done, ItemRecord.at, ItemRecord.by)
            .where(ItemRecord.case_id.in_(chunk))  # type: ignore[attr-defined]
        ):
            ticks.setdefault(case_id, []).append((item, Tick(done, at, by)))
        # Every column but the note: a note is free text and may name a person.
        for row in session.execute(
            select(h.id, h.case_id, h.at, h.action, h.from_stage, h.to_stage, h.actor_id, h.via, h.detail,
                   h.proof)
            .where(h.case_id.in_(chunk)).order_by(h.id)  # type: ignore[attr-defined]
        ):
            history.setdefault(row.case_id, []).append(Entry(
                row.id, row.at, row.action, row.from_stage, row.to_stage, row.actor_id, row.via, row.detail,
                proof_kind(row.proof)))
        for case_id, deadline, due, level in session.execute(
            select(d.case_id, d.deadline, d.due, d.level)
            .where(d.case_id.in_(chunk), d.closed_at.is_(None))  # type: ignore[attr-defined, union-attr]
            .order_by(d.due, d.deadline)
        ):
            open_deadlines.setdefault(case_id, []).append(OpenDeadline(deadline, due, level))
    return facts, ticks, history, open_deadlines
