"""The pipeline: how many open cases stand where, which have stalled, and what moved lately.

Built for coordinators and for the Prefect UI, so it names cases by reference, stages, events,
employers, regions and actor ids only: never a person's name, a fact value or a free-text note.

Days are calendar days in the alliance's time zone, and a case is stuck when the deadline row of
its stage's limit (`<stage>_limit`) is open and past due: the same rows `lotse check` reads.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from sqlalchemy import select

from lotse.states.events import MIGRATE
from lotse.states.moments import iso, local_date
from lotse.states.records import CaseRecord, DeadlineRecord, HistoryRecord
from lotse.states.timers import limit_id
from lotse.tasks import deadlines
from lotse.tasks.context import Context

RECENT_TRANSITIONS = 50


def pipeline(ctx: Context, as_of: dt.date | None = None, region_level: int | None = None) -> dict[str, Any]:
    """Open cases per process and stage, per employer and per region; stalled cases; recent moves.
    `region_level`: count each case under its region's ancestor at this depth of the hierarchy
    (0: the county; states/regions.py); default: under the case's own region."""
    today = as_of or deadlines.today(ctx)
    with ctx.db.reading() as session:
        cases = list(session.execute(select(
            CaseRecord.id, CaseRecord.ref, CaseRecord.process, CaseRecord.process_version,
            CaseRecord.stage, CaseRecord.employer_id, CaseRecord.region, CaseRecord.stage_entered_at,
        )))
        moves = _recent_moves(ctx, session, {c.id: c.ref for c in cases})
        overdue_limits = _overdue_limits(session, today)
    open_cases = [
        c for c in cases if not ctx.catalog.get(c.process, c.process_version).is_final(c.stage)
    ]
    # Per version: cases on an old version stand in its stages, which the newest may not have.
    by_stage = Counter((c.process, c.process_version, c.stage) for c in open_cases)
    versions = sorted({(c.process, c.process_version) for c in open_cases})
    return {
        "as_of": today.isoformat(),
        "open_cases": len(open_cases),
        "by_stage": [
            {"process": name, "version": version, "stage": stage, "open": by_stage[(name, version, stage)]}
            for name, version in versions
            for stage in ctx.catalog.get(name, version).stages
            if by_stage[(name, version, stage)]
        ],
        "by_employer": _counted(Counter(c.employer_id for c in open_cases), "employer"),
        "by_region": _counted(Counter(
            c.region if region_level is None else ctx.regions.at_level(c.region, region_level)
            for c in open_cases), "region"),
        "stuck": _stuck(ctx, open_cases, overdue_limits, today),
        "transitions": moves,
    }


def pipeline_table(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The three counts as one table (the `pipeline` artifact): what is counted, where, how many."""
    return [
        *({"by": "stage", "process": f"{r['process']} v{r['version']}", "where": r["stage"],
           "open": r["open"]} for r in report["by_stage"]),
        *({"by": "employer", "process": "", "where": r["employer"], "open": r["open"]}
          for r in report["by_employer"]),
        *({"by": "region", "process": "", "where": r["region"], "open": r["open"]}
          for r in report["by_region"]),
    ]


def transitions_markdown(report: dict[str, Any]) -> str:
    """The last transitions as a markdown table, newest first."""
    lines = [
        f"# Last {RECENT_TRANSITIONS} transitions (as of {report['as_of']})",
        "",
        "| when (UTC) | case | event | from | to | actor | via |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {t['at']} | {t['ref']} | {t['event']} | {t['from']} | {t['to']} | {t['actor']} | {t['via']} |"
        for t in report["transitions"]
    ]
    if not report["transitions"]:
        lines.append("| | (none yet) | | | | | |")
    return "\n".join(lines) + "\n"


def _counted(counts: Counter[str], column: str) -> list[dict[str, Any]]:
    return [{column: key, "open": n} for key, n in sorted(counts.items())]


def _overdue_limits(session: Any, today: dt.date) -> dict[tuple[int, str], dt.date]:
    """(case id, deadline id) -> due date of every open deadline past due on `today`."""
    query = select(DeadlineRecord.case_id, DeadlineRecord.deadline, DeadlineRecord.due).where(
        DeadlineRecord.closed_at.is_(None), DeadlineRecord.due < today,  # type: ignore[union-attr]
        DeadlineRecord.deadline.like("%_limit"),  # type: ignore[attr-defined]
    )
    return {(case_id, deadline): due for case_id, deadline, due in session.execute(query)}


def _stuck(
    ctx: Context, open_cases: list[Any], overdue: dict[tuple[int, str], dt.date], today: dt.date,
) -> list[dict[str, Any]]:
    """Cases whose stage's limit is past due, longest overdue first."""
    stuck = []
    for c in open_cases:
        due = overdue.get((c.id, limit_id(c.stage)))
        if due is None:
            continue
        limit = ctx.catalog.get(c.process, c.process_version).stages[c.stage].limit
        stuck.append({
            "ref": c.ref, "process": c.process, "stage": c.stage,
            "since": local_date(c.stage_entered_at, ctx.settings.timezone).isoformat(),
            "limit": str(limit), "due": due.isoformat(), "overdue_days": (today - due).days,
            "employer": c.employer_id, "region": c.region,
        })
    return sorted(stuck, key=lambda s: (-s["overdue_days"], s["ref"]))


def _recent_moves(ctx: Context, session: Any, refs: dict[int, str]) -> list[dict[str, Any]]:
    """The newest history rows that moved a case: events of a process and migrations (not openings,
    facts or ticks)."""
    events = sorted({e for p in ctx.catalog.versions() for e in p.events} | {MIGRATE})
    query = (
        select(HistoryRecord)
        .where(HistoryRecord.action.in_(events))  # type: ignore[attr-defined]
        .order_by(HistoryRecord.at.desc(), HistoryRecord.id.desc())  # type: ignore[attr-defined]
        .limit(RECENT_TRANSITIONS)
    )
    return [
        {"at": iso(h.at), "ref": refs.get(h.case_id, "?"), "event": h.action, "from": h.from_stage,
         "to": h.to_stage, "actor": h.actor_id, "via": h.via}
        for h in session.scalars(query)
    ]
