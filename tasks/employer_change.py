"""Moving a case to another employer of the alliance (`lotse case change-employer`): an event of
its own, not a stage change; the case stays where it stands.

One transaction, under the case's lock: the case's employer changes, one history row
(`change_employer`, detail `{from, to, inside_period, period_ends}`, the author, the entry point,
the proof, and the note, which is personal free text like every note), and a message to each of
the two employers through the outbox. The rules of the alliance's no-poaching promise are in
states/no_poaching.py. From then on the new employer acts on the case and is told as its
employer; the old one no longer sees it (states/scope.py goes by the case's employer), and its
open answer links for the case are refused.
"""

from __future__ import annotations

from typing import Any

from lotse.notifications import employer_change as told
from lotse.states import limits, no_poaching, store
from lotse.states.errors import BadInput, Refused
from lotse.states.records import HistoryRecord
from lotse.tasks import deadlines
from lotse.tasks.context import VIA, Context

ACTION = "change_employer"


def change_employer(
    ctx: Context, ref: str, *, to: str, by: str, note: str | None = None, via: str = "cli",
) -> dict[str, Any]:
    """Move the case `ref` to employer `to`, by `by`; returns what was done (no note, no name)."""
    if via not in VIA:
        raise BadInput(f"unknown entry point '{via}'; one of {', '.join(VIA)}")
    note = note.strip() if note is not None else None
    if note is not None:
        limits.check_length("the note", note, limits.NOTE)
    now, today = ctx.clock(), deadlines.today(ctx)
    with ctx.db.writing() as session:
        target = store.get_actor(session, to, bind=True)  # before the case: a removal locks in that order
        record = store.find_case(session, ref, lock=True)
        no_poaching.check_target(record.employer_id, target)
        author = store.get_actor(session, by)
        process = ctx.catalog.get(record.process, record.process_version)
        if process.is_final(record.stage):
            raise Refused(f"{record.ref} is closed (stage '{record.stage}'); nothing was written")
        case = store.load_case(session, record, process)
        stand = no_poaching.period(case.facts.get(no_poaching.ARRIVAL_FACT), today,
                                   ctx.settings.no_poaching_months)
        no_poaching.check_author(author, target, record.ref, stand, note)
        before = record.employer_id
        detail = {"from": before, "to": target.id, "inside_period": stand.inside,
                  "period_ends": stand.ends.isoformat() if stand.ends else None}
        record.employer_id = target.id
        record.version += 1  # a change seen on the case before it is stale now
        session.add(record)
        row = HistoryRecord(case_id=record.id or 0, at=now, action=ACTION, from_stage=record.stage,
                            to_stage=record.stage, actor_id=author.id, via=via, note=note or None,
                            detail=detail, proof=ctx.proof)
        session.add(row)
        session.flush()
        asked = process.stages[record.stage].open_items(told.EMPLOYER, case.done)
        messages = told.on_changed(session, ctx.settings, record, row.id or 0, before, target.id,
                                   author.id, stand.inside, stand.ends, now, process=process,
                                   open_items=asked)
        return {"ref": record.ref, "stage": record.stage, "version": record.version, "action": ACTION,
                "from": before, "to": target.id, "inside_period": stand.inside,
                "period_ends": detail["period_ends"], "messages_queued": messages}
