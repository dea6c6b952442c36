"""Reading and writing cases, actors and the history through a session of the database
(states/database.py).

Writers take the case's row lock first (`SELECT ... FOR UPDATE` on PostgreSQL, `BEGIN IMMEDIATE` on
SQLite), so two processes changing one case at once run one after the other and the second sees
the first's change: no lost update, no broken history.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Row, bindparam, insert, select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from lotse.states import facts as fact_kinds
from lotse.states import records, tables
from lotse.states.actor_store import get_actor, list_actors  # noqa: F401  (where callers look)
from lotse.states.case import Case
from lotse.states.errors import NotFound
from lotse.states.events import (
    CaseOpened,
    DomainEvent,
    FactsSet,
    FamilyMemberAdded,
    ItemsTicked,
    StageChanged,
)
from lotse.states.family import Member
from lotse.states.process import Process

# -- cases ---------------------------------------------------------------------------------------


def find_case(session: Session, ref: str, *, lock: bool = False) -> records.CaseRecord:
    """The case by reference. `lock`: locked for the rest of the transaction, and read again even
    if the session holds it already: what another transaction committed while this one waited for
    the lock is what counts."""
    query = select(records.CaseRecord).where(records.CaseRecord.ref == ref.strip().upper())
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    record = session.scalars(query).first()
    if record is None:
        raise unknown_case(ref)
    return record


def case_row(session: Session, ref: str) -> Row[Any]:
    """The case's row as columns, for reading it (`lotse case show`): no object is built."""
    cases = tables.cases
    row = session.execute(select(cases).where(cases.c.ref == ref.strip().upper())).first()
    if row is None:
        raise unknown_case(ref)
    return row


def unknown_case(ref: str) -> NotFound:
    return NotFound(f"unknown case '{ref}'; see `lotse case list`")


def lock_case(session: Session, ref: str) -> records.CaseRecord:
    """The case row, locked for a change (as `find_case(lock=True)`), read by plain SQL as an
    object the session does not track: a change writes the case by plain SQL (`_move`) too."""
    row = session.connection().execute(_sql().locked, {"ref": ref.strip().upper()}).mappings().first()
    if row is None:
        raise unknown_case(ref)
    return records.CaseRecord(**row)


def load_case(session: Session, record: records.CaseRecord | Row[Any], process: Process) -> Case:
    """The plain case of a row (an object or columns), with its facts parsed and its ticked items.
    Read by plain SQL on the session's connection, after a flush of what the session holds: every
    change reads one, and the ORM's objects would only be thrown away."""
    assert record.id is not None
    session.flush()
    connection = session.connection()
    facts = {}
    for name, value in connection.execute(_sql().facts, {"case_id": record.id}):
        kind = process.facts[name].type if name in process.facts else "str"
        facts[name] = fact_kinds.from_json(kind, value)
    family = members_of(connection.execute(_sql().family, {"case_id": record.id}).all())
    return Case(
        ref=record.ref, process=record.process, process_version=record.process_version,
        stage=record.stage, employer=record.employer_id, region=record.region,
        version=record.version, facts=facts, done=ticked(session, record.id), family=tuple(family),
    )


def ticked(session: Session, case_id: int) -> set[str]:
    """The checklist items of a case that are ticked done."""
    return set(session.connection().execute(_sql().done, {"case_id": case_id}).scalars())


def family_rows(session: Session, case_id: int) -> list[records.FamilyMemberRecord]:
    """The family members of a case as stored (names included), in the order they were recorded."""
    query = select(records.FamilyMemberRecord).where(records.FamilyMemberRecord.case_id == case_id)
    return list(session.scalars(query.order_by(records.FamilyMemberRecord.id)))


def members_of(rows: Sequence[Any]) -> list[Member]:
    """The family members as the rules see them, from rows with `id`, `relation`, `birth_year`,
    `arrives` and `added_at`: children numbered in the order they were recorded, the day recorded
    the UTC date."""
    members, children = [], 0
    for row in rows:
        children += row.relation == "child"
        members.append(Member(
            id=row.id or 0, relation=row.relation, number=children if row.relation == "child" else 0,
            added_on=row.added_at.astimezone(dt.UTC).date(), birth_year=row.birth_year, arrives=row.arrives,
        ))
    return members


def opener(session: Session, record: records.CaseRecord) -> str | None:
    """The actor who opened the case (its `open` history row): an actor named on the case."""
    return session.scalars(
        select(records.HistoryRecord.actor_id)
        .where(records.HistoryRecord.case_id == record.id, records.HistoryRecord.action == CaseOpened.action)
        .order_by(records.HistoryRecord.id).limit(1)
    ).first()


def history(session: Session, case_id: int) -> list[records.HistoryRecord]:
    history_ = records.HistoryRecord
    query = select(history_).where(history_.case_id == case_id).order_by(history_.id)
    return list(session.scalars(query))


