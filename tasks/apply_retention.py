"""Applying each process's retention: closed cases kept longer than it allows are erased.

A case is closed when it is in a final stage of its process, since `stage_entered_at`; it is due
on the day its process's `retention` (`3 years after closed`) has passed, counted in the
alliance's time zone. A process without a retention keeps its cases. Each case is erased in its
own transaction (`erasure.erase_case`), audited as `erased` by `lotse` with the reason naming the
retention; one `VACUUM` follows on SQLite. What it returns carries references and counts only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from lotse.states import store
from lotse.states.errors import NotFound, Refused
from lotse.states.moments import local_date
from lotse.states.records import CaseRecord, HistoryRecord
from lotse.tasks import deadlines, erasure
from lotse.tasks.context import Context

AUTHOR = "lotse"  # no person decides: the process's retention does; the os user is the proof


@dataclass(frozen=True)
class Due:
    ref: str
    process: str
    closed_on: dt.date
    erase_on: dt.date
    retention: str


def due(ctx: Context, as_of: dt.date) -> list[Due]:
    """The closed cases not yet erased whose retention has passed on `as_of`, oldest first."""
    c = CaseRecord
    erased = select(HistoryRecord.case_id).where(HistoryRecord.action == erasure.ACTION)
    query = (select(c.ref, c.process, c.process_version, c.stage, c.stage_entered_at)
             .where(c.id.not_in(erased))  # type: ignore[union-attr]
             .order_by(c.id))
    found = []
    with ctx.db.reading() as session:
        rows = session.execute(query).all()
    for ref, name, version, stage, entered in rows:
        try:
            process = ctx.catalog.get(name, version)
        except NotFound:  # a definition no longer loaded: `lotse doctor` names it; kept meanwhile
            continue
        if process.retention is None or not process.is_final(stage):
            continue
        closed_on = local_date(entered, ctx.settings.timezone)
        erase_on = process.retention.erase_on(closed_on)
        if erase_on <= as_of:
            found.append(Due(ref, process.key, closed_on, erase_on, str(process.retention)))
    return found


def apply(ctx: Context, *, as_of: dt.date | None = None, dry_run: bool = False,
          via: str = "schedule") -> dict[str, Any]:
    """Erase every case due on `as_of` (default: today), or with `dry_run` only list them."""
    day = as_of or deadlines.today(ctx)
    cases = due(ctx, day)
    erased: list[str] = []
    problem = None
    if not dry_run:
        for case in cases:
            with ctx.db.writing() as session:
                erasure.zero_freed_pages(ctx, session)
                record = store.find_case(session, case.ref, lock=True)
                try:
                    erasure.erase_case(session, ctx, record, by=AUTHOR, via=via,
                                       reason=f"retention: {case.retention} ({case.process})")
                except Refused:  # reopened or erased meanwhile: nothing to do for it now
                    continue
            erased.append(case.ref)
        # Every run, not only one that erased: it also finishes what an earlier one could not.
        problem = erasure.compact(ctx)
    return {"as_of": day.isoformat(), "dry_run": dry_run, "due": [c.ref for c in cases],
            "erased": erased, **({"problem": problem} if not dry_run and problem else {})}

