"""The case file of one case (`lotse case show`, the person's export): where it stands, what it lacks
to move on, who did what. The list of cases is tasks/case_listing.py, what the overviews in Prefect
show tasks/case_views.py.

Read by Core columns, as `case list` reads, never by the ORM: a command started cold would otherwise
configure every table's mapper and build objects only to read their values.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from lotse.notifications import outbox
from lotse.states import facts as fact_kinds
from lotse.states import machine, store, tables
from lotse.states.moments import iso
from lotse.states.process import Process
from lotse.tasks import case_courses, deadlines, family
from lotse.tasks.case_listing import each_case, list_cases  # noqa: F401  (where callers look)
from lotse.tasks.context import Context


def case_file(ctx: Context, ref: str) -> dict[str, Any]:
    """Everything about one case: where it stands, what it lacks to move on, who did what;
    titles in LOTSE_LOCALE."""
    locale = ctx.settings.locale
    history, items = tables.history.c, tables.case_items.c
    with ctx.db.reading() as session:
        record = store.case_row(session, ref)
        process = ctx.catalog.get(record.process, record.process_version)
        case = store.load_case(session, record, process)
        rows = session.execute(
            select(*history).where(history.case_id == record.id).order_by(history.id)).all()
        open_deadlines = deadlines.open_deadlines(session, process, record.id, locale)
        sent = outbox.messages_of(session, record.id)
        members = family.family_of(session, ctx, process, record.id)
        language = case_courses.of_case(session, record.id)  # docs/courses.md
        ticks = {row.item: row for row in session.execute(
            select(items.item, items.by, items.at).where(items.case_id == record.id, items.done))}
    return {
        "ref": record.ref,
        "process": record.process,
        "process_version": record.process_version,
        "stage": record.stage,
        "stage_title": process.stages[record.stage].title.in_(locale),
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
            {"id": item.id, "title": item.title.in_(locale), "owner": item.owner, "stage": stage,
             "done": item.id in case.done,
             "by": ticks[item.id].by if item.id in ticks else None,
             "at": iso(ticks[item.id].at) if item.id in ticks else None}
            for stage, item in process.items()
        ],
        "allowed_events": [
            {"event": o.event, "title": _event_title(process, o.event, case.stage, locale), "to": o.to,
             "roles": list(o.roles), "missing": list(o.missing)}
            for o in machine.options(case, process)
        ],
        "deadlines": open_deadlines,
        # names and birth years: the case file is for Lotse's own users, never for Prefect
        "family": members,
        "courses": language["courses"],
        "exams": language["exams"],
        "messages": sent,
        "history": [
            {"action": h.action, "from": h.from_stage, "to": h.to_stage, "actor": h.actor_id,
             "via": h.via, "proof": h.proof, "at": iso(h.at), "note": h.note,
             # a change of employer: the two employers and the period (docs/attrition.md)
             **({"employer": h.detail} if h.action == "change_employer" else {})}
            for h in rows
        ],
    }


def _event_title(process: Process, event: str, stage: str, locale: str) -> str:
    transition = process.transition(event, stage)
    return (transition.title.in_(locale) if transition else "") or event
