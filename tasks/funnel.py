"""The funnel: of the cases opened in a month or quarter (a cohort), how many reached each stage
of their process, and how many days after their opening (docs/reports.md).

- A case's **cohort** is the period (states/periods.py) of the day it was opened, in the alliance's
  calendar. Only cases opened by the end of `as_of` count, and only the history up to then.
- A case **reached** a stage at its first history row ending there (`to_stage`): every row of a
  case ends in the stage it stood in, so the first one is the day it entered, whatever came after
  (a case that moved on, or was withdrawn later, still reached it). The first moment per case and
  stage is found in SQL (`min(at)` grouped by case and stage).
- **Days** from opening to reaching a stage are calendar days of the alliance (the opening day
  itself is 0); per stage the median and the 90th percentile (nearest rank) of them.
- Stages come in the order of the newest version of the process; a stage only an older version
  has comes after them. Final stages (`integrated`, `withdrawn`) are listed too, marked `final`.

Counts, stages, periods and days only: no reference, no name.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from lotse.states import periods
from lotse.states.moments import local_date
from lotse.states.records import CaseRecord, HistoryRecord
from lotse.tasks import deadlines
from lotse.tasks.context import Context


def end_of(day: dt.date, timezone: str) -> dt.datetime:
    """The first moment after `day` in the alliance's calendar, in UTC: the history counted is
    the history before it."""
    midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), ZoneInfo(timezone))
    return midnight.astimezone(dt.UTC)


def funnel(ctx: Context, as_of: dt.date | None = None, period: str = periods.MONTH) -> dict[str, Any]:
    """The funnel per process and cohort on `as_of` (default: today)."""
    today = as_of or deadlines.today(ctx)
    periods.check_period(period)
    timezone = ctx.settings.timezone
    until = end_of(today, timezone)
    h, c = HistoryRecord, CaseRecord
    with ctx.db.reading() as session:
        opened = list(session.execute(
            select(c.id, c.process, c.created_at).where(c.created_at < until)))
        reached = list(session.execute(
            select(h.case_id, h.to_stage, func.min(h.at))
            .join(c, c.id == h.case_id)
            .where(h.at < until, c.created_at < until, h.to_stage.is_not(None))  # type: ignore[union-attr]
            .group_by(h.case_id, h.to_stage)))
    opening = {case_id: local_date(at, timezone) for case_id, _, at in opened}
    cohort_of = {case_id: (process, periods.period_of(opening[case_id], period))
                 for case_id, process, _ in opened}
    sizes: dict[tuple[str, str], int] = defaultdict(int)
    for key in cohort_of.values():
        sizes[key] += 1
    days: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for case_id, stage, at in reached:
        process, cohort = cohort_of[case_id]
        days[(process, cohort, stage)].append((local_date(at, timezone) - opening[case_id]).days)
    rows = []
    for process, cohort in sorted(sizes):
        cases = sizes[(process, cohort)]
        stages = []
        for stage, final in stage_order(ctx, process, {s for p, k, s in days if (p, k) == (process, cohort)}):
            spans = days.get((process, cohort, stage), [])
            stages.append({
                "stage": stage, "final": final, "reached": len(spans),
                "share": round(len(spans) / cases, 4) if cases else None,
                "median_days": periods.median(spans), "p90_days": periods.percentile(spans),
            })
        rows.append({"process": process, "cohort": cohort, "cases": cases, "stages": stages})
    return {"as_of": today.isoformat(), "period": period, "cohorts": rows}


def stage_order(ctx: Context, process: str, seen: set[str]) -> list[tuple[str, bool]]:
    """The stages of a process in the order of its newest version, each with whether it is final;
    then the stages reached that only older versions (or only the history) know."""
    versions = sorted((v for v in ctx.catalog.versions() if v.name == process), key=lambda v: v.version)
    order = [(s, versions[-1].is_final(s)) for s in versions[-1].stages] if versions else []
    known = {s for s, _ in order}
    fresh = seen - known
    older = list(dict.fromkeys(s for v in reversed(versions) for s in v.stages if s in fresh))
    older += sorted(fresh - set(older))
    finals = {s for v in versions for s in v.final}
    return order + [(s, s in finals) for s in older]


def funnel_table(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The funnel as one flat table (the `funnel` artifact, the workbook's sheet): a row per
    process, cohort and stage."""
    return [
        {"process": c["process"], "cohort": c["cohort"], "cases": c["cases"], "stage": s["stage"],
         "reached": s["reached"], "share": s["share"], "median_days": s["median_days"],
         "p90_days": s["p90_days"]}
        for c in report["cohorts"] for s in c["stages"]
    ]
