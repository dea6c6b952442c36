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

from sqlalchemy import func, select

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
    (0: the county; states/regions.py); default: under the case's own region.

    The database counts: one row per (process, version, stage, employer, region) comes back, never
    one per case, so a county of 300,000 cases is summed in SQL and holds only those groups."""
    today = as_of or deadlines.today(ctx)
    c = CaseRecord
    with ctx.db.reading() as session:
        groups = [g for g in session.execute(
            select(c.process, c.process_version, c.stage, c.employer_id, c.region, func.count())
            .group_by(c.process, c.process_version, c.stage, c.employer_id, c.region)
        ) if not ctx.catalog.get(g[0], g[1]).is_final(g[2])]
        stuck = _stuck(ctx, session, today)
        moves = _recent_moves(ctx, session)
    # Per version: cases on an old version stand in its stages, which the newest may not have.
    by_stage: Counter[tuple[str, int, str]] = Counter()
    by_employer: Counter[str] = Counter()
    by_region: Counter[str] = Counter()
    for name, version, stage, employer, region, n in groups:
        by_stage[(name, version, stage)] += n
        by_employer[employer] += n
        by_region[region if region_level is None else ctx.regions.at_level(region, region_level)] += n
    versions = sorted({(name, version) for name, version, _ in by_stage})
    return {
        "as_of": today.isoformat(),
        "open_cases": sum(by_stage.values()),
        "by_stage": [
            {"process": name, "version": version, "stage": stage, "open": by_stage[(name, version, stage)]}
            for name, version in versions
            for stage in ctx.catalog.get(name, version).stages
            if by_stage[(name, version, stage)]
        ],
        "by_employer": _counted(by_employer, "employer"),
        "by_region": _counted(by_region, "region"),
        "stuck": stuck,
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


def _stuck(ctx: Context, session: Any, today: dt.date) -> list[dict[str, Any]]:
    """Open cases whose stage's limit (`<stage>_limit`, the row `lotse check` reads) is past due,
    longest overdue first; the database joins each case to its stage's limit."""
    c, d = CaseRecord, DeadlineRecord
    query = select(c.ref, c.process, c.process_version, c.stage, c.stage_entered_at, c.employer_id,
                   c.region, d.due).join(d, d.case_id == c.id).where(
        d.closed_at.is_(None), d.due < today,  # type: ignore[union-attr]
        d.deadline == c.stage + limit_id(""),
    )
    stuck = []
    for ref, name, version, stage, entered, employer, region, due in session.execute(query):
        process = ctx.catalog.get(name, version)
        if process.is_final(stage):
            continue
        stuck.append({
            "ref": ref, "process": name, "stage": stage,
            "since": local_date(entered, ctx.settings.timezone).isoformat(),
            "limit": str(process.stages[stage].limit), "due": due.isoformat(),
            "overdue_days": (today - due).days, "employer": employer, "region": region,
        })
    return sorted(stuck, key=lambda s: (-s["overdue_days"], s["ref"]))


def _recent_moves(ctx: Context, session: Any) -> list[dict[str, Any]]:
    """The newest history rows that moved a case: events of a process and migrations (not openings,
    facts or ticks)."""
    events = sorted({e for p in ctx.catalog.versions() for e in p.events} | {MIGRATE})
    query = (
        select(HistoryRecord, CaseRecord.ref).join(CaseRecord, CaseRecord.id == HistoryRecord.case_id)
        .where(HistoryRecord.action.in_(events))  # type: ignore[attr-defined]
        .order_by(HistoryRecord.at.desc(), HistoryRecord.id.desc())  # type: ignore[attr-defined]
        .limit(RECENT_TRANSITIONS)
    )
    return [
        {"at": iso(h.at), "ref": ref, "event": h.action, "from": h.from_stage,
         "to": h.to_stage, "actor": h.actor_id, "via": h.via}
        for h, ref in session.execute(query)
    ]
