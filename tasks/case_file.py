"""Reading cases: the case file of one case (`lotse case show`) and the list of cases."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from lotse.notifications import outbox
from lotse.states import facts as fact_kinds
from lotse.states import machine, store
from lotse.states.errors import NotFound
from lotse.states.moments import iso
from lotse.states.records import CaseRecord
from lotse.tasks import deadlines
from lotse.tasks.context import Context


def case_file(ctx: Context, ref: str) -> dict[str, Any]:
    """Everything about one case: where it stands, what it lacks to move on, who did what."""
    with ctx.db.reading() as session:
        record = store.find_case(session, ref)
        process = ctx.catalog.get(record.process, record.process_version)
        case = store.load_case(session, record, process)
        rows = store.history(session, record.id or 0)
        open_deadlines = deadlines.open_deadlines(session, process, record.id or 0)
        sent = outbox.messages_of(session, record.id or 0)
    return {
        "ref": record.ref,
        "process": record.process,
        "process_version": record.process_version,
        "stage": record.stage,
        "stage_title": process.stages[record.stage].title,
        "version": record.version,
        "given_name": record.given_name,
        "family_name": record.family_name,
        "employer": record.employer_id,
        "region": record.region,
        "created_at": iso(record.created_at),
        "stage_entered_at": iso(record.stage_entered_at),
        "facts": {
            name: fact_kinds.to_json(process.facts[name].type, value)
            for name, value in sorted(case.facts.items())
            if name in process.facts
        },
        "checklist": [
            {"id": item.id, "title": item.title, "owner": item.owner, "stage": stage,
             "done": item.id in case.done}
            for stage, item in process.items()
        ],
        "allowed_events": [
            {"event": o.event, "to": o.to, "roles": list(o.roles), "missing": list(o.missing)}
            for o in machine.options(case, process)
        ],
        "deadlines": open_deadlines,
        "messages": sent,
        "history": [
            {"action": h.action, "from": h.from_stage, "to": h.to_stage, "actor": h.actor_id,
             "via": h.via, "at": iso(h.at), "note": h.note}
            for h in rows
        ],
    }


def list_cases(ctx: Context, stage: str | None = None, process: str | None = None) -> list[dict[str, Any]]:
    query = select(CaseRecord).order_by(CaseRecord.id)
    if stage:
        stages = {name for p in ctx.catalog.latest() for name in p.stages}
        if stage not in stages:  # a typo is an error, not an empty list
            raise NotFound(f"unknown stage '{stage}'; stages: {', '.join(sorted(stages))}")
        query = query.where(CaseRecord.stage == stage)
    if process:
        ctx.catalog.get(process)  # an unknown process is an error, not an empty list
        query = query.where(CaseRecord.process == process)
    with ctx.db.reading() as session:
        return [
            {"ref": r.ref, "process": r.process, "process_version": r.process_version,
             "stage": r.stage, "version": r.version, "employer": r.employer_id,
             "region": r.region, "stage_entered_at": iso(r.stage_entered_at)}
            for r in session.scalars(query)
        ]
