"""Time in stage: how many days cases stay in each stage of their process, as the median and the
90th percentile, per process version, employer and region (docs/reports.md).

- A **stay** runs from the history row that brought a case into a stage (its opening, an event, a
  migration to another stage) to the row that took it out. Only those rows are read: in SQL, the
  openings and the rows whose `from_stage` differs from their `to_stage`, in order.
- **Days** are calendar days of the alliance between entering and leaving (left the same day: 0).
- The median and the 90th percentile (nearest rank, states/periods.py) count the stays that
  **ended by moving on** to another stage. A stay ended by a withdrawal says nothing about how long
  the stage takes: it is counted as `withdrawn`, not in the figures. A case **still in** a stage
  at the end of `as_of` is not in the figures either (its stay has not ended, and counting it up to
  `as_of` would mix unfinished stays into finished ones): `open` counts those cases, and
  `open_longest_days` says how long the longest of them has been there so far. The stuck cases
  (tasks/pipeline_report.py) name them.
- Final stages (`integrated`, `withdrawn`) have no time in them and are not listed.
- **Process version, employer and region** are the case's own at the time of the report (a case
  moved to another version or employer is counted under the new one), the region at
  `region_level` of the hierarchy where one is given.

Stages, processes, employers, regions and counts only: no reference, no name.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select

from lotse.states import periods
from lotse.states.errors import NotFound
from lotse.states.events import CaseOpened
from lotse.states.moments import local_date
from lotse.states.records import CaseRecord, HistoryRecord
from lotse.tasks import deadlines
from lotse.tasks.context import Context
from lotse.tasks.funnel import end_of

WITHDRAW = "withdraw"
OPENING = CaseOpened.action
BY = ("employer", "region")


@dataclass
class _Stays:
    """What is known of one stage in one group: days of the finished stays, withdrawals, open ones."""

    days: list[int] = field(default_factory=list)
    withdrawn: int = 0
    open_days: list[int] = field(default_factory=list)

    def figures(self) -> dict[str, Any]:
        return {"left": len(self.days), "median_days": periods.median(self.days),
                "p90_days": periods.percentile(self.days), "withdrawn": self.withdrawn,
                "open": len(self.open_days), "open_longest_days": max(self.open_days, default=None)}


def time_in_stage(ctx: Context, as_of: dt.date | None = None,
                  region_level: int | None = None) -> dict[str, Any]:
    """Days in stage per process version and stage, and per employer and region, on `as_of`."""
    today = as_of or deadlines.today(ctx)
    timezone = ctx.settings.timezone
    until = end_of(today, timezone)
    h, c = HistoryRecord, CaseRecord
    with ctx.db.reading() as session:
        cases = {row.id: row for row in session.execute(
            select(c.id, c.process, c.process_version, c.employer_id, c.region).where(c.created_at < until))}
        moves = list(session.execute(
            select(h.case_id, h.at, h.action, h.to_stage)
            .where(h.at < until, h.to_stage.is_not(None),  # type: ignore[union-attr]
                   or_(h.action == OPENING, h.from_stage != h.to_stage))
            .order_by(h.case_id, h.at, h.id)))
    finals = {(p.name, p.version): set(p.final) for p in ctx.catalog.versions()}
    groups: dict[tuple[Any, ...], _Stays] = defaultdict(_Stays)

    def count(case_id: int, stage: str, add: Any) -> None:
        case = cases[case_id]
        if stage in finals.get((case.process, case.process_version), set()):
            return
        region = case.region if region_level is None else ctx.regions.at_level(case.region, region_level)
        for key in ((case.process, case.process_version, stage, "all", ""),
                    (case.process, case.process_version, stage, "employer", case.employer_id),
                    (case.process, case.process_version, stage, "region", region)):
            add(groups[key])

    current: dict[int, tuple[str, dt.date]] = {}
    for case_id, at, action, stage in moves:
        if case_id not in cases:
            continue
        day = local_date(at, timezone)
        before = current.get(case_id)
        if before is not None and before[0] != stage:
            spent = (day - before[1]).days
            if action == WITHDRAW:
                count(case_id, before[0], lambda s: setattr(s, "withdrawn", s.withdrawn + 1))
            else:
                count(case_id, before[0], lambda s, d=spent: s.days.append(d))
        if before is None or before[0] != stage:
            current[case_id] = (stage, day)
    for case_id, (stage, since) in current.items():
        count(case_id, stage, lambda s, d=(today - since).days: s.open_days.append(d))
    return {
        "as_of": today.isoformat(),
        "region_level": region_level,
        "by_stage": _rows(ctx, groups, "all"),
        "by_employer": _rows(ctx, groups, "employer"),
        "by_region": _rows(ctx, groups, "region"),
    }


def _rows(ctx: Context, groups: dict[tuple[Any, ...], _Stays], by: str) -> list[dict[str, Any]]:
    """The groups of one kind, by process version, then the stages in the process's order."""
    def order(key: tuple[Any, ...]) -> tuple[Any, ...]:
        process, version, stage, _, value = key
        try:
            stages = list(ctx.catalog.get(process, version).stages)
        except NotFound:  # a version no longer loaded: its stages by name
            stages = []
        return (process, version, stages.index(stage) if stage in stages else len(stages), stage, value)

    rows = []
    for key in sorted((k for k in groups if k[3] == by), key=order):
        process, version, stage, _, value = key
        rows.append({"process": process, "version": version, "stage": stage,
                     **({by: value} if by != "all" else {}), **groups[key].figures()})
    return rows


def time_in_stage_table(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The figures as one flat table (the `time-in-stage` artifact, the workbook's sheet): what
    is grouped by, the process version, the stage, the group, the figures."""
    rows = []
    for by in ("stage", *BY):
        for r in report[f"by_{by}"]:
            rows.append({"by": by, "process": f"{r['process']} v{r['version']}", "stage": r["stage"],
                         "where": r.get(by, "") if by != "stage" else "",
                         **{k: r[k] for k in ("left", "median_days", "p90_days", "withdrawn", "open",
                                              "open_longest_days")}})
    return rows
