"""Bringing dead messages back: `lotse outbox retry`, and a route that works again.

A dead row (its attempts used up) becomes pending again, due now, with fresh attempts; the next
delivery sends it. Every revival is audited twice over: on the row itself (`revivals`: who, when,
via, the proof, the error it had died of), and, for a row about a case, as a history row of that
case (`outbox_retry`, with the message numbers). A row without a case (a sign-in link, a report
about no case) has its audit on the row only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from sqlalchemy import select

from lotse.notifications import outbox
from lotse.notifications.routes import Address, Routes, Target
from lotse.states import store
from lotse.states.errors import BadInput, NotFound, Refused
from lotse.states.records import CaseRecord, HistoryRecord, OutboxRecord
from lotse.tasks.context import Context

ACTION = "outbox_retry"
LOTSE = "lotse"  # the author of a revival made by a successful `lotse notify test`


def retry(
    ctx: Context, *, by: str, case_ref: str | None = None, dead: bool = False,
    ids: Collection[int] = (),
) -> dict[str, Any]:
    """Revive the dead rows of a case, every dead row, or these rows; a row named by id that is
    not dead is refused, and then nothing is revived."""
    if sum((case_ref is not None, dead, bool(ids))) != 1:
        raise BadInput("say which messages: --case REF, --dead or --id N (one of them)")
    now = ctx.clock()
    with ctx.db.writing() as session:
        store.get_actor(session, by)
        case_id = store.find_case(session, case_ref).id if case_ref else None
        if ids:
            _refuse_not_dead(session, ids)
        rows = outbox.dead_rows(session, case_id=case_id, ids=ids or None)
        revived = _revive(session, rows, now=now, by=by, via="cli", proof=ctx.proof)
    return {"revived": revived, "by": by}


def revive_route(ctx: Context, target: Target, table: Routes, regions: set[str]) -> list[int]:
    """After a test message went through a route: its dead rows are pending again, and so are
    the dead rows that had no route and whose address the route serves now."""
    with ctx.db.writing() as session:
        rows = outbox.dead_rows(session, route=target.key)
        rows += [row for row in outbox.dead_rows(session, unrouted=True)
                 if row.channel in (None, target.channel)
                 and target in table.find(Address.parse(row.tags), regions)]
        return _revive(session, rows, now=ctx.clock(), by=LOTSE, via="cli", proof=ctx.proof)


def _refuse_not_dead(session: Any, ids: Collection[int]) -> None:
    found = dict(session.execute(
        select(OutboxRecord.id, OutboxRecord.status).where(OutboxRecord.id.in_(list(ids)))  # type: ignore[union-attr]
    ).all())
    for row_id in ids:
        if row_id not in found:
            raise NotFound(f"no message #{row_id} in the outbox; see `lotse outbox`")
        if found[row_id] != "dead":
            raise Refused(f"message #{row_id} is {found[row_id]}, not dead: only dead messages are "
                          "retried (failed ones are retried by `lotse notify --now`)")


def _revive(
    session: Any, rows: list[OutboxRecord], *, now: dt.datetime, by: str, via: str, proof: str,
) -> list[int]:
    """Revive the rows and write one history row per case they are about; returns their ids."""
    by_case: dict[int, list[int]] = {}
    for row in rows:
        outbox.revive(session, row, now=now, by=by, via=via, proof=proof)
        if row.case_id is not None:
            by_case.setdefault(row.case_id, []).append(row.id or 0)
    for case_id, numbers in by_case.items():
        record = session.get(CaseRecord, case_id)
        session.add(HistoryRecord(
            case_id=case_id, at=now, action=ACTION, from_stage=record.stage, to_stage=record.stage,
            actor_id=by, via=via, proof=proof, detail={"messages": numbers},
            note=f"dead message(s) {', '.join(f'#{n}' for n in numbers)} queued again",
        ))
    return [row.id or 0 for row in rows]