def record_events(
    session: Session,
    record: records.CaseRecord,
    events: list[DomainEvent],
    *,
    via: str,
    at: dt.datetime,
    request_id: str | None = None,
    proof: str | None = None,
) -> list[records.HistoryRecord]:
    """Write what the events changed, and one history row each, into the open transaction;
    `proof` says how the author proved who they are (see `records.HistoryRecord.proof`)."""
    assert record.id is not None
    # A case opened by these events has no facts yet: no lookup per fact (an import opens thousands).
    opened = any(isinstance(e, CaseOpened) for e in events)
    values = []
    for index, domain_event in enumerate(events):
        detail: Any = None
        note: str | None = None
        match domain_event:
            case CaseOpened(stage=stage):
                from_stage = to_stage = stage
            case FactsSet(stage=stage, values=facts):
                from_stage = to_stage = stage
                for name, value in facts.items():
                    _upsert_fact(session, record.id, name, value, domain_event.actor, at, new=opened)
                detail = facts
            case ItemsTicked(stage=stage, items=items, done=done):
                from_stage = to_stage = stage
                for item in items:
                    _upsert_item(session, record.id, item, done, domain_event.actor, at)
                detail = list(items)
            case FamilyMemberAdded(stage=stage, relation=relation, number=number, items=items):
                from_stage = to_stage = stage
                detail = {"relation": relation, "number": number, "items": list(items)}
            case StageChanged(from_stage=from_stage, to_stage=to_stage, note=note):
                _move(session, record, to_stage, at)
            case _:
                raise TypeError(f"not a domain event: {domain_event!r}")
        values.append({
            "case_id": record.id, "at": at, "action": domain_event.action, "from_stage": from_stage,
            "to_stage": to_stage, "actor_id": domain_event.actor, "via": via, "note": note, "detail": detail,
            "request_id": request_id if index == len(events) - 1 else None, "proof": proof,
        })
    session.flush()  # facts and items first: the history rows come after what they record
    ids = session.connection().execute(_sql().history, values).scalars().all()
    return [records.HistoryRecord(id=row_id, **row) for row_id, row in zip(ids, values, strict=True)]


@dataclass(frozen=True)
class _Statements:
    """Plain SQL, not the ORM's unit of work: every change reads and writes these, and the rows
    written are handed back as objects the session does not track. Built once, on first use, from
    the Core tables (states/tables.py): importing the store builds no table."""

    facts: Any
    done: Any
    family: Any
    locked: Any
    history: Any
    move: Any


@cache
def _sql() -> _Statements:
    facts, items, family = tables.case_facts.c, tables.case_items.c, tables.family_members.c
    history, cases = tables.history, tables.cases
    return _Statements(
        facts=select(facts.name, facts.value).where(facts.case_id == bindparam("case_id")),
        done=select(items.item).where(items.case_id == bindparam("case_id"), items.done),
        family=(select(family.id, family.relation, family.birth_year, family.arrives, family.added_at)
                .where(family.case_id == bindparam("case_id")).order_by(family.id)),
        locked=select(cases).where(cases.c.ref == bindparam("ref")).with_for_update(),  # SQLite: none needed
        history=insert(history).returning(history.c.id, sort_by_parameter_order=True),
        move=(update(cases).where(cases.c.id == bindparam("case_id"))
              .values(stage=bindparam("stage"), version=cases.c.version + 1,
                      stage_entered_at=bindparam("entered"))),
    )


def _move(session: Session, record: records.CaseRecord, stage: str, at: dt.datetime) -> None:
    """The case in its new stage, on the row and on the session's object alike (which then has
    nothing left to write)."""
    session.connection().execute(_sql().move, {"case_id": record.id, "stage": stage, "entered": at})
    set_committed_value(record, "stage", stage)
    set_committed_value(record, "version", record.version + 1)
    set_committed_value(record, "stage_entered_at", at)


def _upsert_fact(
    session: Session, case_id: int, name: str, value: Any, by: str, at: dt.datetime, *, new: bool = False,
) -> None:
    row = None if new else session.get(records.FactRecord, (case_id, name))
    if row is None:
        row = records.FactRecord(case_id=case_id, name=name, value=value, set_at=at, set_by=by)
    else:
        row.value, row.set_at, row.set_by = value, at, by
    session.add(row)


def _upsert_item(session: Session, case_id: int, item: str, done: bool, by: str, at: dt.datetime) -> None:
    row = session.get(records.ItemRecord, (case_id, item))
    if row is None:
        row = records.ItemRecord(case_id=case_id, item=item, done=done, at=at, by=by)
    else:
        row.done, row.at, row.by = done, at, by
    session.add(row)
